"""Nothing lost, nothing twice: the delivery guarantees of DESIGN.md under the faults that break
naive pipes. Services run as separate processes where the fault is a process dying."""

import json
import logging
import socket
import sqlite3
from pathlib import Path
from typing import Any, ClassVar

import eventlet
import pytest
from eventlet.event import Event
from kombu import Connection, Producer
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import QueueConsumer

from contracts.envelope import envelope_bytes, envelope_hash
from services.archive.service import ArchiveService
from services.cases.service import CasesService
from services.resources.service import ResourcesService
from services.runtime import broker
from services.runtime.entrypoints import rpc as rpc_entrypoint
from services.runtime.persistence import Cursor
from services.runtime.queues import QUORUM
from services.runtime.relay import Relay, events_exchange
from services.runtime.service import ApplicationDependency, CommandContext
from services.runtime.store import CasebookApplication
from services.runtime.subscription import (
    Subscription,
    dead_letter_queue_name,
    queue_name,
    subscribe,
)
from services.supervision.service import SupervisionService
from tests.support.scenarios import drive_case, events_per_case
from tests.support.services import (
    AUDITOR,
    WORKER,
    ServiceProcess,
    ledgered,
    processes,
    rpc,
    running,
)
from tests.support.waiting import wait_for


def ledger_matches_cases(amqp_uri: str) -> bool:
    with rpc(amqp_uri, AUDITOR) as proxy:
        published = proxy.cases.status()["published_position"]
        return published > 0 and ledgered(proxy, "cases") == published


def verified_report(amqp_uri: str) -> dict:
    wait_for(lambda: ledger_matches_cases(amqp_uri), timeout=60, what="ledger to catch up")
    with rpc(amqp_uri, AUDITOR) as proxy:
        report = proxy.archive.verify_ledger()
    assert report["ok"], report
    return report


def publish_as_cases(amqp_uri: str, *envelopes: dict) -> None:
    """Put envelopes on the cases exchange as its relay does (`envelope_bytes`), bypassing it."""
    with Connection(amqp_uri) as connection:
        producer = Producer(connection.channel(), exchange=events_exchange("cases"))
        for envelope in envelopes:
            producer.publish(envelope_bytes(envelope), routing_key=envelope["type"],
                             content_type="application/json", content_encoding="utf-8")


def test_archive_killed_while_cases_keeps_writing_catches_up_exactly_once(amqp_uri, tmp_path):
    with processes(amqp_uri, tmp_path, "cases", "archive") as services:
        with rpc(amqp_uri, WORKER) as proxy:
            for number in range(5):
                drive_case(proxy, f"before-{number}")
            # The archive dies without any chance to clean up...
            services["archive"].kill()
            # ...while social workers keep working.
            for number in range(5):
                drive_case(proxy, f"during-{number}")
        services["archive"].start()
        report = verified_report(amqp_uri)
    assert report["sources"]["cases"]["entries"] == 10 * events_per_case()


def test_an_archive_started_after_cases_published_receives_the_whole_history(amqp_uri, tmp_path):
    with processes(amqp_uri, tmp_path, "cases"):
        with rpc(amqp_uri, WORKER) as proxy:
            for number in range(4):
                drive_case(proxy, f"early-{number}")
        # The archive's queue has never existed: every event so far went to no queue at all.
        archive = ServiceProcess("archive", amqp_uri, tmp_path).start()
        try:
            report = verified_report(amqp_uri)
        finally:
            archive.stop()
    assert report["sources"]["cases"]["entries"] == 4 * events_per_case()


def test_the_same_message_delivered_twice_makes_one_ledger_entry(amqp_uri):
    with running(amqp_uri, CasesService, ArchiveService):
        with rpc(amqp_uri, WORKER) as proxy:
            drive_case(proxy, "client-1")
        verified_report(amqp_uri)
        with rpc(amqp_uri, AUDITOR) as proxy:
            envelopes = proxy.cases.events_since(0, 100)
            before = proxy.archive.verify_ledger()["sources"]["cases"]["entries"]
        # Deliver every envelope again, as a broker redelivery or a re-sending relay would.
        publish_as_cases(amqp_uri, *envelopes)
        with rpc(amqp_uri, WORKER) as proxy:
            drive_case(proxy, "client-2")  # a marker: once it is in, the duplicates were seen
        report = verified_report(amqp_uri)
    assert before == events_per_case()
    assert report["sources"]["cases"]["entries"] == 2 * events_per_case()


