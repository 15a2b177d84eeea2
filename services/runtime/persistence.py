"""Casebook's additions to eventsourcing's recorders: three small tables beside the event log.

- `casebook_cursor`: per source, the position and hash of the last envelope a subscriber
  processed. It is written inside the same transaction as the events the handler produced
  (DESIGN.md "Delivery" 3), by passing `cursor=` to `Application.save`, and only if the stored
  position is still the one the handler started from (compare-and-set), so two instances racing
  on one message cannot both apply it. A cursor moved with no events (the handler ignored the
  envelope, or only learned from it) is derived from the source's stream, and is written in a
  `derived_transaction` (`CursorMovesAreDerived`).
- `casebook_published`: every envelope the relay made, exactly as it is sent, stored before it
  is sent, in one transaction with how far the relay read (`casebook_relay`). `events_since`
  reads it; the relay sends a batch as it stored it (the same bytes) and anything unconfirmed
  from it, so a re-sent envelope is the stored one, byte for byte.
- `casebook_relay`: how far the relay has read the notification log (events that map to no
  contract event are read but not published); moved by compare-and-set, so a relay that read
  an outdated position cannot store a second, different envelope at any position.
- `casebook_sent`: the last stored envelope the broker confirmed. No row: everything stored was
  confirmed (stores from before envelopes were stored first, or an empty one). Written in a
  `derived_transaction`: a position lost with the machine only sends a few envelopes again.
- `casebook_subject_key`: one key per data subject for personal content, deleted on disposal
  (`services.runtime.vault`).
- `learn=`: rows a subscription handler learned from another service's event, written into the
  views' learned tables in the same transaction as its cursor (`services.runtime.views`).
- `casebook_command`: every command carried out, by its command id, with its outcome, written in
  the same transaction as the command's events by passing `command=` to `Application.save`; or
  abandoned: its caller gave up, so it may never be carried out (`services.runtime.commands`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore
from psycopg.sql import SQL, Identifier

from contracts.envelope import GENESIS_HASH, GENESIS_POSITION, envelope_bytes


@dataclass(frozen=True)
class Cursor:
    """Where a subscriber stands in one source's stream, and where it stood before."""

    source: str
    position: int
    hash: str
    expected_position: int


@dataclass(frozen=True)
class ChainHead:
    position: int
    hash: str


GENESIS = ChainHead(GENESIS_POSITION, GENESIS_HASH)


@dataclass(frozen=True)
class RelayState:
    """Where the relay stands, read in one statement: the last notification it made envelopes
    from, the last envelope it stored (what `events_since` serves), and the last stored
    envelope the broker confirmed (the last stored, before anything was sent)."""

    read_through: int
    published: ChainHead
    sent: int

    @property
    def unsent(self) -> bool:
        """Whether envelopes are stored that the broker has not confirmed."""
        return self.published.position > self.sent

    @property
    def on_the_broker(self) -> int:
        """The notification id up to which every event is on the broker: where the relay read
        through once the broker confirmed every envelope it stored; otherwise the last
        envelope the broker confirmed."""
        return self.sent if self.unsent else self.read_through


# One statement, so one snapshot on both stores, with a row whether or not the relay has
# stored anything yet.
_RELAY_STATE = (
    "SELECT relay.read_through AS read_through, published.position AS published_position, "
    "published.hash AS published_hash, sent.position AS sent_position "
    "FROM (SELECT 1 AS id) AS one "
    "LEFT JOIN {schema}casebook_relay AS relay ON relay.id = one.id "
    "LEFT JOIN (SELECT position, hash FROM {schema}casebook_published "
    "ORDER BY position DESC LIMIT 1) AS published ON 1 = 1 "
    "LEFT JOIN {schema}casebook_sent AS sent ON sent.id = one.id"
)


def _relay_state(row: Mapping[str, Any]) -> RelayState:
    position, sent = row["published_position"], row["sent_position"]
    published = GENESIS if position is None else ChainHead(int(position), row["published_hash"])
    return RelayState(int(row["read_through"] or 0), published,
                      published.position if sent is None else int(sent))


@dataclass(frozen=True)
class SubjectKey:
    """A data subject's key for personal content (`services.runtime.vault`); None once shredded."""

    wrapped_key: str | None
    shredded_at: str | None


