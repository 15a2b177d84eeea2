"""The archive ledger's rebuild and verification rates, beside raw eventsourcing replay of the
same stored events: entries per second, in process, on a SQLite file.

A benchmark, not a test: it prints numbers and asserts none. `make bench` prints these rows with
the pipe's; `python -m tests.bench.ledger --entries N` prints them alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

EVENTS_PER_CASE = 4  # opened and three interventions: files stay small, as real ones are
# Live deliveries, one a transaction, are measured on this many: their rate does not change
# with the ledger's length, and at a few hundred a second a long ledger would take minutes.
ONE_BY_ONE = 2000
VERIFY_TARGET = "≥ 100,000"
VERIFY_AS_RUN = "verify, full, as the archive runs it"
# Enough that a full verify is walked in ranges (`CASEBOOK_VERIFY_RANGE_LEAST` stored events
# each, the archive holding about two and a quarter per entry) on a machine of two cores.
DEFAULT_ENTRIES = 200_000
ROUNDS = 3  # turns of the verifications


def ledger_rates(data_dir: Path, entries: int) -> list[tuple[str, float, float, str]]:
    """(measure, entries, seconds, target) for: ingest through the subscription's handler, raw
    replay of the stored ledger events, the views rebuilt from the log (in batches of the
    runtime's size, one transaction each), a full verify in the archive's own process and in
    ranges by processes side by side (as `casebook verify` does when the ledger is long), and
    a verify since a checkpoint signed at 90%."""
    from contracts.envelope import HASH_RULE
    from services.archive.app import ArchiveApplication
    from services.archive.verifier import ranges, walk_in_processes
    from services.runtime.context import Actor, acting_as
    from services.runtime.settings import settings
    from services.runtime.subscription import RUN_LIMIT
    from services.runtime.views import FILLING_BATCH
    from tests.unit.archive.streams import CasesStream, feed, feed_runs

    os.environ["CASEBOOK_CHECKPOINT_EVERY_ENTRIES"] = str(entries * 9 // 10)
    app = ArchiveApplication(env={"SQLITE_DBNAME": str(data_dir / "ledger-bench.sqlite")})
    # Hashed by the rule every envelope is published with now (RFC 8785), as a ledger holds.
    stream = CasesStream(hash_rule=HASH_RULE)
    envelopes: list[dict[str, Any]] = []
    while len(envelopes) < entries:
        opened = stream.open_case(f"client-{len(envelopes)}")
        envelopes.append(opened)
        envelopes += [stream.intervene(opened["aggregate_id"])
                      for _ in range(EVENTS_PER_CASE - 1)]
    envelopes = envelopes[:entries]
    signed_at = entries * 9 // 10
    results = []
    # One at a time, as live deliveries that trickle in come; then in the runs a catch-up makes.
    one_by_one = ArchiveApplication(env={"SQLITE_DBNAME": str(data_dir / "ledger-single.sqlite")})
    live = envelopes[:ONE_BY_ONE]
    results.append(("ingest, one envelope a transaction", len(live),
                    _timed(lambda: feed(one_by_one, *live)), ""))
    one_by_one.close()
    def runs(part: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        return [part[start:start + RUN_LIMIT] for start in range(0, len(part), RUN_LIMIT)]

    seconds = _timed(lambda: feed_runs(app, *runs(envelopes[:signed_at])))
    app.checkpoint_if_due()
    seconds += _timed(lambda: feed_runs(app, *runs(envelopes[signed_at:])))
    results.append((f"ingest, runs of up to {RUN_LIMIT} a transaction", entries, seconds, ""))

    notifications = app.max_position()

    def replay() -> None:
        position = 0
        while batch := app.notifications_after(position, 500):
            for notification in batch:
                app.mapper.to_domain_event(notification)
            position = batch[-1].id
    results.append((f"raw eventsourcing replay ({notifications} stored events)",
                    notifications, _timed(replay), ""))

    fresh = app.views.store.fresh()
    results.append((f"views rebuild ({notifications} stored events, "
                    f"{FILLING_BATCH:,} a transaction)",
                    notifications, _timed(fresh.catch_up), ""))
    fresh.drop()

    auditor = Actor("auditor-1", "auditor")
    every = settings().archive
    cuts = len(ranges(0, notifications, every.verify_processes, every.verify_range_least))
    # A verification is two or three seconds of a shared machine: timed once, the same walk
    # came out at 81,276 and at 122,141 entries/s in two runs here. So each way is timed in
    # turns with the others, ROUNDS times, and reported by its median.
    timings: dict[str, list[float]] = {"full": [], "here": [], "since": [], "started": []}
    # What starting the processes costs, once a verification however long: ranges with nothing
    # in them. The rest is the walk, the rate a long ledger is verified at.
    empty = [(notifications, notifications)] * cuts
    configured = os.environ.get("CASEBOOK_VERIFY_PROCESSES")
    with acting_as(auditor):
        for _ in range(ROUNDS):
            timings["full"].append(_timed(lambda: _ok(app.verify_ledger())))
            os.environ["CASEBOOK_VERIFY_PROCESSES"] = "1"
            try:
                timings["here"].append(_timed(lambda: _ok(app.verify_ledger())))
            finally:
                if configured is None:
                    del os.environ["CASEBOOK_VERIFY_PROCESSES"]
                else:
                    os.environ["CASEBOOK_VERIFY_PROCESSES"] = configured
            timings["since"].append(
                _timed(lambda: _ok(app.verify_ledger(since_checkpoint=True))))
            if cuts > 1:
                timings["started"].append(
                    _timed(lambda: walk_in_processes(app.store_env, empty, {}, [])))
    full, here, since = (statistics.median(timings[way]) for way in ("full", "here", "since"))
    of = f"median of {ROUNDS}"
    results.append((f"verify, full, in the archive's process (ledger entries), {of}", entries,
                    here, ""))
    results.append((f"{VERIFY_AS_RUN}: {cuts} range(s), a process each, side by side, {of}",
                    entries, full, ""))
    if cuts > 1:
        started = statistics.median(timings["started"])
        results.append((f"{VERIFY_AS_RUN}, less {started:.2f} s to start its processes, {of}",
                        entries, full - started, VERIFY_TARGET))
    results.append((f"verify --since-checkpoint (entries after it), {of}", entries - signed_at,
                    since, ""))
    app.close()
    return results


def _timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _ok(report: dict[str, Any]) -> None:
    if not report["ok"]:
        raise RuntimeError(f"the benchmark's own ledger does not verify: {report}")


def rows(results: list[tuple[str, float, float, str]]) -> list[tuple[str, str, str, str]]:
    """(measure, per second, seconds, target) as the tables print them."""
    return [(f"ledger: {name}", f"{count / seconds:.0f}", f"{seconds:.2f} s", target)
            for name, count, seconds, target in results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=DEFAULT_ENTRIES)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        os.environ["CASEBOOK_DATA_DIR"] = directory
        results = ledger_rates(Path(directory), args.entries)
    table = Table(title=f"Archive ledger, {args.entries} entries (SQLite, in process)")
    for column in ("measure", "per second", "time", "target"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    for row in rows(results):
        table.add_row(*row)
    Console().print(table)


if __name__ == "__main__":
    main()
