"""What every part of the cases application shares: loading records, saving them, sealing
personal content, and who may see what (DESIGN.md "Actors, access, privacy")."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from contracts.errors import Conflict, NotAllowed, NotFound
from services.cases.clients import (
    Client,
    WorkerEligibility,
    WorkerSupervisor,
    client_key,
    eligibility_key,
    supervisor_key,
)
from services.cases.domain import Case
from services.runtime.context import Actor, require_role
from services.runtime.domain import CasebookAggregate
from services.runtime.risk_policy import risk_policy
from services.runtime.settings import settings
from services.runtime.store import CasebookApplication

A = TypeVar("A", bound=CasebookAggregate)

# A social worker acts on the cases assigned to them; a supervisor on those of their supervisees
# (6.2.2.1), as supervision last said who supervises whom. A worker with no supervisor yet has
# no supervisor acting on their cases: the school admin assigns one first.
CASE_WRITERS = ("social_worker", "supervisor")
# Who may read a case's history (no personal content): its worker, the worker's supervisor,
# and the roles that keep and check records.
HISTORY_READERS = ("social_worker", "supervisor", "archivist", "auditor", "school_admin")
PAGE = 500


def school_in_scope(actor: Actor, school_id: str | None) -> str:
    school = school_id or actor.school_id
    if not school:
        raise NotAllowed("The actor has no school; give school_id.")
    if actor.school_id and school != actor.school_id:
        raise NotAllowed(f"The actor works for school {actor.school_id}, not {school}.")
    return school


def check_school(actor: Actor, record: CasebookAggregate, what: str) -> None:
    if actor.school_id and actor.school_id != record.school_id:  # type: ignore[attr-defined]
        raise NotAllowed(f"The {what} belongs to another school.")


def reads_without_grant(actor: Actor, case: Case) -> bool:
    """The case's own worker and the worker's supervisor (the only ones past
    `_history_readable_case` in those roles) read an open case's personal content directly; a
    closed case, or any other reader, goes through the archive's grants (9.4d)."""
    if case.status == "closed":
        return False
    if actor.role == "supervisor":
        return True
    return actor.role == "social_worker" and actor.id == case.social_worker_id


class CasesBase(CasebookApplication):
    service = "cases"

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        # Which risks threaten life or safety (4.1): the policy supervision escalates by.
        self.policy = risk_policy()

    # Loading and saving.

    def _save(self, *records: CasebookAggregate | None) -> None:
        try:
            self.save(*records)
        except IntegrityError:
            raise Conflict("The record changed meanwhile; read it again and retry.",
                           code="conflict") from None

    def _client(self, client_id: str) -> Client:
        client = self.find_aggregate(Client, client_key(client_id))
        if client is None:
            raise NotFound(f"No client {client_id} in the register.")
        return client

    def _eligibility(self, social_worker_id: str) -> WorkerEligibility | None:
        return self.find_aggregate(WorkerEligibility, eligibility_key(social_worker_id))

    def _require_eligible(self, social_worker_id: str) -> None:
        if not settings().cases.require_eligible_workers:
            return
        known = self._eligibility(social_worker_id)
        if known is None:
            raise NotAllowed(
                f"Social worker {social_worker_id} is not known to supervision as eligible "
                "(6.2.1.2, 9.1a).",
                code="not_qualified",
            )
        if not known.eligible:
            raise NotAllowed(
                f"Social worker {social_worker_id} may not be assigned cases: "
                + ", ".join(known.reasons) + " (6.2.1.2, 9.1a).",
                code="not_qualified",
            )

    def _supervisor_of(self, social_worker_id: str) -> str | None:
        known = self.find_aggregate(WorkerSupervisor, supervisor_key(social_worker_id))
        return known.supervisor_id if known else None

    def _in_charge(self, actor: Actor, social_worker_id: str) -> bool:
        """Whether the actor answers for this worker's work: the worker themselves, or the
        worker's supervisor (6.2.2.1)."""
        if actor.role == "social_worker":
            return actor.id == social_worker_id
        if actor.role == "supervisor":
            return self._supervisor_of(social_worker_id) == actor.id
        return False

    def _require_in_charge(self, actor: Actor, social_worker_id: str, what: str) -> None:
        if actor.role not in CASE_WRITERS or self._in_charge(actor, social_worker_id):
            return
        if actor.role == "social_worker":
            raise NotAllowed(f"The {what} is assigned to another social worker.")
        raise NotAllowed(f"The {what} is {social_worker_id}'s, who is not a supervisee of "
                         f"{actor.id} (6.2.2.1).")

    # Personal content.

    def _seal(self, subject_id: str, value: Any) -> str | None:
        """A token for `value`, or None for nothing: emptiness stays visible to the rules."""
        if value is None or value == "" or value == [] or value == {}:
            return None
        return self.vault.seal(subject_id, value)

    def _open(self, token: str | None) -> Any:
        return None if token is None else self.vault.open(token)

    def _require_not_destroyed(self, subject_id: str) -> None:
        if self.vault.is_shredded(subject_id):
            raise Conflict(f"The personal content of {subject_id} was destroyed by disposal "
                           "(9.4e); nothing new can be recorded for them.", code="wrong_state")

    # Cases and who may touch them.

    def _case(self, case_id: str | UUID) -> Case:
        return self.get_aggregate(Case, case_id, "case")

    def _writable_case(self, case_id: str | UUID) -> Case:
        actor = require_role(*CASE_WRITERS)
        case = self._case(case_id)
        check_school(actor, case, "case")
        self._require_in_charge(actor, case.social_worker_id, "case")
        return case

    def _history_readable_case(self, case_id: str | UUID) -> Case:
        actor = require_role(*HISTORY_READERS)
        case = self._case(case_id)
        check_school(actor, case, "case")
        self._require_in_charge(actor, case.social_worker_id, "case")
        return case

    def _records(self, cls: type[A], created: str) -> Iterator[A]:
        """Every record of `cls`, found by its created event in the notification log."""
        topic = f"{cls.__module__}:{cls.__qualname__}.{created}"
        position = 0
        while True:
            notifications = list(self.recorder.select_notifications(
                start=position + 1, limit=PAGE, topics=[topic]))
            for notification in notifications:
                yield self.get_aggregate(cls, notification.originator_id, cls.__name__)
            if len(notifications) < PAGE:
                return
            position = notifications[-1].id

    def _cases_in_scope(self) -> Iterator[Case]:
        """The cases the actor may list: their own as a worker, their supervisees' as a
        supervisor, the school's otherwise."""
        actor = require_role(*HISTORY_READERS)
        in_charge: dict[str, bool] = {}
        for case in self._records(Case, "Opened"):
            if actor.school_id and case.school_id != actor.school_id:
                continue
            if actor.role in CASE_WRITERS:
                worker = case.social_worker_id
                if worker not in in_charge:
                    in_charge[worker] = self._in_charge(actor, worker)
                if not in_charge[worker]:
                    continue
            yield case

    def _reaches_client(self, actor: Actor, client: Client) -> bool:
        """A client's record is the work of the worker who registered them or has an open case
        of theirs, of that worker's supervisor, and of a supervisor who registered them."""
        if client.registered_by == actor.id or self._in_charge(actor, client.registered_by):
            return True
        return any(case.client_id == client.client_id and case.status != "closed"
                   for case in self._cases_in_scope())

    def _require_client_in_reach(self, actor: Actor, client: Client) -> None:
        if not self._reaches_client(actor, client):
            raise NotAllowed("A client's record is for the worker who registered them or has "
                             "an open case of theirs, and for that worker's supervisor.")
