"""`casebook backup`: one consistent copy of every SQLite store, taken while Casebook runs; its
check; and its restore, which clears the subscriptions' queues.

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

A restore replaces every store at once, or none: the backup is copied into the data directory
first (a full disk stops it there), then what it replaces is moved aside (not deleted) and the
copy moved in, renames that are undone if one fails. It then deletes the subscriptions' queues
and dead-letter queues: what they hold was published by the stores replaced, from a history
the restore undid. Delivered to the restored subscribers, an envelope past the point restored
would link to what they hold and be processed, an event no restored store holds. Without the
queues, each subscriber catches up from its sources' restored stores on start (the queues are
made again), which are the truth.

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
from amqp.exceptions import NotFound
from kombu import Connection

from services.runtime.cli.rpc import broker_connection
from services.runtime.cli.up import STATE_FILE, read_state
from services.runtime.launcher import PUBLISHERS
from services.runtime.settings import settings
from services.runtime.store import postgres_configured
from services.runtime.subscription import dead_letter_queue_name, queue_name

MANIFEST = "casebook-backup.json"
STORE_SUFFIX = ".sqlite"
# A store's file and its journals.
STORE_FILES = tuple(f"{STORE_SUFFIX}{journal}" for journal in ("", "-wal", "-shm", "-journal"))
STAGING = "restoring-"  # the directory a restore copies the backup into, then moves it from
# How long `take` waits for each store's write lock: a service holds it for one transaction.
LOCK_SECONDS = 10.0


@click.group()
def backup() -> None:
    """Back up the SQLite stores (casebook up) consistently; check and restore a backup."""


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
    beside = [path for path in sorted(data_dir.iterdir()) if _kept_beside(path)]
    try:
        with at_one_moment(stores) as (readers, paused):
            for store, reader in zip(stores, readers, strict=True):
                with _closing(sqlite3.connect(destination / store.name)) as copy:
                    reader.backup(copy)
        for path in beside:
            shutil.copy2(path, destination / path.name)
    except (OSError, sqlite3.Error) as error:
        # A full disk, most likely: a part of a backup is no backup, and would only fill it.
        for written in destination.iterdir():
            written.unlink()
        raise click.ClickException(f"DESTINATION {destination}: could not write the backup "
                                   f"({error}); what was copied is removed.") from error
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
    """Check a backup before restoring it: each store as the manifest describes it (its
    SHA-256), and no service in it past what its sources in it hold."""
    manifest = _checked(directory, "")
    click.echo(f"{directory}: {len(manifest['stores'])} stores as taken at "
               f"{manifest['taken_at']}, consistent. Restore it with "
               f"`casebook backup restore {directory}`.")


@backup.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore(directory: Path) -> None:
    """Restore a backup into CASEBOOK_DATA_DIR, with Casebook stopped: check it, copy it in
    beside the stores, then move what it replaces aside (into
    CASEBOOK_DATA_DIR/replaced-<time>/) and the copy in, and clear the subscriptions' queues on
    the broker (see `clear-queues`). A copy or a move that fails changes nothing."""
    if postgres_configured():
        raise click.ClickException(
            "The stores are PostgreSQL (POSTGRES_DBNAME is set): restore them with pg_restore "
            "(docs/operators.md, \"Backup and restore\").")
    data_dir = settings().runtime.data_dir
    running = read_state(data_dir)
    if running is not None:
        raise click.ClickException(
            f"Casebook is running from {data_dir} (casebook up, pid {running['pid']}): stop it "
            "first. Nothing was changed.")
    manifest = _checked(directory, " Nothing was changed.")
    uri = settings().runtime.amqp_uri
    with broker_connection(uri) as connection:
        queues = _subscription_queues(connection)  # refused here while a service consumes
        data_dir.mkdir(parents=True, exist_ok=True)
        unfinished = sorted(path for path in data_dir.glob(f"{STAGING}*") if path.is_dir())
        for copy in unfinished:
            # A restore stopped while copying (the machine lost): its partial copy is only
            # what it staged, never a store, and holds the room this one needs.
            shutil.rmtree(copy)
        moment = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        names = [*manifest["stores"], *manifest["files"]]
        staged = _staged(directory, names, data_dir / f"{STAGING}{moment}")
        aside = data_dir / f"replaced-{moment}"
        replaced = [path for path in sorted(data_dir.iterdir()) if _replaced(path)]
        _swap_in(staged, names, replaced, aside)
        dropped = _delete(connection, queues)
    for copy in unfinished:
        click.echo(f"Removed {copy.name}, the partial copy of a restore that did not finish.")
    if replaced:
        click.echo(f"Moved what the backup replaces to {aside}: "
                   + ", ".join(path.name for path in replaced))
    click.echo(f"Restored {len(manifest['stores'])} stores taken at {manifest['taken_at']} "
               f"into {data_dir}.")
    _say_dropped(dropped)
    click.echo("Start Casebook (`casebook up`), then run `casebook verify`.")


@backup.command("clear-queues")
def clear_queues() -> None:
    """Delete every subscription's queue and dead-letter queue on the broker (AMQP_URI), for
    services about to start on restored stores (`restore` does this itself): what those queues
    hold was published by the stores the restore replaced, and each subscriber catches up from
    its sources' restored stores instead. Refused while a service consumes any of them."""
    with broker_connection(settings().runtime.amqp_uri) as connection:
        _say_dropped(_delete(connection, _subscription_queues(connection)))


