"""The gateway's side of "nothing done twice": every command goes with a command id and a
deadline; a command that got no answer is settled with the service instead of guessed at, and an
Idempotency-Key is never stuck, even after the gateway crashed mid-request. Also what a client
sees of bad input and outages: too-deep JSON, an unreachable broker."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import OperationalError

from contracts.errors import NotAllowed, Unavailable
from services.gateway.app import IdempotencyApplication
from services.gateway.auth import Keys, mint
from services.gateway.dispatch import MAX_JSON_DEPTH, REPLY_GRACE, Gateway
from services.gateway.problems import GatewayTimeout
from services.gateway.routes import STATUS_TIMEOUT
from services.runtime.context import Actor, acting_as
from services.runtime.settings import settings
from tests.unit.gateway.test_dispatch import SECRET, WORKER, Services, problem, send

CASE_ID = "2f1e8a4e-8d7c-4a43-9d43-3a1b8f1b2c11"
WORKER_ACTOR = Actor("worker-1", "social_worker", "JD001")
TIMEOUT = 30.0


class Wall:
    """Real time for deadlines, set by the test."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wall() -> Wall:
    return Wall()


@pytest.fixture
def idempotency() -> IdempotencyApplication:
    return IdempotencyApplication(env={"SQLITE_DBNAME": ":memory:"})


@pytest.fixture
def gateway(idempotency: IdempotencyApplication, wall: Wall) -> Gateway:
    configured = replace(settings().gateway, rpc_timeout=TIMEOUT)
    return Gateway(Keys(secret=SECRET), idempotency, configured, wall_time=wall)


@pytest.fixture
def services() -> Services:
    return Services()


def open_case(gateway: Gateway, services: Services, key: str | None = "k-1") -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return send(gateway, services, "POST", "/cases", body={"client_id": "c-1"}, headers=headers)


def test_commands_carry_a_command_id_and_a_deadline_and_queries_a_deadline(
        gateway: Gateway, services: Services, wall: Wall) -> None:
    services.answers["open_case"] = {"case_id": CASE_ID}
    open_case(gateway, services, key=None)
    open_case(gateway, services, key=None)
    send(gateway, services, "GET", f"/cases/{CASE_ID}")
    first, second, query = [outgoing for call, outgoing in zip(services.calls, services.sent,
                                                               strict=True)
                            if call[1] != "describe"]
    assert first.command_id and second.command_id and first.command_id != second.command_id
    assert first.deadline == second.deadline == query.deadline == wall.now + TIMEOUT
    assert query.command_id is None


def test_a_services_status_has_a_deadline_of_its_own_shorter_than_a_command_s(
        gateway: Gateway, services: Services, wall: Wall) -> None:
    services.answers["status"] = {"service": "cases"}
    send(gateway, services, "GET", "/services/cases/status",
         token=mint(SECRET, "operator", "operator-1"))
    [status] = [outgoing for call, outgoing in zip(services.calls, services.sent, strict=True)
                if call[1] == "status"]
    assert status.deadline == wall.now + STATUS_TIMEOUT < wall.now + TIMEOUT


def test_no_answer_by_the_deadline_but_carried_out_answers_with_the_outcome(
        gateway: Gateway, services: Services) -> None:
    services.answers["open_case"] = GatewayTimeout("no answer")
    services.answers["settle_command"] = lambda command_id, name: {
        "state": "done", "name": name, "outcome": {"case_id": CASE_ID}}
    response = open_case(gateway, services)
    assert response.status_code == 201
    assert json.loads(response.get_data()) == {"case_id": CASE_ID}
    # It settled the very command it sent, and the key now replays that outcome.
    [_, settled] = services.calls
    assert settled[1:3] == ("settle_command", (services.sent[0].command_id, "open_case"))
    again = open_case(gateway, services)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert json.loads(again.get_data()) == {"case_id": CASE_ID}
    assert len(services.calls) == 2


def test_no_answer_and_never_carried_out_is_a_504_and_the_retry_is_a_new_attempt(
        gateway: Gateway, services: Services) -> None:
    services.answers["open_case"] = GatewayTimeout("no answer")
    services.answers["settle_command"] = lambda command_id, name: {
        "state": "abandoned", "name": name}
    body = problem(open_case(gateway, services), 504)
    assert body["code"] == "gateway_timeout" and "safe to retry" in body["detail"]
    services.answers["open_case"] = {"case_id": CASE_ID}
    retried = open_case(gateway, services)
    assert retried.status_code == 201
    first_attempt, retry = services.sent[0].command_id, services.sent[-1].command_id
    assert first_attempt != retry  # the abandoned id can never be carried out: a new one


