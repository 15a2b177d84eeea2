"""The plain-kombu example subscriber catches up, follows live events and dedupes."""

import json
import subprocess
import sys
from pathlib import Path

from kombu import Connection, Producer

from contracts.envelope import canonical_json
from services.cases.service import CasesService
from services.runtime.relay import events_exchange
from tests.support.scenarios import drive_case, events_per_case
from tests.support.services import AUDITOR, WORKER, rpc, running
from tests.support.waiting import wait_for

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "subscriber" / "subscriber.py"


def test_the_example_subscriber_sees_history_and_live_events_once(amqp_uri, tmp_path):
    out, state = tmp_path / "events.jsonl", tmp_path / "state.json"
    with running(amqp_uri, CasesService):
        # History from before the subscriber existed...
        with rpc(amqp_uri, WORKER) as proxy:
            drive_case(proxy, "before")
        subscriber = subprocess.Popen(
            [
                sys.executable,
                str(SCRIPT),
                "--uri",
                amqp_uri,
                "--state",
                str(state),
                "--out",
                str(out),
                "--idle-exit",
                "5",
            ],
        )
        try:
            wait_for(
                lambda: out.exists() and len(out.read_text().splitlines()) >= events_per_case(),
                what="the subscriber to catch up",
            )
            # ...live events, and a duplicate of the first envelope.
            with rpc(amqp_uri, WORKER) as proxy:
                drive_case(proxy, "after")
            with rpc(amqp_uri, AUDITOR) as proxy:
                first = proxy.cases.events_since(0, 1)[0]
            with Connection(amqp_uri) as connection:
                Producer(connection.channel(), exchange=events_exchange("cases")).publish(
                    canonical_json(first),
                    routing_key=first["type"],
                    content_type="application/json",
                    content_encoding="utf-8",
                )
            assert subscriber.wait(timeout=60) == 0
        finally:
            subscriber.kill()
    positions = [json.loads(line)["position"] for line in out.read_text().splitlines()]
    assert len(positions) == 2 * events_per_case()
    assert positions == sorted(set(positions))
    assert json.loads(state.read_text())["position"] == positions[-1]
