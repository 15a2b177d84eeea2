"""What every part of the resources application shares: saving with a clear conflict, loading
an aggregate of a given kind, and listing every aggregate of a kind in the order it was made."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from contracts.errors import Conflict
from services.runtime.store import CasebookApplication

PAGE = 500

A = TypeVar("A", bound=Aggregate)


class ResourcesBase(CasebookApplication):
    service = "resources"

    def _save(self, *aggregates: Aggregate) -> None:
        try:
            self.save(*aggregates)
        except IntegrityError:
            raise Conflict(
                "Someone changed this record at the same time; reload and try again.",
                code="conflict",
            ) from None

    def _all(self, kind: type[A], created: str) -> Iterator[A]:
        """Every aggregate of `kind`, in the order they were created (`created` names the
        created event: eventsourcing makes the class from the `@event` name)."""
        topic = f"{kind.__module__}:{kind.__qualname__}.{created}"
        position = 0
        while True:
            batch = list(self.recorder.select_notifications(
                start=position + 1, limit=PAGE, topics=[topic]
            ))
            for notification in batch:
                yield self.get_aggregate(kind, notification.originator_id, kind.__name__)
            if len(batch) < PAGE:
                return
            position = batch[-1].id
