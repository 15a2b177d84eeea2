"""Two instances of a service in one process (as when it is scaled out, here on eventlet side by
side): each counts only the commands it carried out, and both report the same store figures,
dead letters included."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kombu import Connection, Producer
from nameko.runners import ServiceRunner

from services.archive.service import ArchiveService
from services.cases.service import CasesService
from services.runtime.metrics import Metrics
from services.runtime.queues import quorum_queue
from services.runtime.subscription import dead_letter_exchange, dead_letter_queue_name
from tests.e2e.test_metrics import scrape, value
from tests.support.scenarios import register_student
from tests.support.services import WORKER, config, rpc
from tests.support.waiting import wait_for

COMMANDS = 8


@contextmanager
def instance(amqp_uri: str, *service_classes: type) -> Iterator[dict[str, int]]:
    """The services in a runner of their own; their metrics ports, by service."""
    runner = ServiceRunner(config(amqp_uri))
    for service_class in service_classes:
        runner.add_service(service_class)
    runner.start()
    try:
        yield {
            container.service_name: int(dependency.address.rsplit(":", 1)[1])
            for container in runner.containers
            for dependency in container.dependencies if isinstance(dependency, Metrics)
        }
    finally:
        runner.stop()


def dead_letter(amqp_uri: str, subscriber: str, source: str) -> None:
    """A delivery parked in the subscriber's dead-letter queue, as the pump parks one."""
    name = dead_letter_queue_name(subscriber, source)
    queue = quorum_queue(name, dead_letter_exchange(subscriber), name)
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        producer = Producer(connection.channel())
        queue(producer.channel).declare()
        producer.publish({"position": 1}, exchange=queue.exchange, routing_key=name,
                         serializer="json", delivery_mode=2)


def test_each_instance_counts_its_own_commands_and_reads_the_same_store(amqp_uri, monkeypatch):
    # Port 0: each container listens on a port of its own, the one its Metrics says.
    monkeypatch.setenv("CASEBOOK_METRICS_ADDRESS", "127.0.0.1:0")
    with instance(amqp_uri, CasesService, ArchiveService) as first, \
            instance(amqp_uri, CasesService, ArchiveService) as second:
        with rpc(amqp_uri, WORKER) as proxy:
            for number in range(COMMANDS):
                register_student(proxy, f"scaled-{number}")
            published = proxy.cases.status()["stored_position"]
        dead_letter(amqp_uri, "archive", "cases")

        def settled(port: int) -> dict | None:
            samples = scrape(port)
            at = {"service": "archive", "source": "cases"}
            # The cursor is read before the ledger: both, for a scrape taken after the last.
            done = (value(samples, "casebook_subscription_position", **at) == published
                    and value(samples, "casebook_archive_ledger_position", **at) == published
                    and value(samples, "casebook_subscription_dead_letters", **at) == 1)
            return samples if done else None

        archives = [wait_for(lambda port=ports["archive"]: settled(port), timeout=60,
                             what="the ledger to hold every cases event")
                    for ports in (first, second)]
        # The service's status counts the same (`casebook status`, the console's status page).
        with rpc(amqp_uri, WORKER) as proxy:
            parked = proxy.archive.status()["dead_letters"]
        assert parked == {**{source: 0 for source in parked}, "cases": 1}
        cases = [scrape(ports["cases"]) for ports in (first, second)]

    carried_out = [value(samples, "casebook_commands_total", service="cases",
                         command="register_client", outcome="carried_out", code="") or 0
                   for samples in cases]
    assert sum(carried_out) == COMMANDS
    # The same store: the same figures on both instances.
    for name in ("casebook_relay_stored_position", "casebook_relay_published_position"):
        assert {value(samples, name, service="cases") for samples in cases} == {published}
    for name in ("casebook_subscription_position", "casebook_archive_ledger_position"):
        assert {value(samples, name, service="archive", source="cases")
                for samples in archives} == {published}
