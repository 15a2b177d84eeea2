"""Three RabbitMQ nodes of a test's own on this machine, joined into one cluster: each with its
own node name, ports, data and log directories (tests.support.broker.PrivateBroker), never the
shared broker on 5672. Clients reach them through one failover URI (`amqp://a;amqp://b;...`)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.broker import PrivateBroker

VHOST = "casebook"


class Cluster:
    def __init__(self, directory: Path, size: int = 3) -> None:
        self.nodes = [PrivateBroker(directory / f"node-{number}") for number in range(size)]

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
        # Classic unless a queue says otherwise: nameko's reply queues, declared without a type,
        # then live on the node their caller is connected to (the first of the URI). As quorum
        # queues (a Raft group of three per RPC caller) they overloaded the nodes once one was
        # down: docs/operators.md, "The cluster profile".
        first.ctl("add_vhost", VHOST)
        first.ctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*")

    def stop_node(self, number: int) -> None:
        """The node goes away (its process ends); the others keep a majority of every queue."""
        self.nodes[number].stop()

    def running_nodes(self) -> int:
        out = subprocess.run(
            ["rabbitmqctl", "-q", "-n", self.nodes[0].node, "eval",
             "length(rabbit_nodes:all_running())."],
            check=True, capture_output=True, text=True, timeout=60).stdout
        return int(out.strip())

    def stop(self) -> None:
        for node in self.nodes:
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
