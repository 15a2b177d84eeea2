"""A service's connection to a real broker: given a cluster's failover URI it logs no broker
password when a node does not answer (the node before it in the URI is a port nobody listens
on), its consumer waits on a quiet connection a short turn at a time, so that it stops in a
fraction of a second, and a call to a service not started yet logs no warning."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

import pytest
from amqp import spec

from contracts.errors import Unavailable
from services.runtime.broker import TURN_SECONDS, ConsumerConnection
from services.runtime.entrypoints import rpc
from services.runtime.secrets import without_amqp_password
from services.runtime.subscription import fetch_since
from tests.support.broker import free_port
from tests.support.logs import configured_filters
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


def test_a_call_to_a_service_not_started_yet_logs_no_warning(amqp_uri, caplog):
    """As every subscription's catch-up does when its source starts after it: the call comes
    back unroutable, and the broker's confirmation of it arrives as the channel closes."""
    library = logging.getLogger("amqp")
    filters = configured_filters("amqp")
    for configured in filters:
        library.addFilter(configured)
    try:
        with caplog.at_level(logging.DEBUG, logger="amqp"), pytest.raises(
                Unavailable, match="Unknown service `notstarted`"):
            list(fetch_since(amqp_uri, "notstarted", 0))
    finally:
        for configured in filters:
            library.removeFilter(configured)

    confirmations = [record for record in caplog.records if record.name == "amqp"
                     and record.args and record.args[0] == spec.Basic.Ack]
    assert confirmations, "the broker's confirmation arrived during the close, and was logged"
    assert {record.levelname for record in confirmations} == {"DEBUG"}
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
