"""The outbox relay against a real broker, driven by hand: what one turn reads, stores and
sends, and when it looks again at once (services.runtime.relay)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import eventlet
import pytest
from kombu import Connection, Producer, Queue

from contracts.envelope import envelope_bytes
from services.cases.app import CasesApplication
from services.cases.publish import PUBLICATIONS
from services.runtime.context import acting_as
from services.runtime.relay import Relay, events_exchange
from tests.support.broker import free_port
from tests.support.waiting import wait_for
from tests.unit.cases.conftest import WORKER, open_case, register_student


@contextmanager
def connected(amqp_uri: str) -> Iterator[tuple[Producer, Queue]]:
    """A confirming producer on the cases exchange and a queue bound to all it carries."""
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        channel = connection.channel()
        exchange = events_exchange("cases")
        exchange(channel).declare()
        queue = Queue("relay-test", exchange=exchange, routing_key="#")(channel)
        queue.declare()
        yield Producer(channel, exchange=exchange), queue


def received(queue: Queue) -> list[bytes]:
    """The bodies waiting on the queue, as the broker holds them (kombu gives UTF-8 text)."""
    bodies = []
    while (message := queue.get(no_ack=True)) is not None:
        body = message.body
        bodies.append(body if isinstance(body, bytes) else body.encode())
    return bodies


def transactions(app: CasesApplication, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Every connection the store hands out from now on (one a transaction, read or write)."""
    datastore: Any = app.recorder.datastore  # type: ignore[attr-defined]
    taken: list[bool] = []
    get_connection = datastore.get_connection

    def counted(*args: Any, **kwargs: Any) -> Any:
        taken.append(True)
        return get_connection(*args, **kwargs)

    monkeypatch.setattr(datastore, "get_connection", counted)
    return taken


def test_a_commands_events_cost_one_turn_of_four_transactions_and_go_out_as_stored(
    store, amqp_uri, monkeypatch
):
    app = CasesApplication(env=store)
    relay = Relay(app, PUBLICATIONS, amqp_uri)
    with acting_as(WORKER):
        register_student(app)
        open_case(app)
    stored_events = app.max_position()
    with connected(amqp_uri) as (producer, queue):
        taken = transactions(app, monkeypatch)
        # Fewer than a batch read: nothing more can be waiting, so the relay waits to be woken.
        assert relay.publish_pending(producer) is False
        # Its state in one statement, the log, the batch stored, the confirmed position.
        assert len(taken) == 4
        monkeypatch.undo()
        stored = app.outbox.published_since(0, 100)
        assert len(stored) == stored_events
        assert received(queue) == [envelope_bytes(envelope) for envelope in stored]
        state = app.outbox.relay_state()
        assert state.read_through == state.sent == stored_events and not state.unsent
        assert relay.publish_pending(producer) is False  # and then nothing is left
        assert received(queue) == []


def test_a_full_batch_makes_the_relay_look_again_at_once(amqp_uri, monkeypatch):
    monkeypatch.setenv("CASEBOOK_RELAY_BATCH", "2")
    app = CasesApplication()
    relay = Relay(app, PUBLICATIONS, amqp_uri)
    with acting_as(WORKER):
        for number in range(3):
            register_student(app, f"client-{number}")
    with connected(amqp_uri) as (producer, queue):
        assert relay.publish_pending(producer) is True  # two read: there may be more
        assert relay.publish_pending(producer) is False  # the third, and the log is read
        assert [envelope["position"] for envelope in app.outbox.published_since(0, 10)] == [
            1, 2, 3]
        assert len(received(queue)) == 3


def test_envelopes_stored_and_not_confirmed_are_sent_before_anything_new(
    amqp_uri, monkeypatch
):
    app = CasesApplication()
    relay = Relay(app, PUBLICATIONS, amqp_uri)
    with acting_as(WORKER):
        register_student(app, "client-1")
    with connected(amqp_uri) as (producer, queue):
        # Stored, then the broker lost before it confirmed them.
        def lost(*args: Any, **kwargs: Any) -> None:
            raise ConnectionError("the broker went away")

        monkeypatch.setattr(relay, "_publish", lost)
        with pytest.raises(ConnectionError):
            relay.publish_pending(producer)
        monkeypatch.undo()
        assert app.outbox.relay_state().unsent
        with acting_as(WORKER):
            register_student(app, "client-2")
        # The stored one first, alone: the log may have grown behind it, so it looks again.
        assert relay.publish_pending(producer) is True
        first = received(queue)
        assert first == [envelope_bytes(app.outbox.published_since(0, 1)[0])]
        assert relay.publish_pending(producer) is False
        assert len(received(queue)) == 1
        assert app.outbox.relay_state().sent == app.max_position() == 2


def failures_logged(relay: Relay, caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    """The first failure the relay logs as it runs (leading, connecting, publishing)."""
    with caplog.at_level(logging.WARNING, logger="services.runtime.relay"):
        running = eventlet.spawn(relay.run)
        try:
            wait_for(lambda: caplog.records, what="the relay to log a failure")
        finally:
            relay.stop()
            running.wait()
    return caplog.records[0]


def test_a_broker_that_does_not_answer_is_a_warning_without_a_traceback(store, caplog):
    # A node lost in a cluster: the relay connects again, to the next node of its URI.
    down = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    record = failures_logged(Relay(CasesApplication(env=store), PUBLICATIONS, down), caplog)
    assert record.levelno == logging.WARNING
    assert "relay for cases: the broker connection failed" in record.getMessage()
    assert record.exc_info is None


def test_a_store_that_fails_is_an_error_with_its_traceback(store, amqp_uri, caplog,
                                                           monkeypatch):
    app = CasesApplication(env=store)

    def failing() -> Any:
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr(app.outbox, "relay_state", failing)
    record = failures_logged(Relay(app, PUBLICATIONS, amqp_uri), caplog)
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "relay for cases failed; retrying"
    assert record.exc_info is not None and "disk I/O error" in str(record.exc_info[1])
