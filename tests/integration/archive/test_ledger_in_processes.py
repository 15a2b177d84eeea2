"""A full verification of a long ledger walks ranges of the archive's store in processes of
their own, side by side, and reports exactly what a walk in the archive's own process reports:
on both stores, with entries rewritten in different ranges and checkpoints among them."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import eventlet
import pytest
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier

from services.archive import app as archive_app
from services.archive.app import ArchiveApplication
from services.archive.domain import LedgerEntry
from services.archive.service import ArchiveService
from services.archive.verifier import LedgerStore, walk_in_processes
from services.cases.service import CasesService
from services.runtime.context import Actor, acting_as
from services.runtime.persistence import PostgresRecorder
from tests.integration.archive.test_archive_rpc import caught_up
from tests.support.scenarios import drive_case
from tests.support.services import AUDITOR as AUDITOR_CALLING
from tests.support.services import WORKER, rpc, running
from tests.support.waiting import wait_for
from tests.unit.archive.streams import CasesStream, feed

AUDITOR = Actor("auditor-1", "auditor")


def rewrite_entry(app: ArchiveApplication, source: str, position: int) -> None:
    """What an intruder with database access does: rewrite one ledger entry's payload."""
    topic = get_topic(LedgerEntry.Recorded)
    for notification in app.recorder.select_notifications(1, 10**6, topics=[topic]):
        state = json.loads(notification.state)
        if (state["source"], state["position"]) == (source, position):
            break
    else:
        raise AssertionError(f"no ledger entry {source}:{position}")
    state["envelope"]["payload"]["duration_minutes"] = 1
    recorder = app.recorder
    with recorder.datastore.transaction(commit=True) as cursor:
        if isinstance(recorder, PostgresRecorder):
            cursor.execute(SQL("UPDATE {}.{} SET state=%s WHERE notification_id=%s").format(
                recorder._schema, Identifier(recorder.events_table_name)),
                (json.dumps(state).encode(), notification.id))
        else:
            cursor.execute("UPDATE stored_events SET state=? WHERE rowid=?",
                           (json.dumps(state).encode(), notification.id))


def verify(app: ArchiveApplication, **options: Any) -> dict[str, Any]:
    with acting_as(AUDITOR):
        report = app.verify_ledger(**options)
    del report["checked_at"]
    return report


@pytest.fixture
def processes(monkeypatch):
    """How many ranges each verification was walked in by processes of their own."""
    walked: list[int] = []
    real = archive_app.walk_in_processes

    def counted(store_env, cuts, wanted, throughs):
        walked.append(len(cuts))
        return real(store_env, cuts, wanted, throughs)
    monkeypatch.setattr(archive_app, "walk_in_processes", counted)
    return walked


def test_a_ledger_walked_in_processes_reports_what_one_walk_reports(store, monkeypatch,
                                                                    processes):
    monkeypatch.setenv("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", "5")
    app = ArchiveApplication(env=store)
    cases, resources = CasesStream(), CasesStream(source="resources")
    for n in range(12):
        opened = cases.open_case(f"client-{n}")
        feed(app, opened, cases.intervene(opened["aggregate_id"]),
             resources.open_case(f"client-{n}"))
        if n < 6:  # half the ledger after the last checkpoint, for the check since it
            app.checkpoint_if_due()
    rewrite_entry(app, "cases", 3)  # early in the ledger
    rewrite_entry(app, "resources", 11)  # late

    monkeypatch.setenv("CASEBOOK_VERIFY_PROCESSES", "1")
    here = verify(app)
    since_here = verify(app, since_checkpoint=True)
    assert processes == []
    monkeypatch.setenv("CASEBOOK_VERIFY_PROCESSES", "3")
    monkeypatch.setenv("CASEBOOK_VERIFY_RANGE_LEAST", "1")
    assert verify(app) == here
    assert verify(app, since_checkpoint=True) == since_here
    assert processes == [3, 3]

    assert not here["ok"]
    assert here["checkpoints"]["ok"]  # a payload rewritten, not a signed head's hash
    assert [p["position"] for p in here["sources"]["cases"]["problems"]] == [3]
    assert [p["position"] for p in here["sources"]["resources"]["problems"]] == [11]
    assert here["sources"]["cases"]["entries"] == 24
    assert here["checkpoints"]["count"] == 3
    assert since_here["sources"]["resources"]["problems"] == here["sources"]["resources"][
        "problems"]  # after the last checkpoint; the edit in cases was before it


