"""Read models (DESIGN.md "Reads"): tables in the service's own database, kept by a projection
that records its position in the same transaction as its rows.

A service's `views.py` declares its tables and, for each domain event class that changes them,
a handler: `@projects(Case.Opened)` on a method `(self, tx, event)` that writes rows through
`tx`. Every query of the service reads these tables with SQL (filters, school scope, ordering
and paging); none rebuilds an aggregate from the log.

How the tables follow the event log:
- `catch_up()` reads the notification log after the tracked position, applies each event's
  handler, and advances the position (eventsourcing's tracking table) in the SAME transaction
  as the rows, batch by batch: each event is applied once, in order, also after a crash between
  a command and its view update (the next catch-up applies it).
- The application calls it after every save, before a command answers, so a caller reads its
  own writes; a greenthread calls it on start and then every second, for what other instances
  of the service wrote. Two instances racing on the same position: the tracking row moves only
  forward (compare-and-set), the loser rolls back and reads again.
- `rebuild()` builds the same tables afresh from the whole log under other names and compares
  them with the live ones row by row; `swap()` puts the rebuilt ones in place while the service
  keeps running, catching up what was written meanwhile.

What a service only learns from another service's events (who supervises whom, the facts of a
case that quality control reads) is no record of its own: it goes into `learned` tables, written
by the subscription handler in the same transaction as its cursor
(`CasebookApplication.save_processed(cursor=..., learn=...)`), so each envelope is learned once.
Their position is the subscription's cursor; they are not part of a rebuild from the service's
own log.

SQL is written once for both stores: table names in braces (`{case_summary}`, qualified with
the service's PostgreSQL schema where there is one) and parameters as `:name`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from eventsourcing.persistence import IntegrityError, Mapper, Notification, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder
from psycopg.sql import SQL, Identifier

log = logging.getLogger(__name__)

BATCH = 500
VIEW_TRACKING_TABLE = "casebook_view_tracking"
REBUILD_SUFFIX = "__rebuilt"
Handler = Callable[[Any, "Transaction", Any], None]
ReadNotifications = Callable[[int, int], Sequence[Notification]]
_PARAMETER = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")
_BOOLEAN_COLUMN = re.compile(r"([a-z_][a-z0-9_]*)\s+BOOLEAN\b", re.IGNORECASE)


@dataclass(frozen=True)
class Table:
    """A view table: its columns (SQL that both SQLite and PostgreSQL read: TEXT, BIGINT,
    BOOLEAN; dates and times as ISO text, which sorts), its key, and its indexes."""

    name: str
    columns: str
    key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()


def projects(*event_classes: type) -> Callable[[Handler], Handler]:
    """Mark a `Views` method as the handler of these domain event classes."""

    def mark(handler: Handler) -> Handler:
        handler.projects = event_classes  # type: ignore[attr-defined]
        return handler

    return mark


class Transaction:
    """Writes of one catch-up batch, on the store's own cursor."""

    def __init__(self, store: ViewStore, cursor: Any) -> None:
        self.store = store
        self.cursor = cursor

    def execute(self, sql: str, **params: Any) -> None:
        self.cursor.execute(self.store.sql(sql), params)

    def fetchone(self, sql: str, **params: Any) -> dict[str, Any] | None:
        self.cursor.execute(self.store.sql(sql), params)
        row = self.cursor.fetchone()
        return None if row is None else self.store.row(row)

    def insert(self, table: str, **row: Any) -> None:
        names = ", ".join(row)
        values = ", ".join(f":{name}" for name in row)
        self.execute(f"INSERT INTO {{{table}}} ({names}) VALUES ({values})", **row)

    def upsert(self, table: str, **row: Any) -> None:
        key = {**self.store.tables, **self.store.learned}[table].key
        names = ", ".join(row)
        values = ", ".join(f":{name}" for name in row)
        updates = ", ".join(f"{name} = excluded.{name}" for name in row if name not in key)
        self.execute(
            f"INSERT INTO {{{table}}} ({names}) VALUES ({values}) "
            f"ON CONFLICT ({', '.join(key)}) DO "
            + (f"UPDATE SET {updates}" if updates else "NOTHING"),
            **row,
        )

    def update(self, table: str, where: Mapping[str, Any], **values: Any) -> None:
        sets = ", ".join(f"{name} = :{name}" for name in values)
        conditions = " AND ".join(f"{name} = :where_{name}" for name in where)
        self.execute(f"UPDATE {{{table}}} SET {sets} WHERE {conditions}",
                     **values, **{f"where_{name}": value for name, value in where.items()})

    def delete(self, table: str, **where: Any) -> None:
        conditions = " AND ".join(f"{name} = :{name}" for name in where)
        self.execute(f"DELETE FROM {{{table}}} WHERE {conditions}", **where)


