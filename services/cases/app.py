"""The cases application: the client register (9.2a), the case process of 8.3 with its risk
register (9.6a, 4.1), group work (8.2.1.3), the mailbox (8.2.2) and classes (8.2.3); their
reads, from the views or one record; and what the service learns from supervision and the
archive. Plain types in, plain dicts out."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from contracts.errors import Conflict, InvalidInput, NotAllowed, NotFound
from services.cases import records
from services.cases.access import (
    CASE_WRITERS,
    HISTORY_READERS,
    check_school,
    reads_without_grant,
    school_in_scope,
)
from services.cases.classes import ExperientialClass
from services.cases.clients import ADULT_AGE, Client, age_on, check_new_client, client_key
from services.cases.domain import Case
from services.cases.groups import Group
from services.cases.mailbox import Letter
from services.cases.publish import PUBLICATIONS
from services.cases.rules import PLAN_PARTS, PROCESS_EVALUATION_ITEMS
from services.cases.views import CaseViews, Due, learn_eligibility, learn_supervisor
from services.runtime.clock import clock
from services.runtime.context import Actor, current_actor, require_role
from services.runtime.persistence import Cursor
from services.runtime.risk_policy import risk_policy
from services.runtime.settings import settings
from services.runtime.store import CasebookApplication
from services.runtime.views import Transaction

Seal = Callable[[Any], str | None]

# What the service learns from other services' events, by event type; the subscriptions pass
# over the rest without a transaction of their own (services.runtime.subscription, `acts_on`).
SUPERVISION_EVENTS_ACTED_ON = ("SocialWorkerEligibilityChanged", "SupervisorAssigned")
ARCHIVE_EVENTS_ACTED_ON = ("ArchiveFileDisposed",)


def new_id() -> str:
    return str(uuid.uuid4())


def _due() -> Due:
    """What is late today, by the settable clock and the configured days."""
    days = settings().cases
    return Due(clock.today(), days.assessment_due_days, days.plan_due_days,
               days.letter_reply_days)


def group_subject(group_id: str) -> str:
    """Session notes speak of several members at once: they are sealed under the group."""
    return f"group:{group_id}"


class CasesApplication(CasebookApplication):
    service = "cases"
    publications = PUBLICATIONS
    views_class = CaseViews
    views: CaseViews
    # Every command on a case reads it, and a case gathers an event per step, session and
    # follow-up: a year of weekly sessions is some fifty. A snapshot every 50 events keeps a
    # read at fewer than fifty events whatever the case's age.
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Case: 50}

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        # Which risks threaten life or safety (4.1): the policy supervision escalates by.
        self.policy = risk_policy()

    # The client register (9.2a, 5, 4.6).

    def register_client(
        self, client_type: str, name: str, client_id: str | None = None,
        school_id: str | None = None, date_of_birth: date | None = None,
        grade: int | None = None, contact: str | None = None,
        guardians: list[dict[str, Any]] | None = None,
        related_parties: list[dict[str, Any]] | None = None,
    ) -> str:
        actor = require_role(*CASE_WRITERS)
        school = school_in_scope(actor, school_id)
        check_new_client(client_type, grade, date_of_birth)
        client_id = client_id or new_id()
        if client_key(client_id) in self.repository:
            raise Conflict(f"Client {client_id} is already registered.", code="conflict")
        self._require_not_destroyed(client_id)
        details = {"name": name, "contact": contact,
                   "date_of_birth": None if date_of_birth is None else date_of_birth.isoformat()}
        is_minor = date_of_birth is not None and age_on(date_of_birth, clock.today()) < ADULT_AGE
        self.save(Client(
            client_id=client_id, school_id=school, client_type=client_type, grade=grade,
            is_minor=is_minor, details=self.vault.seal(client_id, details),
            guardians=[self.vault.seal(client_id, g) for g in guardians or []],
            related_parties=[{"kind": p["kind"], "details": self.vault.seal(client_id, p)}
                             for p in related_parties or []],
            registered_by=actor.id,
        ))
        return client_id

    def add_guardian(self, client_id: str, **guardian: Any) -> None:
        client = self._writable_client(client_id)
        client.add_guardian(self.vault.seal(client_id, guardian))
        self.save(client)

    def add_related_party(self, client_id: str, kind: str, **party: Any) -> None:
        client = self._writable_client(client_id)
        client.add_related_party(kind, self.vault.seal(client_id, {"kind": kind, **party}))
        self.save(client)

    # Intake (8.3.1).

    def open_case(
        self, client_id: str, social_worker_id: str, service_codes: list[str], opened_on: date,
        intake: dict[str, Any] | None = None, letter_id: str | None = None,
        school_id: str | None = None, client_type: str | None = None,
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
            raise InvalidInput.from_messages({"client_type": [
                f"The register has client {client_id} as a {client.client_type}."]})
        self._require_not_destroyed(client_id)
        is_minor = self._is_minor(client, opened_on)
        if is_minor and not client.guardians:
            raise Conflict(f"Client {client_id} is a minor: record a guardian before intake "
                           "(4.2).", code="guardian_required")
        letter = self.get_aggregate(Letter, letter_id, "letter") if letter_id else None
        if letter is not None:
            check_school(actor, letter, "letter")
            if letter.opened_case_id is not None:
                raise Conflict(f"The letter already opened case {letter.opened_case_id}.",
                               code="conflict")
        items = intake or {}
        case = Case(school_id=school, client_id=client_id, client_type=client.client_type,
                    client_is_minor=is_minor, social_worker_id=social_worker_id,
                    service_codes=service_codes, opened_on=opened_on,
                    intake=self._intake_items(client_id, items), letter_id=letter_id)
        if items.get("emergency"):
            self._raise_emergency(case, items["emergency"], opened_on)
        if letter is not None:
            letter.link_case(str(case.id))
        self.save(case, letter)
        return str(case.id)

    def record_intake(self, case_id: str, **items: Any) -> None:
        case = self._writable_case(case_id)
        given = {key: value for key, value in items.items() if value is not None}
        case.record_intake(self._intake_items(case.client_id, given))
        if given.get("emergency"):
            self._raise_emergency(case, given["emergency"], clock.today())
        self.save(case)

    def accept_intake(self, case_id: str, accepted_on: date) -> None:
        case = self._writable_case(case_id)
        case.accept_intake(accepted_on)
        self.save(case)

    def decline_intake(self, case_id: str, reason_code: str, declined_on: date,
                       explanation: str | None = None,
                       referral: dict[str, Any] | None = None) -> str | None:
        case = self._writable_case(case_id)
        seal = self._sealer(case)
        referral_id = new_id() if referral else None
        case.decline_intake(
            reason_code=reason_code, explanation=seal(explanation), declined_on=declined_on,
            referral=None if referral is None else {
                "referral_id": referral_id, "agency_kind": referral["agency_kind"],
                "agency_id": referral.get("agency_id"), "note": seal(referral.get("note")),
            },
        )
        self.save(case)
        return referral_id

    # Consent (4.2).

    def record_consent(self, case_id: str, party: str, given_on: date, informed_of: list[str],
                       given_by: str | None = None) -> None:
        case = self._writable_case(case_id)
        case.record_consent(party, given_on, informed_of, self._sealer(case)(given_by))
        self.save(case)

    def withdraw_consent(self, case_id: str, party: str, withdrawn_on: date,
                         reason: str | None = None) -> None:
        case = self._writable_case(case_id)
        case.withdraw_consent(party, withdrawn_on, self._sealer(case)(reason))
        self.save(case)

    # Assessment (8.3.2) and plan (8.3.3).

    def record_assessment(self, case_id: str, assessed_on: date, environment: str,
                          problems: list[str], causes: list[str], priorities: list[str],
                          strengths: list[str], preliminary_plan: str | None = None) -> int:
        case = self._writable_case(case_id)
        seal = self._sealer(case)
        case.record_assessment(
            assessed_on, environment=seal(environment), problems=seal(problems),
            problem_count=len(problems), causes=seal(causes), priorities=seal(priorities),
            strengths=seal(strengths), strength_count=len(strengths),
            preliminary_plan=seal(preliminary_plan),
        )
        self.save(case)
        return len(case.assessments)

    def adopt_plan(self, case_id: str, adopted_on: date, review_by: date | None = None,
                   **parts: Any) -> int:
        case = self._writable_case(case_id)
        case.adopt_plan(self._plan_parts(case, parts), len(parts.get("goals") or []),
                        adopted_on, review_by)
        self.save(case)
        return len(case.plans)

    def revise_plan(self, case_id: str, revised_on: date, reason: str | None = None,
                    **parts: Any) -> int:
        case = self._writable_case(case_id)
        case.revise_plan(self._plan_parts(case, parts), len(parts.get("goals") or []),
                         revised_on, self._sealer(case)(reason))
        self.save(case)
        return len(case.plans)

    # Intervention (8.3.4), resources, referrals.

    def log_intervention(self, case_id: str, notes: str | None = None, life_safety: bool = False,
                         participant_count: int = 1, participant_kinds: list[str] | None = None,
                         **intervention: Any) -> str:
        case = self._writable_case(case_id)
        intervention_id = new_id()
        case.log_intervention(life_safety, intervention_id=intervention_id,
                              notes=self._sealer(case)(notes),
                              participant_count=participant_count,
                              participant_kinds=participant_kinds or ["client"], **intervention)
        self.save(case)
        return intervention_id

    def request_resource(self, case_id: str, description: str | None = None,
                         life_safety: bool = False, **request: Any) -> str:
        case = self._writable_case(case_id)
        request_id = new_id()
        case.request_resource(life_safety, request_id=request_id,
                              description=self._sealer(case)(description), **request)
        self.save(case)
        return request_id

    def make_referral(self, case_id: str, agency_kind: str, reason_code: str, referred_on: date,
                      agency_id: str | None = None, note: str | None = None,
                      life_safety: bool = False) -> str:
        case = self._writable_case(case_id)
        referral_id = new_id()
        case.make_referral(life_safety, referral_id=referral_id, agency_kind=agency_kind,
                           agency_id=agency_id, reason_code=reason_code,
                           referred_on=referred_on, note=self._sealer(case)(note))
        self.save(case)
        return referral_id

    # Evaluation (8.3.5, 10.2.2), closing (8.3.6), follow-up (9.2b), reopening, reassignment.

    def record_evaluation(self, case_id: str, kind: str, evaluated_on: date,
                          goals: list[dict[str, Any]] | None = None,
                          satisfaction: int | None = None, client_change: str | None = None,
                          **process_items: Any) -> None:
        case = self._writable_case(case_id)
        seal = self._sealer(case)
        items = {key: seal(process_items.get(key)) for key in PROCESS_EVALUATION_ITEMS}
        items["client_change"] = seal(client_change)
        case.record_evaluation(kind, evaluated_on, items, goals or [], satisfaction)
        self.save(case)

    def close_case(self, case_id: str, reason: str, closed_on: date, summary: str | None = None,
                   follow_up: dict[str, Any] | None = None, **items: bool) -> str | None:
        case = self._writable_case(case_id)
        follow_up_id = new_id() if follow_up else None
        case.close(reason, closed_on, items, self._sealer(case)(summary),
                   None if follow_up is None else {"follow_up_id": follow_up_id, **follow_up})
        self.save(case)
        return follow_up_id

    def schedule_follow_up(self, case_id: str, due_on: date) -> str:
        case = self._writable_case(case_id)
        follow_up_id = new_id()
        case.schedule_follow_up(follow_up_id, due_on)
        self.save(case)
        return follow_up_id

    def record_follow_up(self, case_id: str, follow_up_id: str, done_on: date, outcome: str,
                         notes: str | None = None) -> None:
        case = self._writable_case(case_id)
        case.record_follow_up(follow_up_id, done_on, outcome, self._sealer(case)(notes))
        self.save(case)

    def reopen_case(self, case_id: str, reopened_on: date, reason: str | None = None) -> None:
        case = self._writable_case(case_id)
        case.reopen(reopened_on, self._sealer(case)(reason))
        self.save(case)

    def reassign_case(self, case_id: str, to_social_worker_id: str, reassigned_on: date,
                      reason: str | None = None) -> None:
        actor = require_role("supervisor")
        case = self._writable_case(case_id)
        # From one supervisee to another: a case does not leave the supervisor's oversight.
        self._require_in_charge(actor, to_social_worker_id, "new assignment")
        self._require_eligible(to_social_worker_id)
        case.reassign(to_social_worker_id, reassigned_on, self._sealer(case)(reason))
        self.save(case)

    # The risk register (9.6a, 4.1).

    def raise_risk(self, case_id: str, risk_type: str, level: str, raised_on: date,
                   description: str | None = None) -> str:
        case = self._writable_case(case_id)
        risk_id = new_id()
        case.raise_risk(risk_id, risk_type, level, raised_on, self._sealer(case)(description),
                        emergency=False, life_safety=self.policy.life_safety(risk_type, level))
        self.save(case)
        return risk_id

    def change_risk_level(self, case_id: str, risk_id: str, level: str, changed_on: date,
                          reason: str | None = None) -> None:
        case = self._writable_case(case_id)
        risk = case.risks.get(risk_id)
        life_safety = risk is not None and self.policy.life_safety(risk["risk_type"], level)
        case.change_risk_level(risk_id, level, changed_on, self._sealer(case)(reason),
                               life_safety)
        self.save(case)

    def resolve_risk(self, case_id: str, risk_id: str, resolved_on: date,
                     resolution: str | None = None) -> None:
        case = self._writable_case(case_id)
        case.resolve_risk(risk_id, resolved_on, self._sealer(case)(resolution))
        self.save(case)

    def record_disclosure(self, case_id: str, risk_id: str, recipients: list[dict[str, str]],
                          what: str, why: str, disclosed_at: datetime) -> str:
        case = self._writable_case(case_id)
        disclosure_id = new_id()
        # Who was told what and why is itself confidential: sealed as one token.
        details = self.vault.seal(case.client_id,
                                  {"recipients": recipients, "what": what, "why": why})
        case.record_disclosure(disclosure_id, risk_id, sorted({r["kind"] for r in recipients}),
                               disclosed_at, details)
        self.save(case)
        return disclosure_id

    # Group work (8.2.1.3).

    def form_group(self, kind: str, purpose: str, service_codes: list[str],
                   social_worker_id: str, planned_sessions: int, formed_on: date,
                   school_id: str | None = None) -> str:
        actor = require_role(*CASE_WRITERS)
        school = school_in_scope(actor, school_id)
        if social_worker_id != actor.id and not self._in_charge(actor, social_worker_id):
            raise NotAllowed("A social worker forms groups they lead themselves; a supervisor "
                             "groups they or their supervisees lead (6.2.2.1).")
        group = Group(school_id=school, kind=kind, purpose=purpose, service_codes=service_codes,
                      social_worker_id=social_worker_id, planned_sessions=planned_sessions,
                      formed_on=formed_on)
        self.save(group)
        return str(group.id)

    def add_group_member(self, group_id: str, client_id: str, joined_on: date) -> None:
        group = self._group(group_id)
        if self._client(client_id).school_id != group.school_id:
            raise InvalidInput.from_messages(
                {"client_id": ["The client belongs to another school."]})
        group.add_member(client_id, joined_on)
        self.save(group)

    def hold_group_session(self, group_id: str, held_on: date, attended: list[str],
                           notes: str | None = None) -> int:
        group = self._group(group_id)
        group.hold_session(held_on, attended, self._seal(group_subject(group_id), notes))
        self.save(group)
        return len(group.sessions)

    def evaluate_group(self, group_id: str, evaluated_on: date, goal_attainment: list[int],
                       notes: str | None = None) -> None:
        group = self._group(group_id)
        group.evaluate(evaluated_on, goal_attainment, self._seal(group_subject(group_id), notes))
        self.save(group)

    def close_group(self, group_id: str, closed_on: date) -> None:
        group = self._group(group_id)
        group.close(closed_on)
        self.save(group)

    # The mailbox (8.2.2) and experiential classes (8.2.3).

    def receive_letter(self, received_on: date, content: str, anonymous: bool = False,
                       client_id: str | None = None, grade: int | None = None,
                       service_codes: list[str] | None = None,
                       school_id: str | None = None) -> str:
        actor = require_role(*CASE_WRITERS)
        school = school_in_scope(actor, school_id)
        if anonymous and client_id:
            raise InvalidInput.from_messages({"client_id": ["An anonymous letter names no "
                                                            "client."]})
        if client_id:
            check_school(actor, self._client(client_id), "client")
        # An anonymous letter's content is sealed under a subject of its own.
        subject_id = client_id or f"letter:{uuid.uuid4()}"
        letter = Letter(school_id=school, received_on=received_on, anonymous=anonymous,
                        client_id=client_id, subject_id=subject_id, grade=grade,
                        service_codes=service_codes or [],
                        content=self.vault.seal(subject_id, content))
        self.save(letter)
        return str(letter.id)

    def answer_letter(self, letter_id: str, answered_on: date, reply: str) -> dict[str, Any]:
        actor = require_role(*CASE_WRITERS)
        letter = self.get_aggregate(Letter, letter_id, "letter")
        check_school(actor, letter, "letter")
        letter.answer_with(answered_on, self.vault.seal(letter.subject_id, reply), actor.id)
        self.save(letter)
        assert letter.answer is not None
        return {"letter_id": str(letter.id), "days_to_answer": letter.answer["days_to_answer"]}

    def hold_class(self, theme: str, topic: str, service_codes: list[str], held_on: date,
                   attendance: int, grade: int | None = None,
                   school_id: str | None = None) -> str:
        actor = require_role(*CASE_WRITERS)
        school = school_in_scope(actor, school_id)
        held = ExperientialClass(school_id=school, theme=theme, topic=topic,
                                 service_codes=service_codes, held_on=held_on,
                                 attendance=attendance, grade=grade, social_worker_id=actor.id)
        self.save(held)
        return str(held.id)

    # Reads of one record.

    def get_client(self, client_id: str) -> dict[str, Any]:
        client = self._readable_client(client_id)
        return records.client_record(client, self._open)

    def archived_case_of_client(self, client_id: str) -> str | None:
        """Once every case of a client is closed, their record is archived with those cases
        (DESIGN "Actors, access, privacy"; 9.4d): reading it needs a grant on the latest closed
        case, whose id this returns. None while a case is open, none was ever opened, or the
        record was disposed of."""
        self._readable_client(client_id)
        row = self.views.client(client_id)
        if row is None or row["destroyed_on"] is not None:
            return None  # disposed (9.4e): nothing personal is left to read
        if row["cases"] == 0 or row["unclosed_cases"] > 0:
            return None
        return str(row["latest_closed_case_id"])

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
        return records.case_record(case, self._open, grant_id)

    def get_case_timeline(self, case_id: str) -> list[dict[str, Any]]:
        """Every step of the case with what was published of it: codes, dates, counts. No
        personal content, so the roles that check records read it without a grant."""
        case = self._history_readable_case(case_id)
        return self.publications.timeline(self.repository.event_store.get(case.id))

    def get_group(self, group_id: str) -> dict[str, Any]:
        return records.group_record(self._group(group_id), self._open)

    def get_letter(self, letter_id: str) -> dict[str, Any]:
        actor = require_role(*CASE_WRITERS)
        letter = self.get_aggregate(Letter, letter_id, "letter")
        check_school(actor, letter, "letter")
        return records.letter_record(letter, self._open)

    def get_class(self, class_id: str) -> dict[str, Any]:
        actor = require_role(*CASE_WRITERS, "school_admin", "auditor")
        held = self.get_aggregate(ExperientialClass, class_id, "class")
        check_school(actor, held, "class")
        return records.class_record(held)

    # Lists, from the views.

    def list_caseload(self, limit: int = 50, after: str | None = None,
                      social_worker_id: str | None = None, stage: str | None = None,
                      status: str = "live", case_id: list[str] | None = None) -> dict[str, Any]:
        """The cases the caller may see (their own as a worker, their supervisees' as a
        supervisor, the school's otherwise), newest first; the live ones unless `status`; those
        named by `case_id` when given. Each says which of its key control points are overdue
        today (9.5c, 9.2b)."""
        actor = require_role(*HISTORY_READERS)
        if actor.role == "social_worker" and social_worker_id not in (None, actor.id):
            raise NotAllowed("A social worker sees their own caseload only.")
        if actor.role == "supervisor" and social_worker_id is not None:
            self._require_in_charge(actor, social_worker_id, "caseload")
        return self.views.caseload(actor, social_worker_id, stage, status, case_id, _due(),
                                   limit, after)

    def count_open_cases_by_stage(self) -> dict[str, int]:
        actor = require_role(*HISTORY_READERS)
        counts = self.views.by_stage(actor)
        stages = ("intake", "assessment", "plan", "intervention", "evaluation", "closing")
        return {stage: counts.get(stage, 0) for stage in stages}

    def list_overdue(self, limit: int = 50, after: str | None = None,
                     kind: str | None = None) -> dict[str, Any]:
        """9.5c, 9.2b, 8.2.2: what is late today, by the settable clock."""
        actor = require_role(*HISTORY_READERS)
        return self.views.overdue(actor, kind, _due(), limit, after)

    def list_follow_ups_due(self, limit: int = 50, after: str | None = None,
                            due_within_days: int = 30) -> dict[str, Any]:
        """9.2b: the follow-ups coming due from today, by the settable clock."""
        actor = require_role(*HISTORY_READERS)
        return self.views.follow_ups_due(actor, _due(), due_within_days, limit, after)

    def list_clients(self, limit: int = 50, after: str | None = None,
                     client_type: str | None = None,
                     client_id: list[str] | None = None) -> dict[str, Any]:
        """The clients the caller's work reaches, with their names (those named by `client_id`
        when given: a page's clients elsewhere); a client whose every case is closed is
        archived (9.4d) and listed without personal content."""
        actor = require_role(*CASE_WRITERS)
        result = self.views.clients(actor, self._supervisees(actor), client_type, client_id,
                                    limit, after)
        result["items"] = [self._client_item(row) for row in result["items"]]
        return result

    def list_letters(self, limit: int = 50, after: str | None = None,
                     unanswered: bool = False) -> dict[str, Any]:
        """The school's mailbox (8.2.2), oldest first, each with its reply deadline."""
        actor = require_role(*CASE_WRITERS)
        result = self.views.letters(actor, unanswered, limit, after)
        days = settings().cases.letter_reply_days
        for item in result["items"]:
            received = date.fromisoformat(item["received_on"])
            item["reply_due_on"] = (received + timedelta(days=days)).isoformat()
        return result

    def list_groups(self, limit: int = 50, after: str | None = None,
                    status: str | None = None) -> dict[str, Any]:
        actor = require_role(*CASE_WRITERS, "school_admin")
        return self.views.groups(actor, self._supervisees(actor), status, limit, after)

    def list_classes(self, limit: int = 50, after: str | None = None) -> dict[str, Any]:
        actor = require_role(*CASE_WRITERS, "school_admin")
        return self.views.classes(actor, self._supervisees(actor), limit, after)

    # What the service learns: from supervision, who may take cases (6.2.1.2, 9.1a) and who
    # supervises whom (6.2.2.1); from the archive, disposals (9.4e).

    def learn_from_supervision(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        payload = envelope["payload"]

        def learn(tx: Transaction) -> None:
            if envelope["type"] == "SocialWorkerEligibilityChanged":
                learn_eligibility(tx, payload["social_worker_id"], envelope.get("school_id"),
                                  payload["eligible"], payload["reasons"], envelope["position"])
            elif envelope["type"] == "SupervisorAssigned":
                learn_supervisor(tx, payload["social_worker_id"], payload["supervisor_id"],
                                 envelope.get("school_id"), envelope["position"])

        self.save_processed(cursor=cursor, learn=learn)

    def apply_disposal(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        """9.4e: destroy the disposed subjects' keys; their sealed content reads as destroyed.
        Shredding is idempotent, so a retried envelope changes nothing more."""
        if envelope["type"] not in ARCHIVE_EVENTS_ACTED_ON:
            self.save_processed(cursor=cursor)
            return
        payload = envelope["payload"]
        disposed_on = date.fromisoformat(payload["disposed_on"])
        clients = []
        for subject_id in payload["subject_ids"]:
            self.vault.shred(subject_id)
            client = self.find_aggregate(Client, client_key(subject_id))
            if client is not None:
                client.record_disposal(payload["file_id"], disposed_on)
                clients.append(client)
        self.save_processed(*clients, cursor=cursor)

    # Who may act on what (6.2.2.1; DESIGN "Actors, access, privacy").

    def _in_charge(self, actor: Actor, social_worker_id: str) -> bool:
        """Whether the actor answers for this worker's work: the worker themselves, or the
        worker's supervisor, as supervision last said (6.2.2.1)."""
        if actor.role == "social_worker":
            return actor.id == social_worker_id
        if actor.role == "supervisor":
            return self.views.supervisor_of(social_worker_id) == actor.id
        return False

    def _require_in_charge(self, actor: Actor, social_worker_id: str, what: str) -> None:
        if actor.role not in CASE_WRITERS or self._in_charge(actor, social_worker_id):
            return
        if actor.role == "social_worker":
            raise NotAllowed(f"The {what} is assigned to another social worker.")
        raise NotAllowed(f"The {what} is {social_worker_id}'s, who is not a supervisee of "
                         f"{actor.id} (6.2.2.1).")

    def _supervisees(self, actor: Actor) -> list[str]:
        return self.views.supervisees(actor.id) if actor.role == "supervisor" else []

    def _require_eligible(self, social_worker_id: str) -> None:
        if not settings().cases.require_eligible_workers:
            return
        known = self.views.eligibility(social_worker_id)
        if known is None:
            raise NotAllowed(f"Social worker {social_worker_id} is not known to supervision as "
                             "eligible (6.2.1.2, 9.1a).", code="not_qualified")
        if not known["eligible"]:
            raise NotAllowed(f"Social worker {social_worker_id} may not be assigned cases: "
                             f"{known['reasons'].replace(',', ', ')} (6.2.1.2, 9.1a).",
                             code="not_qualified")

    def _case(self, case_id: str) -> Case:
        return self.get_aggregate(Case, case_id, "case")

    def _writable_case(self, case_id: str) -> Case:
        actor = require_role(*CASE_WRITERS)
        case = self._case(case_id)
        check_school(actor, case, "case")
        self._require_in_charge(actor, case.social_worker_id, "case")
        return case

    def _history_readable_case(self, case_id: str) -> Case:
        actor = require_role(*HISTORY_READERS)
        case = self._case(case_id)
        check_school(actor, case, "case")
        self._require_in_charge(actor, case.social_worker_id, "case")
        return case

    def _client(self, client_id: str) -> Client:
        client = self.find_aggregate(Client, client_key(client_id))
        if client is None:
            raise NotFound(f"No client {client_id} in the register.")
        return client

    def _readable_client(self, client_id: str) -> Client:
        actor = require_role(*CASE_WRITERS)
        client = self._client(client_id)
        check_school(actor, client, "client")
        # A client's record is the work of the worker who registered them or has an open case
        # of theirs, of that worker's supervisor, and of a supervisor who registered them.
        workers = [actor.id, *self._supervisees(actor)]
        if client.registered_by not in workers and not self.views.reaches_client(client_id,
                                                                                  workers):
            raise NotAllowed("A client's record is for the worker who registered them or has "
                             "an open case of theirs, and for that worker's supervisor.")
        return client

    def _writable_client(self, client_id: str) -> Client:
        client = self._readable_client(client_id)
        self._require_not_destroyed(client_id)
        return client

    def _group(self, group_id: str) -> Group:
        actor = require_role(*CASE_WRITERS)
        group = self.get_aggregate(Group, group_id, "group")
        check_school(actor, group, "group")
        if group.social_worker_id != actor.id:
            self._require_in_charge(actor, group.social_worker_id, "group")
        return group

    # Personal content.

    def _client_item(self, row: dict[str, Any]) -> dict[str, Any]:
        archived = row["cases"] > 0 and row["unclosed_cases"] == 0
        details = None if archived or row["destroyed_on"] else self._open(row["details"])
        return {"client_id": row["client_id"], "client_type": row["client_type"],
                "grade": row["grade"], "registered_on": row["registered_on"],
                "name": details["name"] if isinstance(details, dict) else None,
                "open_cases": row["unclosed_cases"], "archived": archived,
                "personal_content_destroyed_on": row["destroyed_on"]}

    def _is_minor(self, client: Client, on: date) -> bool:
        details = self.vault.open(client.details)
        born = details.get("date_of_birth") if isinstance(details, dict) else None
        return born is not None and age_on(date.fromisoformat(born), on) < ADULT_AGE

    def _seal(self, subject_id: str, value: Any) -> str | None:
        """A token for `value`, or None for nothing: emptiness stays visible to the rules."""
        if value is None or value == "" or value == [] or value == {}:
            return None
        return self.vault.seal(subject_id, value)

    def _open(self, token: str | None) -> Any:
        return None if token is None else self.vault.open(token)

    def _sealer(self, case: Case) -> Seal:
        return lambda value: self._seal(case.client_id, value)

    def _require_not_destroyed(self, subject_id: str) -> None:
        if self.vault.is_shredded(subject_id):
            raise Conflict(f"The personal content of {subject_id} was destroyed by disposal "
                           "(9.4e); nothing new can be recorded for them.", code="wrong_state")

    def _intake_items(self, client_id: str, items: dict[str, Any]) -> dict[str, Any]:
        recorded: dict[str, Any] = {key: items[key] for key in
                                    ("worker_introduced", "respect_and_empathy") if key in items}
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