def test_a_refusal_found_when_settling_is_the_answer(gateway: Gateway,
                                                     services: Services) -> None:
    services.answers["open_case"] = GatewayTimeout("no answer")
    services.answers["settle_command"] = lambda command_id, name: {
        "state": "refused", "name": name, "outcome": {
            "error": "NotAllowed", "detail": "No grant.", "code": "grant_required",
            "errors": {}}}
    assert problem(open_case(gateway, services), 403)["code"] == "grant_required"
    assert problem(open_case(gateway, services), 403)["detail"] == "No grant."
    assert [call[1] for call in services.calls] == ["open_case", "settle_command"]


def test_a_service_that_cannot_say_keeps_the_key_until_it_can(
        gateway: Gateway, services: Services) -> None:
    services.answers["open_case"] = GatewayTimeout("no answer")
    services.answers["settle_command"] = Unavailable("The cases service is not running.")
    unsettled = open_case(gateway, services)
    assert problem(unsettled, 503)["code"] == "outcome_unknown"
    assert int(unsettled.headers["Retry-After"]) >= 1
    # Once the service is back the retry settles the first attempt before anything else, at
    # once: nobody waits on that attempt any more.
    services.answers["settle_command"] = lambda command_id, name: {
        "state": "done", "name": name, "outcome": {"case_id": CASE_ID}}
    settled = open_case(gateway, services)
    assert settled.status_code == 201 and settled.headers["Idempotent-Replayed"] == "true"
    opened = [call for call in services.calls if call[1] == "open_case"]
    assert len(opened) == 1


def test_a_command_carried_out_is_answered_as_such_when_its_key_cannot_be_kept(
        idempotency: IdempotencyApplication, gateway: Gateway, services: Services,
        wall: Wall, monkeypatch: pytest.MonkeyPatch) -> None:
    # The gateway's store goes away between the service's answer and keeping it under the key.
    def store_away(*_: Any) -> None:
        raise OperationalError("connection lost") from psycopg.OperationalError("connection lost")

    services.answers["open_case"] = {"case_id": CASE_ID}
    with monkeypatch.context() as outage:
        outage.setattr(idempotency, "complete", store_away)
        answered = open_case(gateway, services)
    # Carried out, and told so: a 5xx would say "not carried out" and invite a second one.
    assert answered.status_code == 201
    assert json.loads(answered.get_data()) == {"case_id": CASE_ID}
    # The key stayed reserved: after the attempt's deadline a retry settles it with the
    # service, which says what it did, and nothing is carried out again.
    wall.now += TIMEOUT + REPLY_GRACE + 1
    services.answers["settle_command"] = lambda command_id, name: {
        "state": "done", "name": name, "outcome": {"case_id": CASE_ID}}
    retried = open_case(gateway, services)
    assert retried.status_code == 201 and retried.headers["Idempotent-Replayed"] == "true"
    assert json.loads(retried.get_data()) == {"case_id": CASE_ID}
    assert [call[1] for call in services.calls if call[1] != "describe"] == [
        "open_case", "settle_command"]


