"""From stored domain events to contract envelopes: the one mapping the relay, `events_since`
and chain verification all use.

An envelope is a pure function of the stored event and its predecessor's (position, hash): the
id is derived from (source, position), the time is the event's own timestamp. So a re-sent
envelope is identical to the first, and anyone holding the service's store can recompute the
chain. Each service's `publish.py` declares its mapping with `Publications.maps` and
`Publications.audit_only` (`retired` for classes no longer triggered, `trail` for the archive's
copies of envelopes already published).

A stored event says which envelope format it gets (`envelope_format` in its meta, stamped when
it was triggered), so that the envelope of an old event never changes, whatever the code does
later. Events from before formats were stamped are format 1: published only if a mapping was
declared for them then (`since=1`), hashed by the first rule, without commitments. Format 2
events are all published, each by a contract mapping or as `AuditRecorded`, hashed by RFC 8785,
with a keyed commitment for every sealed value they hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Mapper, Notification
from marshmallow import Schema, fields

from contracts.chain import UNREBUILDABLE
from contracts.envelope import GENESIS_HASH, HASH_RULE, envelope_id, seal
from contracts.registry import get as get_contract
from contracts.registry import instance, validate_payload
from services.runtime.domain import FIRST_FORMAT, LATEST_FORMAT, envelope_format
from services.runtime.vault import commitment_of, is_token

PayloadFunction = Callable[[Any], dict[str, Any]]
# read(after_notification_id, limit) → the stored notifications after that id, oldest first.
ReadNotifications = Callable[[int, int], Sequence[Notification]]
RECOMPUTE_PAGE = 500
AUDIT_ONLY = ("AuditRecorded", 1)
# Attributes every stored event has, that are not the event's own content.
_FRAME = frozenset({"originator_id", "originator_version", "timestamp", "meta"})


class Step(Schema):
    """One step of a record's timeline (`Publications.timeline`)."""

    version = fields.Integer(required=True)
    at = fields.String(required=True)
    event = fields.String(required=True)
    published_as = fields.String(allow_none=True)
    actor = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    details = fields.Dict(required=True)


class Unmapped(LookupError):
    """A format-2 event has no mapping: every stored event must reach the audit trail."""


@dataclass(frozen=True)
class Mapping:
    event_class: type
    type: str
    version: int
    payload: PayloadFunction
    since: int
    until: int | None

    def covers(self, fmt: int) -> bool:
        return self.since <= fmt and (self.until is None or fmt <= self.until)


