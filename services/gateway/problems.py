"""The one place where errors become HTTP responses: `application/problem+json` (RFC 9457).

Services raise `contracts.errors` types and nameko hands them to the gateway as the same types,
with their `status` and stable `code`; the gateway's own transport errors below have the same
shape. Anything else (a service crashed, a remote error of an unregistered type, a bug here) is a
generic problem with an id the operator finds in the log: never a stack trace to the client.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from typing import Any

import eventlet
from nameko.exceptions import RemoteError, UnknownService
from werkzeug.wrappers import Response

from contracts.errors import CasebookError, Unavailable
from services.runtime.broker import BROKER_ERRORS
from services.runtime.persistence import store_unavailable

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
# When a 503 does not say otherwise: long enough for a restarting service or broker.
RETRY_AFTER_SECONDS = 5


class Unauthenticated(CasebookError):
    status = 401
    default_code = "unauthenticated"


class MalformedRequest(CasebookError):
    status = 400
    default_code = "malformed_request"


class RouteNotFound(CasebookError):
    status = 404
    default_code = "route_not_found"


class MethodNotAllowed(CasebookError):
    status = 405
    default_code = "method_not_allowed"

    def __init__(self, detail: str, allowed: list[str]) -> None:
        super().__init__(detail)
        self.allowed = allowed


class PayloadTooLarge(CasebookError):
    status = 413
    default_code = "payload_too_large"


class UnsupportedMediaType(CasebookError):
    status = 415
    default_code = "unsupported_media_type"


class RequestTooDeep(CasebookError):
    status = 400
    default_code = "request_too_deep"


class UriTooLong(CasebookError):
    status = 414
    default_code = "uri_too_long"


class HeadersTooLarge(CasebookError):
    status = 431
    default_code = "headers_too_large"


class BadGateway(CasebookError):
    status = 502
    default_code = "bad_gateway"


class GatewayTimeout(CasebookError):
    status = 504
    default_code = "gateway_timeout"


def as_casebook_error(error: BaseException, service: str | None = None) -> CasebookError:
    """Any exception as the CasebookError the client sees; unexpected ones are logged here."""
    if isinstance(error, CasebookError):
        return error
    where = f"the {service} service" if service else "a service"
    if isinstance(error, UnknownService):
        return Unavailable(f"{where.capitalize()} is not running.")
    if isinstance(error, eventlet.Timeout):
        return GatewayTimeout(f"{where.capitalize()} did not answer in time.")
    if isinstance(error, BROKER_ERRORS):
        log.warning("the message broker is not reachable: %s", error)
        return Unavailable("The message broker is not reachable: nothing was sent, nothing "
                           "was done.")
    if store_unavailable(error):
        # The gateway's own store (its Idempotency-Keys), before it sends a command: once a
        # command was sent, what the key came to is kept or not without a failure
        # (dispatch._keep).
        log.warning("the gateway's store is unavailable: %s", error)
        return Unavailable("The gateway cannot use its store just now: nothing was sent, "
                           "nothing was done.")
    incident = str(uuid.uuid4())
    if isinstance(error, RemoteError):
        log.error("remote error from %s (incident %s): %s", where, incident, error)
        return BadGateway(f"{where.capitalize()} failed to handle the call (incident {incident}).")
    log.exception("gateway error (incident %s)", incident, exc_info=error)
    return BadGateway(f"The gateway failed to handle the request (incident {incident}).")


def problem_response(error: BaseException, service: str | None = None) -> Response:
    problem = as_casebook_error(error, service)
    headers: dict[str, str] = {}
    if isinstance(problem, MethodNotAllowed):
        headers["Allow"] = ", ".join(problem.allowed)
    if isinstance(problem, Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="casebook"'
    retry_after = getattr(problem, "retry_after", None)
    if retry_after is None and problem.status == 503:
        retry_after = RETRY_AFTER_SECONDS
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return json_response(problem.as_problem(), problem.status, PROBLEM_JSON, headers)


def json_response(
    body: Any, status: int = 200, content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(text, status=status, headers=headers, content_type=content_type)