class Views:
    """A service's read models: subclasses set `tables`, mark handlers with `@projects`, and
    answer the service's queries from `self.store` with SQL."""

    tables: ClassVar[tuple[Table, ...]] = ()
    learned: ClassVar[tuple[Table, ...]] = ()
    _handlers: ClassVar[dict[type, list[str]]] = {}
    store: ViewStore

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._handlers = {}
        for klass in reversed(cls.__mro__):
            for name, member in vars(klass).items():
                for event_class in getattr(member, "projects", ()):
                    cls._handlers.setdefault(event_class, []).append(name)

    def apply(self, tx: Transaction, event: Any) -> None:
        for name in self._handlers.get(type(event), ()):
            getattr(self, name)(tx, event)


class ViewStore:
    """A service's view tables in its own database, and the position they have caught up to."""

    def __init__(self, name: str, views: Views, datastore: Any, read: ReadNotifications,
                 mapper: Mapper[Any], suffix: str = "") -> None:
        self.name = name
        self.views = views
        views.store = self
        self.datastore = datastore
        self.read = read
        self.mapper = mapper
        self.suffix = suffix
        self.tables = {table.name: table for table in views.tables}
        self.learned = {table.name: table for table in views.learned}
        # SQLite has no booleans (it answers 0 and 1): these columns are read back as bool.
        self.booleans = {
            match.group(1) for table in (*views.tables, *views.learned)
            for match in _BOOLEAN_COLUMN.finditer(table.columns)
        }
        self.postgres = isinstance(datastore, PostgresDatastore)
        self.tracking: PostgresTrackingRecorder | SQLiteTrackingRecorder
        if self.postgres:
            self.tracking = PostgresTrackingRecorder(datastore,
                                                     tracking_table_name=VIEW_TRACKING_TABLE)
        else:
            assert isinstance(datastore, SQLiteDatastore)
            self.tracking = SQLiteTrackingRecorder(datastore)
        self.tracking_name = f"{name}.views{suffix}"
        self._lock = threading.Lock()
        self._statements: dict[str, str] = {}

    # SQL for both stores.

    def qualified(self, table: str) -> str:
        # Learned tables are never rebuilt from the service's own log: one copy only.
        name = table if table in self.learned else f"{table}{self.suffix}"
        if self.postgres:
            return SQL("{}.{}").format(Identifier(self.datastore.schema),
                                       Identifier(name)).as_string()
        return f'"{name}"'

    def index_name(self, table: str, number: int) -> str:
        """An index's name as CREATE INDEX takes it (never schema-qualified there)."""
        return f'"{table}{self.suffix}_{number}"'

    def index(self, table: str, number: int) -> str:
        """An index's name as DROP INDEX takes it (schema-qualified in PostgreSQL)."""
        name = f"{table}{self.suffix}_{number}"
        if self.postgres:
            return SQL("{}.{}").format(Identifier(self.datastore.schema),
                                       Identifier(name)).as_string()
        return f'"{name}"'

    def sql(self, statement: str) -> str:
        # Projections run the same few statements for every event: each is made once.
        made = self._statements.get(statement)
        if made is None:
            named = statement.format(**{name: self.qualified(name)
                                        for name in (*self.tables, *self.learned)})
            made = _PARAMETER.sub(r"%(\1)s", named) if self.postgres else named
            self._statements[statement] = made
        return made

    def create(self) -> None:
        self.tracking.create_table()
        with self.datastore.transaction(commit=True) as cursor:
            learned = () if self.suffix else self.learned.values()
            for table in (*self.tables.values(), *learned):
                key = f", PRIMARY KEY ({', '.join(table.key)})"
                cursor.execute(f"CREATE TABLE IF NOT EXISTS {self.qualified(table.name)} "
                               f"({table.columns.strip()}{key})")
                for number, columns in enumerate(table.indexes):
                    index = self.index_name(table.name, number)
                    cursor.execute(f"CREATE INDEX IF NOT EXISTS {index} "
                                   f"ON {self.qualified(table.name)} ({', '.join(columns)})")

    # Reading.

    def select(self, statement: str, **params: Any) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self.sql(statement), params)
            return [self.row(row) for row in cursor.fetchall()]

    def row(self, row: Any) -> dict[str, Any]:
        """A result row as a dict, booleans as bool on both stores."""
        values = dict(row)
        if not self.postgres:
            for name in self.booleans & values.keys():
                if values[name] is not None:
                    values[name] = bool(values[name])
        return values

    def read_together(
        self, *queries: tuple[str, dict[str, Any]]
    ) -> list[list[dict[str, Any]]]:
        """Several queries in one snapshot: a page and its total agree."""
        results = []
        with self.datastore.transaction(commit=False) as cursor:
            if self.postgres:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            for statement, params in queries:
                cursor.execute(self.sql(statement), params)
                results.append([self.row(row) for row in cursor.fetchall()])
        return results

    def one(self, statement: str, **params: Any) -> dict[str, Any] | None:
        rows = self.select(statement, **params)
        return rows[0] if rows else None

    def position(self) -> int:
        return int(self.tracking.max_tracking_id(self.tracking_name) or 0)

    def snapshot(self) -> tuple[int, dict[str, list[dict[str, Any]]]]:
        """The position and every row of every table, read in one consistent snapshot while
        writers go on."""
        with self.datastore.transaction(commit=False) as cursor:
            if self.postgres:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute(*self._select_position())
            row = cursor.fetchone()
            position = int(dict(row)["notification_id"]) if row else 0
            rows = {}
            for name, table in self.tables.items():
                cursor.execute(self.sql(f"SELECT * FROM {{{name}}} ORDER BY "
                                        f"{', '.join(table.key)}"))
                rows[name] = [self.row(row) for row in cursor.fetchall()]
        return position, rows

    # Following the log.

    def catch_up(self, upto: int | None = None) -> int:
        """Apply every event stored after the tracked position (up to and including `upto`);
        return how many notifications were read. Batches commit with their tracking row."""
        read = 0
        with self._lock:
            while True:
                position = self.position()
                if upto is not None and position >= upto:
                    return read
                notifications = [n for n in self.read(position, BATCH)
                                 if upto is None or n.id <= upto]
                if not notifications:
                    return read
                try:
                    self._apply(notifications)
                except IntegrityError:
                    continue  # another instance moved the position first: read again
                read += len(notifications)

    def _apply(self, notifications: Sequence[Notification]) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            tx = Transaction(self, cursor)
            for notification in notifications:
                self.views.apply(tx, self.mapper.to_domain_event(notification))
            # In the rows' own transaction: the library's way to keep a view and its position
            # together (its materialised-view examples call the same method).
            self.tracking._insert_tracking(
                cursor, Tracking(self.tracking_name, notifications[-1].id)
            )

    # Rebuilding.

    def fresh(self) -> ViewStore:
        """The same views under rebuild names, empty and at position 0."""
        rebuilt = ViewStore(self.name, type(self.views)(), self.datastore, self.read,
                            self.mapper, REBUILD_SUFFIX)
        rebuilt.drop()
        rebuilt.create()
        return rebuilt

    def drop(self) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            for table in self.tables:
                cursor.execute(f"DROP TABLE IF EXISTS {self.qualified(table)}")
            cursor.execute(*self._delete_tracking())

    def _tracking_table(self) -> str:
        if self.postgres:
            return SQL("{}.{}").format(Identifier(self.datastore.schema),
                                       Identifier(VIEW_TRACKING_TABLE)).as_string()
        return "tracking"

    def _where_tracked(self) -> str:
        return f"WHERE application_name = {'%s' if self.postgres else '?'}"

    def _delete_tracking(self) -> tuple[str, tuple[str]]:
        return (f"DELETE FROM {self._tracking_table()} {self._where_tracked()}",
                (self.tracking_name,))

    def _select_position(self) -> tuple[str, tuple[str]]:
        return (f"SELECT notification_id FROM {self._tracking_table()} {self._where_tracked()}",
                (self.tracking_name,))


