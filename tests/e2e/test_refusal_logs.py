"""A refused call is the service working, not failing: the cases service, run as `casebook up`
runs it, logs each refusal once at info with its code and correlation id and no traceback,
while a real failure still logs an error with its traceback."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from contracts.errors import CasebookError, Conflict, InvalidInput, NotAllowed, NotFound
from services.runtime.cli.journeys import OPENED_ON, intervention, open_case, register_student
from tests.support.services import AUDITOR, WORKER, config, processes


def log_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of a service's log (the process also prints a few lines before logging
    is configured)."""
    lines = []
    for text in path.read_text(encoding="utf-8").splitlines():
        if text.startswith("{"):
            lines.append(json.loads(text))
    return lines


def calls(amqp_uri: str, actor: dict[str, Any], correlation_id: str) -> ClusterRpcProxy:
    return ClusterRpcProxy(config(amqp_uri), timeout=30,
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
    with processes(amqp_uri, data_dir, "cases") as started:
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
        assert [refusal.code for refusal in refusals] == [
            "invalid_input", "not_found", "not_allowed", "missing_step"]

        def refusal_lines() -> list[dict[str, Any]]:
            return [line for line in log_lines(log) if "code" in line]

        refusals_logged = refusal_lines()
        assert [(line["correlation_id"], line["code"]) for line in refusals_logged] == [
            (f"bad-input-{run}", "invalid_input"),
            (f"not-found-{run}", "not_found"),
            (f"forbidden-{run}", "not_allowed"),
            (f"out-of-order-{run}", "missing_step"),
        ]
        for line in refusals_logged:
            assert line["level"] == "info", line
            assert "error" not in line
        before_the_failure = log_lines(log)
        assert [line for line in before_the_failure if line["level"] in ("error", "critical")] == []
        assert "Traceback" not in log.read_text(encoding="utf-8")

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
