"""From stored domain events to contract envelopes: the one mapping the relay, `events_since`
and chain verification all use.

An envelope is a pure function of the stored event and its predecessor's (position, hash): the
id is derived from (source, position), the time is the event's own timestamp. So a re-sent
envelope is identical to the first, and anyone holding the service's store can recompute the
chain. Each service's `publish.py` declares its mapping with `Publications.maps`; a domain event
with no mapping is internal (personal content, read models) and is never published.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Mapper, Notification

from contracts.envelope import envelope_id, seal
from contracts.registry import get as get_contract
from contracts.registry import validate_payload

PayloadFunction = Callable[[Any], dict[str, Any]]
# read(after_notification_id, limit) → the stored notifications after that id, oldest first.
ReadNotifications = Callable[[int, int], Sequence[Notification]]
RECOMPUTE_PAGE = 500


@dataclass(frozen=True)
class Mapping:
    event_class: type
    type: str
    version: int
    payload: PayloadFunction


class Publications:
    """The contract events one service publishes and how each is made from a domain event."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._by_class: dict[type, Mapping] = {}

    def maps(
        self, event_class: type, type_: str, version: int
    ) -> Callable[[PayloadFunction], PayloadFunction]:
        contract = get_contract(type_, version)
        if contract.source != self.source:
            raise ValueError(f"{type_} is published by {contract.source}, not {self.source}")

        def register(function: PayloadFunction) -> PayloadFunction:
            self._by_class[event_class] = Mapping(event_class, type_, version, function)
            return function

        return register

    def mapped_types(self) -> set[tuple[str, int]]:
        return {(m.type, m.version) for m in self._by_class.values()}

    def envelope(
        self, event: Any, position: int, prev_position: int, prev_hash: str
    ) -> dict[str, Any] | None:
        """The sealed envelope for `event` stored at `position`, or None if it is internal."""
        mapping = self._by_class.get(type(event))
        if mapping is None:
            return None
        payload = validate_payload(mapping.type, mapping.version, mapping.payload(event))
        meta = event.meta
        return seal(
            {
                "id": envelope_id(self.source, position),
                "type": mapping.type,
                "version": mapping.version,
                "source": self.source,
                "position": position,
                "prev_position": prev_position,
                "aggregate_id": str(event.originator_id),
                "aggregate_version": event.originator_version,
                "occurred_at": event.timestamp.isoformat(),
                "actor": {"id": meta["actor"]["id"], "role": meta["actor"]["role"]},
                "school_id": meta.get("school_id"),
                "correlation_id": meta["correlation_id"],
                "causation_id": meta.get("causation_id"),
                "payload": _json_ready(payload, mapping.type, mapping.version),
                "prev_hash": prev_hash,
            }
        )

    def envelopes(
        self,
        mapper: Mapper[Any],
        notifications: Iterable[Notification],
        prev_position: int,
        prev_hash: str,
    ) -> Iterator[dict[str, Any]]:
        """The envelopes of `notifications`, chained on from (prev_position, prev_hash)."""
        for notification in notifications:
            event = mapper.to_domain_event(notification)
            envelope = self.envelope(event, notification.id, prev_position, prev_hash)
            if envelope is not None:
                prev_position, prev_hash = envelope["position"], envelope["hash"]
                yield envelope

    def recompute(
        self, read: ReadNotifications, mapper: Mapper[Any], after: int, prev_hash: str,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Up to `limit` envelopes recomputed from the stored events after published position
        `after` (whose hash is `prev_hash`). Each is chained on from the last PUBLISHED position,
        never from where the scan of the notification log stopped: a page of notifications may
        hold no published event at all, and notification ids have gaps."""
        envelopes: list[dict[str, Any]] = []
        prev_position, scanned = after, after
        while len(envelopes) < limit and (notifications := read(scanned, RECOMPUTE_PAGE)):
            for envelope in self.envelopes(mapper, notifications, prev_position, prev_hash):
                envelopes.append(envelope)
                prev_position, prev_hash = envelope["position"], envelope["hash"]
            scanned = notifications[-1].id
        return envelopes[:limit]


def _json_ready(payload: dict[str, Any], type_: str, version: int) -> dict[str, Any]:
    """The payload as its schema dumps it: dates as ISO strings, exactly what goes on the wire."""
    dumped: dict[str, Any] = get_contract(type_, version).schema().dump(payload)
    return dumped