def test_a_ledger_too_short_for_its_ranges_is_walked_in_the_archives_process(
        store, monkeypatch, processes):
    app = ArchiveApplication(env=store)
    cases = CasesStream()
    feed(app, *(cases.open_case(f"client-{n}") for n in range(3)))
    monkeypatch.setenv("CASEBOOK_VERIFY_PROCESSES", "4")
    monkeypatch.setenv("CASEBOOK_VERIFY_RANGE_LEAST", "1000")
    assert verify(app)["ok"]
    assert processes == []


def test_a_verification_process_that_fails_fails_the_verification_saying_why(tmp_path):
    # A store the process cannot open: a directory where the SQLite file should be.
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path)}
    with pytest.raises(RuntimeError, match=r"^a verification process failed \(exit 1\): "
                       r".*InterfaceError: unable to open database file$"):
        walk_in_processes(env, [(0, 10), (10, 20)], {}, [])


def test_the_store_a_verification_process_opens_is_the_archives():
    # PostgreSQL's tables are named after the application: another name reads an empty table.
    assert LedgerStore.name == ArchiveApplication.name


def test_the_archive_service_verifies_a_long_ledger_in_processes(amqp_uri, monkeypatch,
                                                                 processes):
    """Through RPC, on the service's event loop (eventlet), as `casebook verify` asks."""
    with running(amqp_uri, CasesService, ArchiveService):
        with rpc(amqp_uri, WORKER) as proxy:
            for n in range(3):
                drive_case(proxy, f"client-{n}")
        with rpc(amqp_uri, AUDITOR_CALLING) as proxy:
            wait_for(lambda: caught_up(proxy, "cases"), what="the ledger to catch up")
            options = {"against_stores": False}
            monkeypatch.setenv("CASEBOOK_VERIFY_PROCESSES", "1")
            here = proxy.archive.verify_ledger(options)
            monkeypatch.setenv("CASEBOOK_VERIFY_PROCESSES", "2")
            monkeypatch.setenv("CASEBOOK_VERIFY_RANGE_LEAST", "1")
            there = proxy.archive.verify_ledger(options)
    assert processes == [2]
    assert here["ok"] and here["sources"]["cases"]["entries"] >= 3 * 5
    assert as_walked(there) == as_walked(here)


def as_walked(report: dict) -> dict:
    """A report less what differs between two verifications of the same ledger: when and under
    which id each is kept, and the archive's own chain, which records the first one between."""
    sources = {source: section for source, section in report["sources"].items()
               if source != "archive"}
    return {**report, "checked_at": None, "verification_id": None, "sources": sources}


def test_the_archive_runs_on_while_its_verification_processes_walk(tmp_path):
    """The processes are waited for on the service's event loop (eventlet): its other
    greenthreads (RPC workers, subscriptions, heartbeats) run meanwhile, where a walk in the
    archive's own process would hold every one of them until it ended."""
    app = ArchiveApplication(env={"SQLITE_DBNAME": str(tmp_path / "archive.sqlite")})
    ticks: list[float] = []

    def tick() -> None:
        while True:
            ticks.append(time.monotonic())
            eventlet.sleep(0.01)
    ticker = eventlet.spawn(tick)
    eventlet.sleep(0)
    started = time.monotonic()
    walk_in_processes(app.store_env, [(0, 0), (0, 0)], {}, [])  # at least starting two
    ended = time.monotonic()
    ticker.kill()
    during = [at for at in ticks if started < at < ended]
    # Ticks all along the wait, a hundredth of a second apart as asked, give or take a
    # starting process's fork; a held loop would leave a gap as long as the processes' start.
    gaps = [b - a for a, b in itertools.pairwise([started, *during, ended])]
    assert len(during) >= 5 and max(gaps) < 0.25, (len(during), max(gaps), ended - started)
