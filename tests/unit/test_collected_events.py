"""What a save collects: `CollectedEvents` tells aggregates and events apart by their classes,
where eventsourcing's `ProcessingEvent` checks runtime Protocols; both must collect the same."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eventsourcing.application import ProcessingEvent

from services.runtime.context import Actor, acting_as
from services.runtime.store import CollectedEvents
from tests.support.stores import Note

WORKER = Actor("worker-1", "social_worker", "JD001")


@dataclass(frozen=True)
class Foreign:
    """An event of no eventsourcing class: it has what `DomainEventProtocol` asks for."""

    originator_id: uuid.UUID
    originator_version: int
    timestamp: datetime


def _collected(collector: ProcessingEvent[Any]) -> tuple[Any, ...]:
    """Collect a saved aggregate, None, another's events passed loose, an aggregate with two
    events, a foreign event and a keyword; say what was collected by role, not by id."""
    with acting_as(WORKER):
        saved, amended, loose = Note("JD001", "c-1"), Note("JD001", "c-2"), Note("JD001", "c-3")
        amended.amend("c-4")
    foreign = Foreign(uuid.uuid4(), 1, datetime.now(UTC))
    roles = {saved.id: "saved", amended.id: "amended", loose.id: "loose",
             foreign.originator_id: "foreign"}
    collector.collect_events(saved, None, *loose.collect_events(), amended, foreign,
                             cursor="kept")
    return (
        [(roles[e.originator_id], type(e).__qualname__, e.originator_version)
         for e in collector.events],
        {roles[key]: type(aggregate).__name__ for key, aggregate in collector.aggregates.items()},
        collector.saved_kwargs,
    )


def test_a_save_collects_aggregates_events_and_others_as_eventsourcing_does():
    collected = _collected(CollectedEvents())
    assert collected == (
        [("saved", "Note.Written", 1), ("loose", "Note.Written", 1),
         ("amended", "Note.Written", 1), ("amended", "Note.Amended", 2),
         ("foreign", "Foreign", 1)],
        {"saved": "Note", "amended": "Note"},
        {"cursor": "kept"},
    )
    assert collected == _collected(ProcessingEvent())
