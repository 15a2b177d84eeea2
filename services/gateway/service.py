"""The gateway service: HTTP in, RPC out. The work is in `dispatch.py`; routes in `routes.py`.

Every path reaches one handler, so that unknown routes, wrong methods and every error are
answered by the gateway as problem+json, not by nameko's plain-text defaults.
"""

from __future__ import annotations

from typing import Any

import eventlet
from nameko.exceptions import UnknownService
from nameko.extensions import DependencyProvider
from nameko.rpc import MethodProxy, ReplyListener
from nameko.web.handlers import HttpRequestHandler
from werkzeug.routing import PathConverter, Rule
from werkzeug.wrappers import Request, Response

import contracts  # noqa: F401  (registers the error types that RPC replies deserialise to)
from contracts.errors import Unavailable
from services.gateway.app import IdempotencyApplication
from services.gateway.auth import keys_from_env
from services.gateway.dispatch import Call, Gateway, Settings, actor_context
from services.gateway.problems import GatewayTimeout
from services.runtime.context import Actor

METHODS = "GET,HEAD,POST,PUT,PATCH,DELETE,OPTIONS"


class AnyPathConverter(PathConverter):
    """Like werkzeug's `path`, but also across control characters: werkzeug's stops at a
    newline, and a path it cannot match gets werkzeug's HTML 404 instead of our problem+json."""

    regex = "[^/][\\s\\S]*?"


class _AnyPathRule(Rule):
    def get_converter(
        self, variable_name: str, converter_name: str, args: Any, kwargs: Any
    ) -> Any:
        if converter_name == "anypath":
            return AnyPathConverter(self.map, *args, **kwargs)
        return super().get_converter(variable_name, converter_name, args, kwargs)


class CatchAll(HttpRequestHandler):
    """nameko's `@http`, with the `anypath` converter available to its rule."""

    def get_url_rule(self) -> Rule:
        return _AnyPathRule(self.url, methods=self.method.split(","))


catch_all = CatchAll.decorator


class Backends(DependencyProvider):
    """RPC to any service, as the request's actor: nameko's RpcProxy sends the worker's context
    data as message headers, so the actor and correlation id go into that context per call."""

    reply_listener = ReplyListener()

    def get_dependency(self, worker_ctx: Any) -> Call:
        def call(service: str, method: str, args: tuple[Any, ...], actor: Actor | None,
                 correlation_id: str, timeout: float) -> Any:
            worker_ctx.data.pop("actor", None)
            worker_ctx.data.update(actor_context(actor, correlation_id))
            proxy = MethodProxy(worker_ctx, service, method, self.reply_listener)
            try:
                with eventlet.Timeout(timeout):
                    return proxy(*args)
            except eventlet.Timeout:
                raise GatewayTimeout(
                    f"The {service} service did not answer within {timeout:g}s."
                ) from None
            except UnknownService:
                raise Unavailable(f"The {service} service is not running.") from None

        return call


class GatewayDependency(DependencyProvider):
    """The request pipeline, with its keys, settings and idempotency store, one per container."""

    def setup(self) -> None:
        self.gateway = Gateway(keys_from_env(), IdempotencyApplication(), Settings.from_env())

    def get_dependency(self, worker_ctx: Any) -> Gateway:
        return self.gateway


class GatewayService:
    name = "gateway"
    gateway = GatewayDependency()
    backends = Backends()

    @catch_all(METHODS, "/")
    def root(self, request: Request) -> Response:
        return self.gateway.handle(request, self.backends)

    @catch_all(METHODS, "/<anypath:path>")
    def any_path(self, request: Request, path: str) -> Response:
        return self.gateway.handle(request, self.backends)
