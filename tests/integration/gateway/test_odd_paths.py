"""Every path, however odd, is answered by the gateway as problem+json, never by the web
server's HTML defaults."""

import pytest

from tests.integration.gateway.conftest import Api
from tests.support.services import WORKER


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/classes/%0Anewline", 404),  # a control character in an id: werkzeug's path stops there
        ("/no/such/route", 404),
        ("/cases/%00/timeline", 404),
    ],
)
def test_odd_paths_get_problem_json(api: Api, path: str, status: int) -> None:
    response = api.as_(WORKER).get(path)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == status


@pytest.mark.parametrize(
    ("request_args", "status", "code"),
    [
        ({"path": "/cases/" + "x" * 9000}, 414, "uri_too_long"),
        ({"path": "/cases", "headers": {"X-Big": "y" * 9000}}, 431, "headers_too_large"),
        ({"path": "/cases", "headers": {f"X-H{n}": "z" * 4000 for n in range(20)}}, 431,
         "headers_too_large"),
    ],
)
def test_requests_over_the_server_s_limits_get_problem_json(
    api: Api, request_args: dict, status: int, code: int
) -> None:
    response = api.as_(WORKER).get(request_args["path"], headers=request_args.get("headers"))
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
