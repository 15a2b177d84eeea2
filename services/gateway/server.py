"""The gateway's HTTP server: nameko's, with every refusal answered as problem+json and every
answer sent with the server's security headers.

Three things nameko and eventlet would otherwise answer in their own way: a request that comes
while the gateway is stopping (nameko's plain-text 500), a path werkzeug's router cannot even
match (it would get werkzeug's HTML 404), and a request line or header block over eventlet's
limits (eventlet writes a bare status line with an empty body).

The headers are added where every answer passes, the WSGI application and eventlet's own
refusals, so that no route, error or refusal can go out without them. The console's server
(services/console/service.py) is this one with the console's headers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from nameko.exceptions import ContainerBeingKilled
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import HttpOnlyProtocol, WebServer
from werkzeug.routing import PathConverter, Rule
from werkzeug.wrappers import Response

from contracts.errors import CasebookError, Unavailable
from services.gateway.problems import PROBLEM_JSON, HeadersTooLarge, UriTooLong, problem_response

# What eventlet.wsgi writes, whole, in one `write`, when it refuses a request before any WSGI
# application sees it; each prefix with the problem Casebook answers instead.
_EVENTLET_REFUSALS: tuple[tuple[bytes, CasebookError], ...] = (
    (b"HTTP/1.0 414 ", UriTooLong("The request line is longer than the gateway accepts.")),
    (b"HTTP/1.0 400 Header Line Too Long", HeadersTooLarge(
        "A request header is longer than the gateway accepts.")),
    (b"HTTP/1.0 400 Headers Too Large", HeadersTooLarge(
        "The request headers together are larger than the gateway accepts.")),
)
_REASONS = {414: "URI Too Long", 431: "Request Header Fields Too Large"}

# What every answer of the HTTP API tells a browser (OWASP's REST Security Cheat Sheet): the
# answers hold records of minors, so no cache, private or shared, keeps them; a JSON answer is
# never read as a page or a script, nor framed, nor does it pass its address on. A route that
# needs another policy sets its own (the HTML reference, for its style).
API_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _problem_response(problem: CasebookError) -> bytes:
    body = json.dumps(problem.as_problem(), ensure_ascii=False).encode("utf-8")
    head = (
        f"HTTP/1.1 {problem.status} {_REASONS[problem.status]}\r\n"
        f"Content-Type: {PROBLEM_JSON}\r\n"
        f"Content-Length: {len(body)}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in API_HEADERS.items())
        + "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class _Refusals:
    """The connection's output, with eventlet's bodiless refusals replaced."""

    def __init__(self, wfile: Any) -> None:
        self._wfile = wfile

    def write(self, data: bytes) -> Any:
        for prefix, problem in _EVENTLET_REFUSALS:
            if data.startswith(prefix):
                return self._wfile.write(_problem_response(problem))
        return self._wfile.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wfile, name)


class ProblemProtocol(HttpOnlyProtocol):
    def setup(self) -> None:
        super().setup()
        # eventlet exposes no hook for these refusals; its output stream is the one seam.
        self.wfile: Any = _Refusals(self.wfile)


StartResponse = Callable[..., Any]
WsgiApplication = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class ProblemWebServer(WebServer):
    headers: ClassVar[dict[str, str]] = API_HEADERS

    def get_wsgi_app(self) -> WsgiApplication:
        return with_headers(super().get_wsgi_app(), self.headers)

    def get_wsgi_server(
        self, sock: Any, wsgi_app: Any, protocol: Any = ProblemProtocol, debug: bool = False
    ) -> Any:
        return super().get_wsgi_server(sock, wsgi_app, protocol=protocol, debug=debug)


def with_headers(app: WsgiApplication, headers: dict[str, str]) -> WsgiApplication:
    """`app`, its every answer sent with `headers`, but for those the answer sets itself."""

    def answer(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        def start(status: str, response_headers: list[tuple[str, str]],
                  exc_info: Any = None) -> Any:
            own = {name.lower() for name, _ in response_headers}
            added = [(name, value) for name, value in headers.items() if name.lower() not in own]
            return start_response(status, [*response_headers, *added], exc_info)

        return app(environ, start)

    return answer


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
    """nameko's `@http`, with the `anypath` converter available to its rule, on the server
    that answers eventlet's own refusals as problem+json."""

    server = ProblemWebServer()

    def get_url_rule(self) -> Rule:
        return _AnyPathRule(self.url, methods=self.method.split(","))

    def response_from_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ContainerBeingKilled):
            # The server is stopping and the request reached no worker: nothing was sent, so
            # "unavailable, retry" is the truth (nameko would answer a plain-text 500).
            return problem_response(Unavailable(
                "The gateway is stopping: nothing was sent, nothing was done."))
        return super().response_from_exception(exc)


catch_all = CatchAll.decorator
