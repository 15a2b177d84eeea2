"""Schools, social workers, supervisors and supervision sessions (T/JHSX 001—2026 §6, 8.1, 9.1).

Guards run before any event is triggered, so a refused command changes nothing. Identifiers are
the ones people and other services use (a school's code, a worker's staff id, the same id the
worker signs in with); aggregate ids are derived from them, so a second registration of the same
school or person is a conflict in the store, not a duplicate.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from eventsourcing.domain import event

from contracts.errors import Conflict, InvalidInput
from services.runtime.domain import CasebookAggregate

STAFF_NAMESPACE = uuid.UUID("0b6f4f7e-3a52-4a8e-8d0f-5a2c1e9b7d44")
COLLEGE_OR_ABOVE = ("college", "bachelor", "master", "doctorate")  # 6.2.1.2 大专及以上学历
SUPERVISOR_CERTIFICATES = ("intermediate", "senior")  # see Supervisor.check_qualification


def school_key(school_id: str) -> uuid.UUID:
    return uuid.uuid5(STAFF_NAMESPACE, f"school:{school_id}")


def social_worker_key(social_worker_id: str) -> uuid.UUID:
    return uuid.uuid5(STAFF_NAMESPACE, f"social_worker:{social_worker_id}")


def supervisor_key(supervisor_id: str) -> uuid.UUID:
    return uuid.uuid5(STAFF_NAMESPACE, f"supervisor:{supervisor_id}")


def invalid(field: str, rule: str) -> InvalidInput:
    return InvalidInput.from_messages({field: [rule]})


class School(CasebookAggregate):
    @staticmethod
    def create_id(school_id: str, **_: Any) -> uuid.UUID:
        return school_key(school_id)

    @event("Registered")
    def __init__(
        self,
        school_id: str,
        name: str,
        district: str,
        service_mode: str,
        facility_kinds: list[str],
        registered_on: date,
    ) -> None:
        self.school_id = school_id
        self.name = name
        self.district = district
        self.service_mode = service_mode
        self.facility_kinds = list(facility_kinds)
        self.registered_on = registered_on

    def record_facilities(self, facility_kinds: list[str], recorded_on: date) -> None:
        if recorded_on < self.registered_on:
            raise invalid("recorded_on", f"Must not be before registration ({self.registered_on}).")
        self._facilities_recorded(school_id=self.school_id,
                                  facility_kinds=sorted(set(facility_kinds)),
                                  recorded_on=recorded_on)

    @event("FacilitiesRecorded")
    def _facilities_recorded(self, school_id: str, facility_kinds: list[str],
                             recorded_on: date) -> None:
        self.facility_kinds = list(facility_kinds)


def qualification_basis(certificate_level: str, diploma_level: str,
                        diploma_in_social_work: bool) -> str | None:
    """6.2.1.2, first item: a social-worker certificate, or a social-work diploma of college level
    or above. None when neither."""
    if certificate_level != "none":
        return "certificate"
    if diploma_in_social_work and diploma_level in COLLEGE_OR_ABOVE:
        return "diploma"
    return None


class SocialWorker(CasebookAggregate):
    """A school social worker. Eligibility to take cases is 6.2.1.2 (qualification, a led
    project, the ethics commitment) AND 9.1a (pre-job training) AND being active; every command
    that can change it ends with `refresh_eligibility`, which records the change once."""

    @staticmethod
    def create_id(social_worker_id: str, **_: Any) -> uuid.UUID:
        return social_worker_key(social_worker_id)

    @event("Registered")
    def __init__(
        self,
        social_worker_id: str,
        school_id: str,
        school_ids: list[str],
        employment: str,
        qualification: dict[str, Any],
        registered_on: date,
    ) -> None:
        self.school_id = school_id
        self.social_worker_id = social_worker_id
        self.school_ids = list(school_ids)
        self.employment = employment
        self.qualification = dict(qualification)
        self.registered_on = registered_on
        self.active = True
        self.left_on: date | None = None
        self.supervisor_id: str | None = None
        self.trainings: list[dict[str, Any]] = []
        self.eligible: bool | None = None
        self.ineligibility: list[str] = []

    @classmethod
    def register(cls, **kwargs: Any) -> SocialWorker:
        worker = cls(**kwargs)
        worker.refresh_eligibility()
        return worker

    # Qualification and eligibility (6.2.1.2, 9.1a)

    @property
    def qualification_basis(self) -> str | None:
        q = self.qualification
        return qualification_basis(q["certificate_level"], q["diploma_level"],
                                   q["diploma_in_social_work"])

    @property
    def pre_job_trained(self) -> bool:
        return any(t["kind"] == "pre_job" for t in self.trainings)

    def reasons_not_eligible(self) -> list[str]:
        reasons = []
        if self.qualification_basis is None:
            reasons.append("not_qualified")
        if self.qualification["projects_led"] < 1:
            reasons.append("no_project_experience")
        if not self.qualification["ethics_commitment"]:
            reasons.append("no_ethics_commitment")
        if not self.pre_job_trained:
            reasons.append("no_pre_job_training")
        if not self.active:
            reasons.append("inactive")
        return reasons

    def refresh_eligibility(self) -> None:
        reasons = self.reasons_not_eligible()
        if self.eligible is None or reasons != self.ineligibility:
            self._eligibility_changed(social_worker_id=self.social_worker_id, eligible=not reasons,
                                      reasons=reasons)

    @event("EligibilityChanged")
    def _eligibility_changed(self, social_worker_id: str, eligible: bool,
                             reasons: list[str]) -> None:
        self.eligible = eligible
        self.ineligibility = list(reasons)

    def record_qualification(self, qualification: dict[str, Any], recorded_on: date) -> None:
        self._require_active("record a qualification")
        self._qualification_recorded(social_worker_id=self.social_worker_id,
                                     qualification=dict(qualification), recorded_on=recorded_on)
        self.refresh_eligibility()

    @event("QualificationRecorded")
    def _qualification_recorded(self, social_worker_id: str, qualification: dict[str, Any],
                                recorded_on: date) -> None:
        self.qualification = dict(qualification)

    # Assignments

    def assign_school(self, school_id: str, assigned_on: date) -> None:
        self._require_active("assign them to a school")
        if school_id in self.school_ids:
            raise Conflict(f"{self.social_worker_id} already serves {school_id}.", code="conflict")
        self._assigned(social_worker_id=self.social_worker_id, school_id=school_id,
                       assigned_on=assigned_on)

    @event("Assigned")
    def _assigned(self, social_worker_id: str, school_id: str, assigned_on: date) -> None:
        self.school_ids.append(school_id)

    def end_assignment(self, school_id: str, ended_on: date) -> None:
        if school_id not in self.school_ids:
            raise Conflict(f"{self.social_worker_id} does not serve {school_id}.",
                           code="wrong_state")
        self._assignment_ended(social_worker_id=self.social_worker_id, school_id=school_id,
                               ended_on=ended_on)

    @event("AssignmentEnded")
    def _assignment_ended(self, social_worker_id: str, school_id: str, ended_on: date) -> None:
        self.school_ids.remove(school_id)

    def assign_supervisor(self, supervisor_id: str, assigned_on: date) -> None:
        self._require_active("assign a supervisor")
        if supervisor_id == self.supervisor_id:
            raise Conflict(f"{supervisor_id} already supervises {self.social_worker_id}.",
                           code="conflict")
        self._supervisor_assigned(social_worker_id=self.social_worker_id,
                                  supervisor_id=supervisor_id,
                                  previous_supervisor_id=self.supervisor_id,
                                  assigned_on=assigned_on)

    @event("SupervisorAssigned")
    def _supervisor_assigned(self, social_worker_id: str, supervisor_id: str,
                             previous_supervisor_id: str | None, assigned_on: date) -> None:
        self.supervisor_id = supervisor_id

    # Training (9.1a, 9.1b, 6.2.1.3)

    class TrainingRecorded(CasebookAggregate.Event):
        """Training completed, its length in whole minutes. Version 1 held `hours` as a float:
        such events are read as minutes and keep their hours, which their published envelopes
        (contract v1) were made of."""

        class_version = 2
        social_worker_id: str
        training_id: str
        kind: str
        minutes: int
        topics: list[str]
        completed_on: date

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["minutes"] = round(state["hours"] * 60)

    def record_training(self, training_id: str, kind: str, minutes: int, topics: list[str],
                        completed_on: date) -> None:
        if completed_on < self.registered_on and kind == "continuing":
            raise invalid("completed_on",
                          f"Continuing education must not predate registration "
                          f"({self.registered_on}).")
        if kind == "pre_job" and self.pre_job_trained:
            raise Conflict(f"{self.social_worker_id} already has pre-job training recorded.",
                           code="conflict")
        self._training_recorded(social_worker_id=self.social_worker_id,
                                training_id=training_id, kind=kind, minutes=minutes,
                                topics=sorted(set(topics)), completed_on=completed_on)
        self.refresh_eligibility()

    @event(TrainingRecorded)
    def _training_recorded(self, social_worker_id: str, training_id: str, kind: str,
                           minutes: int, topics: list[str], completed_on: date) -> None:
        self.trainings.append({"training_id": training_id, "kind": kind, "minutes": minutes,
                               "topics": list(topics), "completed_on": completed_on})

    # Leaving

    def deactivate(self, reason: str, left_on: date) -> None:
        self._require_active("deactivate them")
        if left_on < self.registered_on:
            raise invalid("left_on", f"Must not be before registration ({self.registered_on}).")
        self._deactivated(social_worker_id=self.social_worker_id, reason=reason, left_on=left_on)
        self.refresh_eligibility()

    @event("Deactivated")
    def _deactivated(self, social_worker_id: str, reason: str, left_on: date) -> None:
        self.active = False
        self.left_on = left_on

    def _require_active(self, action: str) -> None:
        if not self.active:
            raise Conflict(f"{self.social_worker_id} left the service: cannot {action}.",
                           code="wrong_state")


class Supervisor(CasebookAggregate):
    @staticmethod
    def create_id(supervisor_id: str, **_: Any) -> uuid.UUID:
        return supervisor_key(supervisor_id)

    @staticmethod
    def check_qualification(certificate_level: str, years_of_practice: int,
                            min_years: int) -> None:
        """6.2.2.1 asks for MZ/T 166—2021 8.1. Casebook checks what can be recorded of it: an
        intermediate or senior social-worker certificate and `min_years` of practice (a policy
        setting, CASEBOOK_SUPERVISOR_MIN_YEARS)."""
        errors: dict[str, list[str]] = {}
        if certificate_level not in SUPERVISOR_CERTIFICATES:
            errors["certificate_level"] = [
                "A supervisor needs an intermediate or senior social-worker certificate "
                "(6.2.2.1, MZ/T 166—2021 8.1)."]
        if years_of_practice < min_years:
            errors["years_of_practice"] = [
                f"A supervisor needs at least {min_years} years of practice (6.2.2.1)."]
        if errors:
            raise InvalidInput("The supervisor does not meet 6.2.2.1: "
                               + " ".join(m[0] for m in errors.values()),
                               code="not_qualified", errors=errors)

    @event("Registered")
    def __init__(
        self,
        supervisor_id: str,
        school_id: str | None,
        employment: str,
        setting: str,
        certificate_level: str,
        years_of_practice: int,
        registered_on: date,
    ) -> None:
        self.school_id = school_id
        self.supervisor_id = supervisor_id
        self.employment = employment
        self.setting = setting
        self.certificate_level = certificate_level
        self.years_of_practice = years_of_practice
        self.registered_on = registered_on


class SupervisionSession(CasebookAggregate):
    """One supervision session (6.2.2.2, 9.1c) with one supervisee or a group of them."""

    @event("Held")
    def __init__(
        self,
        school_id: str | None,
        supervisor_id: str,
        social_worker_ids: list[str],
        kinds: list[str],
        format: str,
        held_on: date,
        duration_minutes: int,
    ) -> None:
        self.school_id = school_id
        self.supervisor_id = supervisor_id
        self.social_worker_ids = list(social_worker_ids)
        self.kinds = list(kinds)
        self.format = format
        self.held_on = held_on
        self.duration_minutes = duration_minutes


# eventsourcing makes each aggregate's event classes when the class is created; mypy cannot see
# them, so other modules read them through these untyped names.
SchoolEvents: Any = School
SocialWorkerEvents: Any = SocialWorker
SupervisorEvents: Any = Supervisor
SessionEvents: Any = SupervisionSession
