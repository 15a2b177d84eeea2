"""Schools, social workers, supervisors, training and supervision sessions: the commands and
queries (T/JHSX 001—2026 6.1, 6.2, 8.1, 9.1)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date
from typing import Any

from contracts.errors import Conflict, InvalidInput, NotAllowed
from services.runtime.clock import clock
from services.runtime.context import current_actor, require_role
from services.runtime.plain import plain
from services.supervision.domain import (
    School,
    SessionEvents,
    SocialWorker,
    SocialWorkerEvents,
    SupervisionSession,
    Supervisor,
    school_key,
    social_worker_key,
    supervisor_key,
)
from services.supervision.settings import CONTINUING_EDUCATION_HOURS_PER_YEAR, settings
from services.supervision.store import (
    OVERSEERS,
    READERS,
    SCHOOL_ADMINS,
    STAFF_MANAGERS,
    SupervisionStore,
    check_any_school_scope,
    check_school_scope,
)

QUALIFICATION_FIELDS = ("certificate_level", "diploma_level", "diploma_in_social_work",
                        "projects_led", "ethics_commitment")


def not_in_future(field: str, day: date) -> date:
    if day > clock.today():
        raise InvalidInput.from_messages({field: [f"Must not be in the future ({day})."]})
    return day


class StaffDesk(SupervisionStore):
    # Schools (6.1, 8.1)

    def register_school(self, school_id: str, name: str, district: str, service_mode: str,
                        facility_kinds: list[str], registered_on: date | None = None) -> str:
        actor = require_role(*SCHOOL_ADMINS)
        check_school_scope(actor, school_id)
        if self._find(school_key(school_id)) is not None:
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
        school = self._school(school_id)
        school.record_facilities(facility_kinds,
                                 not_in_future("recorded_on", recorded_on or clock.today()))
        self.save(school)

    def get_school(self, school_id: str) -> dict[str, Any]:
        check_school_scope(require_role(*READERS), school_id)
        school = self._school(school_id)
        return plain({"school_id": school.school_id, "name": school.name,
                      "district": school.district, "service_mode": school.service_mode,
                      "facility_kinds": school.facility_kinds,
                      "has_service_space": school.has_service_space,
                      "registered_on": school.registered_on})

    def _school(self, school_id: str) -> School:
        school: School = self._get(school_key(school_id), f"school {school_id}")
        return school

    # Social workers (6.2.1)

    def register_social_worker(self, social_worker_id: str, employment: str,
                               school_ids: list[str], registered_on: date | None = None,
                               **qualification: Any) -> str:
        actor = require_role(*STAFF_MANAGERS)
        check_any_school_scope(actor, school_ids)
        for school_id in school_ids:
            self._school(school_id)
        if self._find(social_worker_key(social_worker_id)) is not None:
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
                             **qualification: Any) -> None:
        worker = self._managed_worker(social_worker_id)
        worker.record_qualification(_qualification(qualification),
                                    not_in_future("recorded_on", recorded_on or clock.today()))
        self.save(worker)

    def assign_social_worker(self, social_worker_id: str, school_id: str,
                             assigned_on: date | None = None) -> None:
        actor = require_role(*STAFF_MANAGERS)
        check_school_scope(actor, school_id)
        self._school(school_id)
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
                                 left_on: date | None = None) -> None:
        worker = self._managed_worker(social_worker_id)
        worker.deactivate(reason, left_on or clock.today())
        self.save(worker)

    def worker_eligibility(self, social_worker_id: str) -> dict[str, Any]:
        """Whether the worker may be assigned cases now, and why not (6.2.1.2, 9.1a): for those
        who staff the school, and for the worker themselves."""
        actor = require_role(*STAFF_MANAGERS, "social_worker")
        if actor.role == "social_worker" and actor.id != social_worker_id:
            raise NotAllowed("A social worker reads only their own eligibility.")
        worker = self._find(social_worker_key(social_worker_id))
        if worker is not None:
            check_any_school_scope(actor, worker.school_ids)
        if worker is None:
            return {"social_worker_id": social_worker_id, "eligible": False,
                    "reasons": ["not_registered"]}
        return {"social_worker_id": social_worker_id, "eligible": bool(worker.eligible),
                "reasons": list(worker.ineligibility)}

    def get_social_worker(self, social_worker_id: str) -> dict[str, Any]:
        actor = current_actor()
        worker = self._worker(social_worker_id)
        if actor.role == "social_worker" and actor.id != social_worker_id:
            raise NotAllowed("A social worker reads only their own staff record.")
        if actor.role not in (*READERS, "social_worker"):
            raise NotAllowed(f"Role {actor.role!r} may not read staff records.")
        check_any_school_scope(actor, worker.school_ids)
        return _worker_view(worker)

    def list_social_workers(self, school_id: str) -> list[dict[str, Any]]:
        check_school_scope(require_role(*READERS), school_id)
        return [_worker_view(w) for w in self._workers_of(school_id)]

    def _workers_of(self, school_id: str) -> list[SocialWorker]:
        return [w for w in self._all(SocialWorkerEvents.Registered, SocialWorker)
                if school_id in w.school_ids]

    def _worker(self, social_worker_id: str) -> SocialWorker:
        worker: SocialWorker = self._get(social_worker_key(social_worker_id),
                                         f"social worker {social_worker_id}")
        return worker

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
            self._school(school_id)
        Supervisor.check_qualification(certificate_level, years_of_practice,
                                       settings().supervisor_min_years)
        if self._find(supervisor_key(supervisor_id)) is not None:
            raise Conflict(f"Supervisor {supervisor_id} is already registered.", code="conflict")
        supervisor = Supervisor(
            supervisor_id=supervisor_id, school_id=school_id or actor.school_id,
            employment=employment, setting=setting, certificate_level=certificate_level,
            years_of_practice=years_of_practice,
            registered_on=not_in_future("registered_on", registered_on or clock.today()))
        self.save(supervisor)
        return supervisor_id

    def assign_supervisor(self, social_worker_id: str, supervisor_id: str,
                          assigned_on: date | None = None) -> None:
        worker = self._managed_worker(social_worker_id)
        self._get(supervisor_key(supervisor_id), f"supervisor {supervisor_id}")
        worker.assign_supervisor(supervisor_id, assigned_on or clock.today())
        self.save(worker)

    def list_supervisees(self, supervisor_id: str) -> list[dict[str, Any]]:
        """The supervisor's supervisees; for an actor bound to a school, those serving it, of a
        supervisor of that school (an external supervisor with no school serves several)."""
        actor = require_role(*READERS)
        if actor.role == "supervisor" and actor.id != supervisor_id:
            raise NotAllowed("A supervisor lists only their own supervisees.")
        supervisor = self._get(supervisor_key(supervisor_id), f"supervisor {supervisor_id}")
        if supervisor.school_id is not None:
            check_school_scope(actor, supervisor.school_id)
        return [_worker_view(w) for w in self._all(SocialWorkerEvents.Registered, SocialWorker)
                if w.supervisor_id == supervisor_id
                and (actor.school_id is None or actor.school_id in w.school_ids)]

    # Training (9.1a, 9.1b, 6.2.1.3)

    def record_training(self, social_worker_id: str, kind: str, hours: float,
                        topics: list[str], completed_on: date) -> str:
        worker = self._managed_worker(social_worker_id)
        training_id = str(uuid.uuid4())
        worker.record_training(training_id, kind, hours, topics,
                               not_in_future("completed_on", completed_on))
        self.save(worker)
        return training_id

    def training_report(self, school_id: str, year: int) -> list[dict[str, Any]]:
        """Each active worker of the school: continuing-education hours in `year` and, under 36,
        how many are missing (9.1b); whether pre-job training is recorded (9.1a)."""
        check_school_scope(require_role(*READERS), school_id)
        return [training_line(w, year) for w in self._workers_of(school_id) if w.active]

    # Supervision sessions (6.2.2.2, 9.1c)

    def record_supervision_session(self, supervisor_id: str, social_worker_ids: list[str],
                                   kinds: list[str], format: str, held_on: date,
                                   duration_minutes: int) -> str:
        # Its supervisor, or an administrator entering it for them.
        actor = require_role(*OVERSEERS)
        if actor.role == "supervisor" and actor.id != supervisor_id:
            raise NotAllowed("A supervisor records only sessions they held.")
        supervisor = self._get(supervisor_key(supervisor_id), f"supervisor {supervisor_id}")
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

    def supervision_report(self, school_id: str) -> list[dict[str, Any]]:
        """Each active worker of the school: last session, days since, whether that exceeds the
        configured interval (9.1c), and the mix of kinds received (6.2.2.2)."""
        check_school_scope(require_role(*READERS), school_id)
        interval = settings().supervision_interval_days
        today = clock.today()
        sessions = self.sessions_by_worker()
        lines = []
        for worker in self._workers_of(school_id):
            if not worker.active:
                continue
            held = sessions.get(worker.social_worker_id, [])
            last = max((s["held_on"] for s in held), default=None)
            since = last or worker.registered_on
            lines.append(plain({
                "social_worker_id": worker.social_worker_id,
                "supervisor_id": worker.supervisor_id,
                "sessions": len(held),
                "last_session_on": last,
                "days_without_supervision": (today - since).days,
                "overdue": (today - since).days > interval,
                "kinds": dict(Counter(k for s in held for k in s["kinds"])),
            }))
        return lines

    def sessions_by_worker(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for held in self._events(SessionEvents.Held):
            for worker_id in held.social_worker_ids:
                found.setdefault(worker_id, []).append(
                    {"held_on": held.held_on, "kinds": list(held.kinds)})
        return found


def _qualification(given: dict[str, Any]) -> dict[str, Any]:
    missing = [f for f in QUALIFICATION_FIELDS if f not in given]
    if missing:
        raise InvalidInput.from_messages({f: ["Missing data for required field."]
                                          for f in missing})
    return {f: given[f] for f in QUALIFICATION_FIELDS}


def training_line(worker: SocialWorker, year: int) -> dict[str, Any]:
    hours = worker.continuing_hours(year)
    return {
        "social_worker_id": worker.social_worker_id,
        "year": year,
        "continuing_hours": hours,
        "hours_missing": max(0.0, CONTINUING_EDUCATION_HOURS_PER_YEAR - hours),
        "below_minimum": hours < CONTINUING_EDUCATION_HOURS_PER_YEAR,
        "pre_job_trained": worker.pre_job_trained,
        "topics": sorted({t for tr in worker.trainings if tr["completed_on"].year == year
                          for t in tr["topics"]}),
    }


def _worker_view(worker: SocialWorker) -> dict[str, Any]:
    return plain({
        "social_worker_id": worker.social_worker_id,
        "school_ids": worker.school_ids,
        "employment": worker.employment,
        "qualification": worker.qualification,
        "qualification_basis": worker.qualification_basis,
        "supervisor_id": worker.supervisor_id,
        "active": worker.active,
        "registered_on": worker.registered_on,
        "left_on": worker.left_on,
        "eligible": worker.eligible,
        "ineligibility": worker.ineligibility,
        "trainings": worker.trainings,
    })
