"""A broker outage, or a broker that blocks publishers (its resource alarm), seen from the HTTP
API: every answer is problem+json, 503 with Retry-After, given by the gateway's deadlines
rather than held for as long as the broker is away; once the broker is back the same request
(same Idempotency-Key) is carried out once, and the services that lived through it serve on."""

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest
import requests

from services.gateway.auth import mint
from services.runtime.cli.journeys import client_id
from tests.faults.harness import SECRET, Stack, stack
from tests.support.services import AUDITOR, rpc
from tests.support.waiting import wait_for

pytestmark = pytest.mark.faults

STUDENT = {"client_type": "student", "name": "李小红", "date_of_birth": "2013-05-04",
           "grade": 7, "guardians": [{"name": "李强", "relation": "father"}]}


def refused_then_carried_out_once(world: Stack, label: str, away: Callable[[], None],
                                  back: Callable[[], None],
                                  clients: int = 1) -> list[requests.Response]:
    """`clients` clients registered at once while the broker is `away`, and each again with
    its Idempotency-Key once it is `back`: the first answers, after checking that every retry
    is carried out, and carried out once (one ClientRegistered each in the cases service's
    log)."""
    session = requests.Session()
    token = mint(SECRET, "social_worker", "worker-1", "JD001")
    session.headers["Authorization"] = f"Bearer {token}"
    requests_made = [({**STUDENT, "client_id": client_id(f"{label}-{number}")},
                      {"Idempotency-Key": str(uuid.uuid4())}) for number in range(clients)]

    def post(body: dict[str, Any], key: dict[str, str]) -> requests.Response:
        return session.post(f"{world.base_url}/clients", json=body, headers=key, timeout=60)

    away()
    try:
        with ThreadPoolExecutor(clients) as pool:
            refused = list(pool.map(lambda made: post(*made), requests_made))
    finally:
        back()

    def carried_out(body: dict[str, Any], key: dict[str, str]) -> requests.Response | None:
        answer = post(body, key)
        return answer if answer.status_code == 201 else None

    for body, key in requests_made:
        done = wait_for(partial(carried_out, body, key), timeout=120, interval=1,
                        what="the retry to be carried out")
        assert done.json() == {"client_id": body["client_id"]}
    with rpc(world.amqp_uri, AUDITOR) as proxy:
        wait_for(lambda: proxy.cases.status()["relay_read_through"]
                 == proxy.cases.status()["stored_position"], what="the relay to publish")
        registered = [e for e in proxy.cases.events_since(0, 100)
                      if e["type"] == "ClientRegistered"]
    assert sorted(e["payload"]["client_id"] for e in registered) == sorted(
        body["client_id"] for body, _ in requests_made)
    return refused


def test_a_broker_outage_is_a_503_with_retry_after_and_nothing_is_done(tmp_path):
    with stack(tmp_path) as world:
        (refused,) = refused_then_carried_out_once(
            world, "outage", lambda: world.broker.ctl("stop_app"),
            lambda: world.broker.ctl("start_app"))
    assert refused.status_code == 503, refused.text
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] in ("unavailable", "outcome_unknown")
    assert int(refused.headers["Retry-After"]) >= 1


def test_a_broker_resource_alarm_is_answered_by_the_deadlines_and_carried_out_once(tmp_path):
    # RabbitMQ blocks every publishing connection while its disk (or memory) is low: nothing
    # is refused, nothing goes anywhere. Here it is told its disk is low, as a disk running
    # full would make it (its disk_free_limit above the room the disk has). Before the gateway
    # stopped waiting for the library's cleanup, a request was held until the alarm cleared
    # (the client's 60 s ran out first). Eight requests at once, each a call and a settle
    # that meet the alarm: more than the ten producers of the gateway's pool, which the
    # retries after the alarm need back.
    with stack(tmp_path) as world:
        waited = refused_then_carried_out_once(
            world, "alarm", lambda: world.broker.ctl("set_disk_free_limit", "1000000GB"),
            lambda: world.broker.ctl("set_disk_free_limit", "50MB"), clients=8)
    for answer in waited:
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "outcome_unknown"
        assert int(answer.headers["Retry-After"]) >= 1