def test_a_relay_that_dies_after_publishing_re_sends_and_the_subscriber_dedupes(
    amqp_uri, monkeypatch, caplog
):
    with running(amqp_uri, ArchiveService):
        from services.cases.app import CasesApplication
        from services.cases.publish import PUBLICATIONS

        cases = CasesApplication()
        relay = Relay(cases, PUBLICATIONS, amqp_uri)
        with running(amqp_uri, CasesService) as runner:
            # Stop the running relay of the cases service: this test drives one by hand.
            for container in runner.containers:
                for dependency in container.dependencies:
                    if isinstance(dependency, ApplicationDependency) and dependency.relay:
                        dependency.relay.stop()
            with rpc(amqp_uri, WORKER) as proxy:
                drive_case(proxy, "client-1")

            with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
                producer = Producer(conn.channel(), exchange=events_exchange("cases"))

                # The relay stores and publishes, then dies before it can record that the
                # broker confirmed them.
                def crash(*args, **kwargs):
                    raise SystemExit("relay killed between publish and record")

                monkeypatch.setattr(cases.outbox, "record_sent", crash)
                with pytest.raises(SystemExit):
                    relay.publish_pending(producer)
                stored = cases.outbox.published_since(0, 100)
                assert len(stored) == events_per_case() and cases.outbox.relay_state().sent == 0
                # Restarted, it sends the stored envelopes again, as they are, then records
                # them; a broker failure on the way says which it will send again.
                monkeypatch.undo()
                monkeypatch.setattr(relay, "_publish", crash)
                with pytest.raises(SystemExit), caplog.at_level(logging.WARNING):
                    relay.publish_pending(producer)
                [failed] = [r.getMessage() for r in caplog.records
                            if "sending stored envelopes" in r.getMessage()]
                assert f"envelopes 1..{events_per_case()} failed" in failed
                monkeypatch.undo()
                # Stored before this turn: there may be more behind them, so it looks again.
                assert relay.publish_pending(producer) is True
                assert cases.outbox.published_since(0, 100) == stored
                assert cases.outbox.relay_state().sent == events_per_case()
                assert relay.publish_pending(producer) is False  # nothing more
            report = verified_report(amqp_uri)
    assert report["sources"]["cases"]["entries"] == events_per_case()


class FailingApplication(CasebookApplication):
    service = "failing"


class FailingSubscriber:
    """A subscriber whose handler always raises."""

    name = "failing"
    app = ApplicationDependency(FailingApplication)
    context = CommandContext()
    calls: ClassVar[list[int]] = []

    @subscribe("cases")
    def on_cases_event(self, envelope: dict, cursor: Cursor) -> None:
        FailingSubscriber.calls.append(envelope["position"])
        raise RuntimeError(f"cannot handle position {envelope['position']}")


def test_a_failing_handler_is_retried_then_dead_lettered_with_its_error(amqp_uri, monkeypatch):
    monkeypatch.setenv("CASEBOOK_HANDLER_ATTEMPTS", "3")
    FailingSubscriber.calls.clear()
    dlq = dead_letter_queue_name("failing", "cases")
    with running(amqp_uri, CasesService, FailingSubscriber):
        with rpc(amqp_uri, WORKER) as proxy:
            drive_case(proxy, "client-1", interventions=0, close=False)

        message = first_dead_letter(amqp_uri, dlq, timeout=30)
    assert message.headers["casebook_error"] == "RuntimeError: cannot handle position 1"
    assert message.headers["casebook_attempts"] == 3
    assert message.headers["casebook_position"] == 1
    assert json.loads(message.body)["position"] == 1
    # Tried three times in all (the catch-up at start may add its own three).
    assert FailingSubscriber.calls.count(1) >= 3


