"""Each service runs under its own RabbitMQ user with the permissions `casebook keygen` gives it
(deploy/rabbitmq/definitions.json in Compose), and nothing more: the broker is a trust boundary
(DESIGN.md "Actors, access, privacy")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from kombu import Connection, Exchange, Producer, Queue

from services.archive.service import ArchiveService
from services.cases.service import CasesService
from services.resources.service import ResourcesService
from services.runtime.cli.broker_users import add_user, renew_user
from services.runtime.cli.keygen import OPERATOR_USER, SERVICES, definitions
from services.runtime.launcher import PUBLISHERS
from services.supervision.service import SupervisionService
from tests.support.scenarios import drive_case, events_per_case
from tests.support.services import AUDITOR, WORKER, ledgered, rpc, running
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

# An integrator's and an auditor's users as `casebook broker-user add` makes them, with a
# backlog small enough to overflow in one case. A name is what its user names its queues by, so
# these are made unique (users are global to the broker) rather than prefixed as the others are.
INTEGRATOR = f"acme_{uuid.uuid4().hex[:8]}"
AUDITOR_USER = f"wang_{uuid.uuid4().hex[:8]}"
BACKLOG = 3
SUBSCRIBER = Path(__file__).resolve().parents[3] / "examples" / "subscriber" / "subscriber.py"
CASEBOOK = str(Path(sys.executable).parent / "casebook")


@pytest.fixture
def service_uri(amqp_uri: str) -> Iterator[Callable[[str], str]]:
    """The generated definitions imported into this test's vhost, with user names made unique
    (users are global to the broker); yields the AMQP URI of a service's own user."""
    parts = urlsplit(amqp_uri)
    vhost = parts.path.lstrip("/")
    prefix = f"t{uuid.uuid4().hex[:8]}-"
    outside = [INTEGRATOR, AUDITOR_USER]
    passwords = {name: uuid.uuid4().hex for name in [OPERATOR_USER, *SERVICES, *outside]}
    document = definitions(passwords)
    document["vhosts"][0]["name"] = vhost
    for user in document["users"]:
        user["name"] = prefix + user["name"]
    for grant in document["permissions"] + document["topic_permissions"]:
        grant["user"] = prefix + grant["user"]
        grant["vhost"] = vhost
    for exchange in document["exchanges"]:
        exchange["vhost"] = vhost
    add_user(document, INTEGRATOR, "integrator", passwords[INTEGRATOR], max_backlog=BACKLOG)
    add_user(document, AUDITOR_USER, "auditor", passwords[AUDITOR_USER])
    users = {name: prefix + name for name in [OPERATOR_USER, *SERVICES]} | {
        name: name for name in outside}
    # Through stdin: the broker's own user cannot read pytest's private tmp directory.
    subprocess.run(["rabbitmqctl", "-q", "import_definitions", "--format", "json"],
                   input=json.dumps(document), text=True, check=True, capture_output=True,
                   timeout=60)

    def uri(service: str) -> str:
        return f"amqp://{users[service]}:{passwords[service]}@{parts.hostname}:{parts.port}/{vhost}"

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
        # Side by side: each rabbitmqctl is a virtual machine of its own, a second to start.
        deleting = [subprocess.Popen(["rabbitmqctl", "-q", "delete_user", name],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    for name in users.values()]
        for process in deleting:
            process.wait(timeout=60)


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


def _subscribe(uri: str, tmp_path: Path) -> None:
    """The example subscriber run as the integrator until it has been idle for 3 s."""
    subprocess.run(
        [sys.executable, str(SUBSCRIBER), "--uri", uri, "--name", INTEGRATOR,
         "--state", str(tmp_path / "state.json"), "--out", str(tmp_path / "events.jsonl"),
         "--idle-exit", "3"],
        check=True, timeout=120)


def test_an_integrator_follows_the_events_under_its_own_user_and_a_bounded_backlog(
        service_uri, tmp_path):
    with running(service_uri("cases"), CasesService):
        with rpc(service_uri(OPERATOR_USER), WORKER) as proxy:
            drive_case(proxy, "client-1")
        # Its queue declared and bound, its history fetched with events_since.
        _subscribe(service_uri(INTEGRATOR), tmp_path)
        # Stopped while a case goes by: its queue keeps the newest BACKLOG envelopes only...
        with rpc(service_uri(OPERATOR_USER), WORKER) as proxy:
            drive_case(proxy, "client-2")
            published = proxy.cases.events_since(0, 1000)
        assert events_per_case() > BACKLOG

        def backlog() -> int:
            with Connection(service_uri(OPERATOR_USER)) as connection:
                return Queue(f"{INTEGRATOR}.from.cases", durable=True)(
                    connection.channel()).queue_declare(passive=True).message_count

        wait_for(lambda: backlog() == BACKLOG, what="the integrator's queue to hold its backlog")
        # ...and the integrator, back, fetches what was dropped: every envelope once, in order.
        _subscribe(service_uri(INTEGRATOR), tmp_path)
    received = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [envelope["position"] for envelope in received] == [
        envelope["position"] for envelope in published]
    assert len(received) == 2 * events_per_case()


def test_an_outside_user_can_call_nothing_of_personal_content_nor_touch_another_queue(
        service_uri):
    # The definitions declared the exchanges: nobody here does.
    rpc_exchange = Exchange("nameko-rpc", type="topic", durable=True, passive=True)
    for user in (INTEGRATOR, AUDITOR_USER):
        uri = service_uri(user)
        # The controls: a call both may make, a reply queue bound by a reply key.
        _publish(uri, "nameko-rpc", "cases.events_since")
        with Connection(uri) as connection:
            Queue(f"rpc.reply-{user}-{uuid.uuid4()}", exchange=rpc_exchange,
                  routing_key=str(uuid.uuid4()), exclusive=True)(connection.channel()).declare()
        # A command or a query of personal content, as anyone it cares to name: refused.
        for routing_key in ("cases.open_case", "cases.get_case", "archive.grant_access",
                            "cases.settle_command"):
            with pytest.raises(Exception, match="ACCESS_REFUSED"):
                _publish(uri, "nameko-rpc", routing_key)
        with pytest.raises(Exception, match="ACCESS_REFUSED"):
            _publish(uri, "cases.events", "CaseOpened")
        with pytest.raises(Exception, match="ACCESS_REFUSED"):
            _publish(uri, "", f"{user}.from.cases")  # the default exchange
        for queue in (Queue("archive.from.cases", durable=True), Queue("rpc-cases", durable=True),
                      Queue("rpc.reply-sniffer", exchange=rpc_exchange, routing_key="cases.*")):
            with Connection(uri) as connection, \
                    pytest.raises(Exception, match="ACCESS_REFUSED"):
                queue(connection.channel()).declare()
    # The auditor's checks, which the integrator may not make.
    _publish(service_uri(AUDITOR_USER), "nameko-rpc", "archive.verify_ledger")
    with pytest.raises(Exception, match="ACCESS_REFUSED"):
        _publish(service_uri(INTEGRATOR), "nameko-rpc", "archive.verify_ledger")


def test_an_outside_user_cannot_stall_a_source_nor_unbind_its_subscribers(service_uri):
    # A classic queue keeps its own reject-publish against the backlog policy: bound to a
    # source's exchange and full, it would make RabbitMQ refuse the source's every envelope.
    refusing = {"x-queue-type": "classic", "x-max-length": 1, "x-overflow": "reject-publish"}
    cases_events = Exchange("cases.events", type="topic", durable=True, passive=True)
    attempts = [
        # A queue of its own, however named, bound to a source.
        Queue(f"{INTEGRATOR}.mine", cases_events, routing_key="#", queue_arguments=refusing),
        # Its own queue declared again otherwise (refused, or it would be PRECONDITION_FAILED).
        Queue(f"{INTEGRATOR}.from.cases", cases_events, routing_key="#", durable=True,
              queue_arguments=refusing),
        # A reply queue, which it may declare, bound to a source instead of by a reply key.
        Queue(f"rpc.reply-{INTEGRATOR}-x", cases_events, routing_key="#",
              queue_arguments=refusing),
    ]
    for queue in attempts:
        with Connection(service_uri(INTEGRATOR)) as connection, \
                pytest.raises(Exception, match="ACCESS_REFUSED"):
            queue(connection.channel()).declare()
    for exchange in ("cases.events", "nameko-rpc"):
        with Connection(service_uri(INTEGRATOR)) as connection, \
                pytest.raises(Exception, match="ACCESS_REFUSED"):
            connection.channel().exchange_delete(exchange)
        with Connection(service_uri(AUDITOR_USER)) as connection, \
                pytest.raises(Exception, match="ACCESS_REFUSED"):
            connection.channel().exchange_delete(exchange)
    with Connection(service_uri(INTEGRATOR)) as connection, \
            pytest.raises(Exception, match="ACCESS_REFUSED"):
        connection.channel().queue_delete(f"{INTEGRATOR}.from.cases")
    # What is left is as the operator made it: the queue, quorum, bound to the whole stream.
    with Connection(service_uri(OPERATOR_USER)) as connection:
        Queue(f"{INTEGRATOR}.from.cases", durable=True,
              queue_arguments={"x-queue-type": "quorum", "x-single-active-consumer": True})(
            connection.channel()).queue_declare(passive=True)
    vhost = urlsplit(service_uri(INTEGRATOR)).path[1:]

    def listed(*what: str) -> list[list[str]]:
        return [line.split("\t") for line in subprocess.run(
            ["rabbitmqctl", "-q", "--no-table-headers", *what[:1], "-p", vhost, *what[1:]],
            capture_output=True, text=True, check=True, timeout=60).stdout.splitlines()]

    assert [f"{INTEGRATOR}.from.cases", "quorum"] in listed("list_queues", "name", "type")
    # The reply queue was declared (it may), its binding to the source refused.
    assert [destination for source, destination in listed(
        "list_bindings", "source_name", "destination_name")
        if source == "cases.events" and INTEGRATOR in destination] == [
        f"{INTEGRATOR}.from.cases"]


def test_renew_narrows_a_user_added_before_to_its_roles_rights_keeping_its_password(
        service_uri):
    """As `casebook broker-user renew` says: delete the classic queue the user's subscriber
    declared, load the renewed definitions; the same password logs in, with today's rights."""
    parts = urlsplit(service_uri(OPERATOR_USER))
    vhost, name, password = parts.path[1:], f"old_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    document: dict = {"vhosts": [{"name": vhost}], "users": [], "permissions": [],
                      "topic_permissions": [], "policies": [], "exchanges": [], "queues": [],
                      "bindings": []}
    add_user(document, name, "integrator", password)
    # As `add` made it until 2026-12-07: its own queues to declare, the sources' exchanges to
    # configure, and no queue made for it.
    wide = rf"^({name}\..+|rpc\.reply-.+|nameko-rpc|(cases|archive|resources|supervision)\.events)$"
    document["permissions"][0].update(configure=wide, read=wide,
                                      write=rf"^({name}\..+|rpc\.reply-.+|nameko-rpc)$")
    document["queues"], document["bindings"] = [], []

    def load() -> None:
        subprocess.run(["rabbitmqctl", "-q", "import_definitions", "--format", "json"],
                       input=json.dumps(document), text=True, check=True, capture_output=True,
                       timeout=60)

    uri = f"amqp://{name}:{password}@{parts.hostname}:{parts.port}/{vhost}"
    cases_events = Exchange("cases.events", type="topic", durable=True, passive=True)
    load()
    try:
        def declared_as_before() -> bool:  # the import finishes asynchronously
            try:
                with Connection(uri, connect_timeout=2) as connection:
                    Queue(f"{name}.from.cases", cases_events, routing_key="#", durable=True)(
                        connection.channel()).declare()
                return True
            except Exception:
                return False

        wait_for(declared_as_before, what="the old user to declare its queue as it could")
        stale = renew_user(document, name)
        assert stale == [f"{name}.from.{source}" for source in PUBLISHERS]
        for queue in stale:  # `renew` prints these; a queue never declared is "not found"
            subprocess.run(["rabbitmqctl", "-q", "delete_queue", "-p", vhost, queue],
                           capture_output=True, timeout=60)
        load()

        def narrowed() -> bool:
            try:
                with Connection(uri, connect_timeout=2) as connection:
                    Queue(f"{name}.mine", cases_events, routing_key="#")(
                        connection.channel()).declare()
                return False
            except Exception as refusal:
                return "ACCESS_REFUSED" in str(refusal)

        wait_for(narrowed, what="the renewed rights to refuse it a queue of its own")
        # The same password; its queue now the operator's quorum queue, which it reads.
        with Connection(uri) as connection:
            Queue(f"{name}.from.cases")(connection.channel()).queue_declare(passive=True)
        queues = subprocess.run(
            ["rabbitmqctl", "-q", "--no-table-headers", "list_queues", "-p", vhost, "name",
             "type"], capture_output=True, text=True, check=True, timeout=60).stdout
        assert f"{name}.from.cases\tquorum" in queues.splitlines()
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_user", name], capture_output=True,
                       timeout=60)
        for source in PUBLISHERS:
            subprocess.run(["rabbitmqctl", "-q", "delete_queue", "-p", vhost,
                            f"{name}.from.{source}"], capture_output=True, timeout=60)


