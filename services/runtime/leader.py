"""Locks between the instances of a service. Exactly one active instance runs a service's relay
(DESIGN.md "Delivery" 5), and one at a time creates its store's tables. (Each subscription is
consumed by one instance at a time too, decided by the broker: services.runtime.queues.)

With PostgreSQL the leader holds a session advisory lock on a dedicated connection; a standby
instance polls until the leader's connection goes away. With SQLite there is one file and so one
host: an exclusive `flock` on a file beside the database does the same between processes.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.sqlite import SQLiteConnectionPool
from psycopg.sql import SQL, Identifier

log = logging.getLogger(__name__)


def _lock_key(name: str) -> int:
    # A stable signed 64-bit key: Python's hash() is salted per process.
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def leadership(
    env: dict[str, str], name: str, running: Callable[[], bool], poll_seconds: float = 1.0
) -> Iterator[bool]:
    """Block until this process leads `name` (or `running()` turns false), then hold it.
    Yields True when leading; False if asked to stop before becoming leader."""
    acquire = _postgres_lock if _postgres(env) else _file_lock
    with acquire(env, name) as try_acquire:
        announced = False
        while running():
            if try_acquire():
                log.info("leading %s", name)
                yield True
                return
            if not announced:
                log.info("standing by for %s: another instance leads", name)
                announced = True
            time.sleep(poll_seconds)
        yield False


@contextmanager
def _file_lock(env: dict[str, str], name: str) -> Iterator[Callable[[], bool]]:
    path = Path(env["SQLITE_DBNAME"]).with_suffix(f".{name}.lock")
    with path.open("a+") as handle:

        def try_acquire() -> bool:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        try:
            yield try_acquire
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def connect(env: Mapping[str, str]) -> Any:
    """A connection of its own, in autocommit, to the store's PostgreSQL database."""
    return psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env.get("POSTGRES_PASSWORD", ""),
        autocommit=True,
    )


@contextmanager
def creating(env: dict[str, str], poll_seconds: float = 0.05) -> Iterator[None]:
    """The store held by this instance alone while it makes its schema and tables. Instances
    and verification processes that start together take turns: PostgreSQL refuses two
    `CREATE OR REPLACE FUNCTION`s of one function at once ("tuple concurrently updated"),
    which eventsourcing's recorders issue on every start, and two `CREATE ... IF NOT EXISTS`
    of one new schema, type or table at once can both try to make it; eventsourcing's SQLite
    tracking table is read, then made, in two transactions. Waits by polling, as a standby
    does, so that an instance's other green threads go on meanwhile."""
    postgres = _postgres(env)
    if not postgres and SQLiteConnectionPool.detect_memory_mode(env.get("SQLITE_DBNAME", "")):
        yield  # only this process sees a database in memory
        return
    with (_postgres_lock if postgres else _file_lock)(env, "create") as try_acquire:
        while not try_acquire():
            time.sleep(poll_seconds)
        if postgres:
            with connect(env) as conn:
                conn.execute(SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    Identifier(env["POSTGRES_SCHEMA"])))
        yield


def _postgres(env: Mapping[str, str]) -> bool:
    return env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres"


@contextmanager
def _postgres_lock(env: dict[str, str], name: str) -> Iterator[Callable[[], bool]]:
    key = _lock_key(f"casebook:{env.get('POSTGRES_SCHEMA')}:{name}")
    conn = connect(env)

    def try_acquire() -> bool:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        return bool(row and row[0])

    try:
        yield try_acquire
    finally:
        conn.close()  # the session lock goes with the session
