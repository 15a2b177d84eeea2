"""A service's own store becomes unavailable while the services run: its PostgreSQL restarts or
goes away (a minor upgrade, a host's reboot, a failover), or the disk under its SQLite file runs
full. Once the store is back nothing is refused, a subscriber waits for it instead of
dead-lettering what it hears meanwhile, and a call made while it is away answers 503 (try
again), after which the same command is carried out once. Real servers and disks: a PostgreSQL
of the test's own (the shared one serves the other tests), a filesystem of the test's own that
it fills, a real broker."""

from __future__ import annotations

import itertools
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from contracts.errors import Unavailable
from services.runtime.cli.journeys import OPENED_ON, intervention, ready_case
from tests.support.broker import dead_letters
from tests.support.services import AUDITOR, WORKER, ledgered, processes, rpc
from tests.support.stores import SmallDisk, private_postgres, small_disk
from tests.support.waiting import wait_for

PLANNED = OPENED_ON + timedelta(days=6)  # the day after `ready_case` adopts the plan
NOT_ENFORCED = {"CASEBOOK_REQUIRE_ELIGIBLE_WORKERS": "false"}  # supervision does not run here


@pytest.fixture
def postgres():
    with private_postgres() as server:
        yield server


@pytest.fixture
def disks(tmp_path) -> Iterator[dict[str, SmallDisk]]:
    """A small disk of its own for the cases service and one for the archive."""
    with ExitStack() as stack:
        try:
            disks = {name: stack.enter_context(small_disk(tmp_path / f"{name}-disk"))
                     for name in ("cases", "archive")}
        except subprocess.CalledProcessError as error:
            pytest.skip(f"this test may not mount a filesystem of its own (it needs root or "
                        f"sudo): {error.stderr.decode().strip()}")
        yield disks


def error_lines(directory: Path) -> list[str]:
    """The services' `error` log lines: failures of their own. A store away is a warning."""
    return [line for log in directory.glob("*.log") for line in log.read_text().splitlines()
            if '"level": "error"' in line]


def ledgered_all(auditor) -> bool:
    return (ledgered(auditor, "cases")
            == auditor.cases.status()["stored_position"])


@contextmanager
def pipe(amqp_uri: str, tmp_path: Path, each: dict[str, dict[str, str]],
         label: str) -> Iterator[tuple[Any, Any, str]]:
    """The cases service and the archive running, with a worker's and an auditor's proxies and
    a case ready for interventions, every event so far in the ledger."""
    with processes(amqp_uri, tmp_path, "cases", "archive", each=each, **NOT_ENFORCED), \
            rpc(amqp_uri, WORKER) as worker, rpc(amqp_uri, AUDITOR) as auditor:
        case_id, _ = ready_case(worker, label, WORKER["id"])
        wait_for(lambda: ledgered_all(auditor), what="the ledger to hold every event")
        yield worker, auditor, case_id


def test_after_postgres_restarts_no_call_is_refused_and_nothing_is_dead_lettered(
        amqp_uri, tmp_path, postgres):
    each = {name: {**postgres.env, "POSTGRES_SCHEMA": name} for name in ("cases", "archive")}
    with pipe(amqp_uri, tmp_path, each, "restart-1") as (worker, auditor, case_id):
        postgres.restart()
        # Every connection the services' pools held is dead now; each call takes a live one.
        for number in range(1, 6):
            worker.cases.log_intervention(intervention(case_id, PLANNED, number))
        assert len(worker.cases.get_case({"case_id": case_id})["interventions"]) == 5
        wait_for(lambda: ledgered_all(auditor), what="the ledger to hold every event")
        assert auditor.archive.verify_ledger()["ok"]
    assert dead_letters(amqp_uri) == {}
    assert error_lines(tmp_path) == []


