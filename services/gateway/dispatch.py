"""One HTTP request, start to finish: route, authenticate, read, forward over RPC, answer.

Transport is the gateway's (404, 405, 401, 413, 415, malformed JSON, paging parameters);
everything about the command itself (fields, rules, who may do it) is the service's, which
answers with a `contracts.errors` type that `problems.py` turns into HTTP. Only a role the
service declares it refuses is refused here too, first, so that no transport check answers a
caller who may not use the route at all.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import eventlet
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from contracts.errors import CasebookError, InvalidInput, NotAllowed, Unavailable, refusal_from
from services.gateway import schemas
from services.gateway.app import Attempt, IdempotencyApplication, Replay, Unsettled
from services.gateway.auth import Keys, authenticate
from services.gateway.openapi import (
    IDEMPOTENCY_KEY_PATTERN,
    REFERENCE_PAGE_POLICY,
    Catalogue,
    document,
    reference_page,
)
from services.gateway.problems import (
    GatewayTimeout,
    MalformedRequest,
    PayloadTooLarge,
    RequestTooDeep,
    UnsupportedMediaType,
    as_casebook_error,
    json_response,
    problem_response,
)
from services.gateway.routes import BACKENDS, Route, Router
from services.runtime.context import Actor, acting_as
from services.runtime.persistence import log_failure
from services.runtime.settings import Gateway as Settings

log = logging.getLogger(__name__)

CORRELATION_HEADER = "X-Correlation-Id"
CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
DESCRIBE_TIMEOUT = 5.0
MAX_EXACT_INTEGER = 2**53
# Casebook's payloads nest a few levels (a plan's goals, a guardian's contact); a deeper body is
# an attack on the parser, refused before it reaches one.
MAX_JSON_DEPTH = 32
# How long past a request's deadline its reply may still arrive: a command that committed just
# in time is answered, not settled.
REPLY_GRACE = 2.0
# Any length Python converts (its limit is 4300 digits): a schema without a maximum takes them.
QUERY_INTEGER = re.compile(r"-?[0-9]{1,4300}")
QUERY_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")


@dataclass(frozen=True)
class Outgoing:
    """What a forwarded call carries besides its arguments (DESIGN.md "Delivery" 0)."""

    actor: Actor | None
    correlation_id: str
    deadline: float  # epoch seconds; the caller waits until then and a little more
    command_id: str | None = None


# call(service, method, args, outgoing) → the RPC's result; GatewayTimeout if none came in time.
Call = Callable[[str, str, tuple[Any, ...], Outgoing], Any]


class Gateway:
    def __init__(self, keys: Keys, idempotency: IdempotencyApplication, settings: Settings,
                 router: Router | None = None,
                 wall_time: Callable[[], float] = time.time) -> None:
        self.keys = keys
        self.idempotency = idempotency
        self.settings = settings
        self.router = router or Router()
        self.catalogue = Catalogue()
        # Real time, in epoch seconds, for deadlines: not the settable domain clock.
        self.wall_time = wall_time

    def handle(self, request: Request, call: Call, actor: Actor | None = None) -> Response:
        """Answer `request`; with `actor`, as that signed-in person (the console) instead of the
        bearer token's."""
        correlation_id = request.headers.get(CORRELATION_HEADER, "")
        if not CORRELATION_ID.match(correlation_id):
            correlation_id = str(uuid.uuid4())
        service = None
        try:
            route, values = self.router.match(request.method, request.path)
            service = route.service_for(values)
            response = self._handle(request, route, values, call, correlation_id, actor)
        except Exception as error:
            response = problem_response(error, service)
        response.headers[CORRELATION_HEADER] = correlation_id
        return response

    def _handle(self, request: Request, route: Route, values: dict[str, str], call: Call,
                correlation_id: str, actor: Actor | None) -> Response:
        if route.service == "gateway":
            return self._own(route, request, call, correlation_id)
        if actor is None:
            actor = authenticate(request.headers.get("Authorization"), self.keys)
        service = route.service_for(values)
        self._authorise(route, service, actor, call, correlation_id)
        if route.method == "POST":
            body = self._json_body(request)
            arguments = self._arguments(route, values, body, None)
            command = _Command(service, route, arguments, actor, correlation_id)
            key = request.headers.get("Idempotency-Key")
            if key is None:
                attempt = Attempt(str(uuid.uuid4()), self._deadline())
                return json_response(self._carry_out(command, attempt, call), route.status)
            return self._idempotent(command, key, request, body, call)
        query = self._query(route, request.args, service, call, correlation_id)
        outgoing = Outgoing(actor, correlation_id, self._deadline(route.timeout))
        result = call(service, route.rpc, self._arguments(route, values, None, query), outgoing)
        if route.returns == "csv":
            return Response(str(result), route.status, content_type="text/csv; charset=utf-8")
        return json_response(self._shaped(route, result, query), route.status)

    def _authorise(self, route: Route, service: str, actor: Actor, call: Call,
                   correlation_id: str) -> None:
        """Permission before validation: a role that the route, or its service for the RPC
        (`describe()`), does not allow is refused before the body or query is read, so that a
        refusal tells nothing of what the route would accept. An RPC that declares no roles
        checks its caller itself, against its arguments (a record's scope)."""
        roles = route.roles
        if roles is None and route.call == "payload":
            entry = self.catalogue.command(service, route.rpc,
                                           self._describer(call, correlation_id))
            roles = tuple(entry["roles"]) if entry and entry.get("roles") else None
        if roles and actor.role not in roles:
            raise NotAllowed(
                f"Role {actor.role!r} may not do this; it needs one of: {', '.join(roles)}."
            )

    # The gateway's own routes: no token needed.

    def _own(self, route: Route, request: Request, call: Call, correlation_id: str) -> Response:
        if route.rpc == "healthz":
            return json_response({"status": "ok"})
        if route.rpc == "readyz":
            return self._readiness(call, correlation_id)
        spec = document(self.catalogue, self._describer(call, correlation_id), request.host_url)
        if route.rpc == "openapi":
            return json_response(spec)
        return Response(reference_page(spec), content_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": REFERENCE_PAGE_POLICY})

    def _deadline(self, seconds: float | None = None) -> float:
        return self.wall_time() + (self.settings.rpc_timeout if seconds is None else seconds)

    def _readiness(self, call: Call, correlation_id: str) -> Response:
        def ping(service: str) -> tuple[str, str]:
            outgoing = Outgoing(None, correlation_id, self._deadline(self.settings.ready_timeout))
            try:
                answer = call(service, "ping", (), outgoing)
            except Exception as error:
                if isinstance(error, (GatewayTimeout, eventlet.Timeout)):
                    return service, f"no answer within {self.settings.ready_timeout:g}s"
                if isinstance(error, Unavailable):
                    return service, "not running"
                return service, f"error: {type(error).__name__}"
            return service, "ok" if answer == "pong" else f"unexpected answer {answer!r}"

        pool = eventlet.GreenPool(len(BACKENDS))
        services = dict(pool.imap(ping, BACKENDS))
        down = sorted(name for name, state in services.items() if state != "ok")
        if not down:
            return json_response({"status": "ready", "services": services})
        problem = Unavailable(f"Not ready: {', '.join(down)} did not answer.").as_problem()
        return json_response({**problem, "services": services}, 503, "application/problem+json")

    def _describer(self, call: Call, correlation_id: str) -> Callable[[str], dict[str, Any]]:
        def describe(service: str) -> dict[str, Any]:
            outgoing = Outgoing(None, correlation_id, self._deadline(DESCRIBE_TIMEOUT))
            result: dict[str, Any] = call(service, "describe", (), outgoing)
            return result

        return describe

    # Reading the request.

    def _json_body(self, request: Request) -> Any:
        limit = self.settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise PayloadTooLarge(f"The body is over the limit of {limit} bytes.")
        data = request.stream.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLarge(f"The body is over the limit of {limit} bytes.")
        if not data.strip():
            return {}
        mimetype = request.mimetype
        if mimetype != "application/json" and not mimetype.endswith("+json"):
            raise UnsupportedMediaType(
                f"Send the body as application/json, not {mimetype or 'no content type'}."
            )
        try:
            document = json.loads(data.decode("utf-8"), parse_float=_number,
                                  parse_constant=_no_constant)
        except (UnicodeDecodeError, ValueError) as error:
            raise MalformedRequest(f"The body is not valid JSON: {error}.") from None
        except RecursionError:
            raise _too_deep() from None
        if _depth(document) > MAX_JSON_DEPTH:
            raise _too_deep()
        return document

    def _query(self, route: Route, args: MultiDict[str, str], service: str, call: Call,
               correlation_id: str) -> dict[str, Any]:
        query = {name: args.getlist(name) for name in args}
        controls: dict[str, Any] = {}
        schema = (self.catalogue.schema(service, route.rpc, self._describer(call, correlation_id))
                  if route.call == "payload" else None)
        properties = (schema or {}).get("properties", {})
        # Lists are paged by their service (`after`, `limit`: part of the payload); the events
        # of a source are the gateway's own pages.
        control_schema = schemas.EventParams if route.returns == "events" else None
        if control_schema is not None:
            names = control_schema._declared_fields
            raw = {name: _single(name, query.pop(name)) for name in list(query) if name in names}
            controls = _load(control_schema, raw)
        if route.call != "payload":
            if query:
                raise InvalidInput.from_messages(
                    {name: ["Unknown query parameter."] for name in query}
                )
            return {"_controls": controls}
        filters = {name: _coerce(name, values, properties.get(name, {}))
                   for name, values in query.items()}
        return {"_controls": controls, **filters}

    def _arguments(self, route: Route, values: dict[str, str], body: Any,
                   query: dict[str, Any] | None) -> tuple[Any, ...]:
        path = {name: values[name] for name in route.path_params if name != "service"}
        if route.returns == "events":
            controls = (query or {}).get("_controls", {})
            return controls["after"], controls["limit"]
        if route.call == "none":
            return ()
        if route.call == "args":
            return tuple(path.values())
        payload = body if query is None else {k: v for k, v in query.items() if k != "_controls"}
        if not isinstance(payload, dict):
            raise InvalidInput.from_messages({"_schema": ["The body must be a JSON object."]})
        for name, value in path.items():
            if name in payload and payload[name] != value:
                raise InvalidInput.from_messages(
                    {name: [f"Must be {value!r} as in the path, or left out."]}
                )
        return ({**payload, **path},)

    def _shaped(self, route: Route, result: Any, query: dict[str, Any]) -> Any:
        controls = query.get("_controls", {})
        if route.returns == "events":
            after = result[-1]["position"] if result else controls["after"]
            return {"items": result, "next_after": after}
        return result

    # Exactly once (DESIGN.md "Delivery" 0): every command goes with a command id and a
    # deadline. When anything but the service's own answer comes back (no answer, a crash, a
    # broker that went away), the gateway does not guess: it asks the service what became of
    # that command id, and the service either gives the outcome or abandons the id for good. So
    # every 5xx a client sees means "not carried out, and never will be: safe to retry", except
    # 503 `outcome_unknown`: "ask again, with the same Idempotency-Key".

    def _carry_out(self, command: _Command, attempt: Attempt, call: Call) -> Any:
        outgoing = Outgoing(command.actor, command.correlation_id, attempt.deadline,
                            attempt.command_id)
        try:
            return call(command.service, command.route.rpc, command.arguments, outgoing)
        except CasebookError as error:
            if error.status < 500:
                raise  # the service refused it: nothing was done, and that is its answer
            failure: CasebookError = error
        except Exception as error:  # a crash in the service, or the broker: settled below
            failure = as_casebook_error(error, command.service)
        return self._settle(command, attempt.command_id, call, failure)

    def _settle(self, command: _Command, command_id: str, call: Call,
                failure: CasebookError) -> Any:
        """The outcome of `command_id` if the service carried it out (its refusal, raised, if it
        refused it); `failure`, saying so, once the service has abandoned it for good;
        CannotSettle when the service cannot say now."""
        outgoing = Outgoing(command.actor, command.correlation_id,
                            self._deadline(self.settings.settle_timeout))
        try:
            settled = call(command.service, "settle_command", (command_id, command.route.rpc),
                           outgoing)
        except Exception:  # whatever stops the service from answering: it cannot say now
            raise CannotSettle(
                f"{failure.detail} The {command.service} service cannot say now whether it "
                "carried the command out; it will not carry it out later than its deadline. "
                "Retry with the same Idempotency-Key to learn the outcome.",
                retry_after=self.settings.settle_timeout,
            ) from None
        if settled["state"] == "done":
            return settled["outcome"]
        if settled["state"] == "refused":
            raise refusal_from(settled["outcome"])
        failure.detail += " It was not carried out, and now never will be: it is safe to retry."
        raise failure

    def _idempotent(self, command: _Command, key: str, request: Request, body: Any,
                    call: Call) -> Response:
        if not IDEMPOTENCY_KEY.fullmatch(key):
            raise MalformedRequest("Idempotency-Key must be 1 to 255 visible ASCII characters.")
        canonical = json.dumps([request.method, request.path, body], sort_keys=True,
                               separators=(",", ":"), ensure_ascii=False)
        fingerprint = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        actor, route = command.actor, command.route
        with acting_as(actor):
            decision = self.idempotency.reserve(actor, key, fingerprint, self._deadline(),
                                                REPLY_GRACE, self.wall_time())
            if isinstance(decision, Unsettled):
                decision = self._settled_earlier(command, key, decision, call)
            if isinstance(decision, Replay):
                response = json_response(decision.body, decision.status,
                                         _content_type(decision.status))
                response.headers["Idempotent-Replayed"] = "true"
                return response
            try:
                result = self._carry_out(command, decision, call)
            except CannotSettle:
                # The next request with this key settles it first, without waiting.
                _keep(self.idempotency.leave_unanswered, actor, key)
                raise
            except CasebookError as error:
                if error.status >= 500:
                    _keep(self.idempotency.release, actor, key)  # never carried out
                else:
                    _keep(self.idempotency.complete, actor, key, error.status,
                          error.as_problem())
                raise
            _keep(self.idempotency.complete, actor, key, route.status, result)
        return json_response(result, route.status)

    def _settled_earlier(self, command: _Command, key: str, unsettled: Unsettled,
                         call: Call) -> Replay | Attempt:
        """An earlier attempt under this key got no answer (its gateway may have crashed): its
        outcome now, or a new attempt if it was never carried out."""
        actor = command.actor
        earlier_failure = GatewayTimeout("An earlier attempt got no answer.")
        try:
            outcome = self._settle(command, unsettled.command_id, call, earlier_failure)
        except CannotSettle:
            raise
        except CasebookError as answer:
            if answer is earlier_failure:
                return self.idempotency.retry(actor, key, self._deadline())
            self.idempotency.complete(actor, key, answer.status, answer.as_problem())
            return Replay(answer.status, answer.as_problem())
        self.idempotency.complete(actor, key, command.route.status, outcome)
        return Replay(command.route.status, outcome)


def _keep(record: Callable[..., None], *arguments: Any) -> None:
    """Keep what a key's request came to. Its answer is true whether or not that is kept: were
    the gateway's own store to fail here (PostgreSQL restarting), answering a 502 instead would
    tell a client whose command was carried out that it was not, and a retry under a new key
    would do it twice. Not kept, the key stays reserved, and a retry with it settles the command
    with its service (`_settled_earlier`) and gets the same answer."""
    try:
        record(*arguments)
    except Exception as error:
        log_failure(log, error, "the answer to an Idempotency-Key could not be kept",
                    "a retry with the key settles the command with its service")


@dataclass(frozen=True)
class _Command:
    service: str
    route: Route
    arguments: tuple[Any, ...]
    actor: Actor
    correlation_id: str


class CannotSettle(Unavailable):
    """503: the service could not say what became of a command; Retry-After says when to ask."""

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail, code="outcome_unknown")
        self.retry_after = retry_after


