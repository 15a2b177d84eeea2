"""The request pipeline with a hand-written stand-in for the services: transport errors, paging,
filters, idempotency, and what the client sees when a service fails."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from nameko.exceptions import RemoteError
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from contracts.errors import NotAllowed, Unavailable
from services.gateway.app import IdempotencyApplication
from services.gateway.auth import Keys, mint
from services.gateway.dispatch import Gateway, Outgoing
from services.runtime.context import Actor
from services.runtime.settings import settings

SECRET = "unit-test-secret-of-a-reasonable-length-000"
WORKER = mint(SECRET, "social_worker", "worker-1", "JD001")
INTEGRATOR = mint(SECRET, "integrator", "integrator-1")
CASE_ID = "2f1e8a4e-8d7c-4a43-9d43-3a1b8f1b2c11"


class Services:
    """Answers RPC the way the services would, and remembers every call and what it carried."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, tuple[Any, ...], Actor | None]] = []
        self.sent: list[Outgoing] = []
        self.answers: dict[str, Any] = {}

    def __call__(self, service: str, method: str, args: tuple[Any, ...],
                 outgoing: Outgoing) -> Any:
        if method != "describe":  # the gateway reading a service's catalogue, not a call
            self.calls.append((service, method, args, outgoing.actor))
            self.sent.append(outgoing)
        answer = self.answers.get(method, {"ok": True})
        if isinstance(answer, BaseException):
            raise answer
        return answer(*args) if callable(answer) else answer


@pytest.fixture
def services() -> Services:
    return Services()


@pytest.fixture
def gateway() -> Gateway:
    idempotency = IdempotencyApplication(env={"SQLITE_DBNAME": ":memory:"})
    configured = replace(settings().gateway, max_body_bytes=2048)
    return Gateway(Keys(secret=SECRET), idempotency, configured)


def send(gateway: Gateway, services: Services, method: str, path: str, token: str | None = WORKER,
         body: Any = None, data: bytes | None = None, content_type: str | None = None,
         headers: dict[str, str] | None = None, query: dict[str, Any] | None = None) -> Response:
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        data, content_type = json.dumps(body).encode(), content_type or "application/json"
    builder = EnvironBuilder(method=method, path=path, data=data, content_type=content_type,
                             headers=headers, query_string=query)
    return gateway.handle(Request(builder.get_environ()), services)