def test_a_subscriber_waits_for_its_store_and_dead_letters_nothing(amqp_uri, tmp_path,
                                                                    postgres):
    # The cases service on SQLite goes on taking commands; the archive's PostgreSQL is away
    # for longer than every attempt a failing delivery gets (CASEBOOK_HANDLER_ATTEMPTS).
    each = {"archive": {**postgres.env, "POSTGRES_SCHEMA": "archive"}}
    with pipe(amqp_uri, tmp_path, each, "outage-1") as (worker, auditor, case_id):
        postgres.stop()
        for number in range(1, 4):
            worker.cases.log_intervention(intervention(case_id, PLANNED, number))
        # Away for longer than every attempt a failing delivery gets: their pauses add up to
        # well under a second.
        wait_for(lambda: "archive from cases" in (tmp_path / "archive.log").read_text(),
                 what="the archive to fail to store what it heard")
        time.sleep(3)
        assert dead_letters(amqp_uri) == {}
        assert "the store is unavailable" in (tmp_path / "archive.log").read_text()
        postgres.start()
        wait_for(lambda: ledgered_all(auditor), timeout=60,
                 what="the ledger to hold every event once its store is back")
        assert auditor.archive.verify_ledger()["ok"]
    assert dead_letters(amqp_uri) == {}
    assert error_lines(tmp_path) == []


def test_a_call_while_postgres_is_away_answers_503_and_its_retry_is_carried_out_once(
        amqp_uri, tmp_path, postgres):
    # A call waits two seconds for a connection (POSTGRES_CONNECT_TIMEOUT), not thirty.
    each = {"cases": {**postgres.env, "POSTGRES_SCHEMA": "cases", "POSTGRES_CONNECT_TIMEOUT": "2"}}
    with processes(amqp_uri, tmp_path, "cases", each=each, **NOT_ENFORCED), \
            rpc(amqp_uri, WORKER) as worker:
        case_id, _ = ready_case(worker, "away-1", WORKER["id"])
        postgres.stop()
        with rpc(amqp_uri, WORKER, timeout=120, command_id=str(uuid.uuid4())) as retrying:
            with pytest.raises(Unavailable) as refused:
                retrying.cases.log_intervention(intervention(case_id, PLANNED, 1))
            assert "cannot use its store" in refused.value.detail
            postgres.start()
            first = retrying.cases.log_intervention(intervention(case_id, PLANNED, 1))
            again = retrying.cases.log_intervention(intervention(case_id, PLANNED, 1))
        assert first == again
        assert len(worker.cases.get_case({"case_id": case_id})["interventions"]) == 1
    assert error_lines(tmp_path) == []


def test_a_full_disk_under_sqlite_is_waited_out_and_nothing_is_lost_or_done_twice(
        amqp_uri, tmp_path, disks):
    each = {name: {"CASEBOOK_DATA_DIR": str(disk.path)} for name, disk in disks.items()}
    archive_log = tmp_path / "archive.log"
    with pipe(amqp_uri, tmp_path, each, "full-1") as (worker, auditor, case_id):
        numbers = itertools.count(1)
        # The archive's disk runs full: the cases service goes on taking commands, and the
        # archive, once what it writes next no longer fits, waits instead of dead-lettering.
        disks["archive"].fill()
        for number in numbers:
            worker.cases.log_intervention(intervention(case_id, PLANNED, number))
            if "database or disk is full" in archive_log.read_text():
                break
            assert number < 200, "the archive wrote 200 commands' envelopes to a full disk"
        time.sleep(3)  # longer than every attempt's pauses together
        assert dead_letters(amqp_uri) == {}
        assert "the store is unavailable (database or disk is full)" in archive_log.read_text()
        # Then the cases service's disk: a command that does not fit is refused, 503.
        disks["cases"].fill()
        for number in numbers:
            command_id = str(uuid.uuid4())
            try:
                with rpc(amqp_uri, WORKER, command_id=command_id) as once:
                    once.cases.log_intervention(intervention(case_id, PLANNED, number))
            except Unavailable as refused:
                assert "cannot use its store" in refused.detail
                break
            assert number < 400, "the cases service stored 200 commands on a full disk"
        # Reading needs no room: the case, as it stood before the refused command.
        assert len(worker.cases.get_case({"case_id": case_id})["interventions"]) == number - 1
        for disk in disks.values():
            disk.free()
        with rpc(amqp_uri, WORKER, timeout=120, command_id=command_id) as retrying:
            first = retrying.cases.log_intervention(intervention(case_id, PLANNED, number))
            again = retrying.cases.log_intervention(intervention(case_id, PLANNED, number))
        assert first == again
        assert len(worker.cases.get_case({"case_id": case_id})["interventions"]) == number
        wait_for(lambda: ledgered_all(auditor), timeout=90,
                 what="the ledger to hold every event once its disk has room")
        assert auditor.archive.verify_ledger()["ok"]
    assert dead_letters(amqp_uri) == {}
    assert error_lines(tmp_path) == []
