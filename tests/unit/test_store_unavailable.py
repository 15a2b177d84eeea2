"""Which failures mean the service's own store is unavailable (wait and try again: a subscriber
counts no attempt, a caller is answered 503) and which are about what was asked (retried a few
times, then dead-lettered or answered as a failure). SQLite's errors here are SQLite's own,
raised by a real database; tests/integration/test_store_outage.py stops and restarts a real
PostgreSQL server and fills a real disk under SQLite."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import OperationalError, ProgrammingError

from services.runtime.persistence import log_failure, store_unavailable


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
def test_a_postgresql_server_away_is_the_store_unavailable(error):
    assert store_unavailable(error)


def sqlite_error(path: Path, statement: Callable[[Path], None]) -> BaseException:
    """What SQLite raises for `statement` on a database at `path` holding one table, `t`, as
    eventsourcing passes it on."""
    with sqlite3.connect(path) as setting_up:
        setting_up.execute("CREATE TABLE IF NOT EXISTS t (x PRIMARY KEY)")
    setting_up.close()
    try:
        statement(path)
    except sqlite3.Error as error:
        return raised(OperationalError(str(error)), error)
    raise AssertionError("SQLite took it")


def disk_full(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA max_page_count = 2")  # SQLite's own limit, met as a full disk
    connection.execute("INSERT INTO t VALUES (zeroblob(100000))")


def locked(path: Path) -> None:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    sqlite3.connect(path, timeout=0).execute("INSERT INTO t VALUES (1)")


def read_only(path: Path) -> None:
    sqlite3.connect(f"file:{path}?mode=ro", uri=True).execute("INSERT INTO t VALUES (1)")


def cannot_open(path: Path) -> None:
    sqlite3.connect(path.parent / "gone" / "store.sqlite")


def no_such_table(path: Path) -> None:
    sqlite3.connect(path).execute("SELECT * FROM casebook_cursor")


def twice(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.execute("INSERT INTO t VALUES (1)")
    connection.execute("INSERT INTO t VALUES (1)")


@pytest.mark.parametrize("statement", [disk_full, locked, read_only, cannot_open])
def test_what_sqlite_cannot_do_just_now_is_the_store_unavailable(tmp_path, statement):
    assert store_unavailable(sqlite_error(tmp_path / "store.sqlite", statement))


@pytest.mark.parametrize("statement", [no_such_table, twice])
def test_what_sqlite_refuses_to_do_is_not(tmp_path, statement):
    assert not store_unavailable(sqlite_error(tmp_path / "store.sqlite", statement))


@pytest.mark.parametrize("error", [
    raised(ProgrammingError("relation does not exist"),
           psycopg.errors.UndefinedTable("relation does not exist")),
    ValueError("a handler's own bug"),
], ids=["a statement PostgreSQL refuses", "not the store's"])
def test_anything_else_is_not(error):
    assert not store_unavailable(error)


def test_a_chain_that_loops_ends():
    first, second = RuntimeError("a"), RuntimeError("b")
    first.__cause__, second.__cause__ = second, first
    assert not store_unavailable(first)


def test_a_failure_for_the_store_is_logged_as_one_warning_and_any_other_with_its_traceback(
        caplog):
    log = logging.getLogger("casebook.test")
    unavailable = raised(OperationalError("connection refused"), psycopg.OperationalError("x"))
    for error in (unavailable, ValueError("a bug")):
        try:
            raise error
        except Exception as caught:
            log_failure(log, caught, "the cases views could not follow the log",
                        "they will catch up")
    warning, failure = caplog.records
    assert (warning.levelno, warning.exc_info) == (logging.WARNING, None)
    assert warning.getMessage() == ("the cases views could not follow the log: the store is "
                                    "unavailable (connection refused); they will catch up")
    assert failure.levelno == logging.ERROR and failure.exc_info[1] is not None
    assert failure.getMessage() == "the cases views could not follow the log; they will catch up"
