"""The base every Casebook aggregate stands on.

Each domain event carries `meta` (who acted, the correlation and causation ids) and the
aggregate's `school_id`, stamped from the command context, so the relay can build an envelope
from a stored event alone; timestamps come from the settable clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

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


class CasebookAggregate(Aggregate):
    # Subclasses set `school_id` in their created event. It is not annotated here: eventsourcing
    # would read an annotation as a constructor argument.

    class Event(Aggregate.Event):
        meta: dict[str, Any]

        @staticmethod
        def create_timestamp() -> datetime:
            return clock.now()

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
