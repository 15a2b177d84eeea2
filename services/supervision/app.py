"""The supervision application: schools and staff (§6, 8.1, 9.1), risk escalation (9.6),
quality control (9.5, 10.3), complaints and evaluations (9.2c, 10.1, 10.2), and the compliance
report. Commands and queries in plain types; every list and report reads the views
(`views.py`); what it learns from the cases stream goes into learned tables with the cursor."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from contracts.errors import Conflict, InvalidInput, NotAllowed, NotFound
from contracts.events.cases import RISK_LEVELS
from services.runtime.clock import clock
from services.runtime.context import Actor, current_actor, require_role
from services.runtime.persistence import Cursor
from services.runtime.plain import plain
from services.runtime.settings import Supervision as Settings
from services.runtime.settings import settings as runtime_settings
from services.runtime.store import CasebookApplication
from services.runtime.views import Transaction
from services.supervision.access import (
    CONTENT_READERS,
    EVALUATORS,
    EVERY_SCHOOL,
    INTAKE_ROLES,
    OVERSEERS,
    READERS,
    SCHOOL_ADMINS,
    STAFF_MANAGERS,
    TIMEKEEPERS,
    check_any_school_scope,
    check_school_scope,
)
from services.supervision.compliance import compliance_report, report_csv, training_line
from services.supervision.domain import (
    School,
    SocialWorker,
    SupervisionSession,
    Supervisor,
    school_key,
    social_worker_key,
    supervisor_key,
)
from services.supervision.escalation import Escalation, escalation_key, ladder_for
from services.supervision.feedback import Complaint, SatisfactionSurvey, ServiceEvaluation
from services.supervision.publish import PUBLICATIONS
from services.supervision.quality import (
    Breach,
    CaseFacts,
    CaseWatch,
    Delivery,
    Finding,
    ImprovementAction,
    LetterWatch,
    case_breaches,
    letter_breaches,
)
from services.supervision.views import (
    SupervisionViews,
    learn_case,
    learn_delivery,
    learn_letter,
)

QUALIFICATION_FIELDS = ("certificate_level", "diploma_level", "diploma_in_social_work",
                        "projects_led", "ethics_commitment")
EVENT_BOOKKEEPING = ("originator_id", "originator_version", "originator_topic", "timestamp",
                     "meta")
RETIRED_PAGE = 500


def settings() -> Settings:
    return runtime_settings().supervision


def not_in_future(field: str, day: date) -> date:
    if day > clock.today():
        raise InvalidInput.from_messages({field: [f"Must not be in the future ({day})."]})
    return day


def _day(value: str) -> date:
    return date.fromisoformat(value)


class SupervisionApplication(CasebookApplication):
    service = "supervision"
    publications = PUBLICATIONS
    views_class = SupervisionViews
    views: SupervisionViews

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env=env)
        self.copy_retired_records()

    # Schools (6.1, 8.1)

    def register_school(self, school_id: str, name: str, district: str, service_mode: str,
                        facility_kinds: list[str], registered_on: date | None = None) -> str:
        actor = require_role(*SCHOOL_ADMINS)
        check_school_scope(actor, school_id)
        if school_key(school_id) in self.repository:
            raise Conflict(f"School {school_id} is already registered.", code="conflict")
        school = School(school_id=school_id, name=name, district=district,
                        service_mode=service_mode, facility_kinds=sorted(set(facility_kinds)),
                        registered_on=not_in_future("registered_on",
                                                    registered_on or clock.today()))
        self.save(school)
        return school_id

    def record_facilities(self, school_id: str, facility_kinds: list[str],
                          recorded_on: date | None = None) -> None:
        actor = require_role(*SCHOOL_ADMINS)
        check_school_scope(actor, school_id)
        school = self.get_aggregate(School, school_key(school_id), f"school {school_id}")
        school.record_facilities(facility_kinds,
                                 not_in_future("recorded_on", recorded_on or clock.today()))
        self.save(school)

    def get_school(self, school_id: str) -> dict[str, Any]:
        check_school_scope(require_role(*READERS), school_id)
        return self._school_row(school_id)

    def list_schools(self, **query: Any) -> dict[str, Any]:
        return self.views.schools(require_role(*READERS), **query)

    def _school_row(self, school_id: str) -> dict[str, Any]:
        row = self.views.school(school_id)
        if row is None:
            raise NotFound(f"No school {school_id}.")
        return row

    def _check_school(self, school_id: str) -> None:
        if school_key(school_id) not in self.repository:
            raise NotFound(f"No school {school_id}.")

    # Social workers (6.2.1)

    def register_social_worker(self, social_worker_id: str, employment: str,
                               school_ids: list[str], registered_on: date | None = None,
                               **qualification: Any) -> str:
        actor = require_role(*STAFF_MANAGERS)
        check_any_school_scope(actor, school_ids)
        for school_id in school_ids:
            self._check_school(school_id)
        if social_worker_key(social_worker_id) in self.repository:
            raise Conflict(f"Social worker {social_worker_id} is already registered.",
                           code="conflict")
        worker = SocialWorker.register(
            social_worker_id=social_worker_id, school_id=school_ids[0],
            school_ids=list(dict.fromkeys(school_ids)), employment=employment,
            qualification=_qualification(qualification),
            registered_on=not_in_future("registered_on", registered_on or clock.today()))
        self.save(worker)
        return social_worker_id

    def record_qualification(self, social_worker_id: str, recorded_on: date | None = None,
                             **qualification: Any) -> dict[str, Any]:
        worker = self._managed_worker(social_worker_id)
        worker.record_qualification(_qualification(qualification),
                                    not_in_future("recorded_on", recorded_on or clock.today()))
        self.save(worker)
        return _eligibility(worker)

    def assign_social_worker(self, social_worker_id: str, school_id: str,
                             assigned_on: date | None = None) -> None:
        actor = require_role(*STAFF_MANAGERS)
        check_school_scope(actor, school_id)
        self._check_school(school_id)
        worker = self._worker(social_worker_id)
        worker.assign_school(school_id, assigned_on or clock.today())
        self.save(worker)

    def end_assignment(self, social_worker_id: str, school_id: str,
                       ended_on: date | None = None) -> None:
        actor = require_role(*STAFF_MANAGERS)
        check_school_scope(actor, school_id)
        worker = self._worker(social_worker_id)
        worker.end_assignment(school_id, ended_on or clock.today())
        self.save(worker)

    def deactivate_social_worker(self, social_worker_id: str, reason: str,
                                 left_on: date | None = None) -> dict[str, Any]:
        worker = self._managed_worker(social_worker_id)
        worker.deactivate(reason, left_on or clock.today())
        self.save(worker)
        return _eligibility(worker)

    def worker_eligibility(self, social_worker_id: str) -> dict[str, Any]:
        """Whether the worker may be assigned cases now, and why not (6.2.1.2, 9.1a): for those
        who staff the school, and for the worker themselves."""
        actor = require_role(*STAFF_MANAGERS, "social_worker")
        if actor.role == "social_worker" and actor.id != social_worker_id:
            raise NotAllowed("A social worker reads only their own eligibility.")
        row = self.views.social_worker(social_worker_id)
        if row is None:
            return {"social_worker_id": social_worker_id, "eligible": False,
                    "reasons": ["not_registered"]}
        check_any_school_scope(actor, row["school_ids"])
        return {"social_worker_id": social_worker_id, "eligible": row["eligible"],
                "reasons": row["ineligibility"]}

    def get_social_worker(self, social_worker_id: str) -> dict[str, Any]:
        actor = current_actor()
        if actor.role == "social_worker" and actor.id != social_worker_id:
            raise NotAllowed("A social worker reads only their own staff record.")
        if actor.role not in (*READERS, "social_worker"):
            raise NotAllowed(f"Role {actor.role!r} may not read staff records.")
        row = self.views.social_worker(social_worker_id)
        if row is None:
            raise NotFound(f"No social worker {social_worker_id}.")
        check_any_school_scope(actor, row["school_ids"])
        return row

    def social_worker_history(self, social_worker_id: str) -> list[dict[str, Any]]:
        """Every change of a worker's staff record in order (registration, qualification,
        schools, supervisor, training, eligibility, leaving), with what was published of each:
        for whoever may read the record."""
        self.get_social_worker(social_worker_id)  # it exists, and the caller may read it
        return self.publications.timeline(
            self.repository.event_store.get(social_worker_key(social_worker_id)))

    def list_social_workers(self, school_id: str, **query: Any) -> dict[str, Any]:
        check_school_scope(require_role(*READERS), school_id)
        return self.views.social_workers(school_id, **query)

    def _worker(self, social_worker_id: str) -> SocialWorker:
        return self.get_aggregate(SocialWorker, social_worker_key(social_worker_id),
                                  f"social worker {social_worker_id}")

    def _managed_worker(self, social_worker_id: str) -> SocialWorker:
        actor = require_role(*STAFF_MANAGERS)
        worker = self._worker(social_worker_id)
        check_any_school_scope(actor, worker.school_ids)
        return worker

    # Supervisors (6.2.2.1) and their supervisees

    def register_supervisor(self, supervisor_id: str, employment: str, setting: str,
                            certificate_level: str, years_of_practice: int,
                            school_id: str | None = None,
                            registered_on: date | None = None) -> str:
        actor = require_role(*SCHOOL_ADMINS)
        if school_id is not None:
            check_school_scope(actor, school_id)
            self._check_school(school_id)
        Supervisor.check_qualification(certificate_level, years_of_practice,
                                       settings().supervisor_min_years)
        if supervisor_key(supervisor_id) in self.repository:
            raise Conflict(f"Supervisor {supervisor_id} is already registered.", code="conflict")
        supervisor = Supervisor(
            supervisor_id=supervisor_id, school_id=school_id or actor.school_id,
            employment=employment, setting=setting, certificate_level=certificate_level,
            years_of_practice=years_of_practice,
            registered_on=not_in_future("registered_on", registered_on or clock.today()))
        self.save(supervisor)
        return supervisor_id

    def list_supervisors(self, school_id: str, **query: Any) -> dict[str, Any]:
        check_school_scope(require_role(*READERS), school_id)
        return self.views.supervisors(school_id, **query)

    def assign_supervisor(self, social_worker_id: str, supervisor_id: str,
                          assigned_on: date | None = None) -> None:
        worker = self._managed_worker(social_worker_id)
        self._supervisor(supervisor_id)
        worker.assign_supervisor(supervisor_id, assigned_on or clock.today())
        self.save(worker)

    def list_supervisees(self, supervisor_id: str, **query: Any) -> dict[str, Any]:
        """The supervisor's supervisees; for an actor bound to a school, those serving it, of a
        supervisor of that school (an external supervisor with no school serves several)."""
        actor = require_role(*READERS)
        if actor.role == "supervisor" and actor.id != supervisor_id:
            raise NotAllowed("A supervisor lists only their own supervisees.")
        supervisor = self.views.supervisor(supervisor_id)
        if supervisor is None:
            raise NotFound(f"No supervisor {supervisor_id}.")
        if supervisor["school_id"] is not None:
            check_school_scope(actor, supervisor["school_id"])
        return self.views.social_workers(None, supervisor_id=supervisor_id,
                                         serving=actor.school_id, **query)

    def _supervisor(self, supervisor_id: str) -> Supervisor:
        return self.get_aggregate(Supervisor, supervisor_key(supervisor_id),
                                  f"supervisor {supervisor_id}")

    # Training (9.1a, 9.1b, 6.2.1.3)

    def record_training(self, social_worker_id: str, kind: str, minutes: int,
                        topics: list[str], completed_on: date) -> str:
        worker = self._managed_worker(social_worker_id)
        training_id = str(uuid.uuid4())
        worker.record_training(training_id, kind, minutes, topics,
                               not_in_future("completed_on", completed_on))
        self.save(worker)
        return training_id

    def list_trainings(self, school_id: str, **query: Any) -> dict[str, Any]:
        check_school_scope(require_role(*READERS), school_id)
        return self.views.trainings(school_id, **query)

    def training_report(self, school_id: str, year: int) -> dict[str, Any]:
        """Each active worker of the school: continuing-education minutes in `year` and, under
        36 hours, how many are missing (9.1b); whether pre-job training is recorded (9.1a)."""
        check_school_scope(require_role(*READERS), school_id)
        return {"school_id": school_id, "year": year, "lines": [
            training_line(line) for line in
            self.views.training_lines(school_id, range(year, year + 1), active_only=True)]}

    # Supervision sessions (6.2.2.2, 9.1c)

    def record_supervision_session(self, supervisor_id: str, social_worker_ids: list[str],
                                   kinds: list[str], format: str, held_on: date,
                                   duration_minutes: int) -> str:
        # Its supervisor, or an administrator entering it for them.
        actor = require_role(*OVERSEERS)
        if actor.role == "supervisor" and actor.id != supervisor_id:
            raise NotAllowed("A supervisor records only sessions they held.")
        supervisor = self._supervisor(supervisor_id)
        workers = [self._worker(w) for w in dict.fromkeys(social_worker_ids)]
        for worker in workers:
            check_any_school_scope(actor, worker.school_ids)
            if worker.supervisor_id != supervisor_id:
                raise Conflict(f"{worker.social_worker_id} is not a supervisee of "
                               f"{supervisor_id}; assign the supervisor first.", code="conflict")
            if not worker.active:
                raise Conflict(f"{worker.social_worker_id} left the service.", code="wrong_state")
        if format == "individual" and len(workers) != 1:
            raise InvalidInput.from_messages(
                {"format": ["An individual session has exactly one supervisee."]})
        session = SupervisionSession(
            school_id=workers[0].school_id if len(workers) == 1 else supervisor.school_id,
            supervisor_id=supervisor_id, social_worker_ids=[w.social_worker_id for w in workers],
            kinds=sorted(set(kinds)), format=format,
            held_on=not_in_future("held_on", held_on), duration_minutes=duration_minutes)
        self.save(session)
        return str(session.id)

    def list_supervision_sessions(self, school_id: str, **query: Any) -> dict[str, Any]:
        check_school_scope(require_role(*READERS), school_id)
        return self.views.sessions(school_id, **query)

    def supervision_report(self, school_id: str) -> dict[str, Any]:
        """Each active worker of the school: last session, days since, whether that exceeds the
        configured interval (9.1c), and the mix of kinds received (6.2.2.2)."""
        check_school_scope(require_role(*READERS), school_id)
        interval = settings().supervision_interval_days
        today = clock.today()
        lines = []
        for row in self.views.supervision_lines(school_id):
            since = _day(row["last_session_on"] or row["registered_on"])
            lines.append({
                "social_worker_id": row["social_worker_id"],
                "supervisor_id": row["supervisor_id"],
                "sessions": int(row["sessions"]),
                "last_session_on": row["last_session_on"],
                "days_without_supervision": (today - since).days,
                "overdue": (today - since).days > interval,
                "kinds": {k: int(row[k]) for k in ("administrative", "educational",
                                                   "supportive") if row[k]},
            })
        return {"school_id": school_id, "interval_days": interval, "lines": lines}

    # Risk escalations (9.6b, 4.1)

    def acknowledge_escalation(self, escalation_id: str) -> dict[str, Any]:
        actor = current_actor()
        escalation = self._escalation(escalation_id)
        check_school_scope(actor, escalation.school_id)
        self._check_supervises(actor, escalation_id)
        escalation.acknowledge(actor.id, actor.role, clock.now())
        self.save(escalation)
        # From the record itself: inside a command the views show what was stored before it.
        return {"escalation_id": escalation_id, "status": escalation.state,
                "step": escalation.step + 1, "role": escalation.role,
                "acknowledgement": plain(escalation.acknowledgement)}

    def record_escalation_action(self, escalation_id: str, action: str) -> None:
        actor = require_role(*OVERSEERS, "social_worker")
        escalation = self._escalation(escalation_id)
        check_school_scope(actor, escalation.school_id)
        if actor.role == "social_worker" and actor.id != escalation.social_worker_id:
            raise NotAllowed("Only the case's own social worker records actions in it.")
        self._check_supervises(actor, escalation_id)
        escalation.take_action(action, clock.now())
        self.save(escalation)

    def resolve_escalation(self, escalation_id: str, resolution: str) -> None:
        actor = require_role(*OVERSEERS)
        escalation = self._escalation(escalation_id)
        check_school_scope(actor, escalation.school_id)
        self._check_supervises(actor, escalation_id)
        escalation.resolve(resolution, clock.now())
        self.save(escalation)

    def get_escalation(self, escalation_id: str) -> dict[str, Any]:
        actor = require_role(*READERS, "social_worker")
        row = self._escalation_row(escalation_id)
        check_school_scope(actor, row["school_id"])
        if actor.role == "social_worker" and actor.id != row["social_worker_id"]:
            raise NotAllowed("The escalation concerns another social worker's case.")
        self._check_supervises(actor, escalation_id)
        return row

    def escalation_trail(self, escalation_id: str) -> dict[str, Any]:
        """Everything that happened to one escalation, in order: opening, each climb, the
        acknowledgement, actions taken, the resolution, with when and who."""
        self.get_escalation(escalation_id)
        trail = []
        history: list[Any] = list(self.repository.event_store.get(uuid.UUID(escalation_id)))
        for domain_event in history:
            details = {k: v for k, v in vars(domain_event).items() if k not in EVENT_BOOKKEEPING}
            actor = domain_event.meta["actor"]
            trail.append({"event": type(domain_event).__name__,
                          "at": domain_event.timestamp,
                          "version": domain_event.originator_version,
                          "actor": {"id": actor["id"], "role": actor["role"]},
                          "details": details})
        return {"escalation_id": escalation_id, "trail": plain(trail)}

    def list_escalations(self, school_id: str, **query: Any) -> dict[str, Any]:
        actor = require_role(*READERS, "social_worker")
        check_school_scope(actor, school_id)
        return self.views.escalations(actor, school_id, clock.now(), **query)

    def list_every_escalation(self, **query: Any) -> dict[str, Any]:
        """Every school's escalations, for those who serve every school: the operator, at the
        top of every ladder (9.6b), and the auditor. One given a school in their token reads
        that school's only."""
        actor = require_role(*EVERY_SCHOOL)
        return self.views.escalations(actor, actor.school_id, clock.now(), **query)

    def count_escalations_by_school(self, school_id: list[str]) -> dict[str, Any]:
        """For those who serve every school (the operator, the auditor); one given a school in
        their token is answered for that school only, of those asked."""
        actor = require_role(*EVERY_SCHOOL)
        schools = [school for school in school_id
                   if actor.school_id is None or school == actor.school_id]
        return self.views.escalations_by_school(schools, clock.now())

    def overdue_escalations(self) -> dict[str, int]:
        """How many open escalations, by risk level, nobody acknowledged within their current
        step's time (9.6b): past the top of their ladder, or not climbed because the timer is
        not running. For the operators' metrics (services/runtime/metrics.py)."""
        return self.views.overdue_escalations(clock.now())

    def climb_overdue(self) -> list[str]:
        """Climb every unacknowledged escalation whose time limit passed on the clock; return the
        ids that climbed. Run by the timer; tests call it after `clock.set(...)`."""
        require_role(*TIMEKEEPERS)
        now = clock.now()
        climbed = []
        for row in self.views.store.select(
                "SELECT escalation_id FROM {escalation} WHERE status = 'open' AND "
                "acknowledged_at IS NULL AND step < steps AND due_at <= :now "
                "ORDER BY due_at, escalation_id", now=now.isoformat()):
            escalation = self._escalation(row["escalation_id"])
            if escalation.climb_overdue(now):
                try:
                    self.save(escalation)
                except IntegrityError:
                    continue  # another instance climbed it at the same instant, the same way
                climbed.append(row["escalation_id"])
        return climbed

    def _escalation(self, escalation_id: str) -> Escalation:
        return self.get_aggregate(Escalation, escalation_id, "escalation")

    def _escalation_row(self, escalation_id: str) -> dict[str, Any]:
        row = self.views.escalation(escalation_id)
        if row is None:
            raise NotFound(f"No escalation {escalation_id}.")
        return row

    def _check_supervises(self, actor: Actor, escalation_id: str) -> None:
        """A supervisor oversees the escalations of their supervisees' cases only (6.2.2.1); one
        whose worker has no supervisor is for the school admin and the operator."""
        if actor.role == "supervisor" and not self.views.supervises(actor.id, escalation_id):
            raise NotAllowed("The escalation concerns the case of a social worker whom "
                             f"{actor.id} does not supervise (6.2.2.1).")

    # Quality findings (9.5c) and improvement actions (10.3)

    def raise_overdue_findings(self) -> list[str]:
        """Raise a finding for every control point whose deadline the clock has passed; return
        the new findings' ids. Run by the timer; tests call it after `clock.set(...)`."""
        require_role(*TIMEKEEPERS)
        today = clock.today()
        current = settings()
        makers: list[Callable[[], list[Finding]]] = [
            partial(self._case_findings, case, current, today)
            for case in self.views.overdue_cases(current, today)]
        makers += [partial(self._letter_findings, letter["letter_id"], letter["school_id"],
                           _day(letter["received_on"]), None, current, today)
                   for letter in self.views.overdue_letters(current, today)]
        return self._save_findings(makers)

    def _save_findings(self, makers: list[Callable[[], list[Finding]]]) -> list[str]:
        """Store the findings of every overdue case and letter together. If some were raised
        meanwhile (by the cases stream or another instance), the events of this try are spent:
        each record's findings are made again, without those, and stored on their own."""
        findings = [f for make in makers for f in make()]
        if not findings:
            return []
        try:
            self.save(*findings)
        except IntegrityError:
            if len(makers) == 1:
                return []
            return [found for make in makers for found in self._save_findings([make])]
        return [str(f.id) for f in findings]

    def _case_findings(self, case: CaseFacts, current: Settings,
                       as_of: date | None) -> list[Finding]:
        found = [self._finding(case.school_id, case.case_id, breach,
                               social_worker_id=case.social_worker_id)
                 for breach in case_breaches(case, current, as_of, set())]
        return [f for f in found if f.id not in self.repository]

    def _letter_findings(self, letter_id: str, school_id: str | None, received_on: date,
                         answered_on: date | None, current: Settings,
                         as_of: date | None) -> list[Finding]:
        found = [self._finding(school_id, letter_id, breach, letter=True)
                 for breach in letter_breaches(received_on, answered_on, current, as_of, set())]
        return [f for f in found if f.id not in self.repository]

    def _finding(self, school_id: str | None, subject_id: str, breach: Breach,
                 letter: bool = False, social_worker_id: str | None = None) -> Finding:
        return Finding(school_id=school_id, subject_id=subject_id, key=breach.key,
                       control_point=breach.control_point,
                       case_id=None if letter else subject_id,
                       letter_id=subject_id if letter else None,
                       social_worker_id=social_worker_id, due_on=breach.due_on,
                       detected_on=breach.detected_on)

    def list_findings(self, school_id: str, **query: Any) -> dict[str, Any]:
        check_school_scope(require_role(*READERS), school_id)
        return self.views.findings(school_id, **query)

    def open_improvement_action(self, finding_id: str, owner_id: str, plan: str,
                                due_on: date) -> str:
        actor = require_role(*OVERSEERS)
        finding = self.get_aggregate(Finding, finding_id, "finding")
        check_school_scope(actor, finding.school_id)
        today = clock.today()
        ImprovementAction.check_due(today, due_on)
        action_id = str(uuid.uuid4())
        finding.start_improvement(action_id)
        action = ImprovementAction(action_id=action_id, school_id=finding.school_id,
                                   finding_id=finding_id, owner_id=owner_id, plan=plan,
                                   opened_on=today, due_on=due_on)
        self.save(finding, action)
        return action_id

    def complete_improvement_action(self, action_id: str, result: str,
                                    completed_on: date | None = None) -> None:
        actor = require_role(*OVERSEERS)
        action = self.get_aggregate(ImprovementAction, action_id, "improvement action")
        check_school_scope(actor, action.school_id)
        completed_on = completed_on or clock.today()
        if completed_on > clock.today():
            raise InvalidInput.from_messages(
                {"completed_on": [f"Must not be in the future ({completed_on})."]})
        action.complete(completed_on, result)
        finding = self.get_aggregate(Finding, action.finding_id, "finding")
        finding.addressed(addressed_on=completed_on)
        self.save(action, finding)

    def list_improvement_actions(self, school_id: str, **query: Any) -> dict[str, Any]:
        check_school_scope(require_role(*READERS), school_id)
        return self.views.improvement_actions(school_id, **query)

    # Complaints and feedback (9.2c, 10.1.2)

    def receive_complaint(self, school_id: str, kind: str, channel: str, anonymous: bool,
                          content: str, contact: str | None = None,
                          about_social_worker_id: str | None = None,
                          received_on: date | None = None) -> str:
        actor = require_role(*INTAKE_ROLES)
        check_school_scope(actor, school_id)
        Complaint.check_intake(anonymous, contact)
        received_on = not_in_future("received_on", received_on or clock.today())
        limits = settings()
        complaint_id = str(uuid.uuid4())
        complaint = Complaint(
            complaint_id=complaint_id, school_id=school_id, kind=kind, channel=channel,
            anonymous=anonymous, about_social_worker_id=about_social_worker_id,
            content=self.vault.seal(complaint_id, content),
            contact=self.vault.seal(complaint_id, contact) if contact else None,
            received_on=received_on,
            acknowledge_by=received_on + timedelta(days=limits.complaint_acknowledge_days),
            answer_by=received_on + timedelta(days=limits.complaint_answer_days))
        self.save(complaint)
        return complaint_id

    def record_complaint_step(self, complaint_id: str, step: str, note: str = "",
                              taken_on: date | None = None) -> None:
        complaint = self._handled_complaint(complaint_id)
        complaint.record_step(step, not_in_future("taken_on", taken_on or clock.today()),
                              self.vault.seal(complaint_id, note))
        self.save(complaint)

    def answer_complaint(self, complaint_id: str, outcome: str, answer: str,
                         answered_on: date | None = None) -> None:
        complaint = self._handled_complaint(complaint_id)
        complaint.answer_complaint(
            outcome, not_in_future("answered_on", answered_on or clock.today()),
            self.vault.seal(complaint_id, answer))
        self.save(complaint)

    def get_complaint(self, complaint_id: str) -> dict[str, Any]:
        """With the sealed content opened for those who handle complaints, never the worker a
        complaint is about; an operator gets the metadata alone."""
        actor = require_role(*OVERSEERS)
        complaint = self._handled_complaint(complaint_id)
        view = self.views.complaint(complaint_id, clock.today())
        assert view is not None, f"complaint {complaint_id} is stored but not in the views"
        if actor.role not in CONTENT_READERS:
            return view
        view["content"] = self.vault.open(complaint.content)
        view["contact"] = self.vault.open(complaint.contact) if complaint.contact else None
        view["steps"] = [{**s, "note": self.vault.open(s["note"])} for s in plain(
            complaint.steps)]
        if complaint.answer is not None:
            view["answer"] = plain({**complaint.answer,
                                    "answer": self.vault.open(complaint.answer["answer"])})
        return view

    def list_complaints(self, school_id: str, **query: Any) -> dict[str, Any]:
        check_school_scope(require_role(*READERS), school_id)
        return self.views.complaints(school_id, clock.today(), **query)

    def _handled_complaint(self, complaint_id: str) -> Complaint:
        actor = require_role(*OVERSEERS)
        complaint = self.get_aggregate(Complaint, complaint_id, "complaint")
        check_school_scope(actor, complaint.school_id)
        if actor.id == complaint.about_social_worker_id:
            raise NotAllowed("A complaint about you is handled by someone else.")
        return complaint

    # Evaluations (10.2.1, 10.2.3)

    def record_satisfaction_survey(self, school_id: str, respondent_kind: str,
                                   respondent_count: int, satisfied_count: int,
                                   mean_score_permille: int, evaluator_type: str,
                                   period_from: date, period_to: date,
                                   social_worker_id: str | None = None) -> str:
        actor = require_role(*EVALUATORS)
        check_school_scope(actor, school_id)
        SatisfactionSurvey.check(respondent_count, satisfied_count, period_from, period_to)
        survey = SatisfactionSurvey(
            school_id=school_id, social_worker_id=social_worker_id,
            respondent_kind=respondent_kind, respondent_count=respondent_count,
            satisfied_count=satisfied_count, mean_score_permille=mean_score_permille,
            evaluator_type=evaluator_type, period_from=period_from,
            period_to=not_in_future("period_to", period_to))
        self.save(survey)
        return str(survey.id)

    def record_service_evaluation(self, school_id: str, scope: str, evaluator_type: str,
                                  rating: str, findings: str = "",
                                  social_worker_id: str | None = None,
                                  evaluated_on: date | None = None) -> str:
        actor = require_role(*EVALUATORS)
        check_school_scope(actor, school_id)
        ServiceEvaluation.check(scope, social_worker_id, evaluator_type, actor.id)
        evaluation = ServiceEvaluation(
            school_id=school_id, scope=scope, social_worker_id=social_worker_id,
            evaluator_type=evaluator_type, evaluator_id=actor.id, rating=rating,
            findings=findings,
            evaluated_on=not_in_future("evaluated_on", evaluated_on or clock.today()))
        self.save(evaluation)
        return str(evaluation.id)

    def list_satisfaction_surveys(self, school_id: str, **query: Any) -> dict[str, Any]:
        check_school_scope(require_role(*READERS), school_id)
        return self.views.surveys(school_id, **query)

    def list_service_evaluations(self, school_id: str, **query: Any) -> dict[str, Any]:
        check_school_scope(require_role(*READERS), school_id)
        return self.views.evaluations(school_id, **query)

    def evaluation_summary(self, school_id: str) -> dict[str, Any]:
        """Surveys and evaluations of a school, per evaluator type and rating (10.2.1, 10.2.3);
        shares and means in thousandths."""
        check_school_scope(require_role(*READERS), school_id)
        surveys, ratings = self.views.evaluation_figures(school_id)
        totals = surveys[0]
        respondents = int(totals["respondents"] or 0)
        return {
            "school_id": school_id,
            "surveys": int(totals["surveys"]),
            "respondents": respondents,
            "satisfied_permille": (int(totals["satisfied"]) * 1000 // respondents
                                   if respondents else None),
            "mean_score_permille": (int(totals["weighted"]) // respondents
                                    if respondents else None),
            "evaluations": [{"evaluator_type": r["evaluator_type"], "rating": r["rating"],
                             "count": int(r["n"])} for r in ratings],
        }

    # Compliance (the whole standard, per school and period)

    def compliance_report(self, school_id: str, period_from: date,
                          period_to: date) -> dict[str, Any]:
        check_school_scope(require_role(*READERS), school_id)
        if period_to < period_from:
            raise InvalidInput.from_messages(
                {"period_to": [f"Must not be before period_from ({period_from})."]})
        return plain(compliance_report(self.views, self._school_row(school_id), period_from,
                                       period_to, settings(), clock.now()))

    def compliance_report_csv(self, school_id: str, period_from: date, period_to: date) -> str:
        return report_csv(self.compliance_report(school_id, period_from, period_to))

    # What the service learns from the cases stream: the dates of each case's process steps
    # (for the 9.5 control points), the §7 codes of delivered services (for the compliance
    # report), and risks, which open and close escalations (9.6b). What it learns goes into
    # the learned tables, and what it raises (findings, escalations) into the store, with the
    # cursor in one transaction: each envelope has its effect once.

    def handle_cases_event(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        # The retired records' rows go in first (a store from before the learned tables).
        self.follow()
        payload = envelope["payload"]
        kind = envelope["type"]
        if kind in ("RiskEscalated", "RiskResolved"):
            produced = (self._risk_escalated(envelope) if kind == "RiskEscalated"
                        else self._risk_resolved(envelope))
            self.save_processed(*produced, cursor=cursor)
            return
        if kind == "LetterReceived":
            self.save_processed(cursor=cursor, learn=lambda tx: learn_letter(
                tx, payload["letter_id"], envelope["school_id"], _day(payload["received_on"]),
                None))
            return
        if kind == "LetterAnswered":
            self._letter_answered(envelope, cursor)
            return
        if kind in ("GroupFormed", "ClassHeld"):
            item, on = (("group", "formed_on") if kind == "GroupFormed"
                        else ("class", "held_on"))
            self.save_processed(cursor=cursor, learn=lambda tx: learn_delivery(
                tx, item, payload[f"{item}_id"], envelope["school_id"], None,
                payload["service_codes"], _day(payload[on])))
            return
        if kind == "CaseOpened":
            case = CaseFacts(case_id=envelope["aggregate_id"], school_id=envelope["school_id"],
                             social_worker_id=payload["social_worker_id"],
                             opened_on=_day(payload["opened_on"]))
            if self.views.case_facts(case.case_id) is None:
                self.save_processed(cursor=cursor, learn=lambda tx: learn_case(tx, case))
            return
        step = CASE_STEPS.get(kind)
        if step is None:
            return
        case_id = payload.get("case_id") or envelope["aggregate_id"]
        facts = self.views.case_facts(case_id)
        findings = []
        if facts is not None:
            step(facts, payload)
            findings = self._case_findings(facts, settings(), None)

        def learn(tx: Transaction) -> None:
            if facts is not None:
                learn_case(tx, facts)
            # A delivered service counts for §7 also in a case supervision did not see open.
            if kind == "InterventionLogged":
                learn_delivery(tx, "intervention", payload["intervention_id"],
                               envelope["school_id"], case_id, payload["service_codes"],
                               _day(payload["delivered_on"]))

        self.save_processed(*findings, cursor=cursor, learn=learn)

    def _letter_answered(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        payload = envelope["payload"]
        letter = self.views.letter(payload["letter_id"])
        if letter is None:
            return
        received_on = _day(letter["received_on"])
        answered_on = _day(payload["answered_on"])
        findings = self._letter_findings(letter["letter_id"], letter["school_id"], received_on,
                                         answered_on, settings(), None)
        self.save_processed(*findings, cursor=cursor, learn=lambda tx: learn_letter(
            tx, letter["letter_id"], letter["school_id"], received_on, answered_on))

    def _risk_escalated(self, envelope: dict[str, Any]) -> list[Escalation]:
        payload = envelope["payload"]
        risk_id, level = payload["risk_id"], payload["level"]
        if escalation_key(risk_id, level) in self.repository:
            return []
        opened_at = datetime.fromisoformat(envelope["occurred_at"])
        escalation = Escalation(
            school_id=envelope["school_id"], risk_id=risk_id, case_id=payload["case_id"],
            risk_type=payload["risk_type"], level=level, life_safety=payload["life_safety"],
            social_worker_id=payload["social_worker_id"],
            ladder=ladder_for(payload["risk_type"], level, payload["life_safety"]),
            opened_at=opened_at)
        # The risk's lower-level escalations give way to this one and its faster ladder.
        superseded = self._open_escalations(risk_id, exclude=level)
        for lower in superseded:
            lower.resolve("superseded", opened_at)
        return [escalation, *superseded]

    def _risk_resolved(self, envelope: dict[str, Any]) -> list[Escalation]:
        resolved_at = datetime.fromisoformat(envelope["occurred_at"])
        escalations = self._open_escalations(envelope["payload"]["risk_id"])
        for escalation in escalations:
            escalation.resolve("risk_resolved", resolved_at)
        return escalations

    def _open_escalations(self, risk_id: str, exclude: str | None = None) -> list[Escalation]:
        found = []
        for level in RISK_LEVELS:
            escalation = self.find_aggregate(Escalation, escalation_key(risk_id, level))
            if level != exclude and escalation is not None and escalation.status == "open":
                found.append(escalation)
        return found

    # Upgrading a store from before the learned tables: what the retired watch and delivery
    # records hold is copied into the learned tables once, each record in one transaction
    # with the note that it was copied, so a restart in the middle copies the rest only.

    def copy_retired_records(self) -> None:
        topics = [get_topic(cls) for cls in RETIRED_CREATED]
        position = 0
        while notifications := list(self.recorder.select_notifications(
                start=position + 1, limit=RETIRED_PAGE, topics=topics)):
            for notification in notifications:
                self._copy_retired(uuid.UUID(str(notification.originator_id)))
            position = notifications[-1].id

    def _copy_retired(self, aggregate_id: uuid.UUID) -> None:
        store = self.views.store
        if store.one("SELECT 1 AS yes FROM {retired_copied} WHERE aggregate_id = :id",
                     id=str(aggregate_id)) is not None:
            return
        record: Any = self.repository.get(aggregate_id)
        with store.datastore.transaction(commit=True) as database_cursor:
            tx = Transaction(store, database_cursor)
            if isinstance(record, CaseWatch):
                learn_case(tx, record.facts)
            elif isinstance(record, LetterWatch):
                learn_letter(tx, record.letter_id, record.school_id, record.received_on,
                             record.answered_on)
            elif isinstance(record, Delivery):
                learn_delivery(tx, record.kind, record.item_id, record.school_id,
                               record.case_id, record.service_codes, record.delivered_on)
            tx.insert("retired_copied", aggregate_id=str(aggregate_id))


RETIRED_CREATED = (CaseWatch.Started, LetterWatch.Started,  # type: ignore[attr-defined]
                   Delivery.Noted)  # type: ignore[attr-defined]


def _intake_accepted(case: CaseFacts, p: dict[str, Any]) -> None:
    case.accepted_on = _day(p["accepted_on"])


def _declined(case: CaseFacts, p: dict[str, Any]) -> None:
    # 8.3.1e: no professional relationship, so no process deadlines either.
    case.status, case.closed_on = "declined", _day(p["declined_on"])


def _assessed(case: CaseFacts, p: dict[str, Any]) -> None:
    day = _day(p["assessed_on"])
    case.assessed_on = min(day, case.assessed_on or day)


def _plan_adopted(case: CaseFacts, p: dict[str, Any]) -> None:
    day = _day(p["adopted_on"])
    case.planned_on = min(day, case.planned_on or day)


def _intervention(case: CaseFacts, p: dict[str, Any]) -> None:
    case.intervention_dates = sorted([*case.intervention_dates, _day(p["delivered_on"])])


def _evaluated(case: CaseFacts, p: dict[str, Any]) -> None:
    if p["kind"] not in case.evaluation_kinds:
        case.evaluation_kinds.append(p["kind"])


def _closed(case: CaseFacts, p: dict[str, Any]) -> None:
    case.status, case.closed_on = "closed", _day(p["closed_on"])


def _reopened(case: CaseFacts, p: dict[str, Any]) -> None:
    case.status, case.closed_on, case.evaluation_kinds = "open", None, []


def _reassigned(case: CaseFacts, p: dict[str, Any]) -> None:
    case.social_worker_id = p["to_social_worker_id"]


def _follow_up_scheduled(case: CaseFacts, p: dict[str, Any]) -> None:
    case.follow_ups[p["follow_up_id"]] = {"due_on": _day(p["due_on"]), "done_on": None}


def _follow_up_done(case: CaseFacts, p: dict[str, Any]) -> None:
    if p["follow_up_id"] in case.follow_ups:
        case.follow_ups[p["follow_up_id"]]["done_on"] = _day(p["done_on"])


# How each step of a case, as cases publishes it, changes what supervision knows of it.
CASE_STEPS: dict[str, Callable[[CaseFacts, dict[str, Any]], None]] = {
    "IntakeCompleted": _intake_accepted,
    "IntakeDeclined": _declined,
    "AssessmentRecorded": _assessed,
    "PlanAdopted": _plan_adopted,
    "InterventionLogged": _intervention,
    "EvaluationRecorded": _evaluated,
    "CaseClosed": _closed,
    "CaseReopened": _reopened,
    "CaseReassigned": _reassigned,
    "FollowUpScheduled": _follow_up_scheduled,
    "FollowUpRecorded": _follow_up_done,
}
# The cases events `handle_cases_event` does anything with; the subscription passes over the
# rest without a transaction of their own (services.runtime.subscription, `acts_on`).
CASES_EVENTS_ACTED_ON = frozenset({"RiskEscalated", "RiskResolved", "LetterReceived",
                                   "LetterAnswered", "GroupFormed", "ClassHeld", "CaseOpened",
                                   *CASE_STEPS})


def _eligibility(worker: SocialWorker) -> dict[str, Any]:
    """A worker's eligibility as their record has it after a command, before it is stored (a
    command's reads see only what was stored before it)."""
    return {"social_worker_id": worker.social_worker_id, "eligible": bool(worker.eligible),
            "reasons": list(worker.ineligibility)}


def _qualification(given: dict[str, Any]) -> dict[str, Any]:
    missing = [f for f in QUALIFICATION_FIELDS if f not in given]
    if missing:
        raise InvalidInput.from_messages({f: ["Missing data for required field."]
                                          for f in missing})
    return {f: given[f] for f in QUALIFICATION_FIELDS}
