"""The gateway service: HTTP in, RPC out. The work is in `dispatch.py`; routes in `routes.py`.

Every path reaches one handler, so that unknown routes, wrong methods and every error are
answered by the gateway as problem+json, not by nameko's plain-text defaults.
"""

from __future__ import annotations

import time
from typing import Any

import eventlet
from nameko.exceptions import UnknownService
from nameko.extensions import DependencyProvider
from nameko.rpc import MethodProxy
from werkzeug.wrappers import Request, Response

import contracts  # noqa: F401  (registers the error types that RPC replies deserialise to)
from contracts.errors import Unavailable
from services.gateway.app import IdempotencyApplication
from services.gateway.auth import keys_from_settings
from services.gateway.dispatch import (
    REPLY_GRACE,
    Call,
    Gateway,
    Outgoing,
    context_data,
)
from services.gateway.problems import GatewayTimeout
from services.gateway.server import catch_all
from services.runtime.metrics import Metrics
from services.runtime.proxies import within
from services.runtime.replies import ReplyListener
from services.runtime.settings import settings

METHODS = "GET,HEAD,POST,PUT,PATCH,DELETE,OPTIONS"


class Backends(DependencyProvider):
    """RPC to any service, as the request's actor: nameko's RpcProxy sends the worker's context
    data as message headers, so the actor, correlation id, deadline and command id go into that
    context per call. The caller waits until the deadline and REPLY_GRACE more: a command that
    committed just in time still gets its answer through."""

    reply_listener = ReplyListener()

    def get_dependency(self, worker_ctx: Any) -> Call:
        def call(service: str, method: str, args: tuple[Any, ...], outgoing: Outgoing) -> Any:
            for key in ("actor", "command_id"):
                worker_ctx.data.pop(key, None)
            worker_ctx.data.update(context_data(outgoing))
            proxy = MethodProxy(worker_ctx, service, method, self.reply_listener)
            wait = max(0.0, outgoing.deadline - time.time()) + REPLY_GRACE
            try:
                return within(wait, lambda: proxy(*args))
            except eventlet.Timeout:
                raise GatewayTimeout(
                    f"The {service} service did not answer by the request's deadline."
                ) from None
            except UnknownService:
                raise Unavailable(f"The {service} service is not running.") from None

        return call


class GatewayDependency(DependencyProvider):
    """The request pipeline, with its keys, settings and idempotency store, one per container."""

    def setup(self) -> None:
        self.gateway = Gateway(keys_from_settings(), IdempotencyApplication(),
                               settings().gateway)

    def get_dependency(self, worker_ctx: Any) -> Gateway:
        return self.gateway


class GatewayService:
    name = "gateway"
    gateway = GatewayDependency()
    backends = Backends()
    # No commands of its own: the process's CPU, memory and open files, like every service's.
    metrics = Metrics()

    @catch_all(METHODS, "/")
    def root(self, request: Request) -> Response:
        return self.gateway.handle(request, self.backends)

    @catch_all(METHODS, "/<anypath:path>")
    def any_path(self, request: Request, path: str) -> Response:
        return self.gateway.handle(request, self.backends)