def _checked(directory: Path, unchanged: str) -> dict[str, Any]:
    """The backup's manifest, once each store is as it describes and the stores consistent."""
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise click.ClickException(f"DIRECTORY {directory}: no {MANIFEST}; not a finished "
                                   f"`casebook backup take`.{unchanged}")
    manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
    problems = []
    for name, described in manifest["stores"].items():
        path = directory / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif _sha256(path) != described["sha256"]:
            problems.append(f"{name}: not the bytes backed up (its SHA-256 differs)")
    problems += consistency_problems(directory)
    if problems:
        raise click.ClickException(f"{directory} fails its check:{unchanged}\n  "
                                   + "\n  ".join(problems))
    return manifest


def _staged(directory: Path, names: list[str], staging: Path) -> Path:
    """The backup's files copied into `staging`, inside the data directory: on its filesystem,
    moving them in is a rename, which needs no space. A copy that fails (a full disk) leaves
    nothing behind and the data directory as it was."""
    staging.mkdir()
    try:
        for name in names:
            shutil.copy2(directory / name, staging / name)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise click.ClickException(
            f"Could not copy the backup into {staging.parent} ({error}). Nothing was "
            "changed.") from error
    return staging


def _swap_in(staged: Path, names: list[str], replaced: list[Path], aside: Path) -> None:
    """Move what the backup replaces into `aside` and the staged files in, all or nothing:
    a move that fails puts back every one made before it."""
    data_dir = staged.parent
    moved: list[tuple[Path, Path]] = []  # (where a file is now, where it was)
    made_aside = False
    try:
        if replaced:
            aside.mkdir()
            made_aside = True
        for path in replaced:
            path.rename(aside / path.name)
            moved.append((aside / path.name, path))
        for name in names:
            (staged / name).rename(data_dir / name)
            moved.append((data_dir / name, staged / name))
    except OSError as error:
        for now, was in reversed(moved):
            now.rename(was)
        shutil.rmtree(staged, ignore_errors=True)
        if made_aside:
            aside.rmdir()
        raise click.ClickException(
            f"Could not move the restored stores into {data_dir} ({error}); every file moved "
            "was put back. Nothing was changed.") from error
    staged.rmdir()


def _subscription_queues(connection: Connection) -> list[str]:
    """Each subscription queue and dead-letter queue on the broker; a `ClickException` if a
    service consumes one (it runs: stop it first)."""
    found = []
    for subscriber in PUBLISHERS:
        for source in PUBLISHERS:
            for name in (queue_name(subscriber, source),
                         dead_letter_queue_name(subscriber, source)):
                try:
                    with connection.channel() as channel:
                        _, _, consumers = channel.queue_declare(name, passive=True)
                except NotFound:
                    continue
                if consumers:
                    raise click.ClickException(
                        f"{name} has {consumers} consumer(s): a service runs. Stop Casebook "
                        "first. Nothing was changed.")
                found.append(name)
    return found


def _delete(connection: Connection, queues: list[str]) -> list[tuple[str, int]]:
    """Delete the queues; each with the messages it held."""
    with connection.channel() as channel:
        return [(name, channel.queue_delete(name)) for name in queues]


def _say_dropped(dropped: list[tuple[str, int]]) -> None:
    for name, messages in dropped:
        if messages:
            click.echo(f"{name}: {messages} message(s) of the replaced stores dropped")
    click.echo(f"Deleted {len(dropped)} subscription queues: each subscriber catches up from "
               "its sources' stores on start.")


@contextmanager
def at_one_moment(stores: list[Path]) -> Iterator[tuple[list[sqlite3.Connection], float]]:
    """A connection to each store in a read transaction, all begun while every store's write
    lock was held (so no commit falls between them), and how long the locks were held, in
    seconds. The locks are taken in the stores' order; each service writes its own store only,
    so no writer waits for one of them while holding another."""
    with ExitStack() as stack:
        readers = []
        locks = []
        locked = 0.0
        for store in stores:
            lock = stack.enter_context(_closing(sqlite3.connect(
                store, timeout=LOCK_SECONDS, isolation_level=None)))
            try:
                lock.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                raise click.ClickException(
                    f"{store.name}: its write lock was not free within {LOCK_SECONDS:.0f} s "
                    f"({error}); nothing was copied. Try again.") from error
            locked = locked or time.perf_counter()  # writers wait from the first lock on
            locks.append(lock)
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


def _replaced(path: Path) -> bool:
    """What a restore moves aside: the stores with their journals, and the files kept beside
    them."""
    return path.is_file() and (path.name.endswith(STORE_FILES) or _kept_beside(path))


def _kept_beside(path: Path) -> bool:
    """Files of the data directory a restore needs besides the stores (the archive's signing
    key, the development token secret): not the stores' own journals, not the locks their
    processes take (`services.runtime.leader`), not logs, not `casebook up`'s record of its
    processes."""
    return (path.is_file() and path.name != STATE_FILE
            and not path.name.endswith((*STORE_FILES, ".lock", ".log")))