@dataclass(frozen=True)
class CommandRecord:
    """A command id's fate. `outcome` is the encoded result (`CasebookApplication`), None when
    the command was abandoned."""

    command_id: str
    name: str
    actor_id: str
    state: str  # DONE, REFUSED or ABANDONED
    outcome: str | None
    recorded_at: str


DONE = "done"
REFUSED = "refused"
ABANDONED = "abandoned"
_COMMAND_COLUMNS = "command_id, name, actor_id, state, outcome, recorded_at"
_SQLITE_SELECT_COMMAND = f"SELECT {_COMMAND_COLUMNS} FROM casebook_command WHERE command_id=?"
_PG_SELECT_COMMAND = (
    f"SELECT {_COMMAND_COLUMNS} FROM {{schema}}.casebook_command WHERE command_id=%s"
)


class CasebookRecorder(Protocol):
    """The operations both backends provide; see the module docstring."""

    def cursor(self, source: str) -> ChainHead: ...

    def cursors(self) -> dict[str, ChainHead]: ...

    def published_since(self, position: int, limit: int) -> list[dict[str, Any]]: ...

    def states_after(self, topic: str, position: int, limit: int) -> list[tuple[int, bytes]]: ...

    def relay_state(self) -> RelayState: ...

    def stage_published(
        self, envelopes: Sequence[dict[str, Any]], read_through: int, read_from: int
    ) -> None: ...

    def record_sent(self, position: int) -> None: ...

    def subject_key(self, subject_id: str) -> SubjectKey | None: ...

    def insert_subject_key(self, subject_id: str, wrapped_key: str) -> None: ...

    def shred_subject_key(self, subject_id: str, shredded_at: str) -> bool: ...

    def shredded_key_count(self) -> int: ...

    def command(self, command_id: str) -> CommandRecord | None: ...

    def abandon_command(self, record: CommandRecord) -> CommandRecord: ...


@contextmanager
def derived_transaction(datastore: Any) -> Iterator[Any]:
    """A transaction of what is derived from the durable record and derived again after a loss
    (views and their position, the relay's sent position, a cursor moved with no events of the
    service's own): atomic, but committed without waiting for the disk. A crash of the process
    loses nothing; a crash of the machine may lose the last few, which are then derived again
    (views catch up from their position; the relay sends again from its; a subscriber hears the
    envelopes again). Each later durable commit makes them durable too, as the log is written
    in order (SQLite's WAL, PostgreSQL's). The events, the envelopes staged for sending,
    command outcomes and a cursor moved with events are never written here. Waiting for the
    disk took about a millisecond a commit, several times a command, each holding the
    service's loop."""
    if isinstance(datastore, SQLiteDatastore):
        with datastore.get_connection(commit=True) as connection:
            setting = connection.cursor()
            setting.execute("PRAGMA synchronous")
            durable = setting.fetchone()[0]
            setting.execute("PRAGMA synchronous=NORMAL")  # in WAL mode: no sync at commit
            try:
                with connection.transaction(commit=True) as cursor:
                    yield cursor
            finally:
                setting.execute(f"PRAGMA synchronous={int(durable)}")
    else:
        with datastore.transaction(commit=True) as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            yield cursor


# SQLite's primary result codes (https://sqlite.org/rescode.html) for what the machine under
# the store cannot do just now, whatever was asked of it.
_SQLITE_UNAVAILABLE = frozenset({
    sqlite3.SQLITE_BUSY,  # another connection held the database past the lock timeout
    sqlite3.SQLITE_IOERR,  # the operating system failed a read, a write or a sync
    sqlite3.SQLITE_FULL,  # the disk, or the filesystem's quota, is full
    sqlite3.SQLITE_CANTOPEN,  # the file or its directory cannot be opened
    sqlite3.SQLITE_READONLY,  # the file or its filesystem takes no writes (remounted read-only)
})


