"""A service's connection to a real broker: given a cluster's failover URI it logs no broker
password when a node does not answer (the node before it in the URI is a port nobody listens
on), and its consumer waits on a quiet connection a short turn at a time, so that it stops in
a fraction of a second."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

import pytest

from services.runtime.broker import TURN_SECONDS, ConsumerConnection
from services.runtime.entrypoints import rpc
from services.runtime.secrets import without_amqp_password
from tests.support.broker import free_port
from tests.support.services import rpc as rpc_proxy
from tests.support.services import running

pytestmark = pytest.mark.integration


class Pinged:
    name = "pinged"

    @rpc
    def ping(self) -> str:
        return "pong"


def test_a_node_that_does_not_answer_is_logged_without_any_password(amqp_uri, caplog):
    live = urlsplit(amqp_uri)
    assert live.password, "the test broker's URI carries a password"
    down = live._replace(netloc=f"{live.username}:{live.password}@127.0.0.1:{free_port()}")
    failover = f"{down.geturl()};{amqp_uri};{down.geturl()}"

    with caplog.at_level(logging.INFO), running(failover, Pinged), rpc_proxy(amqp_uri) as proxy:
        assert proxy.pinged.ping() == "pong"  # connected through the node that answers

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Error connecting to broker at" in logged
    assert f":{live.password}@" not in logged, logged


def test_each_uri_of_a_failover_uri_is_masked():
    assert without_amqp_password(
        "amqp://cases:s3cret@10.0.0.1:5672/casebook;amqp://cases@10.0.0.2:5672/casebook;"
        "amqp://cases:s3cret@10.0.0.3:5672/casebook") == (
        "amqp://cases:********@10.0.0.1:5672/casebook;amqp://cases@10.0.0.2:5672/casebook;"
        "amqp://cases:********@10.0.0.3:5672/casebook")


def test_a_quiet_consumer_waits_a_short_turn_at_a_time(amqp_uri, monkeypatch):
    """A consumer cancels and ends only between turns, and a service stops in three turns:
    kombu's own turn (1 s) made every stop take 3 s."""
    waits = []
    drain = ConsumerConnection.drain_events

    def waited(self, **kwargs):
        waits.append(kwargs.get("timeout"))
        return drain(self, **kwargs)

    monkeypatch.setattr(ConsumerConnection, "drain_events", waited)
    with running(amqp_uri, Pinged), rpc_proxy(amqp_uri) as proxy:
        assert proxy.pinged.ping() == "pong"
        time.sleep(3 * TURN_SECONDS)  # quiet: the consumer turns with nothing to read

    assert len(waits) >= 3
    assert set(waits) == {TURN_SECONDS}, waits
