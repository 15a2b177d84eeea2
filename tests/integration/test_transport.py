"""RPC bodies sealed through RabbitMQ under CASEBOOK_TRANSPORT_KEY (services.runtime.transport),
on a real broker: what RabbitMQ holds of a command, its answer and a query's answer is
ciphertext, while the call works as before; a caller without the key is still answered, in
JSON."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import pytest
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ClusterRpcProxy

from services.cases.service import CasesService
from services.runtime import transport
from tests.support.services import WORKER, rpc, running

KEY = base64.b64encode(os.urandom(32)).decode()
NAME = "赵小雨"
GUARDIAN_CONTACT = "137-2222-3333"


@pytest.fixture
def sealed(monkeypatch) -> Iterator[None]:
    monkeypatch.setenv("CASEBOOK_TRANSPORT_KEY", KEY)
    transport.register()
    yield
    monkeypatch.delenv("CASEBOOK_TRANSPORT_KEY")
    transport.register()


@pytest.fixture
def spy(amqp_uri) -> Iterator[Queue]:
    """A queue that receives a copy of every RPC request and reply, as RabbitMQ holds them."""
    with Connection(amqp_uri) as connection:
        queue = Queue("rpc-spy", Exchange("nameko-rpc", type="topic", durable=True),
                      routing_key="#", channel=connection.channel())
        queue.declare()
        yield queue
        queue.delete()


def held(queue: Queue) -> list[tuple[str, str, bytes]]:
    """Routing key, content type and body of each message the spy holds, as the broker has it."""
    messages = []
    while (message := queue.get(no_ack=True)) is not None:
        body = message.body
        messages.append((message.delivery_info["routing_key"], message.content_type,
                         body if isinstance(body, bytes) else body.encode()))
    return messages


def student() -> dict:
    return {"client_type": "student", "name": NAME, "date_of_birth": "2013-05-04", "grade": 7,
            "guardians": [{"name": "赵刚", "relation": "father", "contact": GUARDIAN_CONTACT}]}


def test_a_command_and_the_answers_hold_no_personal_content_on_the_broker(
        sealed, spy, amqp_uri, tmp_path, monkeypatch):
    monkeypatch.setenv("CASEBOOK_DATA_DIR", str(tmp_path))
    with running(amqp_uri, CasesService), rpc(amqp_uri, WORKER) as worker:
        client_id = worker.cases.register_client(student())["client_id"]
        client = worker.cases.get_client({"client_id": client_id})
    assert client["details"]["name"] == NAME  # the call works as before
    messages = held(spy)
    keys = [key for key, _, _ in messages]
    assert "cases.register_client" in keys and "cases.get_client" in keys
    assert len(messages) >= 4  # the two requests and their two replies at least
    assert {content_type for _, content_type, _ in messages} == {transport.SEALED}
    for key, _, body in messages:
        for plain in (NAME, GUARDIAN_CONTACT, client_id):
            assert plain.encode() not in body, key
        assert b'"kwargs"' not in body and b'"result"' not in body, key


def test_a_caller_without_the_key_is_answered_in_json(sealed, spy, amqp_uri, tmp_path,
                                                      monkeypatch):
    monkeypatch.setenv("CASEBOOK_DATA_DIR", str(tmp_path))
    with running(amqp_uri, CasesService), ClusterRpcProxy(
            {"AMQP_URI": amqp_uri, "serializer": "json"}) as plain:
        assert plain.cases.ping() == "pong"
    messages = held(spy)
    # Requests are routed by service.method, replies by their caller's reply queue.
    assert [content_type for key, content_type, _ in messages if key == "cases.ping"] == [
        "application/json"]
    assert [content_type for key, content_type, _ in messages if "." not in key] == [
        "application/json"]


def test_without_a_key_the_encoding_is_json_byte_for_byte(amqp_uri, spy, tmp_path,
                                                          monkeypatch):
    monkeypatch.setenv("CASEBOOK_DATA_DIR", str(tmp_path))
    with running(amqp_uri, CasesService), rpc(amqp_uri, WORKER) as worker:
        client_id = worker.cases.register_client(student())["client_id"]
    bodies = {key: body for key, content_type, body in held(spy)
              if content_type == "application/json"}
    assert NAME.encode("unicode_escape") in bodies["cases.register_client"]
    assert any(client_id.encode() in body for key, body in bodies.items()
               if key != "cases.register_client")
