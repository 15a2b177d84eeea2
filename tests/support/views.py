"""Checks every service's views are held to."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

from eventsourcing.domain import Aggregate, CanMutateAggregate, _created_event_classes

from services.runtime.publishing import Publications
from services.runtime.store import CasebookApplication
from services.runtime.views import compare


def assert_views_match_the_log(app: CasebookApplication) -> None:
    """The live views equal views rebuilt from the whole log, row by row."""
    assert app.views is not None
    store = app.views.store
    store.catch_up()
    fresh = store.fresh()
    try:
        position, found = compare(store, fresh)
    finally:
        fresh.drop()
    assert found == [], found
    assert position == app.max_position()


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
