"""A broker outage, seen from the HTTP API: every answer is problem+json, 503 with Retry-After,
nothing is carried out; once the broker is back the same request (same Idempotency-Key) is
carried out once, and the services that lived through the outage serve on."""

import uuid

import pytest
import requests

from services.gateway.auth import mint
from services.runtime.cli.journeys import client_id
from tests.faults.harness import SECRET, stack
from tests.support.services import AUDITOR, rpc
from tests.support.waiting import wait_for

pytestmark = pytest.mark.faults

STUDENT = {"client_type": "student", "name": "李小红", "date_of_birth": "2013-05-04",
           "grade": 7, "guardians": [{"name": "李强", "relation": "father"}]}


def test_a_broker_outage_is_a_503_with_retry_after_and_nothing_is_done(tmp_path):
    with stack(tmp_path) as world:
        session = requests.Session()
        token = mint(SECRET, "social_worker", "worker-1", "JD001")
        session.headers["Authorization"] = f"Bearer {token}"
        body = {**STUDENT, "client_id": client_id("outage")}
        key = {"Idempotency-Key": str(uuid.uuid4())}
        world.broker.ctl("stop_app")
        try:
            refused = session.post(f"{world.base_url}/clients", json=body, headers=key,
                                   timeout=60)
        finally:
            world.broker.ctl("start_app")
        assert refused.status_code == 503, refused.text
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json()["code"] in ("unavailable", "outcome_unknown")
        assert int(refused.headers["Retry-After"]) >= 1

        def carried_out() -> requests.Response | None:
            response = session.post(f"{world.base_url}/clients", json=body, headers=key,
                                    timeout=60)
            return response if response.status_code == 201 else None

        done = wait_for(carried_out, timeout=120, interval=1, what="the retry to be carried out")
        assert done.json() == {"client_id": body["client_id"]}
        with rpc(world.amqp_uri, AUDITOR) as proxy:
            wait_for(lambda: proxy.cases.status()["relay_read_through"]
                     == proxy.cases.status()["stored_position"], what="the relay to publish")
            registered = [e for e in proxy.cases.events_since(0, 100)
                          if e["type"] == "ClientRegistered"]
    assert [e["payload"]["client_id"] for e in registered] == [body["client_id"]]
