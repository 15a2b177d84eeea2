"""The client register (9.2a, 5, 4.6) and what the cases service knows of workers: their
eligibility (6.2.1.2, 9.1a) and their supervisor (6.2.2.1), learned from the supervision
service's events.

A client's personal content (name, date of birth, contacts, guardians, related parties) is one
sealed token per item under the client's own subject key; what stays clear is what the register
is searched and counted by: type, school, grade, how many guardians, kinds of related parties.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from eventsourcing.domain import event

from contracts.errors import InvalidInput
from services.runtime.domain import CasebookAggregate

CLIENT_NAMESPACE = uuid.UUID("5b0c2a9e-1f4d-4c3b-8e7a-6d2f1a9c0b13")
ELIGIBILITY_NAMESPACE = uuid.UUID("a1e4f7c2-93b5-4d0e-8c6f-2b7d9e1f3a55")
SUPERVISOR_NAMESPACE = uuid.UUID("0d6b4e2a-7c31-4f58-9a2e-5b8c1d3f6e74")
ADULT_AGE = 18  # full civil capacity (4.2): below it, a guardian consents too


def client_key(client_id: str) -> uuid.UUID:
    return uuid.uuid5(CLIENT_NAMESPACE, client_id)


def eligibility_key(social_worker_id: str) -> uuid.UUID:
    return uuid.uuid5(ELIGIBILITY_NAMESPACE, social_worker_id)


def supervisor_key(social_worker_id: str) -> uuid.UUID:
    return uuid.uuid5(SUPERVISOR_NAMESPACE, social_worker_id)


def age_on(born_on: date, day: date) -> int:
    return day.year - born_on.year - ((day.month, day.day) < (born_on.month, born_on.day))


def check_new_client(client_type: str, grade: int | None, born_on: date | None) -> None:
    """5, 9.2a: a student has a grade and a date of birth; others have no grade."""
    errors: dict[str, list[str]] = {}
    if client_type == "student":
        if grade is None:
            errors["grade"] = ["A student client has a grade."]
        if born_on is None:
            errors["date_of_birth"] = ["A student client has a date of birth."]
    elif grade is not None:
        errors["grade"] = ["Only a student client has a grade."]
    if errors:
        raise InvalidInput.from_messages(errors)


class Client(CasebookAggregate):
    @staticmethod
    def create_id(client_id: str, **_: Any) -> uuid.UUID:
        return client_key(client_id)

    @event("Registered")
    def __init__(
        self,
        client_id: str,
        school_id: str,
        client_type: str,
        grade: int | None,
        is_minor: bool,
        details: str,
        guardians: list[str],
        related_parties: list[dict[str, str]],
        registered_by: str,
    ) -> None:
        self.school_id = school_id
        self.client_id = client_id
        self.client_type = client_type
        self.grade = grade
        self.is_minor = is_minor
        self.details = details
        self.guardians = list(guardians)
        self.related_parties = [dict(party) for party in related_parties]
        self.registered_by = registered_by
        self.personal_content_destroyed_on: date | None = None

    def add_guardian(self, guardian: str) -> None:
        self._guardian_added(guardian=guardian)

    @event("GuardianAdded")
    def _guardian_added(self, guardian: str) -> None:
        self.guardians.append(guardian)

    def add_related_party(self, kind: str, details: str) -> None:
        self._related_party_added(kind=kind, details=details)

    @event("RelatedPartyAdded")
    def _related_party_added(self, kind: str, details: str) -> None:
        self.related_parties.append({"kind": kind, "details": details})

    def record_disposal(self, file_id: str, disposed_on: date) -> None:
        """The archive disposed of a file about this client (9.4e): the subject key is gone."""
        self._personal_content_destroyed(file_id=file_id, disposed_on=disposed_on,
                                         client_id=self.client_id)

    @event("PersonalContentDestroyed")
    def _personal_content_destroyed(self, file_id: str, disposed_on: date,
                                    client_id: str | None = None) -> None:
        # `client_id` is in the event since it is published (events before named none).
        self.personal_content_destroyed_on = disposed_on


class WorkerEligibility(CasebookAggregate):
    """Retired: whether a social worker may be assigned cases, as supervision said (6.2.1.2,
    9.1a), kept as events until the cases service kept it in a view it learns into
    (`views.ELIGIBILITY`). Stores written before still hold these events: they load, and fill
    that view once."""

    @staticmethod
    def create_id(social_worker_id: str, **_: Any) -> uuid.UUID:
        return eligibility_key(social_worker_id)

    @event("Learned")
    def __init__(self, social_worker_id: str, school_id: str | None, eligible: bool,
                 reasons: list[str], position: int) -> None:
        self.school_id = school_id
        self.social_worker_id = social_worker_id
        self.eligible = eligible
        self.reasons = list(reasons)
        self.position = position

    def change(self, eligible: bool, reasons: list[str], position: int) -> None:
        self._changed(eligible=eligible, reasons=reasons, position=position)

    @event("Changed")
    def _changed(self, eligible: bool, reasons: list[str], position: int) -> None:
        self.eligible = eligible
        self.reasons = list(reasons)
        self.position = position


class WorkerSupervisor(CasebookAggregate):
    """Retired: who supervises a social worker, as supervision said (6.2.2.1), kept as events
    until the cases service kept it in a view it learns into (`views.SUPERVISOR`). Stores
    written before still hold these events: they load, and fill that view once."""

    @staticmethod
    def create_id(social_worker_id: str, **_: Any) -> uuid.UUID:
        return supervisor_key(social_worker_id)

    @event("Learned")
    def __init__(self, social_worker_id: str, school_id: str | None, supervisor_id: str,
                 position: int) -> None:
        self.school_id = school_id
        self.social_worker_id = social_worker_id
        self.supervisor_id = supervisor_id
        self.position = position

    def change(self, supervisor_id: str, position: int) -> None:
        self._changed(supervisor_id=supervisor_id, position=position)

    @event("Changed")
    def _changed(self, supervisor_id: str, position: int) -> None:
        self.supervisor_id = supervisor_id
        self.position = position
