"""A refused call is the service working, not failing: the cases service and the gateway, run
as `casebook up` runs them, log each refusal once at info with its code and correlation id and
no traceback, while a real failure still logs an error with its traceback."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from contracts.errors import CasebookError, Conflict, InvalidInput, NotAllowed, NotFound
from services.gateway.auth import mint
from services.runtime.cli.journeys import OPENED_ON, intervention, open_case, register_student
from services.runtime.replies import cluster_rpc
from tests.integration.gateway.conftest import free_port
from tests.support.services import AUDITOR, WORKER, ServiceProcess, config, processes
from tests.support.waiting import wait_for

SECRET = "refusal-logs-test-secret-long-enough-for-hs256"
NOTES = "夜里常做噩梦，不敢一个人睡。"


@dataclass(frozen=True)
class Http:
    url: str
    log_path: Path


@contextmanager
def gateway(amqp_uri: str, data_dir: Path) -> Iterator[Http]:
    """The gateway as its own process, ready when it answers /healthz (it has no `ping`)."""
    address = f"127.0.0.1:{free_port()}"
    process = ServiceProcess("gateway", amqp_uri, data_dir, {
        "CASEBOOK_JWT_SECRET": SECRET, "WEB_SERVER_ADDRESS": address}).start(wait=False)
    http = Http(f"http://{address}", process.log_path)

    def healthy() -> bool:
        try:
            return requests.get(f"{http.url}/healthz", timeout=2).ok
        except requests.RequestException:
            return False

    try:
        wait_for(healthy, timeout=60, interval=0.2, what="the gateway to answer /healthz")
        yield http
    finally:
        process.stop()


def log_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of a service's log (the process also prints a few lines before logging
    is configured)."""
    lines = []
    for text in path.read_text(encoding="utf-8").splitlines():
        if text.startswith("{"):
            lines.append(json.loads(text))
    return lines


def calls(amqp_uri: str, actor: dict[str, Any], correlation_id: str) -> ClusterRpcProxy:
    return cluster_rpc(config(amqp_uri), timeout=30,
                       context_data={"actor": actor, "correlation_id": correlation_id})


def refused(call: Any, expected: type[CasebookError]) -> CasebookError:
    with pytest.raises(expected) as caught:
        call()
    return caught.value


def test_refusals_log_at_info_with_code_and_correlation_id_and_failures_as_errors(
    amqp_uri, tmp_path
):
    data_dir = tmp_path / "var"
    run = uuid.uuid4().hex[:8]
    with processes(amqp_uri, data_dir, "cases") as started, gateway(amqp_uri, data_dir) as http:
        log = started["cases"].log_path
        with calls(amqp_uri, WORKER, f"bad-input-{run}") as worker:
            refusals = [refused(lambda: worker.cases.open_case({"client_id": 7}), InvalidInput)]
        with calls(amqp_uri, WORKER, f"not-found-{run}") as worker:
            refusals.append(refused(
                lambda: worker.cases.get_case({"case_id": str(uuid.uuid4())}), NotFound))
        with calls(amqp_uri, AUDITOR, f"forbidden-{run}") as auditor:
            refusals.append(refused(lambda: auditor.cases.open_case({}), NotAllowed))
        with calls(amqp_uri, WORKER, f"out-of-order-{run}") as worker:
            case_id = open_case(worker, register_student(worker, f"client-{run}"), WORKER["id"],
                                ["7.1.3a"])
            refusals.append(refused(
                lambda: worker.cases.log_intervention(intervention(case_id, OPENED_ON)),
                Conflict))
        token = mint(SECRET, "social_worker", WORKER["id"], WORKER["school_id"])
        # Its intake's personal content is refused with it, and logged nowhere.
        over_http = requests.post(
            f"{http.url}/cases",
            json={"opened_on": "yesterday", "intake": {"initial_information": NOTES}},
            timeout=30, headers={"Authorization": f"Bearer {token}",
                                 "X-Correlation-Id": f"http-{run}"})
        assert over_http.status_code == 400
        refusals.append(InvalidInput(over_http.json()["detail"]))
        assert [refusal.code for refusal in refusals] == [
            "invalid_input", "not_found", "not_allowed", "missing_step", "invalid_input"]

        def refusal_lines() -> list[dict[str, Any]]:
            return [line for line in log_lines(log) if "code" in line]

        refusals_logged = refusal_lines()
        assert [(line["correlation_id"], line["code"]) for line in refusals_logged] == [
            (f"bad-input-{run}", "invalid_input"),
            (f"not-found-{run}", "not_found"),
            (f"forbidden-{run}", "not_allowed"),
            (f"out-of-order-{run}", "missing_step"),
            (f"http-{run}", "invalid_input"),
        ]
        for line in refusals_logged:
            assert line["level"] == "info", line
            assert "error" not in line
        before_the_failure = log_lines(log)
        assert [line for line in before_the_failure if line["level"] in ("error", "critical")] == []
        assert "Traceback" not in log.read_text(encoding="utf-8")
        gateway_log = http.log_path
        assert [line for line in log_lines(gateway_log) if line["level"] != "info"] == []
        assert "Traceback" not in gateway_log.read_text(encoding="utf-8")
        for path in (log, gateway_log):
            assert NOTES not in path.read_text(encoding="utf-8"), path

        # A real failure: the clients' read model is gone from under the service.
        with sqlite3.connect(data_dir / "cases.sqlite") as database:
            database.execute("DROP TABLE client_row")
        with (calls(amqp_uri, WORKER, f"failure-{run}") as worker,
              pytest.raises(Exception) as failure):
            worker.cases.list_clients({})
        assert not isinstance(failure.value, CasebookError)

    errors = [line for line in log_lines(log)[len(before_the_failure):]
              if line.get("correlation_id") == f"failure-{run}" and line["level"] == "error"]
    assert len(errors) == 1, errors
    assert "no such table: client_row" in errors[0]["error"]
    assert errors[0]["error"].startswith("Traceback")
    assert "code" not in errors[0]
