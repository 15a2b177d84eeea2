"""Which failures mean the service's own store is away (wait and try again: a subscriber counts
no attempt, a caller is answered 503) and which are about what was asked (retried a few times,
then dead-lettered or answered as a failure). tests/integration/test_store_outage.py stops and
restarts a real server."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from eventsourcing.persistence import OperationalError, ProgrammingError

from services.runtime.persistence import store_unreachable


def raised(error: BaseException, cause: BaseException) -> BaseException:
    """`error` as eventsourcing raises it: `raise error from cause`."""
    try:
        raise error from cause
    except BaseException as caught:
        return caught


@pytest.mark.parametrize("error", [
    raised(OperationalError("terminating connection due to administrator command"),
           psycopg.errors.AdminShutdown("terminating connection")),
    raised(OperationalError("connection refused"), psycopg.OperationalError("refused")),
    raised(RuntimeError("while storing a run"),
           raised(OperationalError("timeout"), psycopg.OperationalError("no connection"))),
    psycopg.OperationalError("server closed the connection unexpectedly"),
], ids=["shutting down", "refused", "deeper in the chain", "psycopg's own"])
def test_a_postgresql_server_away_is_the_store_unreachable(error):
    assert store_unreachable(error)


@pytest.mark.parametrize("error", [
    raised(OperationalError("no such table: casebook_cursor"),
           sqlite3.OperationalError("no such table: casebook_cursor")),
    raised(ProgrammingError("relation does not exist"),
           psycopg.errors.UndefinedTable("relation does not exist")),
    ValueError("a handler's own bug"),
], ids=["SQLite", "a statement PostgreSQL refuses", "not the store's"])
def test_anything_else_is_not(error):
    assert not store_unreachable(error)


def test_a_chain_that_loops_ends():
    first, second = RuntimeError("a"), RuntimeError("b")
    first.__cause__, second.__cause__ = second, first
    assert not store_unreachable(first)
