"""Three RabbitMQ nodes of a test's own on this machine, joined into one cluster: each with its
own node name, ports, data and log directories (tests.support.broker.PrivateBroker), never the
shared broker on 5672. Clients reach them through one failover URI (`amqp://a;amqp://b;...`)."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.broker import PrivateBroker

VHOST = "casebook"
# As deploy/rabbitmq/cluster.conf: queue leaders spread over the nodes as queues are declared.
CLUSTER_CONFIG = "queue_leader_locator = balanced\n"


@dataclass
class Placement:
    connections: Counter[int]  # node number → client connections on it
    leaders: dict[str, int]  # quorum queue → the number of the node that leads it


class Cluster:
    def __init__(self, directory: Path, size: int = 3) -> None:
        self.nodes = [PrivateBroker(directory / f"node-{number}", CLUSTER_CONFIG)
                      for number in range(size)]
        self.stopped: set[int] = set()

    @property
    def uri(self) -> str:
        """Every node, in kombu's failover form: a client moves to the next when one fails."""
        return ";".join(f"amqp://guest:guest@127.0.0.1:{node.port}/{VHOST}"
                        for node in self.nodes)

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        first = self.nodes[0]
        for node in self.nodes[1:]:
            node.ctl("stop_app")
            node.ctl("join_cluster", first.node)
            node.ctl("start_app")
        # The vhost's default queue type stays classic, as Compose's: the queues that must
        # outlive a node say `x-queue-type: quorum` themselves (services.runtime.queues).
        first.ctl("add_vhost", VHOST)
        first.ctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*")

    def stop_node(self, number: int) -> None:
        """The node goes away (its process ends); the others keep a majority of every queue."""
        self.nodes[number].stop()
        self.stopped.add(number)

    def running_nodes(self) -> int:
        """How many nodes the cluster counts as running, asked of one still running."""
        return int(self._asked("eval", "length(rabbit_nodes:all_running()).").strip())

    def placement(self) -> Placement:
        """Which node each client connection of the vhost is on, and which leads each of its
        quorum queues, by the node's number."""
        numbers = {node.node: number for number, node in enumerate(self.nodes)}
        ports = {node.port: number for number, node in enumerate(self.nodes)}
        connections = json.loads(self._asked("list_connections", "port", "vhost",
                                             "--formatter", "json"))
        queues = json.loads(self._asked("list_queues", "-p", VHOST, "name", "type", "leader",
                                        "--formatter", "json"))
        return Placement(
            connections=Counter(ports[item["port"]] for item in connections
                                if item["vhost"] == VHOST),
            leaders={item["name"]: numbers[item["leader"]] for item in queues
                     if item["type"] == "quorum"})

    def _asked(self, *args: str) -> str:
        """What rabbitmqctl answers, asked of a node still running."""
        asked = next(node for number, node in enumerate(self.nodes)
                     if number not in self.stopped)
        return subprocess.run(["rabbitmqctl", "-q", "-n", asked.node, *args],
                              check=True, capture_output=True, text=True, timeout=60).stdout

    def stop(self) -> None:
        for number, node in enumerate(self.nodes):
            if number in self.stopped:
                continue
            with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                node.stop()


@contextmanager
def cluster(size: int = 3) -> Iterator[Cluster]:
    directory = Path(tempfile.mkdtemp(prefix="casebook-cluster-"))
    shutil.chown(directory, "rabbitmq", "rabbitmq")  # the nodes run as rabbitmq
    nodes = Cluster(directory, size)
    try:
        nodes.start()
        yield nodes
    finally:
        nodes.stop()
        shutil.rmtree(directory, ignore_errors=True)