def compare(live: ViewStore, rebuilt: ViewStore) -> tuple[int, list[dict[str, Any]]]:
    """Row by row, every way the live tables differ from the rebuilt ones at the same position
    (the live ones read in one snapshot, the rebuilt ones brought exactly there): a row only in
    one, or a column with another value. Returns the position compared at."""
    position, mine = live.snapshot()
    rebuilt.catch_up(upto=position)
    _, theirs = rebuilt.snapshot()
    found: list[dict[str, Any]] = []
    for name, table in live.tables.items():
        by_key = {tuple(row[k] for k in table.key): row for row in mine[name]}
        rebuilt_by_key = {tuple(row[k] for k in table.key): row for row in theirs[name]}
        for key in sorted(set(by_key) | set(rebuilt_by_key), key=repr):
            here, there = by_key.get(key), rebuilt_by_key.get(key)
            if there is None:
                found.append({"table": name, "key": list(key), "problem": "not in the rebuild"})
            elif here is None:
                found.append({"table": name, "key": list(key), "problem": "missing live"})
            else:
                for column in sorted(set(here) | set(there)):
                    if here.get(column) != there.get(column):
                        found.append({"table": name, "key": list(key), "column": column,
                                      "live": here.get(column), "rebuilt": there.get(column)})
    return position, found


def swap(live: ViewStore, rebuilt: ViewStore) -> None:
    """Put the rebuilt tables in place of the live ones, with their position, in one
    transaction; writers keep writing meanwhile, and what they wrote is caught up after."""
    with live._lock, live.datastore.transaction(commit=True) as cursor:
        for name, table in live.tables.items():
            cursor.execute(f"DROP TABLE IF EXISTS {live.qualified(name)}")
            cursor.execute(f"ALTER TABLE {rebuilt.qualified(name)} RENAME TO \"{name}\"")
            for number in range(len(table.indexes)):
                cursor.execute(f"DROP INDEX IF EXISTS {rebuilt.index(name, number)}")
        cursor.execute(*live._delete_tracking())
        live.tracking._insert_tracking(cursor, Tracking(live.tracking_name, rebuilt.position()))
        cursor.execute(*rebuilt._delete_tracking())
    live.create()  # the indexes, under their own names
    live.catch_up()
