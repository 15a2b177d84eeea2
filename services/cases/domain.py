"""The case and its lifecycle (T/JHSX 001—2026 8.2.1.1, 8.3); its risk register (9.6a, 4.1) is
the `RiskRegister` mixin of `risks.py`.

The case is a state machine: intake → assessment → plan → intervention → evaluation → closing
(8.2.1.1), with informed consent (4.2) guarding every service act. Guards run before any event is
triggered, so a refused command changes nothing. Free text arrives already sealed by the
application (`services.runtime.vault`): the aggregate holds tokens, never clear personal content.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.domain import event

from contracts.errors import Conflict, InvalidInput
from services.cases.risks import RiskRegister
from services.cases.rules import (
    CLOSING_ITEMS,
    INTAKE_ITEMS,
    LIVE,
    PLAN_PARTS,
    PROCESS_EVALUATION_ITEMS,
    check_method_form,
    missing_step,
    not_before,
    stage_of,
)
from services.runtime.domain import CasebookAggregate


class Case(RiskRegister, CasebookAggregate):
    @event("Opened")
    def __init__(
        self,
        school_id: str,
        client_id: str,
        client_type: str,
        client_is_minor: bool,
        social_worker_id: str,
        service_codes: list[str],
        opened_on: date,
        intake: dict[str, Any],
        letter_id: str | None,
    ) -> None:
        self.school_id = school_id
        self.client_id = client_id
        self.client_type = client_type
        self.client_is_minor = client_is_minor
        self.social_worker_id = social_worker_id
        self.service_codes = list(service_codes)
        self.opened_on = opened_on
        self.intake = dict(intake)
        self.letter_id = letter_id
        self.status = "intake"
        self.accepted_on: date | None = None
        self.declined: dict[str, Any] | None = None
        self.consents: dict[str, dict[str, Any]] = {}
        self.assessments: list[dict[str, Any]] = []
        self.plans: list[dict[str, Any]] = []
        self.interventions: list[dict[str, Any]] = []
        self.resource_requests: list[dict[str, Any]] = []
        self.referrals: list[dict[str, Any]] = []
        self.evaluations: list[dict[str, Any]] = []
        self.closings: list[dict[str, Any]] = []
        self.follow_ups: dict[str, dict[str, Any]] = {}
        self.reopenings: list[dict[str, Any]] = []
        self.assignments: list[dict[str, Any]] = []
        self.risks: dict[str, dict[str, Any]] = {}
        self.disclosures: list[dict[str, Any]] = []

    # What the state machine derives.

    @property
    def round(self) -> int:
        """How often the case was reopened: evaluations count for the round they were made in."""
        return len(self.reopenings)

    @property
    def plan(self) -> dict[str, Any] | None:
        return self.plans[-1] if self.plans else None

    @property
    def stage(self) -> str:
        """Where the case stands in 8.2.1.1: the next step it needs."""
        return stage_of(self.status, bool(self.assessments), bool(self.plans),
                        bool(self.interventions), self.missing_evaluations())

    def consent_given(self) -> bool:
        """4.2: the client's consent, and a guardian's for a minor, given and not withdrawn."""
        parties = ("client", "guardian") if self.client_is_minor else ("client",)
        return all(self._consent_live(party) for party in parties)

    def missing_consents(self) -> list[str]:
        parties = ("client", "guardian") if self.client_is_minor else ("client",)
        return [party for party in parties if not self._consent_live(party)]

    def missing_evaluations(self) -> list[str]:
        done = {e["kind"] for e in self.evaluations if e["round"] == self.round}
        return [kind for kind in ("process", "outcome") if kind not in done]

    def _consent_live(self, party: str) -> bool:
        consent = self.consents.get(party)
        return consent is not None and consent["withdrawn_on"] is None

    # Intake (8.3.1).

    def record_intake(self, items: dict[str, Any]) -> None:
        self._require_status(("intake",), "record intake items")
        self._intake_recorded(items=items)

    @event("IntakeRecorded")
    def _intake_recorded(self, items: dict[str, Any]) -> None:
        self.intake.update(items)

    def accept_intake(self, accepted_on: date) -> None:
        self._require_status(("intake",), "accept the intake")
        missing = [item for item in INTAKE_ITEMS if not self.intake.get(item)]
        if missing:
            raise Conflict(
                "Cannot accept the intake: not yet done: "
                + "; ".join(INTAKE_ITEMS[item] for item in missing) + ".",
                code="missing_step",
                errors={"missing_step": missing},
            )
        not_before("accepted_on", accepted_on, self.opened_on, "the case was opened")
        self._intake_accepted(accepted_on=accepted_on, emergency=bool(self.intake.get("emergency")))

    @event("IntakeAccepted")
    def _intake_accepted(self, accepted_on: date, emergency: bool) -> None:
        self.status = "active"
        self.accepted_on = accepted_on

    def decline_intake(
        self,
        reason_code: str,
        explanation: str | None,
        declined_on: date,
        referral: dict[str, Any] | None,
    ) -> None:
        self._require_status(("intake",), "decline the intake")
        # 8.3.1e, 7.1.4b: a declined client is told why and helped to a referral.
        if referral is None:
            raise InvalidInput.from_messages(
                {"referral": ["A declined intake needs a referral (8.3.1e)."]}
            )
        not_before("declined_on", declined_on, self.opened_on, "the case was opened")
        self._intake_declined(
            reason_code=reason_code,
            explanation=explanation,
            declined_on=declined_on,
            referral_id=referral["referral_id"],
        )
        self._referral_made(**referral, reason_code="intake_declined", referred_on=declined_on)

    @event("IntakeDeclined")
    def _intake_declined(
        self, reason_code: str, explanation: str | None, declined_on: date, referral_id: str
    ) -> None:
        self.status = "declined"
        self.declined = {
            "reason_code": reason_code,
            "explanation": explanation,
            "declined_on": declined_on,
            "referral_id": referral_id,
        }

    # Consent (4.2).

    def record_consent(
        self, party: str, given_on: date, informed_of: list[str], given_by: str | None
    ) -> None:
        self._require_status(LIVE, "record consent")
        if self._consent_live(party):
            raise Conflict(f"The {party}'s consent is already on record.", code="conflict")
        not_before("given_on", given_on, self.opened_on, "the case was opened")
        self._consent_recorded(
            party=party, given_on=given_on, informed_of=informed_of, given_by=given_by
        )

    @event("ConsentRecorded")
    def _consent_recorded(
        self, party: str, given_on: date, informed_of: list[str], given_by: str | None
    ) -> None:
        self.consents[party] = {
            "party": party,
            "given_on": given_on,
            "informed_of": list(informed_of),
            "given_by": given_by,
            "withdrawn_on": None,
            "withdrawal_reason": None,
        }

    def withdraw_consent(self, party: str, withdrawn_on: date, reason: str | None) -> None:
        self._require_status(LIVE, "withdraw consent")
        if not self._consent_live(party):
            raise Conflict(f"There is no {party} consent on record to withdraw.",
                           code="wrong_state")
        not_before("withdrawn_on", withdrawn_on, self.consents[party]["given_on"],
                   "the consent was given")
        self._consent_withdrawn(party=party, withdrawn_on=withdrawn_on, reason=reason)

    @event("ConsentWithdrawn")
    def _consent_withdrawn(self, party: str, withdrawn_on: date, reason: str | None) -> None:
        self.consents[party]["withdrawn_on"] = withdrawn_on
        self.consents[party]["withdrawal_reason"] = reason

    # Assessment (8.3.2): repeatable, numbered.

    def record_assessment(self, assessed_on: date, **assessment: Any) -> None:
        self._require_accepted("record an assessment")
        not_before("assessed_on", assessed_on, self.opened_on, "the case was opened")
        self._assessment_recorded(
            assessment_number=len(self.assessments) + 1, assessed_on=assessed_on, **assessment
        )

    @event("AssessmentRecorded")
    def _assessment_recorded(
        self,
        assessment_number: int,
        assessed_on: date,
        environment: str,
        problems: str,
        problem_count: int,
        causes: str,
        priorities: str,
        strengths: str,
        strength_count: int,
        preliminary_plan: str | None,
    ) -> None:
        self.assessments.append(
            {
                "assessment_number": assessment_number,
                "assessed_on": assessed_on,
                "environment": environment,
                "problems": problems,
                "problem_count": problem_count,
                "causes": causes,
                "priorities": priorities,
                "strengths": strengths,
                "strength_count": strength_count,
                "preliminary_plan": preliminary_plan,
            }
        )

    # Plan (8.3.3): seven parts, revisions keep earlier versions.

    def adopt_plan(self, parts: dict[str, Any], goal_count: int, adopted_on: date,
                   review_by: date | None) -> None:
        self._require_plannable("adopt a service plan")
        if self.plans:
            raise Conflict("A plan is already adopted: revise it instead.", code="wrong_state")
        _check_plan_parts(parts)
        not_before("adopted_on", adopted_on, self.assessments[0]["assessed_on"],
                   "the first assessment")
        self._plan_adopted(parts=parts, goal_count=goal_count, adopted_on=adopted_on,
                           review_by=review_by)

    @event("PlanAdopted")
    def _plan_adopted(self, parts: dict[str, Any], goal_count: int, adopted_on: date,
                      review_by: date | None) -> None:
        self.plans.append({"plan_version": 1, "parts": parts, "goal_count": goal_count,
                           "adopted_on": adopted_on, "review_by": review_by})

    def revise_plan(self, parts: dict[str, Any], goal_count: int, revised_on: date,
                    reason: str | None) -> None:
        self._require_plannable("revise the service plan")
        if not self.plans:
            raise missing_step("plan", "revise the service plan")
        _check_plan_parts(parts)
        not_before("revised_on", revised_on, self.plans[-1]["adopted_on"],
                   "the current plan was adopted")
        self._plan_revised(plan_version=len(self.plans) + 1, parts=parts, goal_count=goal_count,
                           revised_on=revised_on, reason=reason)

    @event("PlanRevised")
    def _plan_revised(self, plan_version: int, parts: dict[str, Any], goal_count: int,
                      revised_on: date, reason: str | None) -> None:
        self.plans.append({"plan_version": plan_version, "parts": parts,
                           "goal_count": goal_count, "adopted_on": revised_on,
                           "review_by": None, "reason": reason})

    # Intervention (8.3.4, 8.2.1.2, 8.2.4), resources and referrals.

    def log_intervention(self, life_safety: bool, **intervention: Any) -> None:
        self._require_service("log an intervention", life_safety, needs_plan=True)
        check_method_form(intervention["method"], intervention["form"])
        not_before("delivered_on", intervention["delivered_on"], self.opened_on,
                   "the case was opened")
        self._intervention_logged(life_safety=life_safety, round=self.round, **intervention)

    @event("InterventionLogged")
    def _intervention_logged(
        self,
        intervention_id: str,
        form: str,
        method: str,
        service_codes: list[str],
        delivered_on: date,
        duration_minutes: int,
        participant_count: int,
        participant_kinds: list[str],
        notes: str | None,
        life_safety: bool,
        round: int,
    ) -> None:
        self.interventions.append(
            {
                "intervention_id": intervention_id,
                "form": form,
                "method": method,
                "service_codes": list(service_codes),
                "delivered_on": delivered_on,
                "duration_minutes": duration_minutes,
                "participant_count": participant_count,
                "participant_kinds": list(participant_kinds),
                "notes": notes,
                "life_safety": life_safety,
                "round": round,
            }
        )

    def request_resource(self, life_safety: bool, **request: Any) -> None:
        self._require_service("request a resource", life_safety, needs_plan=True)
        self._resource_requested(life_safety=life_safety, **request)

    @event("ResourceRequested")
    def _resource_requested(self, request_id: str, kind: str, service_codes: list[str],
                            quantity: int, needed_by: date | None, description: str | None,
                            life_safety: bool) -> None:
        self.resource_requests.append(
            {"request_id": request_id, "kind": kind, "service_codes": list(service_codes),
             "quantity": quantity, "needed_by": needed_by, "description": description,
             "life_safety": life_safety}
        )

    def make_referral(self, life_safety: bool, **referral: Any) -> None:
        # A referral passes the client on to an agency: a service act that needs consent, but
        # no plan (7.1.4b: a severe disorder may show before any plan is made).
        self._require_service("make a referral", life_safety, needs_plan=False)
        not_before("referred_on", referral["referred_on"], self.opened_on, "the case was opened")
        self._referral_made(**referral)

    @event("ReferralMade")
    def _referral_made(self, referral_id: str, agency_kind: str, agency_id: str | None,
                       reason_code: str, referred_on: date, note: str | None) -> None:
        self.referrals.append(
            {"referral_id": referral_id, "agency_kind": agency_kind, "agency_id": agency_id,
             "reason_code": reason_code, "referred_on": referred_on, "note": note}
        )

    # Evaluation (8.3.5, 10.2.2).

    def record_evaluation(self, kind: str, evaluated_on: date, items: dict[str, Any],
                          goals: list[dict[str, Any]], satisfaction: int | None) -> None:
        self._require_accepted("record an evaluation")
        if not self.interventions:
            raise missing_step("intervention", "evaluate the service")
        if kind == "process":
            missing = [item for item in PROCESS_EVALUATION_ITEMS if not items.get(item)]
            if missing:
                raise InvalidInput.from_messages(
                    {item: ["A process evaluation covers it (8.3.5a)."] for item in missing}
                )
        else:
            self._check_outcome(goals, satisfaction)
        not_before("evaluated_on", evaluated_on, self.opened_on, "the case was opened")
        self._evaluation_recorded(kind=kind, evaluated_on=evaluated_on, items=items, goals=goals,
                                  satisfaction=satisfaction, round=self.round)

    def _check_outcome(self, goals: list[dict[str, Any]], satisfaction: int | None) -> None:
        # 8.3.5b, 10.2.2: client change, attainment of every goal of the plan, satisfaction.
        plan = self.plan
        if plan is None:
            raise missing_step("plan", "evaluate outcomes")
        numbers = sorted(goal["goal_number"] for goal in goals)
        if numbers != list(range(1, plan["goal_count"] + 1)):
            raise InvalidInput.from_messages(
                {"goals": [f"Give one entry for each of the plan's {plan['goal_count']} goals, "
                           "numbered from 1 (10.2.2)."]}
            )
        if satisfaction is None:
            raise InvalidInput.from_messages(
                {"satisfaction": ["An outcome evaluation records satisfaction (8.3.5b)."]}
            )

    @event("EvaluationRecorded")
    def _evaluation_recorded(self, kind: str, evaluated_on: date, items: dict[str, Any],
                             goals: list[dict[str, Any]], satisfaction: int | None,
                             round: int) -> None:
        self.evaluations.append(
            {"kind": kind, "evaluated_on": evaluated_on, "items": dict(items),
             "goals": [dict(goal) for goal in goals], "satisfaction": satisfaction,
             "round": round}
        )

    # Closing (8.3.6), follow-up (9.2b), reopening.

    def close(self, reason: str, closed_on: date, items: dict[str, bool], summary: str | None,
              follow_up: dict[str, Any] | None) -> None:
        self._require_accepted("close the case")
        missing = self.missing_evaluations()
        if missing:
            raise Conflict(
                "Cannot close: missing " + " and ".join(f"{kind} evaluation" for kind in missing)
                + " (8.3.5).",
                code="evaluations_required",
                errors={"missing_step": [f"{kind}_evaluation" for kind in missing]},
            )
        undone = [item for item in CLOSING_ITEMS if not items.get(item)]
        if undone:
            raise Conflict(
                "Cannot close: not yet done: "
                + "; ".join(CLOSING_ITEMS[item] for item in undone) + ".",
                code="missing_step",
                errors={"missing_step": undone},
            )
        if any(risk["status"] == "open" for risk in self.risks.values()):
            # 4.1: protection of life comes first; a case is not closed over an open risk.
            raise Conflict("Resolve the case's open risks before closing it.",
                           code="wrong_state")
        not_before("closed_on", closed_on, self.opened_on, "the case was opened")
        if follow_up is not None:
            not_before("follow_up.due_on", follow_up["due_on"], closed_on, "the closing date")
        self._closed(reason=reason, closed_on=closed_on, items=items, summary=summary,
                     intervention_count=len(self.interventions))
        if follow_up is not None:
            self._follow_up_scheduled(**follow_up)

    @event("Closed")
    def _closed(self, reason: str, closed_on: date, items: dict[str, bool], summary: str | None,
                intervention_count: int) -> None:
        self.status = "closed"
        self.closings.append({"reason": reason, "closed_on": closed_on, "items": dict(items),
                              "summary": summary, "intervention_count": intervention_count})

    def schedule_follow_up(self, follow_up_id: str, due_on: date) -> None:
        self._require_status(("closed",), "schedule a follow-up")
        not_before("due_on", due_on, self.closings[-1]["closed_on"], "the closing date")
        self._follow_up_scheduled(follow_up_id=follow_up_id, due_on=due_on)

    @event("FollowUpScheduled")
    def _follow_up_scheduled(self, follow_up_id: str, due_on: date) -> None:
        self.follow_ups[follow_up_id] = {"follow_up_id": follow_up_id, "due_on": due_on,
                                         "done_on": None, "outcome": None, "notes": None}

    def record_follow_up(self, follow_up_id: str, done_on: date, outcome: str,
                         notes: str | None) -> None:
        follow_up = self.follow_ups.get(follow_up_id)
        if follow_up is None:
            raise InvalidInput.from_messages(
                {"follow_up_id": [f"No follow-up {follow_up_id} is scheduled in this case."]}
            )
        if follow_up["done_on"] is not None:
            raise Conflict("This follow-up is already recorded.", code="conflict")
        not_before("done_on", done_on, self.closings[-1]["closed_on"], "the closing date")
        self._follow_up_recorded(follow_up_id=follow_up_id, done_on=done_on, outcome=outcome,
                                 notes=notes)

    @event("FollowUpRecorded")
    def _follow_up_recorded(self, follow_up_id: str, done_on: date, outcome: str,
                            notes: str | None) -> None:
        self.follow_ups[follow_up_id].update(done_on=done_on, outcome=outcome, notes=notes)

    def reopen(self, reopened_on: date, reason: str | None) -> None:
        self._require_status(("closed",), "reopen the case")
        not_before("reopened_on", reopened_on, self.closings[-1]["closed_on"], "the closing date")
        self._reopened(reopened_on=reopened_on, reason=reason)

    @event("Reopened")
    def _reopened(self, reopened_on: date, reason: str | None) -> None:
        self.status = "active"
        self.reopenings.append({"reopened_on": reopened_on, "reason": reason})

    # Assignment.

    def reassign(self, to_social_worker_id: str, reassigned_on: date, reason: str | None) -> None:
        self._require_status(LIVE, "reassign the case")
        if to_social_worker_id == self.social_worker_id:
            raise Conflict(f"The case is already assigned to {to_social_worker_id}.",
                           code="conflict")
        self._reassigned(from_social_worker_id=self.social_worker_id,
                         to_social_worker_id=to_social_worker_id, reassigned_on=reassigned_on,
                         reason=reason)

    @event("Reassigned")
    def _reassigned(self, from_social_worker_id: str, to_social_worker_id: str,
                    reassigned_on: date, reason: str | None) -> None:
        self.social_worker_id = to_social_worker_id
        self.assignments.append({"from": from_social_worker_id, "to": to_social_worker_id,
                                 "reassigned_on": reassigned_on, "reason": reason})

    # Guards.

    def _require_status(self, allowed: tuple[str, ...], action: str) -> None:
        if self.status in allowed:
            return
        if self.status == "intake":
            raise missing_step("intake", action)
        raise Conflict(f"The case is {self.status}: cannot {action}.", code="wrong_state")

    def _require_accepted(self, action: str) -> None:
        self._require_status(("active",), action)

    def _require_plannable(self, action: str) -> None:
        self._require_accepted(action)
        if not self.assessments:
            raise missing_step("assessment", action)
        self._require_consent(action)

    def _require_consent(self, action: str) -> None:
        missing = self.missing_consents()
        if missing:
            raise Conflict(
                f"Cannot {action}: informed consent missing or withdrawn: "
                + ", ".join(missing) + " (4.2).",
                code="consent_required",
                errors={"consent": missing},
            )

    def _require_service(self, action: str, life_safety: bool, needs_plan: bool) -> None:
        if life_safety:
            # 4.1: life-safety work goes on at intake and without consent, but only while the
            # case has an open risk at life-safety level.
            self._require_status(LIVE, action)
            if not self.has_life_safety_risk():
                raise Conflict(
                    "Life-safety work needs an open risk that threatens life or safety (4.1, by "
                    "the risk policy).",
                    code="wrong_state",
                )
            return
        self._require_accepted(action)
        if needs_plan:
            if not self.assessments:
                raise missing_step("assessment", action)
            if not self.plans:
                raise missing_step("plan", action)
        self._require_consent(action)



def _check_plan_parts(parts: dict[str, Any]) -> None:
    missing = [part for part in PLAN_PARTS if not parts.get(part)]
    if missing:
        raise InvalidInput(
            "The service plan lacks: " + ", ".join(PLAN_PARTS[part] for part in missing)
            + " (8.3.3b).",
            code="plan_incomplete",
            errors={part: ["Required in a service plan (8.3.3b)."] for part in missing},
        )
