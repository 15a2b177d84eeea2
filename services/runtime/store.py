"""The store factory and the application base every service's `app.py` extends.

SQLite by default, one file per service under CASEBOOK_DATA_DIR; PostgreSQL when POSTGRES_DBNAME
is set, one schema per service; AES-GCM encryption of stored event state when CIPHER_KEY is set
(DESIGN.md "Persistence").
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast
from uuid import UUID

import orjson
from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    Repository,
)
from eventsourcing.domain import Aggregate, BaseAggregate, DomainEvent
from eventsourcing.persistence import (
    EventStore,
    JSONTranscoder,
    Notification,
    Recording,
    Transcoding,
)
from eventsourcing.utils import get_topic

from contracts.errors import InvalidInput, NotFound
from services.runtime.cipher import CIPHER_KEY, RETIRED_KEYS, KeyWrap, keys_of
from services.runtime.cipher import TOPIC as CIPHER_TOPIC
from services.runtime.commands import unit_of_work
from services.runtime.domain import ShapedSnapshot
from services.runtime.leader import creating
from services.runtime.persistence import (
    CasebookRecorder,
    ChainHead,
    CommandRecord,
    Cursor,
    log_failure,
)
from services.runtime.plain import plain
from services.runtime.publishing import Publications, sealed_tokens
from services.runtime.secrets import secret_value
from services.runtime.settings import settings
from services.runtime.vault import Vault
from services.runtime.views import Transaction, Views, ViewStore

log = logging.getLogger(__name__)

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")
CIPHERED = "cipher:"
# Nineteen digits in a row may be an integer beyond 64 bits, which orjson reads as a float.
# Found by turning every digit into 0 and looking for nineteen of them: a regular expression's
# search takes ten times as long.
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_LONG_NUMBER = b"0" * 19


def store_env(service: str, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The eventsourcing environment for `service`'s own store."""
    env: dict[str, str] = {}
    source = {**os.environ, **(overrides or {})}
    if source.get("POSTGRES_DBNAME") and not (overrides or {}).get("SQLITE_DBNAME"):
        env["PERSISTENCE_MODULE"] = "eventsourcing.postgres"
        env["APPLICATION_RECORDER_TOPIC"] = "services.runtime.persistence:PostgresRecorder"
        env["POSTGRES_SCHEMA"] = source.get("POSTGRES_SCHEMA") or service
        for key in (
            "POSTGRES_DBNAME",
            "POSTGRES_HOST",
            "POSTGRES_PORT",
            "POSTGRES_USER",
            "POSTGRES_CONNECT_TIMEOUT",
        ):
            if source.get(key):
                env[key] = source[key]
        # Each connection is checked as the pool hands it out (one round trip): after
        # PostgreSQL restarts, every pooled connection is dead, and unchecked each failed the
        # next call that took it (measured: three commands refused with "terminating connection
        # due to administrator command" after the server was back, the relay failing, the
        # archive's delivery dead-lettered).
        env["POSTGRES_PRE_PING"] = "y"
        env.setdefault("POSTGRES_HOST", "127.0.0.1")
        env.setdefault("POSTGRES_PORT", "5432")
        env.setdefault("POSTGRES_USER", "postgres")
        env["POSTGRES_PASSWORD"] = _secret("POSTGRES_PASSWORD", overrides) or ""
    else:
        env["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
        env["APPLICATION_RECORDER_TOPIC"] = "services.runtime.persistence:SQLiteRecorder"
        dbname = source.get("SQLITE_DBNAME")
        if not dbname:
            given = (overrides or {}).get("CASEBOOK_DATA_DIR")
            directory = Path(given).resolve() if given else settings().runtime.data_dir
            directory.mkdir(parents=True, exist_ok=True)
            dbname = str(directory / f"{service}.sqlite")
        env["SQLITE_DBNAME"] = dbname
    cipher_key = _secret(CIPHER_KEY, overrides)
    if cipher_key:
        env["CIPHER_TOPIC"] = CIPHER_TOPIC
        env[CIPHER_KEY] = cipher_key
        env[RETIRED_KEYS] = _secret(RETIRED_KEYS, overrides) or ""
    return env


def postgres_configured() -> bool:
    """Whether the stores are PostgreSQL (`POSTGRES_DBNAME` set) rather than SQLite files."""
    return bool(os.environ.get("POSTGRES_DBNAME"))
def _secret(name: str, overrides: Mapping[str, str] | None) -> str | None:
    """The caller's override, else the variable or the file its `_FILE` form names."""
    return (overrides or {}).get(name) or secret_value(name)


class CasebookApplication(Application):
    """An eventsourcing Application with the outbox and tracking operations of
    `services.runtime.persistence`, and its service's read models (`views_class`, kept in the
    same database: `services.runtime.views`). Subclasses set `service` and speak plain types."""

    service: ClassVar[str]
    views_class: ClassVar[type[Views] | None] = None
    # What the relay publishes every stored event as; None for a service that publishes nothing.
    publications: ClassVar[Publications | None] = None

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.store_env = store_env(self.service, env)
        with creating(self.store_env):
            super().__init__(env=self.store_env)
            self.views: Views | None = None
            if self.views_class is not None:
                # The views share the store's database: the service's SQLite file or schema.
                self.views = self.views_class()
                datastore = self.recorder.datastore  # type: ignore[attr-defined]
                ViewStore(self.service, self.views, datastore, self.notifications_after,
                          self.mapper).create()
        self.vault = Vault(self.outbox, KeyWrap(keys_of(self.store_env)))

    def follow(self, recordings: Sequence[Recording[UUID]] = ()) -> None:
        """Bring the views up to what is stored: after every save (given what it recorded), so
        that a caller reads its own writes. A failure here never undoes the save: the views
        catch up later."""
        if self.views is None:
            return
        try:
            self.views.store.follow([recording.notification for recording in recordings])
        except Exception as error:
            log_failure(log, error, f"the {self.service} views could not follow the log",
                        "they will catch up")

    def construct_repository(self) -> Repository[UUID]:
        # Without eventsourcing's aggregate cache, as its default is: Casebook's settings do not
        # turn it on, and every read goes to the store, where other instances' events are.
        return CasebookRepository(event_store=self.events, snapshot_store=self.snapshots)

    def construct_snapshot_store(self) -> EventStore[Any]:
        return CurrentSnapshots(mapper=self.mapper,
                                recorder=self.factory.aggregate_recorder(purpose="snapshots"))

    def _take_snapshots(self, processing_event: ProcessingEvent[Any]) -> None:
        # A snapshot is a cache: failing to take one never fails the save it follows, whose
        # events are stored already. Reads replay those events instead.
        try:
            super()._take_snapshots(processing_event)
        except Exception:
            log.exception("the %s service could not take a snapshot; reads replay the events",
                          self.service)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    @property
    def outbox(self) -> CasebookRecorder:
        return cast(CasebookRecorder, self.recorder)

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[Any]]:
        """Store the aggregates' new events; inside a command, collect them for the command's
        one transaction instead (`services.runtime.commands`)."""
        work = unit_of_work(self)
        if work is not None and not kwargs:
            work.add(*objs)
            return []
        return self._store(*objs, **kwargs)

    def _store(self, *objs: Any, **kwargs: Any) -> list[Recording[Any]]:
        """eventsourcing's `save` collecting with `CollectedEvents`, less its deprecated
        `notify` (a no-op); then the views follow."""
        processing_event = CollectedEvents()
        processing_event.collect_events(*objs, **kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.follow(recordings)
        return recordings

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        # Every event must become a valid envelope: one that could not would stop the relay at
        # its position, and every event after it would wait. Found here, it fails its command
        # and nothing is stored.
        if self.publications is not None:
            for event in processing_event.events:
                self.publications.publishable(event)
        return super()._record(processing_event)

    # What `services.runtime.commands.carry_out` needs.

    def commit(self, aggregates: list[Aggregate], record: CommandRecord) -> None:
        self._store(*aggregates, command=record)

    def stored_command(self, command_id: str) -> CommandRecord | None:
        return self.outbox.command(command_id)

    def abandon_command(self, record: CommandRecord) -> CommandRecord:
        return self.outbox.abandon_command(record)

    def encode_outcome(self, outcome: Any) -> str:
        # Outcomes are identifiers and states; still, under CIPHER_KEY they are encrypted at rest
        # like every stored event.
        data = json.dumps(outcome, sort_keys=True, default=str).encode()
        if self.mapper.cipher is not None:
            return CIPHERED + base64.b64encode(self.mapper.cipher.encrypt(data)).decode()
        return data.decode()

    def decode_outcome(self, encoded: str) -> Any:
        if encoded.startswith(CIPHERED):
            if self.mapper.cipher is None:
                raise RuntimeError("a stored command outcome is encrypted and CIPHER_KEY is unset")
            return json.loads(self.mapper.cipher.decrypt(base64.b64decode(encoded[len(CIPHERED):])))
        return json.loads(encoded)

    def check_content(self, after: int, limit: int) -> dict[str, Any]:
        """Every sealed value of the events stored after position `after` (at most `limit`
        events) checked against the keyed commitment it was recorded with: `proved` where the
        content is what was recorded, a problem (position and field) where it is not, and
        `unprovable` where nobody can know any more (the subject's key destroyed, or a value
        sealed before commitments existed). The answer names no content."""
        report: dict[str, Any] = {"proved": 0, "unprovable": 0, "problems": [], "next": None}
        notifications = self.notifications_after(after, limit)
        for notification in notifications:
            event = self.mapper.to_domain_event(notification)
            for path, token in sealed_tokens(event):
                proved = self.vault.check(token)
                if proved is None:
                    report["unprovable"] += 1
                elif proved:
                    report["proved"] += 1
                else:
                    report["problems"].append({
                        "position": notification.id, "field": path,
                        "problem": "the sealed value is not what its commitment was made to"})
        if len(notifications) == limit:
            report["next"] = notifications[-1].id
        return report

    def notifications_after(self, position: int, limit: int) -> list[Notification]:
        return list(self.recorder.select_notifications(start=position + 1, limit=limit))

    def max_position(self) -> int:
        return int(self.recorder.max_notification_id() or 0)

    def stored_events(self, event_class: type, after: int = 0,
                      batch: int = 500) -> Iterator[tuple[int, Any]]:
        """(notification id, domain event) of every stored event of one class after a
        notification id, in store order: `batch` at a time, one read each."""
        topics = [get_topic(event_class)]
        for notification in _scan(lambda position: list(self.recorder.select_notifications(
                start=position + 1, limit=batch, topics=topics)), attrgetter("id"), after, batch):
            yield notification.id, self.mapper.to_domain_event(notification)

    def plain_states(self, event_class: type, after: int = 0,
                     batch: int = 500) -> Iterator[tuple[int, dict[str, Any]]]:
        """(notification id, `plain_state`) of every stored event of one class after a
        notification id, in store order: `batch` at a time, one read each."""
        topic = get_topic(event_class)
        for notification_id, state in _scan(
                lambda position: self.outbox.states_after(topic, position, batch),
                itemgetter(0), after, batch):
            yield notification_id, self.plain_state(state)

    def plain_state(self, state: bytes) -> dict[str, Any]:
        """A stored event's state as JSON values, without making its domain event: what scans
        of many events read (orjson, four times the mapper's pace). Values the transcoder
        encodes (timestamps, ids) stay encoded; `decode_value` turns one into its type. Text
        orjson would not read exactly, integers beyond 64 bits (it makes them floats) or
        refuses (NaN, the infinities), is read by Python's json, as the mapper reads it."""
        if self.mapper.cipher is not None:
            state = self.mapper.cipher.decrypt(state)
        if self.mapper.compressor is not None:
            state = self.mapper.compressor.decompress(state)
        if _LONG_NUMBER not in state.translate(_DIGITS_AS_ZERO):
            try:
                return cast(dict[str, Any], orjson.loads(state))
            except orjson.JSONDecodeError:
                pass
        return cast(dict[str, Any], json.loads(state))

    def decode_value(self, value: Any) -> Any:
        """One value of a `plain_state` as the mapper would have decoded it."""
        return self.mapper.transcoder.decode(orjson.dumps(value))

    def cursor(self, source: str) -> ChainHead:
        return self.outbox.cursor(source)

    def find_aggregate(self, kind: type[A], aggregate_id: UUID | str) -> A | None:
        """The aggregate of that kind with that id, or None (also for an id that is no UUID)."""
        try:
            key = aggregate_id if isinstance(aggregate_id, UUID) else UUID(str(aggregate_id))
        except ValueError:
            return None
        try:
            aggregate: Aggregate = self.repository.get(key)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, kind) else None

    def get_aggregate(self, kind: type[A], aggregate_id: UUID | str, what: str) -> A:
        """The aggregate of that kind with that id; NotFound naming `what` otherwise."""
        aggregate = self.find_aggregate(kind, aggregate_id)
        if aggregate is None:
            raise NotFound(f"No {what} {aggregate_id}.")
        return aggregate

    def save_processed(self, *changes: Aggregate | DomainEvent | None, cursor: Cursor,
                       learn: Callable[[Transaction], None] | None = None) -> None:
        """Store what a subscription handler produced (aggregates, or their events already
        collected in the order they happened, then the aggregates they came from, so that those
        are snapshotted when due), what it learned (rows of the views' `learned`
        tables, written by `learn`) and its new cursor, in one transaction."""
        if learn is None:
            self.save(*changes, cursor=cursor)
            return
        assert self.views is not None, f"{self.service} has no views to learn into"
        store = self.views.store
        self.save(*changes, cursor=cursor,
                  learn=lambda database_cursor: learn(Transaction(store, database_cursor)))

    def aggregate_state(
        self, aggregate_id: str, at: datetime | None = None, version: int | None = None
    ) -> dict[str, Any]:
        """An aggregate as it was at `version`, or after the last event at or before `at`.
        Personal content stays sealed: this is what an auditor may see."""
        try:
            originator = UUID(aggregate_id)
            events: list[Any] = list(self.events.get(originator))
        except ValueError:
            events = []
        if not events:
            raise NotFound(f"No aggregate {aggregate_id} in the {self.service} store.")
        if at is not None:
            earlier = [e for e in events if e.timestamp <= at]
            if not earlier:
                raise NotFound(f"{aggregate_id} did not exist yet at {at.isoformat()}.")
            version = earlier[-1].originator_version
        if version is not None and not 1 <= version <= events[-1].originator_version:
            raise InvalidInput.from_messages(
                {"version": [f"Must be from 1 to {events[-1].originator_version}."]}
            )
        aggregate: Aggregate = self.repository.get(originator, version=version)
        state = {k: v for k, v in vars(aggregate).items() if not k.startswith("_")}
        return {
            "aggregate_id": str(aggregate.id),
            "type": type(aggregate).__name__,
            "version": aggregate.version,
            "created_on": aggregate.created_on.isoformat(),
            "modified_on": aggregate.modified_on.isoformat(),
            "state": plain(state),
        }


