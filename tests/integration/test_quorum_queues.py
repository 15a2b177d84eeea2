"""Every queue that must outlive a broker node is a quorum queue, every subscription queue has a
single active consumer, a service upgraded from queues declared otherwise (classic, or without
a single active consumer) moves every message they hold into their successors before it
consumes (services.runtime.queues), and every reply queue belongs to its caller's connection
alone (services.runtime.replies), on a real broker."""

from __future__ import annotations

import json

import amqp.exceptions
import pytest
from kombu import Connection, Exchange, Producer, Queue
from nameko.rpc import rpc as nameko_rpc

from services.archive.service import ArchiveService
from services.cases.service import CasesService
from services.runtime.cli.keygen import subscribed_sources
from services.runtime.entrypoints import rpc as rpc_entrypoint
from services.runtime.queues import QUORUM, SINGLE_ACTIVE_CONSUMER, ensure_queue, migrating_name
from services.runtime.relay import events_exchange
from services.runtime.replies import ReplyListener, cluster_rpc
from services.runtime.subscription import dead_letter_queue_name, queue_name
from tests.support.scenarios import drive_case
from tests.support.services import AUDITOR, WORKER, config, ledgered, rpc, running
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


CLASSIC = {"x-queue-type": "classic"}


def declared(uri: str, name: str) -> str:
    """How the queue was declared, as the broker answers a declaration with each candidate's
    arguments: every other is refused ("inequivalent arg", which closes the channel)."""
    candidates = {"classic": CLASSIC, "quorum": QUORUM,
                  "quorum, single active consumer": SINGLE_ACTIVE_CONSUMER}
    with Connection(uri) as connection:
        for kind, arguments in candidates.items():
            try:
                connection.channel().queue_declare(name, durable=True, auto_delete=False,
                                                   arguments=arguments)
            except amqp.exceptions.PreconditionFailed as error:
                assert "inequivalent arg" in str(error), error
                continue
            return kind
    raise AssertionError(f"{name}: none of {list(candidates)}")


def old_queue(uri: str, name: str, exchange: Exchange, routing_key: str,
              arguments: dict[str, str] = CLASSIC) -> Queue:
    """A queue as an earlier release declared it."""
    queue = Queue(name, exchange=exchange, routing_key=routing_key, durable=True,
                  queue_arguments=arguments)
    with Connection(uri) as connection:
        queue(connection.channel()).declare()
    return queue


def test_every_queue_a_service_consumes_is_a_quorum_queue(amqp_uri):
    with running(amqp_uri, CasesService, ArchiveService):
        subscriptions = [queue_name("archive", source) for source in subscribed_sources("archive")]
        shared = ["rpc-cases", "rpc-archive"] + [
            dead_letter_queue_name("archive", source) for source in subscribed_sources("archive")]
        assert {name: declared(amqp_uri, name) for name in subscriptions + shared} == {
            **dict.fromkeys(subscriptions, "quorum, single active consumer"),
            **dict.fromkeys(shared, "quorum")}


class Mixed:
    """nameko's own `@rpc` beside the runtime's: both would consume `rpc-mixed`."""

    name = "mixed"

    @nameko_rpc
    def plain(self) -> str:
        return "plain"

    @rpc_entrypoint
    def runtime(self) -> str:
        return "runtime"


def test_a_service_that_mixes_namekos_rpc_with_the_runtimes_does_not_start(amqp_uri):
    # Rather than start and leave its RPC unanswered: nameko's would declare `rpc-mixed`
    # classic, which the broker refuses while the quorum one exists, and kombu retries.
    with pytest.raises(TypeError, match=r"mixes nameko\.rpc\.rpc"), running(amqp_uri, Mixed):
        pass


def held_by_another_connection(uri: str, name: str) -> bool:
    """Whether `name` is an exclusive queue of some other connection: asking for it is refused."""
    with Connection(uri) as connection:
        try:
            connection.channel().queue_declare(name, passive=True)
        except amqp.exceptions.ResourceLocked:
            return True
    return False


def test_every_reply_queue_is_exclusive_to_its_caller(amqp_uri):
    # Exclusive: classic whatever the vhost's default type, and declared afresh on whichever
    # broker node the caller's connection moves to (a durable one stays on its first node).
    with running(amqp_uri, CasesService, ArchiveService) as runner:
        caller = cluster_rpc(config(amqp_uri), context_data={"actor": AUDITOR}, timeout=30)
        with caller as proxy:
            assert proxy.cases.ping() == "pong"
            names = [caller._reply_listener.queue.name] + [
                extension.queue.name for container in runner.containers
                for extension in container.subextensions
                if isinstance(extension, ReplyListener)]
            assert len(names) == 3, names  # the caller's, cases' (to the archive), archive's
            assert all(held_by_another_connection(amqp_uri, name) for name in names), names


