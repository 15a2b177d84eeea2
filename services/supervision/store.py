"""What every part of the supervision application shares: loading aggregates by their derived
ids, reading events of a kind from the store in order, and the school scope of an actor."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from contracts.errors import NotAllowed, NotFound
from services.runtime.context import Actor
from services.runtime.store import CasebookApplication

A = TypeVar("A")

# Who may do what (DESIGN.md "Actors, access, privacy"). The system actor is the subscription
# and the timer acting for the service itself.
SCHOOL_ADMINS = ("school_admin", "operator")
STAFF_MANAGERS = ("school_admin", "supervisor", "operator")
OVERSEERS = ("supervisor", "school_admin", "operator")
READERS = ("supervisor", "school_admin", "operator", "auditor")
TIMEKEEPERS = ("system", "operator")
PAGE = 500


class SupervisionStore(CasebookApplication):
    service = "supervision"

    def _find(self, key: uuid.UUID) -> Any | None:
        """The aggregate at a key derived from a natural id (school code, worker id...)."""
        return self.find_aggregate(Aggregate, key)

    def _get(self, key: uuid.UUID, what: str) -> Any:
        aggregate = self._find(key)
        if aggregate is None:
            raise NotFound(f"No {what}.")
        return aggregate

    def _events(self, *event_classes: type) -> Iterator[Any]:
        """Every stored event of these classes, in the order they were stored."""
        topics = [get_topic(cls) for cls in event_classes]
        position = 0
        while True:
            notifications = list(self.recorder.select_notifications(
                start=position + 1, limit=PAGE, topics=topics))
            for notification in notifications:
                yield self.mapper.to_domain_event(notification)
            if len(notifications) < PAGE:
                return
            position = notifications[-1].id

    def _all(self, created: type, kind: type[A]) -> list[A]:
        """Every aggregate of `kind`, found through its created event, oldest first."""
        found = []
        for created_event in self._events(created):
            aggregate = self._find(created_event.originator_id)
            if isinstance(aggregate, kind):
                found.append(aggregate)
        return found

    def _history(self, key: uuid.UUID) -> Iterable[Any]:
        return self.repository.event_store.get(key)


def check_school_scope(actor: Actor, school_id: str | None) -> None:
    """An actor bound to a school acts only within it; operators and auditors have no school."""
    if actor.school_id and school_id != actor.school_id:
        raise NotAllowed(f"The actor works for school {actor.school_id}, not {school_id}.")


def check_any_school_scope(actor: Actor, school_ids: Iterable[str]) -> None:
    if actor.school_id and actor.school_id not in set(school_ids):
        raise NotAllowed(f"The actor works for school {actor.school_id}, which this record does "
                         "not belong to.")
