"""What every nameko service class is made of: its application, the command context, and the
RPC that every publishing service offers (`events_since`, `recompute_since`, `ping`, `status`).
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import Token
from datetime import UTC
from functools import wraps
from typing import Any, TypeVar, cast

from eventlet.greenthread import GreenThread
from marshmallow import Schema, ValidationError, fields
from nameko.extensions import DependencyProvider

from contracts.errors import CasebookError, InvalidInput, Unavailable
from contracts.export import json_schema
from contracts.registry import instance
from services import __version__
from services.runtime import views
from services.runtime.commands import carry_out, settle
from services.runtime.context import Meta, _meta, actor_from_context_data, require_role
from services.runtime.entrypoints import COMMAND_ID, deadline_of, rpc
from services.runtime.liveness import Liveness
from services.runtime.metrics import Metrics, observed, relay_lag
from services.runtime.persistence import store_unavailable
from services.runtime.plain import plain
from services.runtime.publishing import Publications
from services.runtime.relay import Relay
from services.runtime.secrets import with_amqp_password
from services.runtime.settings import settings
from services.runtime.stacks import log_stacks_on_signal
from services.runtime.store import CasebookApplication
from services.runtime.subscription import DeadLetters, HaltedSubscriptions
from services.runtime.views import compare

log = logging.getLogger(__name__)

MAX_EVENTS_PER_CALL = 1000
# The largest position either store can hold (SQLite INTEGER, PostgreSQL bigint).
MAX_POSITION = 2**63 - 1
VIEWS_POLL_SECONDS = 1.0
HISTORY_READERS = ("auditor", "archivist", "operator")
VIEW_REBUILDERS = ("operator",)  # replacing live tables is an operation, not an inspection
CommandMethod = TypeVar("CommandMethod", bound=Callable[..., Any])


class ApplicationDependency(DependencyProvider):
    """One application per container, and the relay that publishes its events."""

    def __init__(self, app_class: type[CasebookApplication]) -> None:
        self.app_class = app_class
        self.publications = app_class.publications
        self.relay: Relay | None = None

    def setup(self) -> None:
        log_stacks_on_signal()
        self.app = self.app_class()
        self._stopping = threading.Event()
        self._follower: GreenThread | None = None

    def start(self) -> None:
        if self.publications is not None:
            amqp_uri = with_amqp_password(
                self.container.config.get("AMQP_URI", settings().runtime.amqp_uri))
            self.relay = Relay(self.app, self.publications, amqp_uri)
            self.container.spawn_managed_thread(self.relay.run)
        if self.app.views is not None:
            self._follower = self.container.spawn_managed_thread(self._follow)

    def _follow(self) -> None:
        """The views catch up on start, then follow what other instances write."""
        while not self._stopping.is_set():
            self.app.follow()
            self._stopping.wait(VIEWS_POLL_SECONDS)

    def stop(self) -> None:
        """Stop following once the views' current catch-up is done: nameko kills a managed
        thread still running after its container's dependencies have stopped, and warns of
        it, on every stop of every service."""
        self._stop_threads()
        if self._follower is not None:
            self._follower.wait()

    def kill(self) -> None:
        self._stop_threads()

    def _stop_threads(self) -> None:
        self._stopping.set()
        if self.relay is not None:
            self.relay.stop()

    def get_dependency(self, worker_ctx: Any) -> CasebookApplication:
        return self.app

    def worker_teardown(self, worker_ctx: Any) -> None:
        # A command may have stored events: let the relay look now rather than at its next poll.
        if self.relay is not None:
            self.relay.wake()


class CommandContext(DependencyProvider):
    """Lifts the caller's actor and correlation id from nameko context data into the command
    context for the duration of one worker."""

    def setup(self) -> None:
        self._tokens: dict[int, Token[Meta | None]] = {}

    def worker_setup(self, worker_ctx: Any) -> None:
        # A call this worker makes to another service is a command of its own: it must not
        # carry this one's id (its deadline it does carry, and so gives up with it).
        command_id = worker_ctx.data.pop(COMMAND_ID, None)
        data = worker_ctx.context_data
        try:
            actor = actor_from_context_data(data.get("actor"))
        except Exception:
            return  # commands will refuse: current_meta() finds no actor
        correlation_id = data.get("correlation_id") or worker_ctx.call_id_stack[0]
        # A command's events name the command that caused them.
        causation_id = data.get("causation_id") or command_id
        meta = Meta(actor, str(correlation_id), causation_id,
                    None if command_id is None else str(command_id), deadline_of(data))
        self._tokens[id(worker_ctx)] = _meta.set(meta)

    def worker_teardown(self, worker_ctx: Any) -> None:
        token = self._tokens.pop(id(worker_ctx), None)
        if token is not None:
            _meta.reset(token)


def load(schema: type[Schema], data: Mapping[str, Any] | None) -> dict[str, Any]:
    """A command payload as its schema loads it, or InvalidInput naming every field and rule."""
    if not isinstance(data, Mapping):
        raise InvalidInput(
            "Invalid input. _schema: the command payload must be an object.",
            errors={"_schema": ["The command payload must be an object."]},
        )
    try:
        loaded: dict[str, Any] = instance(schema).load(data)
    except ValidationError as error:
        raise InvalidInput.from_messages(error.normalized_messages()) from None
    return loaded


def command(
    schema: type[Schema], roles: tuple[str, ...] | None = None,
    returns: type[Schema] | None = None,
) -> Callable[[CommandMethod], CommandMethod]:
    """Under `@rpc`, a method that changes something: a caller whose role is not in `roles` is
    refused before anything else (permission before validation); its one argument is a payload
    that `schema` loads (bad input is refused with InvalidInput naming each field and rule,
    before the method runs); it is carried out exactly once per command id
    (`services.runtime.commands`); its answer is dumped by `returns`; and `describe()`
    documents all three for the gateway's OpenAPI. A call without a payload sends an empty one:
    the missing fields are named."""
    return _payload_method(schema, "command", roles, returns)


def query(
    schema: type[Schema], roles: tuple[str, ...] | None = None,
    returns: type[Schema] | None = None,
) -> Callable[[CommandMethod], CommandMethod]:
    """Under `@rpc`, a method that only reads: roles, payload and answer as for `command`, run
    every time it is called. Queries whose filters are all optional work when called bare."""
    return _payload_method(schema, "query", roles, returns)


@contextmanager
def store_outage_as_unavailable(service: object) -> Iterator[None]:
    """A call that failed because the service's own store was unavailable answers 503 (try
    again), not a failure of the service: the caller did nothing wrong, and the same call may
    succeed in a moment. As after any 5xx, the gateway then settles the command with the
    service (carried out, or abandoned for good) before it answers, or answers 503
    `outcome_unknown` while the store is still away; retried with the same command id it is
    carried out once."""
    try:
        yield
    except CasebookError:
        raise
    except Exception as error:
        if not store_unavailable(error):
            raise
        # Logged once, as a warning, by nameko's container logger (logs.StoreOutagesAreWarnings).
        name = getattr(service, "name", type(service).__name__)
        raise Unavailable(f"The {name} service cannot use its store just now.") from error


def _payload_method(
    schema: type[Schema], kind: str, roles: tuple[str, ...] | None,
    returns: type[Schema] | None,
) -> Callable[[CommandMethod], CommandMethod]:
    def decorate(method: CommandMethod) -> CommandMethod:
        # What `describe()` says a call answers is what it answers: its schema's dump; text as
        # it is (a CSV download); or null, from a command with no answer of its own. Checked
        # here, as the service is defined, so a wrong document cannot outlive an import.
        answer = method.__annotations__.get("return", "unannotated")
        unnamed = ("string" if answer in ("str", str)
                   else "null" if kind == "command" and answer in ("None", None) else None)
        if returns is None and unnamed is None:
            raise TypeError(f"{method.__qualname__} answers something: name its schema, "
                            f"@{kind}(..., returns=Schema)")

        @wraps(method)
        def run(self: Any, data: Any = None) -> Any:
            with observed(self, kind, method.__name__), store_outage_as_unavailable(self):
                if roles is not None:
                    require_role(*roles)
                payload = load(schema, {} if data is None else data)
                if kind == "query":
                    answer = method(self, payload)
                else:
                    answer = carry_out(self.app, method.__name__, lambda: method(self, payload))
                return answer if returns is None else instance(returns).dump(answer)

        run.command_schema = schema  # type: ignore[attr-defined]
        run.command_kind = kind  # type: ignore[attr-defined]
        run.command_roles = roles  # type: ignore[attr-defined]
        run.command_returns = returns  # type: ignore[attr-defined]
        run.command_answers = unnamed  # type: ignore[attr-defined]
        return cast(CommandMethod, run)

    return decorate


class PublishingService:
    """RPC every service that publishes events offers. Subclasses declare `app` (whose class
    names what it publishes) and mark their commands with `@command(Schema)` under `@rpc`."""

    app: CasebookApplication
    context = CommandContext()
    metrics = Metrics()
    liveness = Liveness()
    halted = HaltedSubscriptions()
    dead_letters = DeadLetters()

    @property
    def publications(self) -> Publications:
        publications = self.app.publications
        assert publications is not None, f"{self.app.service} publishes nothing"
        return publications

    @rpc
    def ping(self) -> str:
        return "pong"

    @rpc
    def describe(self) -> dict[str, Any]:
        """This service's commands and their payload JSON Schemas: what the gateway documents."""
        methods: dict[str, Any] = {
            name: member
            for name, member in inspect.getmembers(type(self), inspect.isfunction)
            if hasattr(member, "command_schema")
        }
        return {
            "service": self.publications.source,
            "commands": {
                name: {
                    "kind": member.command_kind,
                    "schema": json_schema(member.command_schema),
                    "summary": " ".join((member.command_schema.__doc__ or "").split()),
                    "roles": list(member.command_roles) if member.command_roles else None,
                    "returns": (json_schema(member.command_returns)
                                if member.command_returns
                                else {"type": member.command_answers}),
                }
                for name, member in sorted(methods.items())
            },
        }

    @rpc
    def settle_command(self, command_id: str, name: str) -> dict[str, Any]:
        """For a caller that got no answer by its deadline: the outcome of command `name` with
        that id if it was carried out; otherwise it is abandoned and never carried out later."""
        return settle(self.app, str(command_id), str(name))

    @rpc
    def events_since(self, position: int, limit: int = 100) -> list[dict[str, Any]]:
        """Envelopes published after `position`, oldest first, exactly as published."""
        position, limit = _check_range(position, limit)
        return self.app.outbox.published_since(position, limit)

    @rpc
    def recompute_since(
        self, position: int, prev_hash: str, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Envelopes recomputed from this service's own stored events after `position`, chained
        on from `prev_hash`: what verification compares the ledger with. A stored event that
        cannot be read back ends them as `{"position": ..., "unrebuildable": why}`
        (`contracts.chain.UNREBUILDABLE`)."""
        position, limit = _check_range(position, limit)
        return self.publications.recompute(
            self.app.notifications_after, self.app.mapper, position, prev_hash, limit
        )

    @rpc
    def verify_content(self, position: int = 0, limit: int = 500) -> dict[str, Any]:
        """Sealed values stored after `position` checked against their commitments, `limit`
        events at a time (`next` says where to go on): `casebook verify --content`."""
        require_role(*HISTORY_READERS)
        position, limit = _check_range(position, limit)
        return {"service": self.publications.source, **self.app.check_content(position, limit)}

    @rpc
    def replay(
        self, aggregate_id: str, at: str | None = None, version: int | None = None
    ) -> dict[str, Any]:
        """An aggregate's state as it was at a time or version (auditors, archivists)."""
        require_role(*HISTORY_READERS)
        asked = load(_Replay, {"aggregate_id": aggregate_id, "at": at, "version": version})
        return self.app.aggregate_state(asked["aggregate_id"], at=asked["at"],
                                        version=asked["version"])

    @rpc
    def rebuild(self, swap: bool = False) -> dict[str, Any]:
        """Rebuild the views from the event log into fresh tables and compare them with the live
        ones row by row; with `swap`, put the rebuilt ones in place (writes go on meanwhile)."""
        if not isinstance(swap, bool):
            raise InvalidInput.from_messages({"swap": ["Must be true or false."]})
        require_role(*VIEW_REBUILDERS if swap else HISTORY_READERS)
        live = self.app.views.store if self.app.views else None
        if live is None:
            return {"service": self.publications.source, "tables": [], "position": 0,
                    "equal": True, "differences": [], "swapped": False}
        fresh = live.fresh()
        position, found = compare(live, fresh)
        if swap:
            views.swap(live, fresh)
        else:
            fresh.drop()
        return {
            "service": self.publications.source,
            "tables": sorted(live.tables),
            "position": position,
            "equal": not found,
            "differences": plain(found),
            "swapped": bool(swap),
        }

    @rpc
    def status(self) -> dict[str, Any]:
        outbox = self.app.outbox
        relay, stored = outbox.relay_state(), self.app.max_position()
        return instance(ServiceStatus).dump({
            "service": self.publications.source,
            "stored_position": stored,
            "relay_read_through": relay.read_through,
            "published_position": relay.published.position,
            "published_hash": relay.published.hash,
            "sent_position": relay.sent,
            "relay_lag": relay_lag(stored, relay.on_the_broker),
            "cursors": {
                source: {"position": c.position, "hash": c.hash}
                for source, c in self.app.outbox.cursors().items()
            },
            "halted": self.halted,
            "dead_letters": self.dead_letters(),
            "version": __version__,
            "revision": settings().runtime.revision,
        })


class ChainPoint(Schema):
    """An envelope's place in its source's hash chain."""

    position = fields.Integer(required=True)
    hash = fields.String(required=True)


def behind_source(statuses: Mapping[str, Mapping[str, Any]], source: str,
                  processed: int | None) -> int | None:
    """How many envelopes a subscription has yet to handle of what its source published, from
    the services' statuses (`casebook status`, the console's status page); None where either
    figure is unknown."""
    published = statuses.get(source, {}).get("published_position")
    return None if published is None or processed is None else published - processed


class ServiceStatus(Schema):
    """Where a service's pipe stands (`casebook status`, `GET /services/{service}/status`)."""

    service = fields.String(required=True)
    stored_position = fields.Integer(required=True, metadata={
        "description": "The last notification id of the service's event store."})
    relay_read_through = fields.Integer(required=True, metadata={
        "description": "The last notification id the relay made envelopes from."})
    published_position = fields.Integer(required=True, metadata={
        "description": "The position of the last envelope the relay made and stored: what "
                       "events_since serves, and what subscribers' cursors count in."})
    published_hash = fields.String(required=True, metadata={
        "description": "That envelope's hash."})
    sent_position = fields.Integer(required=True, metadata={
        "description": "The position of the last stored envelope the broker confirmed."})
    relay_lag = fields.Integer(required=True, metadata={
        "description": "Events stored and not yet on the broker."})
    cursors = fields.Dict(
        keys=fields.String(), values=fields.Nested(ChainPoint), required=True,
        metadata={"description": "By source: the last envelope this service's subscription "
                                 "to it handled."})
    halted = fields.Dict(
        keys=fields.String(), values=fields.String(), required=True,
        metadata={"description": "By source: why this service's subscription to it halted "
                                 "(it waits for an operator); empty while none has."})
    dead_letters = fields.Dict(
        keys=fields.String(), values=fields.Integer(), required=True,
        metadata={"description": "By source: deliveries of this service's subscription to it "
                                 "that failed and wait in its dead-letter queue (`casebook dlq "
                                 "replay` sends them again)."})
    version = fields.String(required=True, metadata={
        "description": "Casebook's version, as the instance that answered runs it."})
    revision = fields.String(required=True, metadata={
        "description": "The commit that instance was built from (CASEBOOK_REVISION), or "
                       "unknown."})


class _Replay(Schema):
    aggregate_id = fields.String(required=True)
    at = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=UTC)
    version = fields.Integer(load_default=None, allow_none=True, strict=True)


def _check_range(position: Any, limit: Any) -> tuple[int, int]:
    errors: dict[str, list[str]] = {}
    if (
        not isinstance(position, int)
        or isinstance(position, bool)
        or not 0 <= position <= MAX_POSITION
    ):
        errors["position"] = [f"Must be an integer from 0 to {MAX_POSITION}."]
    if (
        not isinstance(limit, int)
        or isinstance(limit, bool)
        or not 1 <= limit <= MAX_EVENTS_PER_CALL
    ):
        errors["limit"] = [f"Must be an integer from 1 to {MAX_EVENTS_PER_CALL}."]
    if errors:
        raise InvalidInput.from_messages(errors)
    return position, limit