def test_envelopes_lost_on_the_way_are_fetched_from_the_source_before_the_one_after_them(
    amqp_uri, monkeypatch
):
    """Deliveries lost between the relay and a subscriber (a queue purged by hand, a message
    dropped) leave a gap the next delivery shows: the subscriber fetches what lies between from
    the source (`events_since`) and processes it first, each once, in order. The catch-up a
    start makes is turned off, so only a live delivery can have fetched them."""
    caught_up = []
    monkeypatch.setattr(Subscription, "catch_up", lambda self: caught_up.append(self) or 0)
    with running(amqp_uri, CasesService):
        with running(amqp_uri, ArchiveService):
            with rpc(amqp_uri, WORKER) as proxy:
                drive_case(proxy, "client-1")
            wait_for(lambda: ledger_matches_cases(amqp_uri), timeout=60,
                     what="the first case in the ledger")
        with rpc(amqp_uri, WORKER) as proxy:
            drive_case(proxy, "client-2")  # the archive is stopped: its queue keeps them
            wait_for(lambda: proxy.cases.status()["relay_lag"] == 0, timeout=30,
                     what="the second case published")
        with rpc(amqp_uri, AUDITOR) as proxy:
            last = proxy.cases.events_since(0, 100)[-1]
        with Connection(amqp_uri) as connection:
            connection.default_channel.queue_purge(queue_name("archive", "cases"))
        publish_as_cases(amqp_uri, last)
        with running(amqp_uri, ArchiveService):
            report = verified_report(amqp_uri)
    assert caught_up  # the archive's start tried, and did nothing
    assert report["sources"]["cases"]["entries"] == 2 * events_per_case()


def test_an_envelope_past_a_gap_the_source_cannot_serve_is_never_recorded_across_it(
    amqp_uri, monkeypatch
):
    """The archive records a broken chain rather than stop, but never across a gap: an
    envelope whose predecessor the source cannot serve (a relay that sent before it stored,
    the defect the cluster test found) is retried, then dead-lettered with its reason, and
    the ledger goes on from where it stood when the source's real envelopes come."""
    monkeypatch.setenv("CASEBOOK_HANDLER_ATTEMPTS", "3")
    dlq = dead_letter_queue_name("archive", "cases")
    with running(amqp_uri, CasesService, ArchiveService):
        with rpc(amqp_uri, WORKER) as proxy:
            drive_case(proxy, "client-1")
        verified_report(amqp_uri)
        with rpc(amqp_uri, AUDITOR) as proxy:
            last = proxy.cases.events_since(0, 100)[-1]
        # Two positions past the source's head: the one between was never stored.
        ahead = {**last, "id": "an-envelope-past-a-gap", "position": last["position"] + 2,
                 "prev_position": last["position"] + 1, "prev_hash": "0" * 64}
        ahead["hash"] = envelope_hash(ahead)
        publish_as_cases(amqp_uri, ahead)

        message = first_dead_letter(amqp_uri, dlq, timeout=60)
        with rpc(amqp_uri, AUDITOR) as proxy:
            stood = ledgered(proxy, "cases")
        with rpc(amqp_uri, WORKER) as proxy:
            drive_case(proxy, "client-2")
        report = verified_report(amqp_uri)
    assert message.headers["casebook_position"] == ahead["position"]
    assert message.headers["casebook_attempts"] == 3
    assert "could not fetch what lies between" in message.headers["casebook_error"]
    assert stood == last["position"]
    # Every real envelope once, the one past the gap never: the chain holds.
    assert report["sources"]["cases"]["entries"] == 2 * events_per_case()


class DyingApplication(CasebookApplication):
    service = "dying"


class DyingSubscriber:
    """A subscriber whose handler counts each envelope it is given."""

    name = "dying"
    app = ApplicationDependency(DyingApplication)
    context = CommandContext()
    handled: ClassVar[list[int]] = []

    @subscribe("cases")
    def on_cases_event(self, envelope: dict, cursor: Cursor) -> None:
        DyingSubscriber.handled.append(envelope["position"])


