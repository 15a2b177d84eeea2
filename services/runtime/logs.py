"""Structured JSON logs, one object a line, with the service and correlation id when known."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from amqp import spec
from amqp.abstract_channel import IGNORED_METHOD_DURING_CHANNEL_CLOSE

from contracts.errors import CasebookError, Unavailable
from services.runtime.context import _meta
from services.runtime.persistence import CursorMoved, store_unavailable
from services.runtime.settings import settings

# nameko 2.14's debug line for a reply received (nameko/rpc.py, RpcReply.result): the reply
# object, then its body.
REPLY_RECEIVED = "RPC reply event complete %s %s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": settings().runtime.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        meta = _meta.get()
        correlation_id = getattr(record, "correlation_id", None)
        if correlation_id is None and meta is not None:
            correlation_id = meta.correlation_id
        if correlation_id is not None:
            entry["correlation_id"] = correlation_id
        for key in ("code", "status"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class RefusalsAreNotErrors(logging.Filter):
    """On nameko's container logger (deploy/config.yaml): a worker that refused its call with a
    CasebookError below 500 (invalid input, not allowed, not found, wrong state) did its job, yet
    nameko logs every exception a worker raises as "error handling worker", with a traceback.
    Such a record becomes one info line with the refusal's code and the call's correlation id,
    no traceback, so that error lines are failures only; 5xx and unexpected exceptions keep
    their level and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, CasebookError) or error.status >= 500:
            return True
        call = _call(record)
        record.code, record.status = error.code, error.status
        return _demoted(record, logging.INFO, "%s refused (%s): %s",
                        (call, error.code, error.detail))


class StoreOutagesAreWarnings(logging.Filter):
    """On nameko's container logger (deploy/config.yaml): a worker that failed because the
    service's own store was unavailable (PostgreSQL down or restarting, SQLite's disk full:
    `store_unavailable`) did not fail of itself; what is under the store did, and the work
    succeeds once that is mended. A call answered 503 for it
    (services.runtime.service.store_outage_as_unavailable), or a subscription's delivery that
    waits for the store (services.runtime.subscription, which logs its own warning as it
    waits), is one warning line with the call, its correlation id and the store's error, no
    traceback: error lines stay for failures of Casebook's own."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is None or not store_unavailable(error):
            return True
        call = _call(record)
        if isinstance(error, Unavailable):
            record.code, record.status = error.code, error.status
            error = error.__cause__
        return _demoted(record, logging.WARNING, "%s: the store is unavailable (%s)",
                        (call, error))


class LostRacesAreNotErrors(logging.Filter):
    """On nameko's container logger (deploy/config.yaml): a subscription's worker whose cursor
    had moved (another instance processed the position first: both catching up on start, or a
    queue handed over while its first consumer finished a delivery) lost the race the cursor's
    compare-and-set exists to decide; the subscription reads the cursor again and goes on
    (services.runtime.subscription). One debug line, no traceback: not an error an operator
    should be woken for."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, CursorMoved):
            return True
        return _demoted(record, logging.DEBUG, "%s: %s; read again", (_call(record), error))


class ReturnedCallsAreNotWarnings(logging.Filter):
    """On the amqp library's logger (deploy/config.yaml): a call to a service that has not
    started yet (a subscription catching up on start, the gateway while a service restarts) is
    published mandatory with confirms and comes back unroutable ("Unknown service"), which the
    caller is told and retries. The library then closes the channel and the broker's
    confirmation of that returned message arrives during the close: amqp logs "Received method
    (60, 80) during closing channel" as a warning, a few at every start. It says nothing an
    operator can act on, so it is a debug line; any other method received during a close keeps
    its warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (record.msg != IGNORED_METHOD_DURING_CHANNEL_CLOSE or not isinstance(record.args, tuple)
                or not record.args or record.args[0] != spec.Basic.Ack):
            return True
        return _demoted(record, logging.DEBUG, record.msg, record.args)


class RepliesWithoutTheirContent(logging.Filter):
    """On nameko's RPC logger (deploy/config.yaml): at debug, nameko logs every reply a caller
    waited for with its whole body ("RPC reply event complete"), and a reply holds what the
    call read: a client's name, a guardian's telephone, a case's notes. Personal content goes
    to no log at any level (logs are kept and shipped where sealed content never goes), so the
    line keeps the reply and loses its body."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == REPLY_RECEIVED and isinstance(record.args, tuple):
            record.msg, record.args = "RPC reply event complete %s", record.args[:1]
        return True


def _call(record: logging.LogRecord) -> str:
    """`service.method` of the worker nameko's record is about; a caller without a (valid)
    actor has no command context, so the call's own id stands in as the correlation id."""
    worker_ctx: Any = record.args[0] if isinstance(record.args, tuple) and record.args else None
    if not hasattr(worker_ctx, "entrypoint"):
        return "a call"
    if _meta.get() is None:
        record.correlation_id = (worker_ctx.context_data.get("correlation_id")
                                 or worker_ctx.call_id_stack[0])
    return f"{worker_ctx.service_name}.{worker_ctx.entrypoint.method_name}"


def _demoted(record: logging.LogRecord, level: int, message: str, args: tuple[Any, ...]) -> bool:
    """The record at `level` with `message`, without its traceback; whether it is still logged."""
    record.levelno, record.levelname = level, logging.getLevelName(level)
    record.msg, record.args = message, args
    record.exc_info, record.exc_text = None, None
    return logging.getLogger(record.name).isEnabledFor(level)