class Publications:
    """The contract events one service publishes and how each is made from a domain event."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._by_class: dict[type, list[Mapping]] = {}
        self._retired: set[type] = set()
        self._trail: set[type] = set()

    def maps(
        self, event_class: type, type_: str, version: int, since: int = FIRST_FORMAT,
        until: int | None = None,
    ) -> Callable[[PayloadFunction], PayloadFunction]:
        """Publish `event_class` as contract event `type_` v`version`, for events of envelope
        formats `since` to `until` (from the first, open-ended, by default). A class first
        published in format 2 says `since=2`; one whose contract changed keeps its old mapping
        `until` the last format that used it, beside the new one."""
        contract = get_contract(type_, version)
        if not contract.published_by(self.source):
            raise ValueError(f"{type_} is published by {contract.source}, not {self.source}")

        def register(function: PayloadFunction) -> PayloadFunction:
            mapping = Mapping(event_class, type_, version, function, since, until)
            self._by_class.setdefault(event_class, []).append(mapping)
            return function

        return register

    def audit_only(self, event_class: type, record: str, *fields: str) -> None:
        """Publish `event_class` as `AuditRecorded`, naming the event, the kind of record and
        the event's `fields`: identifiers, codes, dates and counts only."""

        def payload(event: Any) -> dict[str, Any]:
            return {"event": event_class.__name__, "record": record,
                    "details": {name: _json_value(getattr(event, name)) for name in fields}}

        self.maps(event_class, *AUDIT_ONLY, since=LATEST_FORMAT)(payload)

    def retired(self, *event_classes: type) -> None:
        """Classes no longer triggered (what a view now keeps): their stored events stay as
        they were published; a new one would be an error."""
        self._retired.update(event_classes)

    def trail(self, *event_classes: type) -> None:
        """Classes whose events are copies of envelopes already published (the archive's
        ledger): they are the audit trail itself, and are never published again, or each copy
        would come back to the ledger to be copied once more."""
        self._trail.update(event_classes)

    def is_retired(self, event_class: type) -> bool:
        return event_class in self._retired

    def mapped_types(self) -> set[tuple[str, int]]:
        return {(m.type, m.version) for ms in self._by_class.values() for m in ms}

    def declares(self, event_class: type) -> bool:
        """Whether a new event of this class has a mapping, or the class is retired."""
        return (event_class in self._retired or event_class in self._trail
                or self._mapping(event_class, LATEST_FORMAT) is not None)

    def _mapping(self, event_class: type, envelope_format: int) -> Mapping | None:
        for mapping in self._by_class.get(event_class, ()):
            if mapping.covers(envelope_format):
                return mapping
        return None

    def publishable(self, event: Any) -> tuple[Mapping, dict[str, Any]] | None:
        """The mapping and valid contract payload `event` is published with, or None if its
        format did not publish it (format 1 only) or it is a copy on the trail. Raises
        `Unmapped`, or the contract's validation error, for an event that could not be
        published: the application calls it before storing (`CasebookApplication._record`),
        so such an event fails its command instead of stalling the relay behind it."""
        if type(event) in self._trail:
            return None
        fmt = envelope_format(event)
        mapping = self._mapping(type(event), fmt)
        if mapping is None:
            if fmt == FIRST_FORMAT:
                return None
            raise Unmapped(f"{type(event).__qualname__} has no mapping in {self.source}'s "
                           "publish.py: every stored event must be published")
        return mapping, validate_payload(mapping.type, mapping.version, mapping.payload(event))

    def envelope(
        self, event: Any, position: int, prev_position: int, prev_hash: str
    ) -> dict[str, Any] | None:
        """The sealed envelope for `event` stored at `position`, or None if its format did not
        publish it (format 1 only) or it is a copy on the trail."""
        published = self.publishable(event)
        if published is None:
            return None
        mapping, payload = published
        fmt = envelope_format(event)
        meta = event.meta
        envelope = {
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
        if fmt > FIRST_FORMAT:
            envelope["hash_rule"] = HASH_RULE
            commitments = dict(_commitments(event))
            if commitments:
                envelope["commitments"] = commitments
        return seal(envelope)

    def timeline(self, events: Iterable[Any]) -> list[dict[str, Any]]:
        """Every step of a record, its stored events in order, each with what was published of
        it (codes, dates, counts: never personal content), for the roles that check records."""
        steps = []
        for stored in events:
            envelope = self.envelope(stored, 1, 0, GENESIS_HASH)
            actor = stored.meta["actor"]
            steps.append({
                "version": stored.originator_version,
                "at": stored.timestamp.isoformat(),
                "event": type(stored).__name__,
                "published_as": envelope["type"] if envelope else None,
                "actor": {"id": actor["id"], "role": actor["role"]},
                "details": envelope["payload"] if envelope else {},
            })
        return steps

    def envelopes(
        self,
        mapper: Mapper[Any],
        notifications: Iterable[Notification],
        prev_position: int,
        prev_hash: str,
        verifying: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """The envelopes of `notifications`, chained on from (prev_position, prev_hash).

        A stored event that cannot be read back into its envelope (edited in the store to break
        its contract, or to hold what its hash rule cannot write) stops the relay with the
        error: nothing is published past it. With `verifying`, it ends the envelopes instead
        as `{"position": id, UNREBUILDABLE: why}`, which verification reports at its position
        (`contracts.chain.compare_with_store`): the chain cannot be rebuilt past it."""
        for notification in notifications:
            try:
                event = mapper.to_domain_event(notification)
                envelope = self.envelope(event, notification.id, prev_position, prev_hash)
            except Exception as error:  # whatever it is, it is the finding at this position
                if not verifying:
                    raise
                yield {"position": notification.id,
                       UNREBUILDABLE: f"{type(error).__name__}: {error}"}
                return
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
        hold no published event at all, and notification ids have gaps. An event that cannot be
        read back ends the list (`envelopes`, `verifying`)."""
        envelopes: list[dict[str, Any]] = []
        prev_position, scanned = after, after
        while len(envelopes) < limit and (notifications := read(scanned, RECOMPUTE_PAGE)):
            for envelope in self.envelopes(mapper, notifications, prev_position, prev_hash,
                                           verifying=True):
                envelopes.append(envelope)
                if UNREBUILDABLE in envelope:
                    return envelopes[:limit]
                prev_position, prev_hash = envelope["position"], envelope["hash"]
            scanned = notifications[-1].id
        return envelopes[:limit]


def _json_ready(payload: dict[str, Any], type_: str, version: int) -> dict[str, Any]:
    """The payload as its schema dumps it: dates as ISO strings, exactly what goes on the wire."""
    dumped: dict[str, Any] = instance(get_contract(type_, version).schema).dump(payload)
    return dumped


def _commitments(event: Any) -> Iterator[tuple[str, str]]:
    """(field path, commitment) of every sealed token in the event's own attributes."""
    for path, token in sealed_tokens(event):
        commitment = commitment_of(token)
        if commitment is not None:
            yield path, commitment


def sealed_tokens(event: Any) -> Iterator[tuple[str, str]]:
    """(field path, token) of every sealed value in the event's own attributes."""
    for name, value in sorted(vars(event).items()):
        if name not in _FRAME:
            yield from _tokens_in(name, value)


def _tokens_in(path: str, value: Any) -> Iterator[tuple[str, str]]:
    if is_token(value):
        yield path, value
    elif isinstance(value, dict):
        for key in sorted(value):
            yield from _tokens_in(f"{path}.{key}", value[key])
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _tokens_in(f"{path}.{index}", item)


def _json_value(value: Any) -> Any:
    """A declared field as JSON: dates and ids as strings."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