def test_a_delivery_refused_by_a_dying_service_is_not_dead_lettered_and_comes_again(
    amqp_uri, monkeypatch, caplog
):
    """nameko kills a container whose reply or consumer broke (a broker fault), and while it
    dies `spawn_worker` refuses every worker. The handler never ran: the delivery must not count
    as its failure, nor be dead-lettered, but come again to the next start."""
    monkeypatch.setenv("CASEBOOK_HANDLER_ATTEMPTS", "3")
    DyingSubscriber.handled.clear()
    with running(amqp_uri, CasesService):
        with running(amqp_uri, DyingSubscriber) as runner:
            [container] = runner.containers

            def refuse(*args, **kwargs):
                raise ContainerBeingKilled()

            monkeypatch.setattr(container, "spawn_worker", refuse)
            with caplog.at_level(logging.WARNING), rpc(amqp_uri, WORKER) as proxy:
                drive_case(proxy, "client-1", interventions=0, close=False)
                published = proxy.cases.status()["published_position"]
                wait_for(lambda: any("the service is being killed" in record.getMessage()
                                     for record in caplog.records),
                         timeout=30, what="the refused delivery")
            failed = [record.getMessage() for record in caplog.records
                      if "failed" in record.getMessage()]
            assert not failed, failed
        with Connection(amqp_uri) as connection:
            dlq = connection.SimpleQueue(dead_letter_queue_name("dying", "cases"),
                                         queue_args=QUORUM)
            assert dlq.qsize() == 0
        assert DyingSubscriber.handled == []
        with running(amqp_uri, DyingSubscriber):
            wait_for(lambda: len(DyingSubscriber.handled) >= published, timeout=30,
                     what="every event handled after the restart")
            eventlet.sleep(0.5)  # anything handled twice would show now
    assert DyingSubscriber.handled == list(range(1, published + 1))


class PingedService:
    name = "pinged"
    release: ClassVar[Event] = Event()

    @rpc_entrypoint
    def ping(self) -> str:
        return "pong"

    @rpc_entrypoint
    def ping_when_released(self) -> str:
        PingedService.release.wait()
        return "pong"


def _consumer_of(container: Any) -> QueueConsumer:
    [consumer] = [extension for extension in container.extensions
                  if isinstance(extension, QueueConsumer)]
    return consumer


def _pings(amqp_uri: str) -> bool:
    try:
        with rpc(amqp_uri, timeout=2) as proxy:
            return bool(proxy.pinged.ping() == "pong")
    except Exception:
        return False


def test_a_consumer_whose_connection_broke_under_another_greenthread_consumes_again(amqp_uri):
    """A write on the consumer's connection from another greenthread (an ack, a reply) that
    meets a broken socket marks the connection as down. kombu would then quietly open a new
    connection the next time the consumer reads, with none of its queues: the service answers
    nothing, logs nothing, and its requests wait on the old connection (seen after a broker
    restart). It must instead reconnect as after any lost connection, its queues with it."""
    with running(amqp_uri, PingedService) as runner:
        [container] = runner.containers
        consumer = _consumer_of(container)

        def answers() -> bool:
            return _pings(amqp_uri)

        assert answers()
        # What py-amqp does when a write fails with a broken pipe: the socket stays as it is.
        channel = next(iter(consumer._consumers.values())).channel
        channel.connection.transport.connected = False
        wait_for(lambda: next(iter(consumer._consumers.values())).channel is not channel
                 and answers(), timeout=30, what="the consumer on a new connection, answering")
        # Every request is answered, none waits on a connection nobody reads any more.
        assert all(answers() for _ in range(10))


def test_an_ack_on_a_broken_connection_does_not_kill_the_service(amqp_uri):
    """A worker finishes after the consumer's connection broke: its reply goes out on the
    publisher's connection, but acknowledging the request writes to a broken socket. nameko
    lets that OSError out of the worker and kills the service. Here the request stays with the
    broker, which delivers it again, and the service reconnects and goes on."""
    PingedService.release = Event()
    with running(amqp_uri, PingedService) as runner:
        [container] = runner.containers
        consumer = _consumer_of(container)
        with rpc(amqp_uri, timeout=30) as proxy:
            reply = proxy.pinged.ping_when_released.call_async()
            wait_for(lambda: container._worker_threads, timeout=10, what="the worker")
            channel = next(iter(consumer._consumers.values())).channel
            channel.connection.transport.sock.shutdown(socket.SHUT_WR)
            PingedService.release.send()
            assert reply.result() == "pong"
        wait_for(lambda: _pings(amqp_uri), timeout=30, what="the service to answer again")
        assert not container._died.ready()


SERVICES = (CasesService, ArchiveService, SupervisionService, ResourcesService)


