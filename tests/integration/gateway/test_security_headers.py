"""Every answer of the HTTP API, whatever its route or refusal, carries the API's security
headers once: records of minors are kept by no cache and read by no browser as a page."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
import requests

from services.gateway.server import API_HEADERS
from tests.integration.gateway.conftest import Api
from tests.support.services import OPERATOR, WORKER

pytestmark = pytest.mark.integration

CLIENT_ID = "5d1c2a4e-7b3f-4e8a-9c6d-0f1e2d3c4b5a"
SCHOOL_ADMIN = {"id": "admin-1", "role": "school_admin", "school_id": "JD001"}


def carries_the_api_headers(answer: requests.Response, **own: str) -> None:
    expected = {**API_HEADERS, **own}
    # requests joins a header sent twice with ", ": each must be the one value, once.
    assert {name: answer.headers.get(name) for name in expected} == expected, (
        answer.request.method, answer.request.url, answer.status_code)


def test_every_kind_of_answer_carries_the_api_s_security_headers(api: Api) -> None:
    school = api.as_(OPERATOR).post("/schools", json={
        "school_id": "JD001", "name": "School JD001", "district": "JD",
        "service_mode": "resident", "facility_kinds": ["office"]})
    assert school.status_code == 201, school.text
    worker = api.as_(WORKER)
    registered = worker.post("/clients", json={
        "client_id": CLIENT_ID, "client_type": "student", "name": "王小明",
        "date_of_birth": "2014-03-02", "grade": 6,
        "guardians": [{"name": "王芳", "relation": "mother", "contact": None}]})
    answers = {
        "a command": (registered, 201),
        "a personal record": (worker.get(f"/clients/{CLIENT_ID}"), 200),
        "a page of a list": (worker.get("/clients", params={"limit": 5}), 200),
        "a CSV report": (api.as_(SCHOOL_ADMIN).get(
            "/schools/JD001/compliance-report.csv",
            params={"period_from": "2026-09-01", "period_to": "2026-12-31"}), 200),
        "the health check": (api.get("/healthz"), 200),
        "the API's document": (api.get("/openapi.json"), 200),
        "no token": (api.get("/clients"), 401),
        "a field refused": (worker.post("/clients", json={"client_type": "student"}), 400),
        "no such route": (worker.get("/no/such/route"), 404),
        "a path werkzeug cannot match": (worker.get("/classes/%0Anewline"), 404),
        # Refused by eventlet before any application sees the request.
        "a request line too long": (worker.get("/cases/" + "x" * 9000), 414),
        "headers too large": (worker.get("/cases", headers={"X-Big": "y" * 9000}), 431),
    }
    for what, (answer, status) in answers.items():
        assert answer.status_code == status, (what, answer.text)
        carries_the_api_headers(answer)
    assert registered.json() == {"client_id": CLIENT_ID}
    assert "王小明" in answers["a personal record"][0].text


def test_the_html_reference_allows_its_own_style_and_nothing_else(api: Api) -> None:
    page = api.get("/docs")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    [style] = re.findall(r"<style>(.*?)</style>", page.text, re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert "<script" not in page.text
    carries_the_api_headers(page, **{"Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{digest}'; frame-ancestors 'none'")})
