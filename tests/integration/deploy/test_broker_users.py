"""Each service runs under its own RabbitMQ user with the permissions `casebook keygen` gives it
(deploy/rabbitmq/definitions.json in Compose), and nothing more: the broker is a trust boundary
(DESIGN.md "Actors, access, privacy")."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from kombu import Connection, Exchange, Producer, Queue

from services.archive.service import ArchiveService
from services.cases.service import CasesService
from services.runtime.cli.keygen import OPERATOR_USER, SERVICES, definitions
from tests.support.scenarios import drive_case
from tests.support.services import AUDITOR, WORKER, ledgered, rpc, running
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def service_uri(amqp_uri: str) -> Iterator[Callable[[str], str]]:
    """The generated definitions imported into this test's vhost, with user names made unique
    (users are global to the broker); yields the AMQP URI of a service's own user."""
    parts = urlsplit(amqp_uri)
    vhost = parts.path.lstrip("/")
    prefix = f"t{uuid.uuid4().hex[:8]}-"
    passwords = {name: uuid.uuid4().hex for name in [OPERATOR_USER, *SERVICES]}
    document = definitions(passwords)
    document["vhosts"][0]["name"] = vhost
    for user in document["users"]:
        user["name"] = prefix + user["name"]
    for grant in document["permissions"] + document["topic_permissions"]:
        grant["user"] = prefix + grant["user"]
        grant["vhost"] = vhost
    # Through stdin: the broker's own user cannot read pytest's private tmp directory.
    subprocess.run(["rabbitmqctl", "-q", "import_definitions", "--format", "json"],
                   input=json.dumps(document), text=True, check=True, capture_output=True,
                   timeout=60)

    def uri(service: str) -> str:
        return f"amqp://{prefix}{service}:{passwords[service]}@{parts.hostname}:{parts.port}/{vhost}"

    def can_log_in() -> bool:  # the import finishes asynchronously
        try:
            with Connection(uri("cases"), connect_timeout=2) as connection:
                connection.ensure_connection(max_retries=1)
            return True
        except Exception:
            return False

    try:
        wait_for(can_log_in, what="the imported users to log in with their passwords")
        yield uri
    finally:
        for name in passwords:
            subprocess.run(["rabbitmqctl", "-q", "delete_user", prefix + name],
                           capture_output=True, timeout=60)


def test_each_service_does_its_work_under_its_own_user(amqp_uri, service_uri):
    # cases declares its exchange and RPC queue, answers RPC and publishes; the archive binds
    # its subscription queue to cases.events, consumes it, and answers RPC; each as itself.
    with running(service_uri("cases"), CasesService), \
            running(service_uri("archive"), ArchiveService):
        with rpc(service_uri(OPERATOR_USER), WORKER) as proxy:
            drive_case(proxy, "client-1")
            published = proxy.cases.status()["stored_position"]
        with rpc(service_uri(OPERATOR_USER), AUDITOR) as proxy:
            wait_for(lambda: ledgered(proxy, "cases") == published,
                     what="the archive to record every event of cases")
            assert proxy.archive.verify_ledger()["sources"]["cases"]["ok"]


def _publish(uri: str, exchange: str, routing_key: str) -> None:
    with Connection(uri, transport_options={"confirm_publish": True}) as connection:
        Producer(connection.channel()).publish(
            {"forged": True}, exchange=exchange, routing_key=routing_key, retry=False
        )


def test_a_service_user_cannot_publish_as_another_service_nor_listen_in(service_uri):
    # Its own exchange: allowed (the control that shows the refusals below are permissions).
    with Connection(service_uri("archive")) as connection:
        Exchange("archive.events", type="topic", durable=True)(connection.channel()).declare()
    _publish(service_uri("archive"), "archive.events", "ArchiveFileOpened")

    with pytest.raises(Exception, match="ACCESS_REFUSED"):
        _publish(service_uri("archive"), "cases.events", "CaseOpened")
    with pytest.raises(Exception, match="ACCESS_REFUSED"):
        _publish(service_uri("cases"), "resources.events", "ResourceLinked")
    # Nor slip a message into another service's queue through the default exchange.
    with pytest.raises(Exception, match="ACCESS_REFUSED"):
        _publish(service_uri("cases"), "", "archive.from.cases")

    rpc_exchange = Exchange("nameko-rpc", type="topic", durable=True)
    with Connection(service_uri("archive")) as connection:
        # Binding a reply queue to another service's RPC requests would read its traffic.
        sniffer = Queue("rpc.reply-sniffer", exchange=rpc_exchange, routing_key="cases.*")
        with pytest.raises(Exception, match="ACCESS_REFUSED"):
            sniffer(connection.channel()).declare()
    # Nor may a service consume the archive's queues.
    with Connection(service_uri("resources")) as connection, \
            pytest.raises(Exception, match="ACCESS_REFUSED"):
        Queue("archive.from.cases", durable=True)(connection.channel()).declare()
