"""Structured logs: one JSON object a line, with the service and the command's correlation id."""

import json
import logging
import sys

from services.runtime.context import Actor, acting_as
from services.runtime.logs import JsonFormatter


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