def _scan(read: Callable[[int], Sequence[R]], position_of: Callable[[R], int], after: int,
          batch: int) -> Iterator[R]:
    """Every row `read` gives from `after` on, a batch at a time: `read(position)` answers up
    to `batch` rows after that position, and a short batch is the last."""
    position = after
    while True:
        rows = read(position)
        yield from rows
        if len(rows) < batch:
            return
        position = position_of(rows[-1])


class CurrentSnapshots(EventStore[Any]):
    """Snapshots taken by the code now running, and no others (`ShapedSnapshot`): the newest
    one taken by other code, before an upgrade or by an instance not yet upgraded, is passed
    over, and the aggregate is read from its events."""

    def get(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for snapshot in super().get(*args, **kwargs):
            if isinstance(snapshot, ShapedSnapshot) and snapshot.current():
                yield snapshot


class CollectedEvents(ProcessingEvent[UUID]):
    """eventsourcing's `ProcessingEvent` without its check of every object saved against two
    runtime Protocols (`DomainEventProtocol`, `CollectEventsProtocol`), 10-15 us an object on
    Python 3.11: 8% of a ledger replay, whose runs hand the save each event they made.
    Casebook saves eventsourcing's own aggregates and events, told apart by their classes;
    anything else is collected as eventsourcing does."""

    def collect_events(self, *objs: Any, **kwargs: Any) -> None:
        for obj in objs:
            if isinstance(obj, BaseAggregate):
                self.events.extend(obj.collect_events())
                self.aggregates[obj.id] = obj
            elif isinstance(obj, DomainEvent):
                self.events.append(obj)
            else:
                super().collect_events(obj)
        self.saved_kwargs.update(kwargs)


def project_events(aggregate: Any, events: Iterable[Any]) -> Any:
    """eventsourcing's `project_aggregate` without its check of every event against a runtime
    Protocol (`CanMutateProtocol`), which on Python 3.11 costs more than applying the event: a
    sixth of a command's time when its case is read from a snapshot and up to 49 events. Every
    stored Casebook event is an aggregate event, which mutates; one that were not would fail
    here as it does there."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class CasebookRepository(Repository[UUID]):
    """eventsourcing's repository, replaying with `project_events` unless told otherwise."""

    def get(self, aggregate_id: UUID, *, version: int | None = None,
            projector_func: Any = project_events, **options: Any) -> Any:
        return super().get(aggregate_id, version=version, projector_func=projector_func,
                           **options)


class DateAsISO(Transcoding):
    """Calendar dates (intake, delivery, closing, retention end) as ISO strings."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)
