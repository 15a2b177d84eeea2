"""Verification processes: a full verification of a long ledger is split into ranges of the
archive's store, each walked by a process of its own (`python -m services.archive.verifier`),
and the walks are stitched together (`ledger.stitch`). A process per core runs them side by
side; the archive service only waits for their answers, so it goes on answering meanwhile,
where a walk in its own process would hold its event loop for the whole ledger.

A process reads its job as JSON on stdin (the store's settings, secrets among them, never on
its command line) and writes its `RangeWalk` as JSON on stdout.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import ExitStack
from itertools import pairwise
from pathlib import Path
from typing import IO, Any, cast

import orjson
from eventsourcing.sqlite import SQLiteConnectionPool

from services.archive.domain import LedgerEntry
from services.archive.ledger import RangeWalk, Recorded, walk_range
from services.runtime.store import CasebookApplication

log = logging.getLogger(__name__)

BATCH = 500  # stored events a scan reads at once, one read each
# The aggregate's event classes are made by @event at runtime; mypy cannot see them.
EntryEvents: Any = LedgerEntry
ROOT = Path(__file__).resolve().parents[2]  # where `services` is imported from


class LedgerStore(CasebookApplication):
    """The archive's store, opened only to read its ledger entries: no views, no signer."""

    service = "archive"
    # eventsourcing names PostgreSQL's tables after the application: the archive's are these.
    name = "ArchiveApplication"


def recorded_entries(
    store: CasebookApplication, after: int = 0, through: int | None = None
) -> Iterator[Recorded]:
    """Ledger entries in arrival order from the store (never from a view: this is what
    verification reads), after one notification id and up to another."""
    # Read as plain JSON: a verification reads every entry, and making each one's domain
    # event would take longer than checking it.
    for notification_id, state in store.plain_states(EntryEvents.Recorded, after, BATCH):
        if through is not None and notification_id > through:
            return
        yield Recorded(notification_id, state["timestamp"], state["envelope"])


def ranges(after: int, through: int, processes: int, least: int) -> list[tuple[int, int]]:
    """(after, through] cut into consecutive ranges of notification ids, one per process, each
    of at least `least` ids (fewer processes when the store is short): a process takes most of
    a second to start (`make bench` measures it), which a short range does not repay."""
    count = max(1, min(processes, (through - after) // least))
    edges = [after + (through - after) * part // count for part in range(count + 1)]
    return list(pairwise(edges))


def in_memory(store_env: Mapping[str, str]) -> bool:
    """Whether the store is an SQLite database in memory, which only its own process reads."""
    return (store_env.get("PERSISTENCE_MODULE") == "eventsourcing.sqlite"
            and SQLiteConnectionPool.detect_memory_mode(store_env.get("SQLITE_DBNAME", "")))


def walk_in_processes(
    store_env: Mapping[str, str], cuts: Sequence[tuple[int, int]],
    wanted: Mapping[str, Collection[int]], throughs: Sequence[int],
) -> list[RangeWalk]:
    """Each range walked by a process of its own, all at once; their walks in range order."""
    job = {"env": dict(store_env), "throughs": list(throughs),
           "wanted": {source: sorted(positions) for source, positions in wanted.items()}}
    walks = []
    with ExitStack() as stack:
        started = []
        for after, through in cuts:
            errors = stack.enter_context(tempfile.TemporaryFile())
            process = stack.enter_context(subprocess.Popen(
                [sys.executable, "-m", "services.archive.verifier"], cwd=ROOT,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors))
            stack.callback(_stop, process)  # if another failed: not left walking
            # Every job handed over before any answer is awaited, so that all run at once.
            stdin = cast(IO[bytes], process.stdin)
            stdin.write(orjson.dumps({**job, "after": after, "through": through}))
            stdin.close()
            started.append((process, errors))
        for process, errors in started:
            out = cast(IO[bytes], process.stdout).read()
            if process.wait() != 0:
                errors.seek(0)
                said = errors.read().decode("utf-8", "replace").strip()
                log.error("a verification process failed:\n%s", said)
                # Its traceback's last line names the error; the log has the rest.
                raise RuntimeError(f"a verification process failed (exit {process.returncode}):"
                                   f" {said.splitlines()[-1] if said else 'it said nothing'}")
            walks.append(RangeWalk.from_json(orjson.loads(out)))
    return walks


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()


def main() -> None:
    job: dict[str, Any] = orjson.loads(sys.stdin.buffer.read())
    store = LedgerStore(env=job["env"])
    try:
        walk = walk_range(recorded_entries(store, job["after"], job["through"]),
                          {source: set(at) for source, at in job["wanted"].items()},
                          job["throughs"])
    finally:
        store.close()
    sys.stdout.buffer.write(orjson.dumps(walk.as_json()))


if __name__ == "__main__":
    main()
