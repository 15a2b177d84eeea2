"""Checks every service's views are held to."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

from eventsourcing.domain import Aggregate, CanMutateAggregate, _created_event_classes

from services.runtime.publishing import Publications
from services.runtime.store import CasebookApplication
from services.runtime.views import FILLING_BATCH, Rows, Transaction, ViewStore, compare


def assert_views_match_the_log(app: CasebookApplication) -> None:
    """The live views equal views rebuilt from the whole log, row by row, both as a rebuild
    runs and three events a batch (so that the rows kept from one batch for the next are held
    to it too); and on SQLite, no statement the projection ran in a rebuild read a whole table
    (a lookup its table does not declare: `Table.lookups`), which a long log would make a
    rebuild of hours."""
    assert app.views is not None
    store = app.views.store
    store.catch_up()
    for batch in (FILLING_BATCH, 3):
        fresh = store.fresh()
        try:
            with statements_of(fresh) as ran, patch("services.runtime.views.FILLING_BATCH",
                                                    batch):
                position, found = compare(store, fresh)
            scans = full_scans(fresh, ran)
        finally:
            fresh.drop()
        assert found == [], (batch, found)
        assert position == app.max_position()
        assert scans == [], scans


class _Recording:
    """A store's cursor that notes each distinct statement with the first values it ran with."""

    def __init__(self, cursor: Any, ran: dict[str, Any]) -> None:
        self.cursor, self.ran = cursor, ran

    def execute(self, sql: str, params: Any = None) -> Any:
        self.ran.setdefault(sql, params)
        return self.cursor.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Any]) -> Any:
        rows = list(rows)
        if rows:
            self.ran.setdefault(sql, rows[0])
        return self.cursor.executemany(sql, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cursor, name)


@contextmanager
def statements_of(store: ViewStore) -> Iterator[dict[str, Any]]:
    """The statements the projection of `store` runs meanwhile, with values of each."""
    ran: dict[str, Any] = {}
    made = Transaction.__init__

    def recording(tx: Transaction, owner: ViewStore, cursor: Any, batch: bool = False,
                  rows: Rows | None = None) -> None:
        made(tx, owner, _Recording(cursor, ran) if owner is store else cursor, batch, rows)

    with patch.object(Transaction, "__init__", recording):
        yield ran


def full_scans(store: ViewStore, ran: dict[str, Any]) -> list[tuple[str, str]]:
    """Each statement of `ran` that SQLite's plan reads a whole view table of `store` for."""
    if store.postgres:
        return []  # its planner scans small tables whatever their indexes
    tables = {f"{name}{store.suffix}" for name in store.tables}
    scans = []
    with store.datastore.transaction(commit=False) as cursor:
        for sql, params in ran.items():
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            for row in cursor.fetchall():
                detail = str(row[3])
                if detail.startswith("SCAN ") and detail.split()[1].strip('"') in tables:
                    scans.append((sql, detail))
    return scans


def domain_event_classes(package: str) -> set[type]:
    """Every event class of every aggregate defined in a service's package."""
    found: set[type] = set()
    module = importlib.import_module(package)
    for info in pkgutil.iter_modules(module.__path__):
        inner = importlib.import_module(f"{package}.{info.name}")
        for _, cls in inspect.getmembers(inner, inspect.isclass):
            if issubclass(cls, Aggregate) and cls.__module__ == inner.__name__:
                events = {member for member in vars(cls).values()
                          if inspect.isclass(member) and issubclass(member, CanMutateAggregate)}
                # Only leaves are triggered (`Event` is the library's base), and of the created
                # events only the one the aggregate is made with: the library's registry says
                # which (it has no public accessor).
                created = set(_created_event_classes.get(cls, ()))
                found |= {e for e in events
                          if not any(issubclass(o, e) and o is not e for o in events)
                          and (e in created or not issubclass(e, Aggregate.Created))}
    return found


def undeclared(publications: Publications, package: str) -> list[str]:
    """Event classes of a service that a new event of would reach no contract event."""
    return sorted(cls.__qualname__ for cls in domain_event_classes(package)
                  if not publications.declares(cls))


def assert_each_row_once_while_writes_go_on(
    read_page: Callable[[str | None], dict[str, Any]], write: Callable[[], Any], key: str,
    existing: set[str], name: str,
) -> None:
    """Reading a list page by page (`read_page(after)`) while `write` adds a row of it between
    two pages shows each row once, and every row that was there all along."""
    seen: list[str] = []
    after = None
    while True:
        found = read_page(after)
        seen += [row[key] for row in found["items"]]
        write()
        if found["next"] is None:
            break
        after = found["next"]
    assert len(seen) == len(set(seen)), f"{name} showed a row twice"
    assert existing <= set(seen), f"{name} skipped a row that was there all along"


__all__: list[Any] = ["assert_each_row_once_while_writes_go_on", "assert_views_match_the_log",
                      "domain_event_classes", "undeclared"]