def test_a_classic_queue_is_replaced_and_keeps_every_message_in_order(amqp_uri):
    exchange = Exchange("archive.dead-letters", type="direct", durable=True)
    name = dead_letter_queue_name("archive", "cases")
    old_queue(amqp_uri, name, exchange, name)
    with Connection(amqp_uri) as connection:
        producer = Producer(connection.channel(), exchange=exchange)
        for number in range(50):
            producer.publish({"position": number}, routing_key=name, serializer="json",
                             delivery_mode=2, headers={"casebook_attempts": number})
    quorum = Queue(name, exchange=exchange, routing_key=name, durable=True,
                   queue_arguments=QUORUM)

    assert ensure_queue(amqp_uri, "archive", quorum) == 50

    assert declared(amqp_uri, name) == "quorum"
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        got = []
        while (message := channel.basic_get(name, no_ack=True)) is not None:
            got.append((json.loads(message.body)["position"],
                        message.properties["application_headers"]["casebook_attempts"]))
        with pytest.raises(Exception, match="NOT_FOUND"):
            channel.queue_declare(migrating_name(name), passive=True)
    assert got == [(number, number) for number in range(50)]
    # Still bound: what is dead-lettered from now on arrives in the quorum queue.
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        Producer(connection.channel(), exchange=exchange).publish(
            {"position": 50}, routing_key=name, serializer="json")
        message = connection.channel().basic_get(name, no_ack=True)
    assert json.loads(message.body) == {"position": 50}


def queue_depth(uri: str, name: str) -> int:
    with Connection(uri) as connection:
        return int(connection.channel().queue_declare(name, passive=True).message_count)


@pytest.mark.parametrize(("before", "source_up"), [
    (CLASSIC, True), (CLASSIC, False), (QUORUM, False)],
    ids=["classic, source up", "classic, source down",
         "quorum without a single active consumer, source down"])
def test_the_upgraded_services_consume_every_message_their_old_queues_held(
        amqp_uri, before, source_up):
    # Before the upgrade: the archive's subscription queue is as an earlier release declared it
    # (classic; quorum without a single active consumer) and fills while the archive is down,
    # and a request to it waits in its classic RPC queue. With the source down too when the
    # archive starts, the archive cannot catch up over RPC: every event it records is one the
    # migration moved.
    subscription = old_queue(amqp_uri, queue_name("archive", "cases"),
                             events_exchange("cases"), "#", before)
    with running(amqp_uri, CasesService) as source:
        with rpc(amqp_uri, WORKER) as proxy:
            drive_case(proxy, "client-1")
        with rpc(amqp_uri, AUDITOR) as proxy:
            published = proxy.cases.status()["stored_position"]
            wait_for(lambda: proxy.cases.status()["published_position"] == published,
                     what="the relay to publish")
        waiting = subscription.name
        assert queue_depth(amqp_uri, waiting) == published
        # Made only now: cases asks the archive too, and those requests would wait there for
        # callers long gone.
        old_queue(amqp_uri, "rpc-archive",
                      Exchange("nameko-rpc", type="topic", durable=True), "archive.*")
        with cluster_rpc(config(amqp_uri), context_data={"actor": AUDITOR},
                         timeout=60) as caller:
            request = caller.archive.ping.call_async()
            if not source_up:
                source.stop()

            with running(amqp_uri, ArchiveService):
                assert request.result() == "pong"
                with rpc(amqp_uri, AUDITOR) as proxy:
                    wait_for(lambda: ledgered(proxy, "cases")
                             == published, timeout=120,
                             what="the archive to record every event of cases")
                    # Against the stores only where the source is there to be asked.
                    report = proxy.archive.verify_ledger({"against_stores": source_up})
                # Every message moved across was consumed and acked, none left behind.
                wait_for(lambda: queue_depth(amqp_uri, waiting) == 0,
                         what="the moved messages to be consumed")
    assert report["sources"]["cases"]["ok"], report["sources"]["cases"]
    assert report["sources"]["cases"]["entries"] == published
    assert declared(amqp_uri, waiting) == "quorum, single active consumer"
    assert declared(amqp_uri, "rpc-archive") == "quorum"
