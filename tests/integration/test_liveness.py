"""A service marks itself alive only when its own ping comes back through a real broker: the
file Compose's health check reads is touched at each pong; one an earlier process left is gone
as the service starts; and while pings fail none is made, with one warning for the whole failing
stretch, not one per ping."""

from __future__ import annotations

import logging

import pytest

from services.runtime.entrypoints import rpc
from services.runtime.liveness import Liveness
from tests.support.services import running
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


class Lively:
    name = "lively"
    liveness = Liveness()

    @rpc
    def ping(self) -> str:
        return "pong"


class Broken:
    name = "broken"
    liveness = Liveness()
    pings = 0

    @rpc
    def ping(self) -> str:
        Broken.pings += 1
        raise RuntimeError("no store")


@pytest.fixture
def alive(tmp_path, monkeypatch):
    path = tmp_path / "casebook-alive"
    monkeypatch.setenv("CASEBOOK_LIVENESS_FILE", str(path))
    monkeypatch.setenv("CASEBOOK_LIVENESS_SECONDS", "0.2")
    return path


def test_the_file_is_touched_each_time_the_service_s_own_ping_comes_back(amqp_uri, alive):
    with running(amqp_uri, Lively):
        wait_for(alive.exists, timeout=30, what="the first pong")
        first = alive.stat().st_mtime_ns
        later = wait_for(lambda: alive.stat().st_mtime_ns > first and alive.stat().st_mtime_ns,
                         timeout=30, what="a later pong")
    assert later > first


def test_a_service_that_does_not_answer_is_not_taken_for_alive(amqp_uri, alive, caplog):
    # Touched by the process before, which died: the container keeps its files over a restart.
    alive.touch()
    with caplog.at_level(logging.INFO), running(amqp_uri, Broken):
        wait_for(lambda: Broken.pings >= 4, timeout=30, what="four pings")
    assert not alive.exists()
    warnings = [record.getMessage() for record in caplog.records
                if "did not answer its own ping" in record.getMessage()]
    assert len(warnings) == 1, warnings
    assert "broken did not answer its own ping" in warnings[0]
