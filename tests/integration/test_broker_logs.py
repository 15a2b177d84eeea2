"""A service given a cluster's failover URI logs no broker password when a node does not answer,
on a real broker (the node before it in the URI is a port nobody listens on)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pytest

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
