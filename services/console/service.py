"""The console service: the web pages of the people who do and check the work, on its own
address (CONSOLE_ADDRESS). The work is in `pages.py`; it reaches the services with the
gateway's RPC dependency and pipeline, so there is one way to call them."""

from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider
from nameko.web.server import parse_address
from werkzeug.wrappers import Request, Response

import contracts  # noqa: F401  (registers the error types that RPC replies deserialise to)
from services.console.pages import SECURITY_HEADERS, Console
from services.console.session import session_key
from services.gateway.app import IdempotencyApplication
from services.gateway.auth import Keys
from services.gateway.dispatch import Gateway
from services.gateway.server import CatchAll, ProblemWebServer
from services.gateway.service import Backends
from services.runtime.metrics import Metrics
from services.runtime.settings import settings


class ConsoleIdempotency(IdempotencyApplication):
    """The console's own store of forms already sent (each form carries a fresh key), so a form
    sent twice (a double click, a reload after a lost answer) is carried out once."""

    service = "console"


class ConsoleWebServer(ProblemWebServer):
    """nameko's web server, on CONSOLE_ADDRESS rather than the gateway's WEB_SERVER_ADDRESS,
    with the console's pages' security headers rather than the API's."""

    headers = SECURITY_HEADERS

    @property
    def bind_addr(self) -> Any:
        return parse_address(settings().console.address)


class ConsolePages(CatchAll):
    server = ConsoleWebServer()


pages = ConsolePages.decorator


class ConsoleDependency(DependencyProvider):
    def setup(self) -> None:
        config = settings()
        # No token keys: the console's people are signed in by their session, not a bearer token.
        gateway = Gateway(Keys(), ConsoleIdempotency(), config.gateway)
        self.console = Console(gateway, config.console, session_key())

    def get_dependency(self, worker_ctx: Any) -> Console:
        return self.console


class ConsoleService:
    name = "console"
    console = ConsoleDependency()
    metrics = Metrics()
    backends = Backends()

    @pages("GET,POST", "/")
    def root(self, request: Request) -> Response:
        return self.console.handle(request, self.backends)

    @pages("GET,POST", "/<anypath:path>")
    def any_path(self, request: Request, path: str) -> Response:
        return self.console.handle(request, self.backends)
