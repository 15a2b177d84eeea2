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
- After every save, before a command answers, the application applies what the save stored
  (`follow`), so a caller reads its own writes: straight from the save's own notifications when
  the views stand right before them, else by catching up. A greenthread catches up on start and
  then every second, for what other instances of the service wrote.
- Every batch first moves the tracking row from the position it was read after to its last
  notification (compare-and-set, the transaction's first write): two instances applying at
  once never both apply an event, whatever batches each read; the one that finds the row
  moved rolls back and reads again.
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

import hashlib
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from eventsourcing.persistence import IntegrityError, Mapper, Notification
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder
from psycopg.sql import SQL, Identifier

from services.runtime.persistence import derived_transaction

log = logging.getLogger(__name__)

BATCH = 500
# Events a batch applies while tables made afresh are filled (a rebuild, an upgrade that changed
# them): the rows a batch holds are written once at its end, so the fewer the batches, the
# fewer rows are read back and written again by the next one (at 200,000 events, a tenth less
# time than batches of 500; a batch's notifications and rows are some tens of MB).
FILLING_BATCH = 10000
# Rows a filling catch-up keeps from one batch for the next (as the store holds them), so a
# batch does not read back what the ones before it wrote: the cases' views of the bench's
# 208,106 events keep 128,000 (about 80 MB), and rebuild about 40% faster. Past this many it
# keeps none, and reads what it needs, as a follower does, until it has this many again.
FILLING_ROWS = 200_000
PREFETCH = 500  # keys per statement, well under every store's limit of parameters
VIEW_TRACKING_TABLE = "casebook_view_tracking"
VIEW_DEFINITION_TABLE = "casebook_view_definition"
REBUILD_SUFFIX = "__rebuilt"
Handler = Callable[[Any, "Transaction", Any], None]
Rows = dict[str, dict[tuple[Any, ...], dict[str, Any] | None]]  # by table, then key
ReadNotifications = Callable[[int, int], Sequence[Notification]]
_PARAMETER = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")
_TABLE_NAME = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_BOOLEAN_COLUMN = re.compile(r"([a-z_][a-z0-9_]*)\s+BOOLEAN\b", re.IGNORECASE)
_COLUMN = re.compile(r"(?:^|,)\s*([a-z_][a-z0-9_]*)\s+(?:TEXT|BIGINT|BOOLEAN|INTEGER)\b")
# What both stores give back as it was given (SQLite's booleans are read back as bool).
_STORED_AS_GIVEN = frozenset((str, int, bool, type(None)))


@dataclass(frozen=True)
class Table:
    """A view table: its columns (SQL that both SQLite and PostgreSQL read: TEXT, BIGINT,
    BOOLEAN; dates and times as ISO text, which sorts), its key, and its indexes.

    `lookups` names those of the indexes the projection's own statements find rows by (other
    than by the key). Tables filled afresh from a log (a rebuild, an upgrade that changed
    them) have only these until the whole log is applied, and the others are then made once,
    over the full tables: keeping every index of a table up row by row cost a rebuild 40% of
    its time at 200,000 events, and building them after, well under a second.
    A statement of a handler that finds rows by an index not among them scans the table in a
    rebuild (`tests/support/views.py` fails on it)."""

    name: str
    columns: str
    key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()
    lookups: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        stray = [lookup for lookup in self.lookups if lookup not in self.indexes]
        if stray:
            raise ValueError(f"{self.name}: lookups {stray} are not among its indexes")


def counter(name: str, *key: str) -> Table:
    """A table of counts (`Transaction.tally`): `n` per value of the text columns `key`."""
    columns = ", ".join(f"{column} TEXT NOT NULL" for column in key)
    return Table(name, f"{columns}, n BIGINT NOT NULL", key=key)


def projects(*event_classes: type) -> Callable[[Handler], Handler]:
    """Mark a `Views` method as the handler of these domain event classes."""

    def mark(handler: Handler) -> Handler:
        handler.projects = event_classes  # type: ignore[attr-defined]
        return handler

    return mark


class Transaction:
    """Writes of one catch-up batch, on the store's own cursor.

    A batch applies hundreds of events, many of them to rows it has read before, so with
    `batch` it keeps what it read by key (`get`, `prefetch`), holds each row's insert, changes
    and deletion by key (`insert`, `update`, `delete`) and each counter's change (`tally`) in
    memory, and writes them with one statement per table and kind of change at `flush`, before
    the batch's tracking row. A statement of its own (`execute`, `fetchone`, `fetchall`) first
    writes what is held for the tables it names, so SQL always reads what the handlers wrote.
    A batch filling tables made afresh starts from the rows the batch before it kept (`kept`)."""

    def __init__(self, store: ViewStore, cursor: Any, batch: bool = False,
                 rows: Rows | None = None) -> None:
        self.store = store
        self.cursor = cursor
        self.batch = batch
        # What an earlier batch left, as the store holds it (`kept`), else nothing yet.
        self._rows: Rows = {} if rows is None else rows
        self._inserts: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
        self._changes: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
        self._deletes: dict[str, set[tuple[Any, ...]]] = {}
        self._tallies: dict[str, dict[tuple[tuple[str, Any], ...], int]] = {}
        self._numbers: dict[str, dict[str, int]] = {}
        self._unplain: set[tuple[str, tuple[Any, ...]]] = set()

    def execute(self, sql: str, **params: Any) -> None:
        tables = _TABLE_NAME.findall(sql)
        self._settle(tables)
        # It may change any row of the tables it names: they are read again.
        for table in tables:
            self._rows.pop(table, None)
            self._numbers.pop(table, None)
        self.cursor.execute(self.store.sql(sql), params)

    def next_number(self, table: str, column: str) -> int:
        """One more than the largest `column` of `table`, counting the numbers this
        transaction gave out: read once, so the rows held for the batch stay held."""
        numbers = self._numbers.setdefault(table, {})
        if column not in numbers:
            row = self.fetchone(f"SELECT MAX({column}) AS n FROM {{{table}}}")
            numbers[column] = int(row["n"] or 0) if row else 0
        numbers[column] += 1
        return numbers[column]

    def fetchone(self, sql: str, **params: Any) -> dict[str, Any] | None:
        self._settle(_TABLE_NAME.findall(sql))
        self.cursor.execute(self.store.sql(sql), params)
        row = self.cursor.fetchone()
        return None if row is None else self.store.row(row)

    def fetchall(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        self._settle(_TABLE_NAME.findall(sql))
        self.cursor.execute(self.store.sql(sql), params)
        return [self.store.row(row) for row in self.cursor.fetchall()]

    def get(self, table: str, **key: Any) -> dict[str, Any] | None:
        """The row of `table` with this key (every key column), as this batch left it. Do not
        change the dict: write through `update`."""
        rows = self._rows.setdefault(table, {})
        values = tuple(key[name] for name in self._key(table))
        if values not in rows:
            row = self._inserted(table, values)
            if row is None:
                conditions = " AND ".join(f"{name} = :{name}" for name in key)
                self.cursor.execute(
                    self.store.sql(f"SELECT * FROM {{{table}}} WHERE {conditions}"), key)
                found = self.cursor.fetchone()
                row = None if found is None else self.store.row(found)
            held = self._changes.get(table, {}).get(values)
            rows[values] = {**row, **held} if row is not None and held else row
        return rows[values]

    def _inserted(self, table: str, values: tuple[Any, ...]) -> dict[str, Any] | None:
        """The row this batch holds to insert at a key, as the store would give it back: every
        column, each a value the store returns as it is. Another held row is written first,
        to be read back."""
        row = self._inserts.get(table, {}).get(values)
        if row is None:
            return None
        if _as_stored(row, self.store.column_names[table]):
            return dict(row)
        self._settle([table])
        return None

    def prefetch(self, table: str, keys: Iterable[Any]) -> None:
        """Read the rows of a table with a one-column key at these keys, in a few statements,
        for `get` to answer from (an absent row is remembered as absent)."""
        (column,) = self._key(table)
        rows = self._rows.setdefault(table, {})
        wanted = sorted({key for key in keys if (key,) not in rows})
        self._settle([table])
        for start in range(0, len(wanted), PREFETCH):
            chunk = wanted[start:start + PREFETCH]
            names = ", ".join(f":k{n}" for n in range(len(chunk)))
            self.cursor.execute(
                self.store.sql(f"SELECT * FROM {{{table}}} WHERE {column} IN ({names})"),
                {f"k{n}": key for n, key in enumerate(chunk)})
            found = {row[column]: row for row in map(self.store.row, self.cursor.fetchall())}
            for key in chunk:
                rows[(key,)] = found.get(key)

    def insert(self, table: str, **row: Any) -> None:
        key = self._key(table)
        if self.batch and all(name in row for name in key):
            self._inserts.setdefault(table, {})[tuple(row[name] for name in key)] = row
        else:
            self._settle([table])
            names = ", ".join(row)
            values = ", ".join(f":{name}" for name in row)
            self.cursor.execute(
                self.store.sql(f"INSERT INTO {{{table}}} ({names}) VALUES ({values})"), row)
        self._forget(table, row)

    def upsert(self, table: str, **row: Any) -> None:
        key = self._key(table)
        names = ", ".join(row)
        values = ", ".join(f":{name}" for name in row)
        updates = ", ".join(f"{name} = excluded.{name}" for name in row if name not in key)
        self._settle([table])
        self.cursor.execute(self.store.sql(
            f"INSERT INTO {{{table}}} ({names}) VALUES ({values}) "
            f"ON CONFLICT ({', '.join(key)}) DO "
            + (f"UPDATE SET {updates}" if updates else "NOTHING")), row)
        self._forget(table, row)

    def update(self, table: str, where: Mapping[str, Any], **values: Any) -> None:
        key = self._key(table)
        if not self.batch or set(where) != set(key):
            self._settle([table])
            sets = ", ".join(f"{name} = :{name}" for name in values)
            conditions = " AND ".join(f"{name} = :where_{name}" for name in where)
            self.cursor.execute(
                self.store.sql(f"UPDATE {{{table}}} SET {sets} WHERE {conditions}"),
                {**values, **{f"where_{name}": value for name, value in where.items()}})
            self._rows.pop(table, None)
            return
        at = tuple(where[name] for name in key)
        inserted = self._inserts.get(table, {})
        if at in inserted and set(key).isdisjoint(values):
            # A row this batch inserts is inserted as it is changed: one statement, not two.
            inserted[at] = {**inserted[at], **values}
        else:
            held = self._changes.setdefault(table, {})
            held[at] = {**held.get(at, {}), **values}
        if not _STORED_AS_GIVEN.issuperset(map(type, values.values())):
            self._unplain.add((table, at))  # not kept: read back as the store gives it
        rows = self._rows.get(table)
        known = None if rows is None else rows.get(at)
        if known is not None:
            # A new dict: one a handler holds still says what the row was.
            rows[at] = {**known, **values}  # type: ignore[index]

    def delete(self, table: str, **where: Any) -> None:
        key = self._key(table)
        if self.batch and set(where) == set(key):
            at = tuple(where[name] for name in key)
            self._changes.get(table, {}).pop(at, None)
            if self._inserts.get(table, {}).pop(at, None) is None:
                # Not inserted by this batch (or deleted from the store before it was): the
                # store's row goes, before any row this batch inserts at the key after.
                self._deletes.setdefault(table, set()).add(at)
            self._rows.setdefault(table, {})[at] = None
            return
        conditions = " AND ".join(f"{name} = :{name}" for name in where)
        self._settle([table])
        self.cursor.execute(
            self.store.sql(f"DELETE FROM {{{table}}} WHERE {conditions}"), where)
        self._forget(table, where)

    def tally(self, table: str, delta: int, **key: Any) -> None:
        """Add `delta` to the count `n` of a counter table's row at `key`: a list's total is
        then a sum over a few counter rows, not a count of every row the list holds. A row
        whose count falls to 0 goes, so a counter table holds only what is counted (and a
        rebuild leaves the same rows). Key columns are never null (a null key never
        conflicts): count an absent value as ''."""
        counts = self._tallies.setdefault(table, {})
        at = tuple(key.items())
        counts[at] = counts.get(at, 0) + delta
        if not self.batch:
            self.flush()

    def flush(self) -> None:
        """Write every change held: one statement per table and set of columns changed."""
        self._settle([*self._deletes, *self._inserts, *self._changes])
        for table, counts in self._tallies.items():
            changed = [(dict(at), delta) for at, delta in counts.items() if delta]
            if not changed:
                continue
            names = list(changed[0][0])
            columns = ", ".join(names)
            self.cursor.executemany(self.store.sql(
                f"INSERT INTO {{{table}}} ({columns}, n) "
                f"VALUES ({', '.join(f':{name}' for name in names)}, :delta) "
                f"ON CONFLICT ({columns}) DO UPDATE SET n = {{{table}}}.n + excluded.n"),
                [{**key, "delta": delta} for key, delta in changed])
            fallen = [key for key, delta in changed if delta < 0]
            if fallen:
                self.cursor.executemany(self.store.sql(
                    f"DELETE FROM {{{table}}} WHERE n = 0 AND "
                    + " AND ".join(f"{name} = :{name}" for name in names)), fallen)
        self._tallies.clear()

    def _settle(self, tables: Iterable[str]) -> None:
        """Write the deletions, rows and row changes held for these tables, in that order."""
        for table in tables:
            deleted = self._deletes.pop(table, None)
            if deleted:
                key = self._key(table)
                self.cursor.executemany(self.store.sql(
                    f"DELETE FROM {{{table}}} WHERE "
                    + " AND ".join(f"{name} = :{name}" for name in key)),
                    [dict(zip(key, at, strict=True)) for at in sorted(deleted, key=repr)])
            inserted = self._inserts.pop(table, None)
            by_names: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row in (inserted or {}).values():
                by_names.setdefault(tuple(row), []).append(row)
            for names, rows in by_names.items():
                self.cursor.executemany(self.store.sql(
                    f"INSERT INTO {{{table}}} ({', '.join(names)}) "
                    f"VALUES ({', '.join(f':{name}' for name in names)})"), rows)
            held = self._changes.pop(table, None)
            if inserted:
                # A row written whole, of values the store gives back as they are, is known
                # without reading it back (unless a change held for its key follows it).
                known = self._rows.setdefault(table, {})
                columns = self.store.column_names[table]
                for at, row in inserted.items():
                    if at not in (held or {}) and _as_stored(row, columns):
                        known[at] = row  # no longer held: nothing else changes this dict
            if not held:
                continue
            key = self._key(table)
            by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for at, values in held.items():
                where = {f"where_{name}": value for name, value in zip(key, at, strict=True)}
                by_columns.setdefault(tuple(sorted(values)), []).append({**values, **where})
            for names, params in by_columns.items():
                sets = ", ".join(f"{name} = :{name}" for name in names)
                conditions = " AND ".join(f"{name} = :where_{name}" for name in key)
                self.cursor.executemany(self.store.sql(
                    f"UPDATE {{{table}}} SET {sets} WHERE {conditions}"), params)

    def kept(self) -> Rows | None:
        """After the flush, the rows of the service's own tables this batch read or wrote, as
        the store now holds them, for the next batch of a filling catch-up; None past
        `FILLING_ROWS`. Learned tables are not kept: their rows change beside the position."""
        rows = {table: known for table, known in self._rows.items()
                if table in self.store.tables}
        for table, at in self._unplain:
            rows.get(table, {}).pop(at, None)
        return rows if sum(map(len, rows.values())) <= FILLING_ROWS else None

    def _key(self, table: str) -> tuple[str, ...]:
        return {**self.store.tables, **self.store.learned}[table].key

    def _forget(self, table: str, row: Mapping[str, Any]) -> None:
        """The row at this key (or, without the whole key, any row) is to be read again."""
        rows = self._rows.get(table)
        if rows is None:
            return
        key = self._key(table)
        if all(name in row for name in key):
            rows.pop(tuple(row[name] for name in key), None)
        else:
            del self._rows[table]


def _as_stored(row: Mapping[str, Any], columns: set[str]) -> bool:
    """Whether the store gives this row back as it is: every column, each a plain value."""
    return row.keys() >= columns and _STORED_AS_GIVEN.issuperset(map(type, row.values()))


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

    def prefetch(self, tx: Transaction, events: Sequence[Any]) -> None:
        """Read, in a few statements, the rows a batch of events will change (`tx.prefetch`):
        a projection whose handlers read rows by key says which here."""

    def apply(self, tx: Transaction, event: Any) -> None:
        for name in self._handlers.get(type(event), ()):
            getattr(self, name)(tx, event)


class ViewsMoved(IntegrityError):
    """The views no longer stand where a batch was read after: another applier moved them."""


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
        self.column_names = {
            table.name: {match.group(1) for match in _COLUMN.finditer(table.columns)}
            for table in (*views.tables, *views.learned)
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
        # Tables made afresh over a log with events: their query indexes wait for a catch-up
        # to have read it all (`create`).
        self._indexes_wanted = False
        # The rows a filling catch-up's last batch left, and the position they stand at.
        self._kept: tuple[int, Rows] | None = None
        self._booleans_among: dict[tuple[str, ...], tuple[str, ...]] = {}

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
        """Create the tables where missing, with their indexes. Tables made by another
        definition of these views (a column, a counter table or an index added since) are
        dropped with their position first, so the views are built afresh from the log: tables
        that missed the events already applied never answer.

        Tables made afresh while the log holds events (a rebuild, an upgrade that changed
        them) get only the indexes their projection finds rows by (`Table.lookups`) until a
        catch-up has read the whole log; the indexes of the queries are then made once, over
        the full tables."""
        self.tracking.create_table()
        # Read before the transaction: SQLite's one writer connection is not shared.
        logged = bool(self.read(0, 1))
        with self.datastore.transaction(commit=True) as cursor:
            definitions = self._definitions(cursor)
            cursor.execute(f"SELECT fingerprint FROM {definitions} {self._where_tracked()}",
                           (self.tracking_name,))
            recorded = cursor.fetchone()
            if recorded is None or dict(recorded)["fingerprint"] != self.fingerprint():
                self._drop(cursor, definitions)
                placeholders = "%s, %s" if self.postgres else "?, ?"
                cursor.execute(f"INSERT INTO {definitions} VALUES ({placeholders})",
                               (self.tracking_name, self.fingerprint()))
                self._indexes_wanted = logged
            for made in self._made_here():
                key = f", PRIMARY KEY ({', '.join(made.key)})"
                cursor.execute(f"CREATE TABLE IF NOT EXISTS {self.qualified(made.name)} "
                               f"({made.columns.strip()}{key})")
            self._make_indexes(cursor, lookups_only=self._indexes_wanted)

    def _made_here(self) -> tuple[Table, ...]:
        # Learned tables are never rebuilt from the service's own log: the live store has them.
        return (*self.tables.values(), *(() if self.suffix else self.learned.values()))

    def _make_indexes(self, cursor: Any, lookups_only: bool = False) -> None:
        for table in self._made_here():
            for number, columns in enumerate(table.indexes):
                if lookups_only and table.name in self.tables and columns not in table.lookups:
                    continue
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
        if self.postgres:
            return dict(row)
        names = tuple(row.keys())
        values = dict(zip(names, row, strict=True))  # three times as fast as dict(row)
        booleans = self._booleans_among.get(names)
        if booleans is None:
            booleans = self._booleans_among[names] = tuple(
                name for name in names if name in self.booleans)
        for name in booleans:
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
                size = FILLING_BATCH if self._indexes_wanted else BATCH
                notifications = [n for n in self.read(position, size)
                                 if upto is None or n.id <= upto]
                if not notifications:
                    if self._indexes_wanted and upto is None:
                        with self.datastore.transaction(commit=True) as cursor:
                            self._make_indexes(cursor)
                        self._indexes_wanted = False
                        self._kept = None
                    return read
                try:
                    self._apply(position, notifications, filling=self._indexes_wanted)
                except ViewsMoved:
                    continue  # another instance moved the position first: read again
                read += len(notifications)

    def follow(self, stored: Sequence[Notification]) -> None:
        """Apply what a save just stored. When the views stand right before it, from the save's
        own notifications (reading the log back would find just these); otherwise, or when
        another instance applies them first, by catching up."""
        if stored and [n.id for n in stored] == list(range(stored[0].id, stored[-1].id + 1)):
            with self._lock:
                try:
                    self._apply(stored[0].id - 1, stored)
                    return
                except ViewsMoved:
                    pass  # the views stand elsewhere: behind, or already past these
        self.catch_up()

    def _apply(self, after: int, notifications: Sequence[Notification],
               filling: bool = False) -> None:
        """Apply the notifications that follow position `after`, with the position, in one
        transaction; `ViewsMoved` if the views no longer stand at `after`. Any other failure of
        a handler, an IntegrityError among them, is the caller's: retrying the same events
        would only fail again. Committed without waiting for the disk: views are derived,
        and a batch a crash of the machine loses is applied again from the position.

        A batch `filling` tables made afresh starts from the rows the last one kept, when
        the views still stand where it left them (no other applier wrote since): taken first,
        so a batch that fails or rolls back leaves none kept."""
        kept, self._kept = self._kept, None
        rows = kept[1] if filling and kept is not None and kept[0] == after else None
        with derived_transaction(self.datastore) as cursor:
            # The position first, so that the row is held from here to the commit.
            self._advance(cursor, after, notifications[-1].id)
            tx = Transaction(self, cursor, batch=True, rows=rows)
            events = [self.mapper.to_domain_event(notification)
                      for notification in notifications]
            self.views.prefetch(tx, events)
            for event in events:
                self.views.apply(tx, event)
            tx.flush()
        if filling:
            left = tx.kept()
            self._kept = None if left is None else (notifications[-1].id, left)

    def _advance(self, cursor: Any, after: int, to: int) -> None:
        """Move the tracking row from `after` to `to` (compare-and-set), or raise ViewsMoved.
        On PostgreSQL the row stays locked until the transaction ends: a concurrent applier
        waits, then finds it moved; SQLite takes the database's write lock here."""
        mark = self._mark()
        table = self._tracking_table()
        cursor.execute(f"UPDATE {table} SET notification_id = {mark} {self._where_tracked()} "
                       f"AND notification_id = {mark} RETURNING notification_id",
                       (to, self.tracking_name, after))
        if cursor.fetchone() is not None:
            return
        if after == 0:  # no row yet: the first batch ever makes it, once
            cursor.execute(f"INSERT INTO {table} (application_name, notification_id) "
                           f"VALUES ({mark}, {mark}) ON CONFLICT (application_name) DO NOTHING "
                           "RETURNING notification_id", (self.tracking_name, to))
            if cursor.fetchone() is not None:
                return
        raise ViewsMoved(f"the {self.tracking_name} position is no longer {after}")

    # Rebuilding.

    def fresh(self) -> ViewStore:
        """The same views under rebuild names, empty and at position 0, with the indexes their
        projection finds rows by until a catch-up has read the whole log (`swap` makes the
        indexes under the live names)."""
        rebuilt = ViewStore(self.name, type(self.views)(), self.datastore, self.read,
                            self.mapper, REBUILD_SUFFIX)
        rebuilt.drop()
        rebuilt.create()
        return rebuilt

    def drop(self) -> None:
        """The tables, their position and the record of their definition: `create` makes
        them afresh."""
        with self.datastore.transaction(commit=True) as cursor:
            self._drop(cursor, self._definitions(cursor))

    def _drop(self, cursor: Any, definitions: str) -> None:
        for table in self.tables:
            cursor.execute(f"DROP TABLE IF EXISTS {self.qualified(table)}")
        cursor.execute(*self._delete_tracking())
        cursor.execute(f"DELETE FROM {definitions} {self._where_tracked()}",
                       (self.tracking_name,))

    def _definitions(self, cursor: Any) -> str:
        """The table of the views' recorded definitions, made where missing."""
        definitions = self._definitions_table()
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {definitions} "
                       "(application_name TEXT PRIMARY KEY, fingerprint TEXT NOT NULL)")
        return definitions

    def fingerprint(self) -> str:
        """What the tables are, as they are declared: a changed one is a changed fingerprint."""
        declared = repr(sorted((table.name, " ".join(table.columns.split()), table.key,
                                table.indexes) for table in self.tables.values()))
        return hashlib.sha256(declared.encode()).hexdigest()

    def _definitions_table(self) -> str:
        if self.postgres:
            return SQL("{}.{}").format(Identifier(self.datastore.schema),
                                       Identifier(VIEW_DEFINITION_TABLE)).as_string()
        return VIEW_DEFINITION_TABLE

    def _tracking_table(self) -> str:
        if self.postgres:
            return SQL("{}.{}").format(Identifier(self.datastore.schema),
                                       Identifier(VIEW_TRACKING_TABLE)).as_string()
        return "tracking"

    def _where_tracked(self) -> str:
        return f"WHERE application_name = {self._mark()}"

    def _mark(self) -> str:
        """A parameter in the tracking statements, written in the driver's own style."""
        return "%s" if self.postgres else "?"

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
        live._advance(cursor, 0, rebuilt.position())
        cursor.execute(*rebuilt._delete_tracking())
    live.create()  # the indexes, under their own names
    live.catch_up()
