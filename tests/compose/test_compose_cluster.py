"""deploy/compose.yaml with compose.cluster.yaml, behind compose.prod.yaml's TLS proxy, started
for real (`make compose-cluster-test`): three RabbitMQ nodes in one cluster, two instances of
every service, two gateways the proxy spreads the API over. Every
container healthy; every queue a service consumes replicated on the three nodes, their leaders
on every node and the services' connections on more than one; each instance
serving its metrics at an address of its own, where Prometheus scrapes it with
deploy/prometheus/prometheus.cluster.yml, every rule evaluating without an error; and work
going on through both gateways while the first node is stopped, with
nothing lost once it is back and the leaders spread again, and through the proxy while a
gateway is stopped.

`make cluster-test` runs the same shape as local processes against nodes of its own, with
faults; this runs the Compose files an operator deploys, with their health checks, secrets and
broker users. About three minutes; `.ci/run` runs it after the single node's stack."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from services.runtime.cli.keygen import env_prefix
from services.runtime.launcher import PUBLISHERS
from tests.compose.stack import (
    PORTS,
    Engine,
    Stack,
    http,
    ledger_holds_every_published_event,
    new_stack,
    register,
    run,
    running,
    scraped_by_prometheus,
    student,
    verify,
)
from tests.support.waiting import wait_for

pytestmark = [
    pytest.mark.timeout(1800),
    pytest.mark.skipif(os.environ.get("CASEBOOK_COMPOSE_CLUSTER_TEST") != "1",
                       reason="the cluster profile's Compose test runs with `make "
                              "compose-cluster-test` (and in .ci/run), which sets "
                              "CASEBOOK_COMPOSE_CLUSTER_TEST=1"),
]

# With the TLS proxy of production, spreading the API over both gateways.
FILES = ("deploy/compose.yaml", "deploy/compose.prod.yaml", "deploy/compose.cluster.yaml")
NODES = ("rabbitmq", "rabbitmq-2", "rabbitmq-3")
NODE_NAMES = ("casebook@localhost", "casebook-2@localhost", "casebook-3@localhost")
CONTAINERS = (*NODES, "postgres", *PUBLISHERS, "gateway", "gateway-2", "console", "proxy")
SECOND = {name: f"CASEBOOK_{env_prefix(name)}_METRICS_PORT_2" for name in (*PUBLISHERS, "gateway")}
CLUSTER_PORTS = (
    *PORTS, "CASEBOOK_HTTP_PORT_2", *SECOND.values(),
    *(f"CASEBOOK_{setting}_{node}" for setting in ("AMQP_PORT", "RABBITMQ_UI_PORT",
                                                   "RABBITMQ_METRICS_PORT", "RABBITMQ_DIST_PORT")
      for node in (2, 3)))


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          engine: Engine, images: dict[str, str]) -> Iterator[Stack]:
    made = new_stack(engine, tmp_path_factory.mktemp("cluster"), images, FILES, CONTAINERS,
                     CLUSTER_PORTS, project="casebook-cluster-test")
    # As docs/operators.md says for the cluster behind the proxy: both gateways' ports.
    with made.env_file.open("a", encoding="utf-8") as env:
        env.write(f"CASEBOOK_PROXY_GATEWAY_PORTS={made.ports['CASEBOOK_HTTP_PORT']},"
                  f"{made.ports['CASEBOOK_HTTP_PORT_2']}\n")
    with running(made, request) as stack:
        yield stack


@pytest.fixture(scope="module")
def worker(stack: Stack) -> str:
    return stack.token("social_worker", "demo-worker-1", "JD001")


def consumed_by_services(queues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [queue for queue in queues
            if re.fullmatch(r"rpc-\w+|\w+\.from\.\w+(\.dlq)?", queue["name"])]


def test_three_nodes_hold_every_queue_a_service_consumes(stack):
    assert stack.health() == {container: "healthy" for container in CONTAINERS}
    status = run(stack.compose_command("exec", "-T", "rabbitmq", "rabbitmqctl", "cluster_status",
                                       "--formatter", "json"), stack.engine.env).stdout
    assert sorted(json.loads(status)["running_nodes"]) == sorted(NODE_NAMES)
    queues = stack.queues()
    consumed = consumed_by_services(queues)
    assert {queue["name"] for queue in consumed} >= {f"rpc-{name}" for name in PUBLISHERS}
    assert [(queue["name"], queue["type"], sorted(queue["members"])) for queue in consumed] == [
        (queue["name"], "quorum", sorted(NODE_NAMES)) for queue in consumed]
    # Each node leads some of them (deploy/rabbitmq/cluster.conf: `queue_leader_locator`), not
    # the node the services reached first all of them.
    assert {queue["leader"] for queue in consumed} == set(NODE_NAMES)
    # No caller leaves a reply queue behind: a durable one would be a Raft group on every node.
    replies = [queue for queue in queues if queue["name"].startswith("rpc.reply-")]
    assert [queue for queue in replies if queue["durable"] or not queue["exclusive"]] == []


def test_the_services_connections_spread_over_the_nodes(stack):
    ports = {stack.ports[f"CASEBOOK_AMQP_PORT{suffix}"]: node
             for suffix, node in zip(("", "_2", "_3"), NODES, strict=True)}
    services = {*PUBLISHERS, "gateway"}
    on = {ports[connection["port"]] for connection in stack.connections()
          if connection["user"] in services and connection["vhost"] == "casebook"}
    # Each of the ten processes took the failover URI's nodes in an order of its own (the
    # image's entrypoint): all ten on one node would happen once in 3**9 runs.
    assert len(on) > 1, on


def test_each_instance_serves_its_metrics_at_an_address_of_its_own(stack):
    sockets = run(["ss", "-Htlnp"], stack.engine.env).stdout.splitlines()
    for name in PUBLISHERS:
        first, second = (f"127.0.0.1:{stack.ports[port]}" for port in (
            f"CASEBOOK_{env_prefix(name)}_METRICS_PORT", SECOND[name]))
        # Each of the two containers took one of the two addresses: neither shares one (with
        # SO_REUSEPORT both listened at the first, and a scrape reached either).
        served = [stack.listeners(sockets, container)
                  for container in stack.container(name).split()]
        assert sorted(served, key=sorted) == sorted([{first}, {second}], key=sorted), name
    second_gateway = stack.listeners(sockets, stack.container("gateway-2"))
    assert f"127.0.0.1:{stack.ports[SECOND['gateway']]}" in second_gateway
    for port in SECOND.values():
        metrics = run(["curl", "--silent", "--show-error", "--fail", "--max-time", "30",
                       f"http://127.0.0.1:{stack.ports[port]}/metrics"], stack.engine.env)
        assert "casebook_build_info{" in metrics.stdout, port


def test_prometheus_scrapes_every_instance_and_node_and_evaluates_every_alert(stack, tmp_path):
    # With two instances of every service, an alert's expression that matched one series per
    # service would fail to evaluate: the rule's health says so.
    scrape = scraped_by_prometheus(stack, "prometheus.cluster.yml", tmp_path)
    assert scrape.scraped == scrape.served
    assert scrape.failing_rules == []
    assert {"rpc-cases", "archive.from.cases"} <= scrape.queues


def test_work_goes_on_through_both_gateways_while_a_node_is_stopped(stack, worker):
    apis = [stack.api, f"http://127.0.0.1:{stack.ports['CASEBOOK_HTTP_PORT_2']}"]
    before = [register(stack, worker, api=api) for api in apis]
    # The first node, leading some of the queues and holding some of the connections: Docker
    # stops it and leaves it stopped until started again.
    stack.compose("stop", "rabbitmq")
    try:
        during = [register(stack, worker, timeout=240, api=api) for api in apis * 3]
    finally:
        stack.compose("start", "rabbitmq")
    stack.wait_healthy()
    # Back, the first node leads less than its share until the leaders are spread again, as
    # docs/operators.md tells the operator to.
    run(stack.compose_command("exec", "-T", "rabbitmq", "rabbitmq-queues", "rebalance",
                              "quorum"), stack.engine.env, timeout=300)
    leaders = {queue["leader"] for queue in consumed_by_services(stack.queues())}
    assert leaders == set(NODE_NAMES)
    after = [register(stack, worker, api=api) for api in apis]
    # Each client reads the same through the other gateway than the one that registered it.
    for index, client_id in enumerate(before + during + after):
        status, client = http("GET", f"{apis[(index + 1) % 2]}/clients/{client_id}", worker)
        assert status == 200, (client_id, client)
        assert client["details"]["name"] == "王小明"
    counts = wait_for(lambda: ledger_holds_every_published_event(stack), timeout=240,
                      interval=1, what="the ledger to hold every event of every source")
    verify(stack, counts)


def test_the_proxy_passes_over_a_stopped_gateway_for_the_other(stack, worker):
    curl = ["curl", "--silent", "--show-error", "--fail", "--max-time", "60",
            "--cacert", str(stack.secrets / "tls.crt"),
            "--header", f"Authorization: Bearer {worker}"]

    def through_the_proxy() -> list[str]:
        """Clients registered and read back through the proxy's TLS, POST then GET."""
        registered = []
        for _ in range(4):
            client_id = str(uuid.uuid4())
            run([*curl, "--header", "Content-Type: application/json", "--data",
                 json.dumps(student(client_id)), f"{stack.tls_api}/clients"], stack.engine.env)
            read = run([*curl, f"{stack.tls_api}/clients/{client_id}"], stack.engine.env)
            assert json.loads(read.stdout)["details"]["name"] == "王小明"
            registered.append(client_id)
        return registered

    through_the_proxy()
    stack.compose("stop", "gateway")
    try:
        # Every request of a round-robin between the two reaches the one that runs.
        through_the_proxy()
    finally:
        stack.compose("start", "gateway")
    stack.wait_healthy()
    through_the_proxy()
