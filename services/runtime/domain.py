"""The base every Casebook aggregate stands on.

Each domain event carries `meta` (who acted, the correlation and causation ids) and the
aggregate's `school_id`, stamped from the command context, so the relay can build an envelope
from a stored event alone; timestamps come from the settable clock.

Snapshots of long-lived aggregates (an application's `snapshotting_intervals`) are a cache of
their events: each says what code it was taken by (`shape`), and one taken by other code is
never read, so a changed attribute never meets state made before the change.
"""

from __future__ import annotations

import hashlib
import inspect
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, Snapshot
from eventsourcing.utils import resolve_topic

from services.runtime.clock import clock
from services.runtime.context import current_meta

# Envelope formats (services.runtime.publishing). New events are stamped with the latest, which
# every service maps every event for; events stored before formats existed read as the first
# (tests stamp FIRST_FORMAT to make such events).
FIRST_FORMAT = 1
LATEST_FORMAT = 2
STAMPED_FORMAT = LATEST_FORMAT


def envelope_format(event: Any) -> int:
    """The envelope format a stored event was stamped with; 1 if it predates the stamp."""
    return int(event.meta.get("envelope_format", FIRST_FORMAT))


@dataclass(frozen=True)
class ShapedSnapshot(Snapshot):
    """An aggregate's state at a version, and the shape of the code that made it."""

    shape: str

    @classmethod
    def take(cls, aggregate: Any) -> ShapedSnapshot:
        taken = Snapshot.take(aggregate)
        return cls(originator_id=taken.originator_id,
                   originator_version=taken.originator_version, timestamp=taken.timestamp,
                   topic=taken.topic, state=taken.state, shape=shape_of(type(aggregate)))

    def current(self) -> bool:
        """Whether the code that reads it is the code that took it."""
        return self.shape == shape_of(resolve_topic(self.topic))


def shape_of(aggregate_class: type) -> str:
    """A digest of the source of every Casebook module the class is made of (its own, its
    bases', where its events are declared): any change there, even one that seems not to touch
    the state, makes earlier snapshots unread, which costs a replay and never a wrong read."""
    if aggregate_class not in _SHAPES:
        modules = sorted({kind.__module__ for kind in aggregate_class.__mro__
                          if kind.__module__.split(".")[0] == "services"})
        digest = hashlib.sha256()
        for module in modules:
            digest.update(inspect.getsource(sys.modules[module]).encode("utf-8"))
        _SHAPES[aggregate_class] = digest.hexdigest()
    return _SHAPES[aggregate_class]


_SHAPES: dict[type, str] = {}


class CasebookAggregate(Aggregate):
    # Subclasses set `school_id` in their created event. It is not annotated here: eventsourcing
    # would read an annotation as a constructor argument.

    class Event(Aggregate.Event):
        meta: dict[str, Any]

        @staticmethod
        def create_timestamp() -> datetime:
            return clock.now()

    # eventsourcing types the attribute as its own Snapshot class; this is a subclass of it.
    Snapshot = ShapedSnapshot  # type: ignore[assignment]

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        kwargs.setdefault("meta", _event_meta(getattr(self, "school_id", None)))
        super().trigger_event(event_class, **kwargs)

    @classmethod
    def _create(cls, event_class: Any, *, id: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("meta", _event_meta(kwargs.get("school_id")))
        return super()._create(event_class, id=id, **kwargs)


def _event_meta(school_id: str | None) -> dict[str, Any]:
    meta = {**current_meta().as_event_meta(), "school_id": school_id}
    if STAMPED_FORMAT > FIRST_FORMAT:
        meta["envelope_format"] = STAMPED_FORMAT
    return meta
