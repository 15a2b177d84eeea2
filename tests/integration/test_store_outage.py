"""A service's own PostgreSQL restarts or goes away while the services run (a minor upgrade, a
host's reboot, a failover): once it is back nothing is refused, a subscriber waits for it
instead of dead-lettering what it hears meanwhile, and a call made while it is away answers
503 (try again), after which the same command is carried out once. Real servers: a PostgreSQL
of the test's own (the shared one serves the other tests), a real broker."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from contracts.errors import Unavailable
from services.runtime.cli.journeys import OPENED_ON, intervention, ready_case
from tests.support.broker import dead_letters
from tests.support.services import AUDITOR, WORKER, processes, rpc
from tests.support.stores import private_postgres
from tests.support.waiting import wait_for

PLANNED = OPENED_ON + timedelta(days=6)  # the day after `ready_case` adopts the plan
NOT_ENFORCED = {"CASEBOOK_REQUIRE_ELIGIBLE_WORKERS": "false"}  # supervision does not run here


@pytest.fixture
def postgres():
    with private_postgres() as server:
        yield server


def error_lines(directory: Path) -> list[str]:
    """The services' `error` log lines: failures of their own. A store away is a warning."""
    return [line for log in directory.glob("*.log") for line in log.read_text().splitlines()
            if '"level": "error"' in line]


def ledgered_all(auditor) -> bool:
    return (auditor.archive.ledger_head("cases")["position"]
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
        assert "the store is not reachable" in (tmp_path / "archive.log").read_text()
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
            assert "cannot reach its store" in refused.value.detail
            postgres.start()
            first = retrying.cases.log_intervention(intervention(case_id, PLANNED, 1))
            again = retrying.cases.log_intervention(intervention(case_id, PLANNED, 1))
        assert first == again
        assert len(worker.cases.get_case({"case_id": case_id})["interventions"]) == 1
    assert error_lines(tmp_path) == []
