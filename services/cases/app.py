"""The cases application: the case process, in plain types. The client register is in
`register.py`, group work, the mailbox and classes in `activities.py`, queries in `queries.py`;
subscriptions' handlers are at the end of this module."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from contracts.errors import Conflict, InvalidInput, NotAllowed
from services.cases.access import CASE_WRITERS, CasesBase, check_school, school_in_scope
from services.cases.activities import Activities
from services.cases.clients import Client, WorkerEligibility, WorkerSupervisor, supervisor_key
from services.cases.domain import Case
from services.cases.mailbox import Letter
from services.cases.queries import CaseQueries
from services.cases.register import ClientRegister
from services.cases.rules import PLAN_PARTS, PROCESS_EVALUATION_ITEMS
from services.runtime.clock import clock
from services.runtime.context import require_role
from services.runtime.persistence import Cursor


def new_id() -> str:
    return str(uuid.uuid4())


class CasesApplication(CaseQueries, Activities, ClientRegister, CasesBase):
    service = "cases"

    # Intake (8.3.1).

    def open_case(
        self,
        client_id: str,
        social_worker_id: str,
        service_codes: list[str],
        opened_on: date,
        intake: dict[str, Any] | None = None,
        letter_id: str | None = None,
        school_id: str | None = None,
        client_type: str | None = None,
    ) -> str:
        actor = require_role(*CASE_WRITERS)
        school = school_in_scope(actor, school_id)
        if not self._in_charge(actor, social_worker_id):
            raise NotAllowed("A social worker opens cases for themselves; a supervisor for "
                             "their supervisees (6.2.2.1).")
        self._require_eligible(social_worker_id)
        client = self._client(client_id)
        check_school(actor, client, "client")
        if client_type is not None and client_type != client.client_type:
            raise InvalidInput.from_messages(
                {"client_type": [f"The register has client {client_id} as a "
                                 f"{client.client_type}."]}
            )
        self._require_not_destroyed(client_id)
        is_minor = self._is_minor(client, opened_on)
        if is_minor and not client.guardians:
            raise Conflict(
                f"Client {client_id} is a minor: record a guardian before intake (4.2).",
                code="guardian_required",
            )
        letter = self.get_aggregate(Letter, letter_id, "letter") if letter_id else None
        if letter is not None:
            check_school(actor, letter, "letter")
            if letter.opened_case_id is not None:
                raise Conflict(f"The letter already opened case {letter.opened_case_id}.",
                               code="conflict")
        items = intake or {}
        emergency = items.get("emergency")
        case = Case(
            school_id=school,
            client_id=client_id,
            client_type=client.client_type,
            client_is_minor=is_minor,
            social_worker_id=social_worker_id,
            service_codes=service_codes,
            opened_on=opened_on,
            intake=self._intake_items(client_id, items),
            letter_id=str(letter_id) if letter_id else None,
        )
        if emergency:
            self._raise_emergency(case, emergency, opened_on)
        if letter is not None:
            letter.link_case(str(case.id))
        self._save(case, letter)
        return str(case.id)

    def record_intake(self, case_id: str, **items: Any) -> None:
        case = self._writable_case(case_id)
        given = {key: value for key, value in items.items() if value is not None}
        case.record_intake(self._intake_items(case.client_id, given))
        emergency = given.get("emergency")
        if emergency:
            self._raise_emergency(case, emergency, clock.today())
        self._save(case)

    def accept_intake(self, case_id: str, accepted_on: date) -> None:
        case = self._writable_case(case_id)
        case.accept_intake(accepted_on)
        self._save(case)

    def decline_intake(
        self,
        case_id: str,
        reason_code: str,
        declined_on: date,
        explanation: str | None = None,
        referral: dict[str, Any] | None = None,
    ) -> str | None:
        case = self._writable_case(case_id)
        seal = self._sealer(case)
        referral_id = new_id() if referral else None
        case.decline_intake(
            reason_code=reason_code,
            explanation=seal(explanation),
            declined_on=declined_on,
            referral=None if referral is None else {
                "referral_id": referral_id,
                "agency_kind": referral["agency_kind"],
                "agency_id": referral.get("agency_id"),
                "note": seal(referral.get("note")),
            },
        )
        self._save(case)
        return referral_id

    # Consent (4.2).

    def record_consent(self, case_id: str, party: str, given_on: date,
                       informed_of: list[str], given_by: str | None = None) -> None:
        case = self._writable_case(case_id)
        case.record_consent(party, given_on, informed_of, self._sealer(case)(given_by))
        self._save(case)

    def withdraw_consent(self, case_id: str, party: str, withdrawn_on: date,
                         reason: str | None = None) -> None:
        case = self._writable_case(case_id)
        case.withdraw_consent(party, withdrawn_on, self._sealer(case)(reason))
        self._save(case)

    # Assessment (8.3.2) and plan (8.3.3).

    def record_assessment(self, case_id: str, assessed_on: date, environment: str,
                          problems: list[str], causes: list[str], priorities: list[str],
                          strengths: list[str], preliminary_plan: str | None = None) -> int:
        case = self._writable_case(case_id)
        seal = self._sealer(case)
        case.record_assessment(
            assessed_on,
            environment=seal(environment),
            problems=seal(problems),
            problem_count=len(problems),
            causes=seal(causes),
            priorities=seal(priorities),
            strengths=seal(strengths),
            strength_count=len(strengths),
            preliminary_plan=seal(preliminary_plan),
        )
        self._save(case)
        return len(case.assessments)

    def adopt_plan(self, case_id: str, adopted_on: date, review_by: date | None = None,
                   **parts: Any) -> int:
        case = self._writable_case(case_id)
        case.adopt_plan(self._plan_parts(case, parts), len(parts.get("goals") or []),
                        adopted_on, review_by)
        self._save(case)
        return len(case.plans)

    def revise_plan(self, case_id: str, revised_on: date, reason: str | None = None,
                    **parts: Any) -> int:
        case = self._writable_case(case_id)
        case.revise_plan(self._plan_parts(case, parts), len(parts.get("goals") or []),
                         revised_on, self._sealer(case)(reason))
        self._save(case)
        return len(case.plans)

    # Intervention (8.3.4), resources, referrals.

    def log_intervention(self, case_id: str, notes: str | None = None,
                         life_safety: bool = False, participant_count: int = 1,
                         participant_kinds: list[str] | None = None,
                         **intervention: Any) -> str:
        case = self._writable_case(case_id)
        intervention_id = new_id()
        case.log_intervention(
            life_safety,
            intervention_id=intervention_id,
            notes=self._sealer(case)(notes),
            participant_count=participant_count,
            participant_kinds=participant_kinds or ["client"],
            **intervention,
        )
        self._save(case)
        return intervention_id

    def request_resource(self, case_id: str, description: str | None = None,
                         life_safety: bool = False, **request: Any) -> str:
        case = self._writable_case(case_id)
        request_id = new_id()
        case.request_resource(life_safety, request_id=request_id,
                              description=self._sealer(case)(description), **request)
        self._save(case)
        return request_id

    def make_referral(self, case_id: str, agency_kind: str, reason_code: str,
                      referred_on: date, agency_id: str | None = None,
                      note: str | None = None, life_safety: bool = False) -> str:
        case = self._writable_case(case_id)
        referral_id = new_id()
        case.make_referral(life_safety, referral_id=referral_id, agency_kind=agency_kind,
                           agency_id=agency_id, reason_code=reason_code,
                           referred_on=referred_on, note=self._sealer(case)(note))
        self._save(case)
        return referral_id

    # Evaluation (8.3.5, 10.2.2), closing (8.3.6), follow-up (9.2b), reopening.

    def record_evaluation(self, case_id: str, kind: str, evaluated_on: date,
                          goals: list[dict[str, Any]] | None = None,
                          satisfaction: int | None = None, client_change: str | None = None,
                          **process_items: Any) -> None:
        case = self._writable_case(case_id)
        seal = self._sealer(case)
        items = {key: seal(process_items.get(key)) for key in PROCESS_EVALUATION_ITEMS}
        items["client_change"] = seal(client_change)
        case.record_evaluation(kind, evaluated_on, items, goals or [], satisfaction)
        self._save(case)

    def close_case(self, case_id: str, reason: str, closed_on: date,
                   summary: str | None = None, follow_up: dict[str, Any] | None = None,
                   **items: bool) -> str | None:
        case = self._writable_case(case_id)
        follow_up_id = new_id() if follow_up else None
        case.close(reason, closed_on, items, self._sealer(case)(summary),
                   None if follow_up is None else {"follow_up_id": follow_up_id, **follow_up})
        self._save(case)
        return follow_up_id

    def schedule_follow_up(self, case_id: str, due_on: date) -> str:
        case = self._writable_case(case_id)
        follow_up_id = new_id()
        case.schedule_follow_up(follow_up_id, due_on)
        self._save(case)
        return follow_up_id

    def record_follow_up(self, case_id: str, follow_up_id: str, done_on: date, outcome: str,
                         notes: str | None = None) -> None:
        case = self._writable_case(case_id)
        case.record_follow_up(follow_up_id, done_on, outcome, self._sealer(case)(notes))
        self._save(case)

    def reopen_case(self, case_id: str, reopened_on: date, reason: str | None = None) -> None:
        case = self._writable_case(case_id)
        case.reopen(reopened_on, self._sealer(case)(reason))
        self._save(case)

    def reassign_case(self, case_id: str, to_social_worker_id: str, reassigned_on: date,
                      reason: str | None = None) -> None:
        actor = require_role("supervisor")
        case = self._writable_case(case_id)
        # From one supervisee to another: a case does not leave the supervisor's oversight.
        self._require_in_charge(actor, to_social_worker_id, "new assignment")
        self._require_eligible(to_social_worker_id)
        case.reassign(to_social_worker_id, reassigned_on, self._sealer(case)(reason))
        self._save(case)

    # Risk register (9.6a, 4.1).

    def raise_risk(self, case_id: str, risk_type: str, level: str, raised_on: date,
                   description: str | None = None) -> str:
        case = self._writable_case(case_id)
        risk_id = new_id()
        case.raise_risk(risk_id, risk_type, level, raised_on, self._sealer(case)(description),
                        emergency=False, life_safety=self.policy.life_safety(risk_type, level))
        self._save(case)
        return risk_id

    def change_risk_level(self, case_id: str, risk_id: str, level: str, changed_on: date,
                          reason: str | None = None) -> None:
        case = self._writable_case(case_id)
        risk = case.risks.get(risk_id)
        life_safety = risk is not None and self.policy.life_safety(risk["risk_type"], level)
        case.change_risk_level(risk_id, level, changed_on, self._sealer(case)(reason),
                               life_safety)
        self._save(case)

    def resolve_risk(self, case_id: str, risk_id: str, resolved_on: date,
                     resolution: str | None = None) -> None:
        case = self._writable_case(case_id)
        case.resolve_risk(risk_id, resolved_on, self._sealer(case)(resolution))
        self._save(case)

    def record_disclosure(self, case_id: str, risk_id: str, recipients: list[dict[str, str]],
                          what: str, why: str, disclosed_at: datetime) -> str:
        case = self._writable_case(case_id)
        disclosure_id = new_id()
        # Who was told what and why is itself confidential: sealed as one token.
        details = self.vault.seal(case.client_id,
                                  {"recipients": recipients, "what": what, "why": why})
        case.record_disclosure(disclosure_id, risk_id, sorted({r["kind"] for r in recipients}),
                               disclosed_at, details)
        self._save(case)
        return disclosure_id

    # Subscriptions: eligibility and supervisors from supervision, disposal from the archive.

    def learn_from_supervision(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        """Keep what supervision said about a worker, in its own order: whether they may take
        cases (6.2.1.2, 9.1a) and who supervises them (6.2.2.1)."""
        if envelope["type"] == "SocialWorkerEligibilityChanged":
            self.save_processed(self._learned_eligibility(envelope), cursor=cursor)
        elif envelope["type"] == "SupervisorAssigned":
            self.save_processed(self._learned_supervisor(envelope), cursor=cursor)

    def _learned_eligibility(self, envelope: dict[str, Any]) -> WorkerEligibility:
        payload = envelope["payload"]
        known = self._eligibility(payload["social_worker_id"])
        if known is None:
            return WorkerEligibility(
                social_worker_id=payload["social_worker_id"],
                school_id=envelope.get("school_id"),
                eligible=payload["eligible"],
                reasons=payload["reasons"],
                position=envelope["position"],
            )
        known.change(payload["eligible"], payload["reasons"], envelope["position"])
        return known

    def _learned_supervisor(self, envelope: dict[str, Any]) -> WorkerSupervisor:
        payload = envelope["payload"]
        key = supervisor_key(payload["social_worker_id"])
        if key not in self.repository:
            return WorkerSupervisor(
                social_worker_id=payload["social_worker_id"],
                school_id=envelope.get("school_id"),
                supervisor_id=payload["supervisor_id"],
                position=envelope["position"],
            )
        known: WorkerSupervisor = self.repository.get(key)
        known.change(payload["supervisor_id"], envelope["position"])
        return known

    def apply_disposal(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        """9.4e: destroy the disposed subjects' keys; their sealed content reads as destroyed.
        Shredding is idempotent, so a retried envelope changes nothing more."""
        if envelope["type"] != "ArchiveFileDisposed":
            return
        payload = envelope["payload"]
        disposed_on = date.fromisoformat(payload["disposed_on"])
        clients = []
        for subject_id in payload["subject_ids"]:
            self.vault.shred(subject_id)
            if Client.create_id(subject_id) in self.repository:
                client = self._client(subject_id)
                client.record_disposal(payload["file_id"], disposed_on)
                clients.append(client)
        self.save_processed(*clients, cursor=cursor)

    # Helpers.

    def _sealer(self, case: Case) -> Any:
        def seal(value: Any) -> str | None:
            return self._seal(case.client_id, value)

        return seal

    def _intake_items(self, client_id: str, items: dict[str, Any]) -> dict[str, Any]:
        recorded: dict[str, Any] = {
            key: items[key] for key in ("worker_introduced", "respect_and_empathy") if key in items
        }
        if "initial_information" in items:
            recorded["initial_information"] = self._seal(client_id, items["initial_information"])
        if items.get("emergency"):
            recorded["emergency"] = items["emergency"]["risk_type"]
        return recorded

    def _raise_emergency(self, case: Case, emergency: dict[str, Any], on: date) -> None:
        # 8.3.1d: emergency intervention starts at once; the risk is published immediately.
        case.raise_risk(new_id(), emergency["risk_type"], emergency["level"], on,
                        self._seal(case.client_id, emergency.get("description")),
                        emergency=True,
                        life_safety=self.policy.life_safety(emergency["risk_type"],
                                                            emergency["level"]))

    def _plan_parts(self, case: Case, parts: dict[str, Any]) -> dict[str, Any]:
        seal = self._sealer(case)
        return {part: seal(parts.get(part)) for part in PLAN_PARTS}
