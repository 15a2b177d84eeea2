"""The gateway's HTTP server answers in problem+json where nameko would not."""

from __future__ import annotations

import json

from nameko.exceptions import ContainerBeingKilled

from services.gateway.server import CatchAll


def test_a_request_that_comes_while_the_gateway_stops_is_a_retryable_503() -> None:
    response = CatchAll("GET", "/<anypath:path>").response_from_exception(ContainerBeingKilled())
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"
    assert int(response.headers["Retry-After"]) >= 1
    assert json.loads(response.get_data())["code"] == "unavailable"


def test_other_failures_are_left_to_nameko() -> None:
    response = CatchAll("GET", "/<anypath:path>").response_from_exception(RuntimeError("boom"))
    assert response.status_code == 500
