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