def as_user(uri: str) -> dict[str, str]:
    """The `casebook` CLI's environment, connecting as the user of `uri`."""
    return {**os.environ, "AMQP_URI": uri, "PYTHONWARNINGS": "ignore"}


def test_the_casebook_cli_exports_as_an_integrator_and_says_why_it_may_not_tail(service_uri):
    env = as_user(service_uri(INTEGRATOR))
    with running(service_uri("cases"), CasesService):
        with rpc(service_uri(OPERATOR_USER), WORKER) as proxy:
            drive_case(proxy, "client-1")
            published = proxy.cases.events_since(0, 1000)
        exported = subprocess.run([CASEBOOK, "export", "--source", "cases"], env=env,
                                  capture_output=True, text=True, timeout=120, check=True)
        tail = subprocess.run([CASEBOOK, "events", "tail", "--source", "cases"], env=env,
                              capture_output=True, text=True, timeout=120)
    assert [json.loads(line) for line in exported.stdout.splitlines()] == published
    assert len(published) == events_per_case()
    assert tail.returncode == 1, tail.stdout + tail.stderr
    assert f"Error: RabbitMQ refuses {INTEGRATOR} a queue of its own to tail with " \
           "(ACCESS_REFUSED" in tail.stderr
    assert f"An integrator reads {INTEGRATOR}.from.<source>" in " ".join(tail.stderr.split())
    assert "Traceback" not in tail.stderr


def test_an_auditor_verifies_and_replays_under_its_own_user(service_uri):
    def audit(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([CASEBOOK, *args], env=as_user(service_uri(AUDITOR_USER)),
                              capture_output=True, text=True, timeout=300)

    with running(service_uri("cases"), CasesService), \
            running(service_uri("archive"), ArchiveService), \
            running(service_uri("resources"), ResourcesService), \
            running(service_uri("supervision"), SupervisionService):
        with rpc(service_uri(OPERATOR_USER), WORKER) as proxy:
            drive_case(proxy, "client-1")
            case = proxy.cases.events_since(0, 1)[0]["aggregate_id"]
            published = proxy.cases.status()["stored_position"]
        with rpc(service_uri(OPERATOR_USER), AUDITOR) as proxy:
            wait_for(lambda: ledgered(proxy, "cases") == published,
                     what="the archive to record every event of cases")
        verified = audit("verify")
        replayed = audit("replay", "--service", "cases", "--aggregate", case, "--version", "1")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "verified" in verified.stdout
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert case in replayed.stdout
