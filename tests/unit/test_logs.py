"""Structured logs: one JSON object a line, with the service and the command's correlation id."""

import json
import logging
import sqlite3
import sys
from collections.abc import Callable

import psycopg
import pytest
from amqp import spec
from amqp.abstract_channel import IGNORED_METHOD_DURING_CHANNEL_CLOSE
from eventsourcing.persistence import OperationalError
from nameko.rpc import RpcReply

from contracts.errors import Conflict, InvalidInput, NotAllowed, NotFound, Unavailable
from services.runtime.context import Actor, acting_as
from services.runtime.logs import JsonFormatter
from services.runtime.persistence import CursorMoved
from tests.support.logs import configured_filters


def record(message: str, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("casebook.test", logging.WARNING, __file__, 1, message, (), exc_info)


def test_a_log_line_is_json_with_service_and_correlation_id(monkeypatch):
    monkeypatch.setenv("CASEBOOK_SERVICE", "cases")
    formatter = JsonFormatter()
    with acting_as(Actor("worker-1", "social_worker", "JD001"), correlation_id="req-42"):
        line = json.loads(formatter.format(record("case 学生-1 opened")))
    assert line["service"] == "cases"
    assert line["level"] == "warning"
    assert line["message"] == "case 学生-1 opened"
    assert line["correlation_id"] == "req-42"
    assert line["at"].endswith("+00:00")


def test_outside_a_command_there_is_no_correlation_id_and_errors_keep_their_trace():
    try:
        raise RuntimeError("broker gone")
    except RuntimeError:
        line = json.loads(JsonFormatter().format(record("relay failed", sys.exc_info())))
    assert "correlation_id" not in line
    assert "RuntimeError: broker gone" in line["error"]


class WorkerStandIn:
    """What nameko's WorkerContext offers the filter."""

    def __init__(self) -> None:
        self.service_name = "cases"
        self.entrypoint = type("Entrypoint", (), {"method_name": "open_case"})()
        self.context_data = {"correlation_id": "req-7"}
        self.call_id_stack = ["cases.open_case.1"]


def filtered(logger_name: str, level: int, log: Callable[[logging.Logger], None],
             child: bool = True) -> list[logging.LogRecord]:
    """What `log` emits through the filters deploy/config.yaml puts on `logger_name`, at
    `level` (on a child logger of it, which the test owns; on the logger itself for a library's
    own code that logs there)."""
    records: list[logging.LogRecord] = []
    logger = logging.getLogger(f"{logger_name}.test" if child else logger_name)
    previous = logger.level
    logger.setLevel(level)
    for configured in configured_filters(logger_name):
        logger.addFilter(configured)
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        log(logger)
    finally:
        logger.removeHandler(handler)
        logger.filters.clear()
        logger.setLevel(previous)
    return records


def nameko_logs(error: Exception, level: int = logging.INFO) -> list[logging.LogRecord]:
    """What nameko's container logger emits for a worker that raised `error`."""

    def worker_raised(logger: logging.Logger) -> None:
        try:
            raise error
        except Exception as exc:
            logger.exception("error handling worker %s: %s", WorkerStandIn(), exc)

    return filtered("nameko.containers", level, worker_raised)


@pytest.mark.parametrize("refusal", [
    InvalidInput.from_messages({"opened_on": ["Not a valid date."]}),
    NotAllowed("Role 'auditor' may not do this."),
    NotFound("No case c-1."),
    Conflict("Intake is not accepted yet.", code="missing_step"),
], ids=lambda error: error.code)
def test_a_refusal_is_one_info_line_with_its_code_and_correlation_id(refusal):
    (record,) = nameko_logs(refusal)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "info"
    assert line["code"] == refusal.code and line["status"] == refusal.status
    assert line["correlation_id"] == "req-7"
    assert line["message"] == f"cases.open_case refused ({refusal.code}): {refusal.detail}"
    assert "error" not in line


def test_the_correlation_id_of_the_command_context_wins():
    with acting_as(Actor("worker-1", "social_worker", "JD001"), correlation_id="req-42"):
        (record,) = nameko_logs(NotFound("No case c-1."))
        line = json.loads(JsonFormatter().format(record))
    assert line["correlation_id"] == "req-42"


@pytest.mark.parametrize("failure", [RuntimeError("database is locked"),
                                     Unavailable("the broker is gone")], ids=["bug", "5xx"])
def test_a_failure_stays_an_error_with_its_traceback(failure):
    (record,) = nameko_logs(failure)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "error"
    assert f"{type(failure).__name__}: {failure}" in line["error"]
    assert "Traceback" in line["error"]


def test_a_call_its_store_was_away_for_is_one_warning_without_a_traceback():
    try:
        raise Unavailable("The cases service cannot use its store just now.") from (
            psycopg.OperationalError("connection refused"))
    except Unavailable as outage:
        (record,) = nameko_logs(outage)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "warning"
    assert line["message"] == "cases.open_case: the store is unavailable (connection refused)"
    assert line["code"] == "unavailable" and line["correlation_id"] == "req-7"
    assert "error" not in line


def test_a_delivery_that_waits_for_its_store_is_one_warning_without_a_traceback(tmp_path):
    # A subscription's worker raises the store's error itself; the subscription waits and
    # tries again (services.runtime.subscription). SQLite's own error, from a real database.
    connection = sqlite3.connect(tmp_path / "store.sqlite")
    connection.execute("PRAGMA max_page_count = 1")
    try:
        try:
            connection.execute("CREATE TABLE t (x)")
        except sqlite3.OperationalError as full:
            raise OperationalError(str(full)) from full
    except OperationalError as outage:
        (record,) = nameko_logs(outage)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "warning"
    assert line["message"] == "cases.open_case: the store is unavailable (database or disk is full)"
    assert "code" not in line and "error" not in line


def test_a_race_lost_to_another_instance_is_not_logged_at_info():
    # With two instances, both catching up on start: the cursor decides, the loser reads again.
    assert nameko_logs(CursorMoved("cursor for cases is no longer at 744: another worker "
                                   "processed this position first")) == []


def test_a_race_lost_is_one_debug_line_without_a_traceback():
    moved = CursorMoved("cursor for cases is no longer at 744: another worker processed "
                        "this position first")
    (record,) = nameko_logs(moved, level=logging.DEBUG)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "debug"
    assert line["message"] == f"cases.open_case: {moved}; read again"
    assert "error" not in line


def amqp_logs(method: tuple[int, int], level: int = logging.INFO) -> list[logging.LogRecord]:
    """What the amqp library's logger emits for `method` received while it closes a channel."""
    return filtered("amqp", level, lambda logger: logger.warning(
        IGNORED_METHOD_DURING_CHANNEL_CLOSE, method, 1))


def test_the_confirmation_of_a_returned_call_is_not_a_warning():
    assert amqp_logs(spec.Basic.Ack) == []
    (record,) = amqp_logs(spec.Basic.Ack, level=logging.DEBUG)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "debug"
    assert line["message"] == ("Received method (60, 80) during closing channel 1. "
                               "This method will be ignored")


@pytest.mark.parametrize("method", [spec.Basic.Nack, spec.Basic.Deliver, spec.Basic.Return],
                         ids=["nack", "deliver", "return"])
def test_any_other_method_received_during_a_close_stays_a_warning(method):
    (record,) = amqp_logs(method)
    assert json.loads(JsonFormatter().format(record))["level"] == "warning"


class Replied:
    """The event nameko's RpcReply waits on, its reply already come."""

    def __init__(self, body: dict) -> None:
        self.body = body

    def wait(self) -> dict:
        return self.body


def test_a_reply_received_is_logged_at_debug_without_what_it_holds():
    client = {"client_id": "c-1", "name": "王小明", "guardians": [{"contact": "138-0000-0000"}]}
    answers = []
    records = filtered("nameko.rpc", logging.DEBUG, lambda _: answers.append(
        RpcReply(Replied({"result": client, "error": None})).result()), child=False)
    assert answers == [client]  # the caller gets the whole reply
    messages = [json.loads(JsonFormatter().format(record))["message"] for record in records]
    assert any(message.startswith("RPC reply event complete <nameko.rpc.RpcReply object")
               for message in messages), messages
    assert [message for message in messages if "c-1" in message or "王小明" in message] == []
