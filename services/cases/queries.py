"""Reads of the cases application: clients, a case and its timeline, caseloads, cases by stage,
and overdue items (9.5 key control points). Lists carry identifiers, stages and dates only;
personal content is opened from the vault for a single record and its permitted readers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from contracts.envelope import GENESIS_HASH
from contracts.errors import NotAllowed
from services.cases.access import (
    CASE_WRITERS,
    CasesBase,
    check_school,
    reads_without_grant,
    require_role,
)
from services.cases.clients import WorkerEligibility, WorkerSupervisor
from services.cases.domain import Case
from services.cases.mailbox import Letter
from services.cases.publish import PUBLICATIONS
from services.runtime.clock import clock
from services.runtime.context import current_actor
from services.runtime.plain import plain
from services.runtime.settings import settings

STAGE_ORDER = ("intake", "assessment", "plan", "intervention", "evaluation", "closing")


class CaseQueries(CasesBase):
    # A client (9.2a).

    def archived_case_of_client(self, client_id: str) -> str | None:
        """Once every case of a client is closed, their record is archived with those cases
        (DESIGN "Actors, access, privacy"; 9.4d): reading it needs a grant on the latest closed
        case, whose id this returns. None while a case is open, none was ever opened, or the
        record was disposed of."""
        actor = require_role(*CASE_WRITERS)
        client = self._client(client_id)
        check_school(actor, client, "client")
        self._require_client_in_reach(actor, client)
        if client.personal_content_destroyed_on is not None:
            return None  # disposed (9.4e): nothing personal is left to read
        cases = [case for case in self._records(Case, "Opened") if case.client_id == client_id]
        if not cases or any(case.status != "closed" for case in cases):
            return None
        return str(max(cases, key=lambda case: case.closings[-1]["closed_on"]).id)

    def get_client(self, client_id: str) -> dict[str, Any]:
        actor = require_role(*CASE_WRITERS)
        client = self._client(client_id)
        check_school(actor, client, "client")
        self._require_client_in_reach(actor, client)
        return plain({
            "client_id": client.client_id,
            "version": client.version,
            "school_id": client.school_id,
            "client_type": client.client_type,
            "grade": client.grade,
            "is_minor_at_registration": client.is_minor,
            "details": self._open(client.details),
            "guardians": [self._open(token) for token in client.guardians],
            "related_parties": [self._open(party["details"])
                                for party in client.related_parties],
            "personal_content_destroyed_on": client.personal_content_destroyed_on,
        })

    # A case.

    def case_read_needs_grant(self, case_id: str) -> bool:
        """Whether reading this case's personal content needs an archive grant (9.4d)."""
        case = self._history_readable_case(case_id)
        return not reads_without_grant(current_actor(), case)

    def get_case(self, case_id: str, grant_id: str | None = None) -> dict[str, Any]:
        """The case with its personal content opened. A closed case, or a reader who is not
        the case's worker or a supervisor, needs `grant_id` from the archive (9.4d)."""
        case = self._history_readable_case(case_id)
        if not reads_without_grant(current_actor(), case) and not grant_id:
            raise NotAllowed("Reading this case's personal content needs an archive grant.",
                             code="grant_required")
        seal_open = self._open
        return plain({
            "case_id": str(case.id),
            "version": case.version,
            "school_id": case.school_id,
            "client_id": case.client_id,
            "client_type": case.client_type,
            "client_is_minor": case.client_is_minor,
            "social_worker_id": case.social_worker_id,
            "service_codes": case.service_codes,
            "opened_on": case.opened_on,
            "letter_id": case.letter_id,
            "status": case.status,
            "stage": case.stage,
            "intake": {**case.intake,
                       "initial_information": seal_open(case.intake.get("initial_information")),
                       "accepted_on": case.accepted_on},
            "declined": _opened(case.declined, seal_open, "explanation"),
            "consents": [_opened(c, seal_open, "given_by", "withdrawal_reason")
                         for c in case.consents.values()],
            "consent_given": case.consent_given(),
            "assessments": [_opened(a, seal_open, "environment", "problems", "causes",
                                    "priorities", "strengths", "preliminary_plan")
                            for a in case.assessments],
            "plans": [{**plan, "parts": {k: seal_open(v) for k, v in plan["parts"].items()},
                       "reason": seal_open(plan.get("reason"))} for plan in case.plans],
            "interventions": [_opened(i, seal_open, "notes") for i in case.interventions],
            "resource_requests": [_opened(r, seal_open, "description")
                                  for r in case.resource_requests],
            "referrals": [_opened(r, seal_open, "note") for r in case.referrals],
            "evaluations": [{**e, "items": {k: seal_open(v) for k, v in e["items"].items()}}
                            for e in case.evaluations],
            "closings": [_opened(c, seal_open, "summary") for c in case.closings],
            "follow_ups": [_opened(f, seal_open, "notes") for f in case.follow_ups.values()],
            "reopenings": [_opened(r, seal_open, "reason") for r in case.reopenings],
            "assignments": [_opened(a, seal_open, "reason") for a in case.assignments],
            "risks": [_opened(r, seal_open, "description", "resolution")
                      for r in case.risks.values()],
            "disclosures": [_opened(d, seal_open, "details") for d in case.disclosures],
            "grant_id": grant_id,
        })

    def get_case_timeline(self, case_id: str) -> list[dict[str, Any]]:
        """Every step of the case in order, with what was published of it: codes, dates,
        counts. No personal content, so auditors read it without a grant."""
        case = self._history_readable_case(case_id)
        timeline = []
        stored: Any
        for stored in self.repository.event_store.get(case.id):
            envelope = PUBLICATIONS.envelope(stored, 1, 0, GENESIS_HASH)
            meta = stored.meta
            timeline.append({
                "version": stored.originator_version,
                "at": stored.timestamp.isoformat(),
                "event": type(stored).__name__,
                "published_as": envelope["type"] if envelope else None,
                "actor": {"id": meta["actor"]["id"], "role": meta["actor"]["role"]},
                "details": envelope["payload"] if envelope else {},
            })
        return timeline

    # Lists.

    def list_caseload(self, social_worker_id: str | None = None) -> list[dict[str, Any]]:
        """The live cases of one worker (the actor, if a worker)."""
        actor = current_actor()
        worker = actor.id if actor.role == "social_worker" else social_worker_id
        if actor.role == "social_worker" and social_worker_id not in (None, actor.id):
            raise NotAllowed("A social worker sees their own caseload only.")
        if actor.role == "supervisor" and social_worker_id is not None:
            self._require_in_charge(actor, social_worker_id, "caseload")
        return [
            _summary(case) for case in self._cases_in_scope()
            if case.status in ("intake", "active")
            and (worker is None or case.social_worker_id == worker)
        ]

    def read_models(self) -> dict[str, Any]:
        """What the cases service derives from its log, for `casebook rebuild`: open cases by
        stage, each worker's caseload, and what it learned from supervision (which workers are
        eligible, who supervises whom). Identifiers and counts only."""
        stages: dict[str, list[str]] = {stage: [] for stage in STAGE_ORDER}
        caseload: dict[str, int] = {}
        for case in self._records(Case, "Opened"):
            if case.status in ("intake", "active"):
                stages[case.stage].append(str(case.id))
                caseload[case.social_worker_id] = caseload.get(case.social_worker_id, 0) + 1
        return {
            "open_cases_by_stage": {stage: sorted(ids) for stage, ids in stages.items()},
            "caseload": dict(sorted(caseload.items())),
            "eligibility": {
                known.social_worker_id: {"eligible": known.eligible, "reasons": known.reasons}
                for known in self._records(WorkerEligibility, "Learned")
            },
            "supervisors": {
                known.social_worker_id: known.supervisor_id
                for known in self._records(WorkerSupervisor, "Learned")
            },
        }

    def list_open_cases_by_stage(self) -> dict[str, list[dict[str, Any]]]:
        by_stage: dict[str, list[dict[str, Any]]] = {stage: [] for stage in STAGE_ORDER}
        for case in self._cases_in_scope():
            if case.status in ("intake", "active"):
                by_stage[case.stage].append(_summary(case))
        return by_stage

    def list_overdue(self) -> dict[str, list[dict[str, Any]]]:
        """9.5c, 9.2b, 8.2.2: what is late today by the settable clock."""
        today = clock.today()
        assessment_due = timedelta(days=settings().cases.assessment_due_days)
        plan_due = timedelta(days=settings().cases.plan_due_days)
        overdue: dict[str, list[dict[str, Any]]] = {
            "assessments": [], "plans": [], "follow_ups": [], "letters": []}
        for case in self._cases_in_scope():
            live = case.status in ("intake", "active")
            if live and not case.assessments and today > case.opened_on + assessment_due:
                overdue["assessments"].append(
                    _late(case, case.opened_on + assessment_due, today))
            if live and not case.plans and today > case.opened_on + plan_due:
                overdue["plans"].append(_late(case, case.opened_on + plan_due, today))
            for follow_up in case.follow_ups.values():
                if follow_up["done_on"] is None and today > follow_up["due_on"]:
                    overdue["follow_ups"].append(
                        {**_late(case, follow_up["due_on"], today),
                         "follow_up_id": follow_up["follow_up_id"]})
        overdue["letters"] = self._unanswered_letters(today, settings().cases.letter_reply_days)
        result: dict[str, list[dict[str, Any]]] = plain(overdue)
        return result

    def _unanswered_letters(self, today: Any, days: int) -> list[dict[str, Any]]:
        actor = current_actor()
        if actor.role not in ("social_worker", "supervisor"):
            return []
        late = []
        for letter in self._records(Letter, "Received"):
            if actor.school_id and letter.school_id != actor.school_id:
                continue
            due = letter.received_on + timedelta(days=days)
            if letter.answer is None and today > due:
                late.append({"letter_id": str(letter.id), "received_on": letter.received_on,
                             "due_on": due, "days_overdue": (today - due).days})
        return late


def _opened(record: dict[str, Any] | None, seal_open: Any, *keys: str) -> dict[str, Any] | None:
    if record is None:
        return None
    return {**record, **{key: seal_open(record.get(key)) for key in keys}}


def _summary(case: Case) -> dict[str, Any]:
    open_levels = [risk["level"] for risk in case.risks.values() if risk["status"] == "open"]
    return plain({
        "case_id": str(case.id),
        "client_id": case.client_id,
        "social_worker_id": case.social_worker_id,
        "status": case.status,
        "stage": case.stage,
        "opened_on": case.opened_on,
        "open_risks": len(open_levels),
        "consent_given": case.consent_given(),
    })


def _late(case: Case, due: Any, today: Any) -> dict[str, Any]:
    return {"case_id": str(case.id), "social_worker_id": case.social_worker_id,
            "due_on": due, "days_overdue": (today - due).days}
