"""`casebook backup`: one consistent copy of every SQLite store, taken while Casebook runs, and
the check of a copy before it is restored.

Why not copy the files one by one: the services follow each other (the archive ledgers what
cases publishes, and cases acts on the archive's disposals), so whichever file is copied
first, a service copied later may have processed what its source, copied earlier, does not
hold. Restored, that source publishes new events at positions the subscriber takes for
processed: they would be lost to it. The subscriber halts instead
(`services.runtime.subscription.SourceBehind`), but a backup that cannot be restored as it
is is no backup.

So `take` holds every store's write lock at once, for as long as it takes to open a read
transaction on each (milliseconds): the read transactions then see the stores at one moment,
and SQLite's backup API copies each from its own, while the services write on. A service that
wanted to write meanwhile waited for the lock (SQLite's busy timeout), as it waits for another
writer. Then the copy is checked as `check` checks it, and its manifest is written last: a
directory without one is not a finished backup.

PostgreSQL keeps every service's schema in one database: `pg_dump` takes one snapshot of all
of them, the same guarantee (docs/operators.md, "Backup and restore").
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from services.runtime.cli.up import STATE_FILE
from services.runtime.settings import settings
from services.runtime.store import postgres_configured

MANIFEST = "casebook-backup.json"
STORE_SUFFIX = ".sqlite"
# How long `take` waits for each store's write lock: a service holds it for one transaction.
LOCK_SECONDS = 10.0


@click.group()
def backup() -> None:
    """Back up the SQLite stores (casebook up) consistently, and check a backup."""


@backup.command()
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
def take(destination: Path) -> None:
    """Copy every store of CASEBOOK_DATA_DIR, as of one moment, and the files beside them
    (the archive's signing key), into DESTINATION, a new or empty directory."""
    if postgres_configured():
        raise click.ClickException(
            "The stores are PostgreSQL (POSTGRES_DBNAME is set): back them up with pg_dump, "
            "one snapshot of every service's schema (docs/operators.md, \"Backup and restore\").")
    data_dir = settings().runtime.data_dir
    stores = sorted(data_dir.glob(f"*{STORE_SUFFIX}"))
    if not stores:
        raise click.ClickException(f"CASEBOOK_DATA_DIR={data_dir}: no store "
                                   f"(*{STORE_SUFFIX}) there to back up.")
    if destination.exists() and any(destination.iterdir()):
        raise click.ClickException(f"DESTINATION {destination}: must be a new or empty "
                                   "directory; it holds files. Nothing was copied.")
    destination.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with at_one_moment(stores) as (readers, paused):
        for store, reader in zip(stores, readers, strict=True):
            with _closing(sqlite3.connect(destination / store.name)) as copy:
                reader.backup(copy)
    beside = [path for path in sorted(data_dir.iterdir()) if _kept_beside(path)]
    for path in beside:
        shutil.copy2(path, destination / path.name)
    problems = consistency_problems(destination)
    if problems:
        raise click.ClickException("The copy is not consistent, and has no manifest:\n  "
                                   + "\n  ".join(problems))
    described = {store.name: _described(destination / store.name) for store in stores}
    manifest = {
        "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_dir": str(data_dir),
        "stores": described,
        "files": [path.name for path in beside],
    }
    (destination / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    for name, copied in described.items():
        click.echo(f"{name}: {copied['bytes']} bytes, published up to position "
                   f"{copied['published_position']}")
    for path in beside:
        click.echo(f"{path.name}: copied")
    click.echo(f"Backed up {len(stores)} stores to {destination} in "
               f"{time.perf_counter() - started:.1f} s; writes waited at most "
               f"{paused * 1000:.0f} ms. Check it with `casebook backup check {destination}`.")


@backup.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def check(directory: Path) -> None:
    """Check a backup before restoring it: each store as the manifest describes it (bytes
    and SHA-256), and no service in it past what its sources in it hold."""
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise click.ClickException(f"DIRECTORY {directory}: no {MANIFEST}; not a finished "
                                   "`casebook backup take`.")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    problems = []
    for name, described in manifest["stores"].items():
        path = directory / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif _sha256(path) != described["sha256"]:
            problems.append(f"{name}: not the bytes backed up (its SHA-256 differs)")
    problems += consistency_problems(directory)
    if problems:
        raise click.ClickException(f"{directory} fails its check:\n  " + "\n  ".join(problems))
    click.echo(f"{directory}: {len(manifest['stores'])} stores as taken at "
               f"{manifest['taken_at']}, consistent. Restore: point CASEBOOK_DATA_DIR at a copy "
               "of it, `casebook up`, then `casebook verify`.")


@contextmanager
def at_one_moment(stores: list[Path]) -> Iterator[tuple[list[sqlite3.Connection], float]]:
    """A connection to each store in a read transaction, all begun while every store's write
    lock was held (so no commit falls between them), and how long the locks were held, in
    seconds. The locks are taken in the stores' order; each service writes its own store only,
    so no writer waits for one of them while holding another."""
    with ExitStack() as stack:
        readers = []
        locks = []
        for store in stores:
            lock = stack.enter_context(_closing(sqlite3.connect(
                store, timeout=LOCK_SECONDS, isolation_level=None)))
            try:
                lock.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                raise click.ClickException(
                    f"{store.name}: its write lock was not free within {LOCK_SECONDS:.0f} s "
                    f"({error}); nothing was copied. Try again.") from error
            locks.append(lock)
        locked = time.perf_counter()
        for store in stores:
            reader = stack.enter_context(_closing(sqlite3.connect(store, isolation_level=None)))
            reader.execute("BEGIN")
            reader.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # the snapshot
            readers.append(reader)
        for lock in locks:
            lock.execute("ROLLBACK")
        yield readers, time.perf_counter() - locked


@contextmanager
def _closing(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    try:
        yield connection
    finally:
        connection.close()


def consistency_problems(directory: Path) -> list[str]:
    """Every subscriber in the stores of `directory` whose position in a source is not an
    envelope that source's store holds, with the same hash: restored together, the source
    would publish new events at positions the subscriber takes for processed."""
    problems = []
    for store in sorted(directory.glob(f"*{STORE_SUFFIX}")):
        subscriber = store.name.removesuffix(STORE_SUFFIX)
        for source, position, hash_ in _read(store, "SELECT source, position, hash "
                                                    "FROM casebook_cursor WHERE position > 0"):
            source_store = directory / f"{source}{STORE_SUFFIX}"
            if not source_store.is_file():
                problems.append(f"{subscriber} has processed {source} up to position "
                                f"{position}, and the backup holds no {source_store.name}")
                continue
            held = _read(source_store, "SELECT hash FROM casebook_published WHERE position = ?",
                         position)
            if not held:
                problems.append(f"{subscriber} has processed {source} up to position "
                                f"{position}, past what {source_store.name} holds")
            elif held[0][0] != hash_:
                problems.append(f"{subscriber} has processed {source} up to position "
                                f"{position}, and {source_store.name} holds another envelope "
                                "there")
    return problems


def _read(store: Path, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    # Immutable: a backup is read as it lies, leaving no journal files beside it.
    with _closing(sqlite3.connect(f"file:{store}?immutable=1", uri=True)) as connection:
        try:
            return connection.execute(statement, params).fetchall()
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):
                return []  # a store its service never opened: nothing published or processed
            raise


def _described(store: Path) -> dict[str, Any]:
    published = _read(store, "SELECT COALESCE(MAX(position), 0) FROM casebook_published")
    return {"bytes": store.stat().st_size, "sha256": _sha256(store),
            "published_position": published[0][0] if published else 0}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _kept_beside(path: Path) -> bool:
    """Files of the data directory a restore needs besides the stores (the archive's signing
    key, the development token secret): not the stores' own journals, not the locks their
    processes take (`services.runtime.leader`), not logs, not `casebook up`'s record of its
    processes."""
    return (path.is_file() and path.name != STATE_FILE
            and not path.name.endswith((STORE_SUFFIX, f"{STORE_SUFFIX}-wal",
                                        f"{STORE_SUFFIX}-shm", f"{STORE_SUFFIX}-journal",
                                        ".lock", ".log")))