def store_unavailable(error: BaseException) -> bool:
    """Whether `error` says the service's own store could not do anything just now, rather
    than anything about what was asked of it, so that the same call may succeed once the store
    is back: for PostgreSQL, psycopg's OperationalError (a connection refused or broken, a
    server shutting down or restarting, no connection from the pool in time, its disk full),
    for SQLite the result codes above (its disk full, its I/O failing, its file locked past
    the timeout or not openable or writable). eventsourcing raises its own error from either,
    so the whole chain of causes is looked at. A statement the store refuses (a missing table,
    a constraint) is not this, nor is a corrupt SQLite file: trying again would fail again."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, psycopg.OperationalError):
            return True
        code = getattr(cause, "sqlite_errorcode", None)  # SQLite's errors carry it when raised
        if isinstance(cause, sqlite3.Error) and code is not None and (
                (code & 0xFF) in _SQLITE_UNAVAILABLE):  # the primary code of an extended one
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def log_failure(log: logging.Logger, error: BaseException, what: str, then: str) -> None:
    """Log, from an `except` block, that `what` failed and `then` follows: one warning line
    naming the store's error when the store was unavailable (what is under it failed, and the
    work succeeds once it is back), else an error with its traceback (a failure of Casebook's
    own)."""
    if store_unavailable(error):
        log.warning("%s: the store is unavailable (%s); %s", what, error, then)
    else:
        log.exception("%s; %s", what, then)


class CursorMoved(IntegrityError):
    """Another instance processed this position first; the transaction was rolled back."""


class RelayMoved(IntegrityError):
    """The relay's read position is no longer the one its envelopes were made from: another
    relay stored them first. Nothing was stored."""


def _relay_conflict(read_from: int) -> RelayMoved:
    return RelayMoved(f"the relay's read position is no longer {read_from}: another relay "
                      "stored these envelopes first")


def _cursor_conflict(cursor: Cursor) -> CursorMoved:
    return CursorMoved(
        f"cursor for {cursor.source} is no longer at {cursor.expected_position}: "
        "another worker processed this position first"
    )


class CursorMovesAreDerived:
    """A transaction that records nothing of the service's own (no event, no command outcome),
    only a subscriber's cursor and what it learned from the source, is derived from the source's
    stream: it commits as a `derived_transaction`. Lost in a crash of the machine, the cursor
    stands where it stood, and the source's envelopes come again (catch-up on start, or a gap's
    fetch) to be learned or ignored again. Most envelopes a subscriber hears are of that kind
    (cases hears of every entry the archive files, to find its disposals), and each waited for
    the disk once more per command."""

    datastore: Any

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        if stored_events or kwargs.get("command") is not None:
            return super().insert_events(stored_events, **kwargs)  # type: ignore[misc]
        with derived_transaction(self.datastore) as c:
            self._insert_events(c, stored_events, **kwargs)  # type: ignore[attr-defined]
        return None


class SQLiteRecorder(CursorMovesAreDerived, SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS casebook_cursor ("
            "source TEXT PRIMARY KEY, position INTEGER NOT NULL, hash TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS casebook_published ("
            "position INTEGER PRIMARY KEY, hash TEXT NOT NULL, envelope TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS casebook_relay ("
            "id INTEGER PRIMARY KEY CHECK (id = 1), read_through INTEGER NOT NULL)",
            "CREATE TABLE IF NOT EXISTS casebook_sent ("
            "id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL)",
            "CREATE TABLE IF NOT EXISTS casebook_subject_key ("
            "subject_id TEXT PRIMARY KEY, wrapped_key TEXT, shredded_at TEXT)",
            "CREATE TABLE IF NOT EXISTS casebook_command ("
            "command_id TEXT PRIMARY KEY, name TEXT NOT NULL, actor_id TEXT NOT NULL, "
            "state TEXT NOT NULL, outcome TEXT, recorded_at TEXT NOT NULL)",
        ]

    def _insert_events(
        self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        cursor: Cursor | None = kwargs.get("cursor")
        if cursor is not None:
            if cursor.expected_position == GENESIS_POSITION:
                c.execute(
                    "INSERT INTO casebook_cursor VALUES (?,?,?) ON CONFLICT DO NOTHING "
                    "RETURNING position",
                    (cursor.source, cursor.position, cursor.hash),
                )
            else:
                c.execute(
                    "UPDATE casebook_cursor SET position=?, hash=? WHERE source=? AND position=? "
                    "RETURNING position",
                    (cursor.position, cursor.hash, cursor.source, cursor.expected_position),
                )
            if c.fetchone() is None:
                raise _cursor_conflict(cursor)
        command: CommandRecord | None = kwargs.get("command")
        if command is not None:
            # The primary key makes a second run of the same command id fail here, rolling back
            # its events with it.
            c.execute("INSERT INTO casebook_command VALUES (?,?,?,?,?,?)", _row(command))
        learn = kwargs.get("learn")
        if learn is not None:
            learn(c)
        return super()._insert_events(c, stored_events, **kwargs)

    def cursor(self, source: str) -> ChainHead:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT position, hash FROM casebook_cursor WHERE source=?", (source,))
            row = c.fetchone()
        return ChainHead(row[0], row[1]) if row else GENESIS

    def cursors(self) -> dict[str, ChainHead]:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT source, position, hash FROM casebook_cursor ORDER BY source")
            return {row[0]: ChainHead(row[1], row[2]) for row in c.fetchall()}

    def published_since(self, position: int, limit: int) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT envelope FROM casebook_published WHERE position>? "
                "ORDER BY position LIMIT ?",
                (position, limit),
            )
            return [json.loads(row[0]) for row in c.fetchall()]

    def states_after(self, topic: str, position: int, limit: int) -> list[tuple[int, bytes]]:
        """(notification id, stored state) of one topic's events: what a scan of many reads,
        without the notification objects (their ids made into UUIDs) it has no use for."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid, state FROM {self.events_table_name} "
                "WHERE rowid>? AND topic=? ORDER BY rowid LIMIT ?",
                (position, topic, limit),
            )
            return [(row[0], row[1]) for row in c.fetchall()]

    def relay_state(self) -> RelayState:
        with self.datastore.transaction(commit=False) as c:
            c.execute(_RELAY_STATE.format(schema=""))
            return _relay_state(c.fetchone())

    def stage_published(
        self, envelopes: Sequence[dict[str, Any]], read_through: int, read_from: int
    ) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute("INSERT INTO casebook_sent SELECT 1, COALESCE(MAX(position), 0) "
                      "FROM casebook_published WHERE true ON CONFLICT DO NOTHING")
            for envelope in envelopes:
                c.execute(
                    "INSERT INTO casebook_published VALUES (?,?,?)",
                    (envelope["position"], envelope["hash"], envelope_bytes(envelope).decode()),
                )
            c.execute("INSERT INTO casebook_relay VALUES (1, 0) ON CONFLICT DO NOTHING")
            c.execute("UPDATE casebook_relay SET read_through=? WHERE id=1 AND read_through=? "
                      "RETURNING id", (read_through, read_from))
            if c.fetchone() is None:
                raise _relay_conflict(read_from)

    def record_sent(self, position: int) -> None:
        with derived_transaction(self.datastore) as c:
            c.execute("INSERT INTO casebook_sent VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET "
                      "position=excluded.position WHERE casebook_sent.position < "
                      "excluded.position", (position,))

    def subject_key(self, subject_id: str) -> SubjectKey | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT wrapped_key, shredded_at FROM casebook_subject_key WHERE subject_id=?",
                (subject_id,),
            )
            row = c.fetchone()
        return SubjectKey(row[0], row[1]) if row else None

    def insert_subject_key(self, subject_id: str, wrapped_key: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "INSERT INTO casebook_subject_key VALUES (?, ?, NULL) ON CONFLICT DO NOTHING",
                (subject_id, wrapped_key),
            )

    def shred_subject_key(self, subject_id: str, shredded_at: str) -> bool:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "INSERT INTO casebook_subject_key VALUES (?, NULL, ?) ON CONFLICT (subject_id) "
                "DO UPDATE SET wrapped_key=NULL, shredded_at=excluded.shredded_at "
                "WHERE casebook_subject_key.shredded_at IS NULL RETURNING subject_id",
                (subject_id, shredded_at),
            )
            return c.fetchone() is not None

    def shredded_key_count(self) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT count(*) FROM casebook_subject_key WHERE shredded_at IS NOT NULL")
            return int(c.fetchone()[0])

    def command(self, command_id: str) -> CommandRecord | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(_SQLITE_SELECT_COMMAND, (command_id,))
            row = c.fetchone()
        return CommandRecord(*row) if row else None

    def abandon_command(self, record: CommandRecord) -> CommandRecord:
        with self.datastore.transaction(commit=True) as c:
            c.execute("INSERT INTO casebook_command VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                      _row(record))
            c.execute(_SQLITE_SELECT_COMMAND, (record.command_id,))
            return CommandRecord(*c.fetchone())


def _row(record: CommandRecord) -> tuple[str, str, str, str, str | None, str]:
    return (record.command_id, record.name, record.actor_id, record.state, record.outcome,
            record.recorded_at)


class PostgresRecorder(CursorMovesAreDerived, PostgresApplicationRecorder):
    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        self.sql_create_statements.extend(
            SQL(statement).format(schema=schema)
            for statement in (
                "CREATE TABLE IF NOT EXISTS {schema}.casebook_cursor ("
                "source text PRIMARY KEY, position bigint NOT NULL, hash text NOT NULL)",
                "CREATE TABLE IF NOT EXISTS {schema}.casebook_published ("
                "position bigint PRIMARY KEY, hash text NOT NULL, envelope text NOT NULL)",
                "CREATE TABLE IF NOT EXISTS {schema}.casebook_relay ("
                "id int PRIMARY KEY CHECK (id = 1), read_through bigint NOT NULL)",
                "CREATE TABLE IF NOT EXISTS {schema}.casebook_sent ("
                "id int PRIMARY KEY CHECK (id = 1), position bigint NOT NULL)",
                "CREATE TABLE IF NOT EXISTS {schema}.casebook_subject_key ("
                "subject_id text PRIMARY KEY, wrapped_key text, shredded_at text)",
                "CREATE TABLE IF NOT EXISTS {schema}.casebook_command ("
                "command_id text PRIMARY KEY, name text NOT NULL, actor_id text NOT NULL, "
                "state text NOT NULL, outcome text, recorded_at text NOT NULL)",
            )
        )
        self._schema = schema

    def _sql(self, statement: str) -> Any:
        return SQL(statement).format(schema=self._schema)

    def _insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        cursor: Cursor | None = kwargs.get("cursor")
        if cursor is not None:
            if cursor.expected_position == GENESIS_POSITION:
                curs.execute(
                    self._sql(
                        "INSERT INTO {schema}.casebook_cursor VALUES (%s,%s,%s) "
                        "ON CONFLICT DO NOTHING RETURNING position"
                    ),
                    (cursor.source, cursor.position, cursor.hash),
                )
            else:
                curs.execute(
                    self._sql(
                        "UPDATE {schema}.casebook_cursor SET position=%s, hash=%s "
                        "WHERE source=%s AND position=%s RETURNING position"
                    ),
                    (cursor.position, cursor.hash, cursor.source, cursor.expected_position),
                )
            if curs.fetchone() is None:
                raise _cursor_conflict(cursor)
        command: CommandRecord | None = kwargs.get("command")
        if command is not None:
            curs.execute(
                self._sql("INSERT INTO {schema}.casebook_command VALUES (%s,%s,%s,%s,%s,%s)"),
                _row(command),
            )
        learn = kwargs.get("learn")
        if learn is not None:
            learn(curs)
        super()._insert_events(curs, stored_events, **kwargs)

    def cursor(self, source: str) -> ChainHead:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql("SELECT position, hash FROM {schema}.casebook_cursor WHERE source=%s"),
                (source,),
            )
            row = curs.fetchone()
        return ChainHead(row["position"], row["hash"]) if row else GENESIS

    def cursors(self) -> dict[str, ChainHead]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._sql("SELECT source, position, hash FROM {schema}.casebook_cursor"))
            return {r["source"]: ChainHead(r["position"], r["hash"]) for r in curs.fetchall()}

    def published_since(self, position: int, limit: int) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql(
                    "SELECT envelope FROM {schema}.casebook_published WHERE position>%s "
                    "ORDER BY position LIMIT %s"
                ),
                (position, limit),
            )
            return [json.loads(row["envelope"]) for row in curs.fetchall()]

    def states_after(self, topic: str, position: int, limit: int) -> list[tuple[int, bytes]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL("SELECT notification_id, state FROM {schema}.{table} WHERE "
                    "notification_id>%s AND topic=%s ORDER BY notification_id LIMIT %s").format(
                    schema=self._schema, table=Identifier(self.events_table_name)),
                (position, topic, limit),
            )
            return [(row["notification_id"], bytes(row["state"])) for row in curs.fetchall()]

    def relay_state(self) -> RelayState:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._sql(_RELAY_STATE.format(schema="{schema}.")))
            return _relay_state(curs.fetchone())

    def stage_published(
        self, envelopes: Sequence[dict[str, Any]], read_through: int, read_from: int
    ) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._sql(
                "INSERT INTO {schema}.casebook_sent SELECT 1, COALESCE(MAX(position), 0) "
                "FROM {schema}.casebook_published ON CONFLICT DO NOTHING"))
            for envelope in envelopes:
                curs.execute(
                    self._sql("INSERT INTO {schema}.casebook_published VALUES (%s,%s,%s)"),
                    (envelope["position"], envelope["hash"], envelope_bytes(envelope).decode()),
                )
            curs.execute(self._sql(
                "INSERT INTO {schema}.casebook_relay VALUES (1, 0) ON CONFLICT DO NOTHING"))
            curs.execute(
                self._sql("UPDATE {schema}.casebook_relay SET read_through=%s "
                          "WHERE id=1 AND read_through=%s RETURNING id"),
                (read_through, read_from),
            )
            if curs.fetchone() is None:
                raise _relay_conflict(read_from)

    def record_sent(self, position: int) -> None:
        with derived_transaction(self.datastore) as curs:
            curs.execute(
                self._sql("INSERT INTO {schema}.casebook_sent AS s VALUES (1, %s) "
                          "ON CONFLICT (id) DO UPDATE SET position=excluded.position "
                          "WHERE s.position < excluded.position"),
                (position,),
            )

    def subject_key(self, subject_id: str) -> SubjectKey | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql(
                    "SELECT wrapped_key, shredded_at FROM {schema}.casebook_subject_key "
                    "WHERE subject_id=%s"
                ),
                (subject_id,),
            )
            row = curs.fetchone()
        return SubjectKey(row["wrapped_key"], row["shredded_at"]) if row else None

    def insert_subject_key(self, subject_id: str, wrapped_key: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self._sql(
                    "INSERT INTO {schema}.casebook_subject_key VALUES (%s, %s, NULL) "
                    "ON CONFLICT DO NOTHING"
                ),
                (subject_id, wrapped_key),
            )

    def shred_subject_key(self, subject_id: str, shredded_at: str) -> bool:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self._sql(
                    "INSERT INTO {schema}.casebook_subject_key AS k VALUES (%s, NULL, %s) "
                    "ON CONFLICT (subject_id) DO UPDATE SET wrapped_key=NULL, "
                    "shredded_at=excluded.shredded_at WHERE k.shredded_at IS NULL "
                    "RETURNING subject_id"
                ),
                (subject_id, shredded_at),
            )
            return curs.fetchone() is not None

    def shredded_key_count(self) -> int:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._sql(
                "SELECT count(*) AS shredded FROM {schema}.casebook_subject_key "
                "WHERE shredded_at IS NOT NULL"
            ))
            row = curs.fetchone()
        return int(row["shredded"]) if row else 0

    def command(self, command_id: str) -> CommandRecord | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._sql(_PG_SELECT_COMMAND), (command_id,))
            row = curs.fetchone()
        return _command_from(row) if row else None

    def abandon_command(self, record: CommandRecord) -> CommandRecord:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self._sql(
                    "INSERT INTO {schema}.casebook_command VALUES (%s,%s,%s,%s,%s,%s) "
                    "ON CONFLICT DO NOTHING"
                ),
                _row(record),
            )
            curs.execute(self._sql(_PG_SELECT_COMMAND), (record.command_id,))
            return _command_from(curs.fetchone())




def _command_from(row: Any) -> CommandRecord:
    return CommandRecord(row["command_id"], row["name"], row["actor_id"], row["state"],
                         row["outcome"], row["recorded_at"])