def test_a_command_the_gateway_cannot_reserve_its_key_for_is_a_503_and_is_not_sent(
        idempotency: IdempotencyApplication, gateway: Gateway, services: Services,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def store_away(*_: Any) -> None:
        raise OperationalError("connection refused") from psycopg.OperationalError("refused")

    monkeypatch.setattr(idempotency, "reserve", store_away)
    body = problem(open_case(gateway, services), 503)
    assert body["code"] == "unavailable" and "nothing was sent" in body["detail"]
    assert [call[1] for call in services.calls if call[1] != "describe"] == []


def test_a_key_left_by_a_crashed_gateway_is_settled_not_stuck(
        idempotency: IdempotencyApplication, gateway: Gateway, services: Services,
        wall: Wall) -> None:
    # A gateway reserved the key, sent the command, and died before it could answer.
    with acting_as(WORKER_ACTOR):
        fingerprint = _fingerprint({"client_id": "c-1"})
        crashed = idempotency.reserve(WORKER_ACTOR, "k-1", fingerprint, wall.now + TIMEOUT,
                                      REPLY_GRACE, wall.now)
    # While the command may still be running, a retry is told to wait, and for how long.
    waiting = open_case(gateway, services)
    assert problem(waiting, 409)["code"] == "request_in_progress"
    assert int(waiting.headers["Retry-After"]) == TIMEOUT + REPLY_GRACE
    # After its deadline the retry asks the service what became of it: it was carried out.
    wall.now += TIMEOUT + REPLY_GRACE + 1
    services.answers["settle_command"] = lambda command_id, name: {
        "state": "done", "name": name, "outcome": {"case_id": CASE_ID}}
    retried = open_case(gateway, services)
    assert retried.status_code == 201
    assert json.loads(retried.get_data()) == {"case_id": CASE_ID}
    assert services.calls[0][1:3] == ("settle_command", (crashed.command_id, "open_case"))
    assert [call[1] for call in services.calls] == ["settle_command"]


def _fingerprint(body: dict[str, Any]) -> str:
    import hashlib

    canonical = json.dumps(["POST", "/cases", body], sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_any_failure_but_a_refusal_is_settled_before_it_is_answered(
        gateway: Gateway, services: Services) -> None:
    from nameko.exceptions import RemoteError

    from contracts.errors import DeadlineExceeded

    # A crash in the service after it had committed: the client still gets the outcome.
    services.answers["open_case"] = RemoteError("TypeError", "after the commit")
    services.answers["settle_command"] = lambda command_id, name: {
        "state": "done", "name": name, "outcome": {"case_id": CASE_ID}}
    assert json.loads(open_case(gateway, services, key="k-a").get_data()) == {"case_id": CASE_ID}
    # The broker going away mid-call, or the service refusing a late command: once settled as
    # abandoned the 5xx says it is safe to retry, and the retry is a new attempt.
    services.answers["settle_command"] = lambda command_id, name: {"state": "abandoned"}
    for failure, status in ((ConnectionResetError(104, "reset"), 503),
                            (DeadlineExceeded("Arrived after its deadline."), 504)):
        services.answers["open_case"] = failure
        assert "safe to retry" in problem(open_case(gateway, services, key="k-b"),
                                          status)["detail"]
    services.answers["open_case"] = {"case_id": CASE_ID}
    assert open_case(gateway, services, key="k-b").status_code == 201


def test_json_nested_too_deep_is_refused_before_any_call(gateway: Gateway,
                                                         services: Services) -> None:
    deep = b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)
    bomb = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    for data in (deep, bomb):
        response = send(gateway, services, "POST", "/cases", data=data,
                        content_type="application/json")
        body = problem(response, 400)
        assert body["code"] == "request_too_deep" and str(MAX_JSON_DEPTH) in body["detail"]
    shallow = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    response = send(gateway, services, "POST", "/cases", data=shallow,
                    content_type="application/json")
    assert problem(response, 400)["code"] == "invalid_input"  # deep enough, not an object
    assert services.calls == []


def test_an_unreachable_broker_is_a_503_with_retry_after(gateway: Gateway,
                                                         services: Services) -> None:
    services.answers["get_case"] = ConnectionRefusedError(111, "Connection refused")
    response = send(gateway, services, "GET", f"/cases/{CASE_ID}")
    body = problem(response, 503)
    assert body["code"] == "unavailable" and "broker" in body["detail"]
    assert response.headers["Retry-After"] == "5"


def test_a_school_scoped_role_without_a_school_is_refused(gateway: Gateway,
                                                           services: Services) -> None:
    for role in ("school_admin", "archivist", "social_worker", "supervisor"):
        token = mint(SECRET, role, f"{role}-1")
        response = send(gateway, services, "GET", "/files", token=token)
        assert "school_id" in problem(response, 401)["detail"]
    assert services.calls == []
    with pytest.raises(NotAllowed):
        Actor("archivist-1", "archivist")


def test_worker_token_still_reaches_the_service(gateway: Gateway, services: Services) -> None:
    services.answers["get_case"] = {"case_id": CASE_ID}
    assert send(gateway, services, "GET", f"/cases/{CASE_ID}", token=WORKER).status_code == 200
