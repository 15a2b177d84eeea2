"""A list read by id (the rows a page elsewhere shows): the ids as a repeated query parameter,
at most 100, each an id, or a 400 that names the parameter and its rule."""

from __future__ import annotations

import pytest

from tests.integration.gateway.conftest import Api
from tests.support.services import WORKER

pytestmark = pytest.mark.integration

OTHER_WORKER = {"id": "worker-2", "role": "social_worker", "school_id": "JD001"}
MINE = "5d1c2a4e-7b3f-4e8a-9c6d-0f1e2d3c4b5a"
THEIRS = "6e2d3b5f-8c4a-4f9b-8d7e-1a2f3e4d5c6b"


def register(api: Api, actor: dict, client_id: str, name: str) -> None:
    answer = api.as_(actor).post("/clients", json={
        "client_id": client_id, "client_type": "student", "name": name,
        "date_of_birth": "2014-03-02", "grade": 6,
        "guardians": [{"name": "王芳", "relation": "mother", "contact": None}]})
    assert answer.status_code == 201, answer.text


def test_clients_are_read_by_repeated_ids_within_the_callers_reach(api: Api) -> None:
    register(api, WORKER, MINE, "王小明")
    register(api, OTHER_WORKER, THEIRS, "李小红")
    worker = api.as_(WORKER)
    found = worker.get("/clients", params=[("client_id", MINE), ("client_id", THEIRS)])
    assert found.status_code == 200, found.text
    assert [(item["client_id"], item["name"]) for item in found.json()["items"]] == [
        (MINE, "王小明")]
    assert found.json()["total"] == 1

    for params in ([("client_id", MINE)] * 101, [("client_id", MINE), ("client_id", "x" * 65)]):
        refused = worker.get("/clients", params=params)
        assert refused.status_code == 400, refused.text
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert list(refused.json()["errors"]) == ["client_id"]
    too_many = worker.get("/clients", params=[("client_id", MINE)] * 101).json()
    assert "100" in str(too_many["errors"]["client_id"])
    bad = worker.get("/clients", params=[("client_id", MINE), ("client_id", "x" * 65)]).json()
    assert "64" in str(bad["errors"]["client_id"])
    # The document says so: an array, one id a repetition of the parameter.
    operation = api.get("/openapi.json").json()["paths"]["/clients"]["get"]
    [parameter] = [p for p in operation["parameters"] if p["name"] == "client_id"]
    assert parameter["schema"]["type"] == "array" and parameter["schema"]["maxItems"] == 100
    assert (parameter["style"], parameter["explode"]) == ("form", True)
    # The caseload is read by its cases' ids the same way.
    refused = worker.get("/cases", params=[("case_id", "x" * 65)])
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["case_id"]