def _too_deep() -> RequestTooDeep:
    return RequestTooDeep(
        f"The body nests arrays and objects more than {MAX_JSON_DEPTH} levels deep."
    )


def _depth(document: Any) -> int:
    """How deep arrays and objects nest, without recursion (the body may be hostile)."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _content_type(status: int) -> str:
    return "application/problem+json" if status >= 400 else "application/json"


def _number(literal: str) -> int | float:
    """A JSON number with a fraction or exponent, read as JSON Schema reads it: 4.0 is the
    integer 4 (JavaScript clients cannot even tell them apart), so an integer field of a command
    accepts it. The literal is compared exactly (4.0000000000000001 stays a float), and only up
    to the integers a float holds exactly, so a huge exponent is never expanded."""
    exact = Decimal(literal)
    if exact.copy_abs() <= MAX_EXACT_INTEGER and exact == exact.to_integral_value():
        return int(exact)
    return float(literal)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _single(name: str, values: list[str]) -> str:
    if len(values) != 1:
        raise InvalidInput.from_messages({name: ["Give this parameter once."]})
    return values[0]


def _load(schema: type[Schema], raw: dict[str, str]) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema().load(raw)
    except ValidationError as error:
        raise InvalidInput.from_messages(error.normalized_messages()) from None
    return loaded


def _coerce(name: str, values: list[str], schema: dict[str, Any]) -> Any:
    """A query value as the JSON type the service's schema expects; the service validates it."""
    kinds = schema.get("type", "string")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "array" in kinds:
        return [v for value in values for v in value.split(",") if v]
    value = _single(name, values)
    if ("integer" in kinds or "number" in kinds) and QUERY_INTEGER.fullmatch(value):
        return int(value)
    if "number" in kinds and QUERY_NUMBER.fullmatch(value):
        return _number(value)
    if "boolean" in kinds and value in ("true", "false"):
        return value == "true"
    return value


def context_data(outgoing: Outgoing) -> dict[str, Any]:
    """The nameko context data every forwarded call carries (DESIGN.md "Actors", "Delivery")."""
    data: dict[str, Any] = {"correlation_id": outgoing.correlation_id,
                            "deadline": outgoing.deadline}
    if outgoing.actor is not None:
        data["actor"] = asdict(outgoing.actor)
    if outgoing.command_id is not None:
        data["command_id"] = outgoing.command_id
    return data