def test_every_consumer_of_a_service_shares_the_one_that_notices_a_lost_connection(amqp_uri):
    # RPC, replies to its own calls, subscriptions: one consumer, one connection, and a lost
    # connection noticed whichever greenthread met it.
    with running(amqp_uri, *SERVICES) as runner:
        consumers = {container.service_name: [type(extension) for extension in container.extensions
                                              if isinstance(extension, QueueConsumer)]
                     for container in runner.containers}
    assert consumers == {service.name: [broker.QueueConsumer] for service in SERVICES}


class RunApplication(CasebookApplication):
    service = "runs"


class RunSubscriber:
    """A `batch=True` subscriber: slow at first, so that deliveries wait and come as a run, and
    failing the first run of more than one, which must then be taken apart."""

    name = "runs"
    app = ApplicationDependency(RunApplication)
    context = CommandContext()
    runs: ClassVar[list[list[int]]] = []
    failed: ClassVar[list[list[int]]] = []

    @subscribe("cases", batch=True)
    def on_cases_events(self, envelopes: list[dict], cursor: Cursor) -> None:
        positions = [envelope["position"] for envelope in envelopes]
        assert cursor.position == positions[-1]
        if not RunSubscriber.runs and not RunSubscriber.failed:
            eventlet.sleep(1)  # the next deliveries wait in the inbox meanwhile
        elif len(positions) > 1 and not RunSubscriber.failed:
            RunSubscriber.failed.append(positions)
            raise RuntimeError(f"cannot handle the run {positions}")
        RunSubscriber.runs.append(positions)


def test_a_failed_run_is_taken_apart_and_each_event_is_handled_once_in_order(amqp_uri):
    RunSubscriber.runs.clear()
    RunSubscriber.failed.clear()
    with running(amqp_uri, CasesService, RunSubscriber):
        with rpc(amqp_uri, WORKER) as proxy:
            drive_case(proxy, "client-1")
            published = proxy.cases.status()["published_position"]
        wait_for(lambda: sum(map(len, RunSubscriber.runs)) >= published, timeout=60,
                 what="every event handled")
        eventlet.sleep(0.5)  # anything handled twice would show now
    handled = [position for run in RunSubscriber.runs for position in run]
    assert handled == list(range(1, published + 1))
    # A run did fail, and its events were each handled alone afterwards.
    assert RunSubscriber.failed and all(
        [position] in RunSubscriber.runs for position in RunSubscriber.failed[0])


def test_an_edited_stored_event_is_named_by_source_and_position(amqp_uri, tmp_path):
    with running(amqp_uri, CasesService, ArchiveService):
        with rpc(amqp_uri, WORKER) as proxy:
            for number in range(3):
                drive_case(proxy, f"client-{number}")
        verified_report(amqp_uri)
        # Someone with file access changes one stored event of the cases store.
        with rpc(amqp_uri, AUDITOR) as proxy:
            target = proxy.cases.events_since(0, 100)[4]
        database = Path(tmp_path / "var" / "cases.sqlite")
        with sqlite3.connect(database) as connection:
            (state,) = connection.execute(
                "SELECT state FROM stored_events WHERE rowid=?", (target["position"],)
            ).fetchone()
            edited = state.replace(b'"2026-', b'"2025-', 1)
            assert edited != state
            connection.execute(
                "UPDATE stored_events SET state=? WHERE rowid=?", (edited, target["position"])
            )
        with rpc(amqp_uri, AUDITOR) as proxy:
            report = proxy.archive.verify_ledger()
    assert report["ok"] is False
    problems = report["sources"]["cases"]["problems"]
    assert problems[0]["position"] == target["position"]
    assert problems[0]["where"] == "store"
    assert "differs from what was published" in problems[0]["problem"]


def first_dead_letter(amqp_uri: str, dlq: str, timeout: float) -> Any:
    """The first message in the dead-letter queue `dlq`, waited for up to `timeout` seconds."""

    def dead_letter():
        with Connection(amqp_uri) as connection:
            return connection.SimpleQueue(dlq, queue_args=QUORUM).get(block=True, timeout=0.5)

    return wait_for(_quietly(dead_letter), timeout=timeout, what="a dead letter")


def _quietly(function):
    def attempt():
        try:
            return function()
        except Exception:
            return None

    return attempt