def problem(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    body: dict[str, Any] = json.loads(response.get_data())
    assert body["status"] == status and body["type"] == f"urn:casebook:error:{body['code']}"
    return body


def test_a_command_is_forwarded_as_the_token_s_actor_with_the_path_in_the_payload(
        gateway: Gateway, services: Services) -> None:
    services.answers["log_intervention"] = {"case_id": CASE_ID, "intervention_id": "i-1"}
    response = send(gateway, services, "POST", f"/cases/{CASE_ID}/interventions",
                    body={"form": "direct"}, headers={"X-Correlation-Id": "corr-1"})
    assert response.status_code == 201
    assert response.headers["X-Correlation-Id"] == "corr-1"
    assert services.calls == [("cases", "log_intervention",
                               ({"form": "direct", "case_id": CASE_ID},),
                               Actor("worker-1", "social_worker", "JD001"))]


def test_a_body_that_contradicts_the_path_is_refused_before_any_call(
        gateway: Gateway, services: Services) -> None:
    response = send(gateway, services, "POST", f"/cases/{CASE_ID}/closing",
                    body={"case_id": "another"})
    assert "case_id" in problem(response, 400)["errors"]
    assert services.calls == []


@pytest.mark.parametrize(("token", "code"), [(None, 401), ("not-a-jwt", 401)])
def test_without_a_valid_token_nothing_is_called(gateway: Gateway, services: Services,
                                                 token: str | None, code: int) -> None:
    response = send(gateway, services, "GET", f"/cases/{CASE_ID}", token=token)
    assert problem(response, code)["code"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert services.calls == []


def test_transport_errors(gateway: Gateway, services: Services) -> None:
    assert problem(send(gateway, services, "GET", "/nowhere"), 404)["code"] == "route_not_found"
    wrong_method = send(gateway, services, "DELETE", "/cases")
    assert problem(wrong_method, 405)["code"] == "method_not_allowed"
    assert set(wrong_method.headers["Allow"].split(", ")) >= {"GET", "POST"}
    too_big = send(gateway, services, "POST", "/cases", body={"notes": "x" * 4096})
    assert problem(too_big, 413)["code"] == "payload_too_large"
    form = send(gateway, services, "POST", "/cases", data=b"a=1",
                content_type="application/x-www-form-urlencoded")
    assert problem(form, 415)["code"] == "unsupported_media_type"
    for broken in (b"{", b'{"a": NaN}', b"\xff\xfe"):
        response = send(gateway, services, "POST", "/cases", data=broken,
                        content_type="application/json")
        assert problem(response, 400)["code"] == "malformed_request"
    not_object = send(gateway, services, "POST", "/cases", body=[1, 2])
    assert problem(not_object, 400)["code"] == "invalid_input"
    assert services.calls == []


def test_a_service_s_refusal_keeps_its_status_and_code(gateway: Gateway,
                                                       services: Services) -> None:
    services.answers["get_case"] = NotAllowed("The case is assigned to another social worker.")
    body = problem(send(gateway, services, "GET", f"/cases/{CASE_ID}"), 403)
    assert body["code"] == "not_allowed"
    assert body["detail"] == "The case is assigned to another social worker."


def test_a_crash_in_a_service_is_a_502_without_its_traceback(gateway: Gateway,
                                                            services: Services) -> None:
    services.answers["get_case"] = RemoteError("KeyError", "'secret_field' in app.py line 3")
    body = problem(send(gateway, services, "GET", f"/cases/{CASE_ID}"), 502)
    assert body["code"] == "bad_gateway"
    assert "secret_field" not in json.dumps(body) and "incident" in body["detail"]


def test_a_list_is_the_services_page_its_paging_and_filters_typed_by_the_service_schema(
        gateway: Gateway, services: Services) -> None:
    services.answers["describe"] = {"service": "resources", "commands": {"list_resources": {
        "summary": "", "schema": {"type": "object", "properties": {
            "kind": {"type": ["string", "null"]}, "limit": {"type": "integer"},
            "after": {"type": ["string", "null"]}}}}}}
    page = {"items": [{"n": 5}, {"n": 6}], "total": 7, "limit": 2, "next": "cursor-2"}
    services.answers["list_resources"] = page
    response = send(gateway, services, "GET", "/resources",
                    query={"kind": "study_support", "limit": "2", "after": "cursor-1"})
    assert json.loads(response.get_data()) == page
    assert services.calls[-1][2] == ({"kind": "study_support", "limit": 2, "after": "cursor-1"},)
    # A route whose RPC takes no payload has no query parameters to give.
    unknown = send(gateway, services, "GET", "/services/resources/status",
                   token=mint(SECRET, "operator", "operator-1"), query={"colour": "red"})
    assert "colour" in problem(unknown, 400)["errors"]


def test_the_event_feed_is_for_integrators_and_reads_on_from_a_position(
        gateway: Gateway, services: Services) -> None:
    services.answers["events_since"] = lambda after, limit: [{"position": after + 1}]
    page = send(gateway, services, "GET", "/events/cases", token=INTEGRATOR,
                query={"after": "4", "limit": "10"})
    assert json.loads(page.get_data()) == {"items": [{"position": 5}], "next_after": 5}
    assert services.calls[-1][:3] == ("cases", "events_since", (4, 10))
    refused = send(gateway, services, "GET", "/events/cases")
    assert problem(refused, 403)["code"] == "not_allowed"
    unknown = send(gateway, services, "GET", "/events/gateway", token=INTEGRATOR)
    assert problem(unknown, 404)["code"] == "route_not_found"
    assert len(services.calls) == 1


def test_an_idempotency_key_replays_the_first_response_and_refuses_another_body(
        gateway: Gateway, services: Services) -> None:
    services.answers["open_case"] = {"case_id": CASE_ID}
    opening = {"client_id": "c-1", "opened_on": "2026-09-01"}
    first = send(gateway, services, "POST", "/cases", body=opening,
                 headers={"Idempotency-Key": "k-1"})
    again = send(gateway, services, "POST", "/cases", body=opening,
                 headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(services.calls) == 1
    other = send(gateway, services, "POST", "/cases", body={**opening, "client_id": "c-2"},
                 headers={"Idempotency-Key": "k-1"})
    assert problem(other, 409)["code"] == "idempotency_key_reused"
    # Another caller's same key is their own.
    send(gateway, services, "POST", "/cases", body=opening, headers={"Idempotency-Key": "k-1"},
         token=mint(SECRET, "social_worker", "worker-2", "JD001"))
    assert len(services.calls) == 2


def test_a_refusal_is_replayed_too_but_a_service_outage_may_be_retried(
        gateway: Gateway, services: Services) -> None:
    services.answers["open_case"] = NotAllowed("Not yours.")
    for _ in range(2):
        refused = send(gateway, services, "POST", "/cases", body={},
                       headers={"Idempotency-Key": "k-2"})
        assert problem(refused, 403)["code"] == "not_allowed"
    assert len(services.calls) == 1
    services.answers["open_case"] = RemoteError("OperationalError", "database is locked")
    services.answers["settle_command"] = lambda command_id, name: {"state": "abandoned"}
    crashed = send(gateway, services, "POST", "/cases", body={"a": 1},
                   headers={"Idempotency-Key": "k-3"})
    assert "safe to retry" in problem(crashed, 502)["detail"]
    services.answers["open_case"] = {"case_id": CASE_ID}
    retried = send(gateway, services, "POST", "/cases", body={"a": 1},
                   headers={"Idempotency-Key": "k-3"})
    assert retried.status_code == 201


def test_health_needs_no_token_and_readiness_names_the_silent_service(
        gateway: Gateway, services: Services) -> None:
    assert json.loads(send(gateway, services, "GET", "/healthz", token=None).get_data()) == {
        "status": "ok"}

    def ping(*_: Any) -> str:
        service = services.calls[-1][0]
        if service == "archive":
            raise Unavailable("The archive service is not running.")
        return "pong"

    services.answers["ping"] = ping
    body = problem(send(gateway, services, "GET", "/readyz", token=None), 503)
    assert body["services"]["archive"] == "not running"
    assert body["services"]["cases"] == "ok"
    assert "archive" in body["detail"]


def test_the_openapi_document_and_the_reference_page(gateway: Gateway,
                                                     services: Services) -> None:
    services.answers["describe"] = lambda: {"service": "cases", "commands": {
        "log_intervention": {
            "summary": "Log an intervention (8.3.4).",
            "schema": {"type": "object", "required": ["case_id", "form"],
                       "properties": {"case_id": {"type": "string", "format": "uuid"},
                                      "form": {"type": "string"}}}},
        "close_case": {
            "summary": "Close a case (8.3.6).",
            "schema": {"type": "object", "required": ["case_id"],
                       "properties": {"case_id": {"type": "string", "format": "uuid"},
                                      "reason": {"type": ["string", "null"]}}}}}}
    spec = json.loads(send(gateway, services, "GET", "/openapi.json", token=None).get_data())
    assert spec["openapi"] == "3.1.0"
    operation = spec["paths"]["/cases/{case_id}/interventions"]["post"]
    # The service's schema is the body, less what the path gives; its docstring the summary.
    assert operation["summary"] == "Log an intervention (8.3.4)."
    assert operation["x-casebook-payload-described"] is True
    body = operation["requestBody"]
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    assert schema["required"] == ["form"] and "case_id" not in schema["properties"]
    assert operation["parameters"][0] == {"name": "case_id", "in": "path", "required": True,
                                          "schema": {"type": "string", "format": "uuid"}}
    assert operation["responses"]["403"] == {"$ref": "#/components/responses/403"}
    # With no field required once the path is given, an empty body will do.
    closing = spec["paths"]["/cases/{case_id}/closing"]["post"]
    assert closing["requestBody"]["required"] is False
    # A service that does not describe an RPC's payload leaves it open, and says so.
    reopening = spec["paths"]["/cases/{case_id}/reopening"]["post"]
    assert reopening["summary"] == "Reopen a closed case."
    assert reopening["x-casebook-payload-described"] is False
    assert reopening["requestBody"]["content"]["application/json"]["schema"] == {
        "type": "object"}
    page = send(gateway, services, "GET", "/docs", token=None)
    assert page.content_type.startswith("text/html")
    text = page.get_data(as_text=True)
    assert "POST /cases/{case_id}/interventions" in text and "<script" not in text


def test_numbers_are_read_by_value_as_the_document_s_json_schema_reads_them(
        gateway: Gateway, services: Services) -> None:
    services.answers["describe"] = {"service": "archive", "commands": {"get_record": {
        "summary": "", "schema": {"type": "object", "properties": {
            "source": {"type": "string"}, "aggregate_id": {"type": "string"},
            "ledger_position": {"type": ["integer", "null"]}}}}}}
    # 4.0 in a body is the integer 4: JSON Schema says so, and JavaScript cannot tell them apart.
    send(gateway, services, "POST", f"/cases/{CASE_ID}/evaluations",
         data=b'{"satisfaction": 4.0, "share": 0.5, "big": 1e300, "exact": 2.0000000000000001}',
         content_type="application/json")
    payload = services.calls[-1][2][0]
    assert payload["satisfaction"] == 4 and isinstance(payload["satisfaction"], int)
    assert payload["share"] == 0.5 and isinstance(payload["big"], float)
    assert isinstance(payload["exact"], float)
    # A query integer of any length the document allows reaches the service as an integer.
    send(gateway, services, "GET", "/records/cases/c-1",
         query={"ledger_position": "123456789012345678901234"})
    assert services.calls[-1][2] == ({"ledger_position": 123456789012345678901234,
                                      "source": "cases", "aggregate_id": "c-1"},)
