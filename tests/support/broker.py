"""A real RabbitMQ for tests: started if it is not running, one fresh vhost per test."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kombu import Connection

HOST_URI = "amqp://guest:guest@127.0.0.1:5672/"


def _started(*script: str) -> subprocess.Popen[str]:
    """rabbitmqctl commands run in turn in the background (each starts an Erlang VM: about half a
    second, and a test's vhost took three)."""
    commands = " && ".join(f"rabbitmqctl -q {command}" for command in script)
    return subprocess.Popen(["sh", "-c", commands], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def _failure(started: subprocess.Popen[str]) -> str | None:
    _, error = started.communicate(timeout=120)
    return None if started.returncode == 0 else error.strip() or f"exit {started.returncode}"


class Broker:
    """The shared broker. Each test gets a fresh vhost, made while the test before it ran and
    deleted while the test after it runs; `close` waits for the deletions."""

    _shared: Broker | None = None

    def __init__(self) -> None:
        self._next: tuple[str, subprocess.Popen[str]] | None = None
        self._deleting: list[tuple[str, subprocess.Popen[str]]] = []
        self._not_deleted: list[str] = []

    @classmethod
    def ensure_running(cls) -> Broker:
        try:
            with Connection(HOST_URI, connect_timeout=3) as connection:
                connection.ensure_connection(max_retries=1)
        except Exception as error:
            raise RuntimeError(
                "RabbitMQ is not reachable on 127.0.0.1:5672; `make test` starts it "
                f"(scripts in .ci/services.sh): {error}"
            ) from error
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    @contextmanager
    def vhost(self) -> Iterator[str]:
        name, making = self._next or _made()
        self._next = _made()
        failure = _failure(making)
        if failure is not None:
            raise RuntimeError(f"could not make the vhost {name}: {failure}")
        try:
            yield f"{HOST_URI}{name}"
        finally:
            self._delete(name)

    def _delete(self, name: str) -> None:
        self._deleting.append((name, _started(f"delete_vhost {name}")))
        self._reap(waiting=False)

    def _reap(self, waiting: bool) -> None:
        """Collects the deletions that have ended (all of them, `waiting`), noting failures."""
        deleting = []
        for vhost, started in self._deleting:
            if not waiting and started.poll() is None:
                deleting.append((vhost, started))
            elif _failure(started) is not None:
                self._not_deleted.append(vhost)
        self._deleting = deleting

    def close(self) -> None:
        """Deletes the vhost made ahead and waits for every deletion; raises naming any vhost
        that could not be deleted."""
        if self._next is not None:
            name, making = self._next
            self._next = None
            if _failure(making) is None:
                self._delete(name)
        self._reap(waiting=True)
        not_deleted, self._not_deleted = self._not_deleted, []
        if not_deleted:
            raise RuntimeError(f"vhosts not deleted: {', '.join(not_deleted)}")

    @staticmethod
    def queue_depth(uri: str, queue: str) -> int:
        """Messages ready in `queue` (0 if it does not exist)."""
        with Connection(uri) as connection:
            channel = connection.channel()
            try:
                _, count, _ = channel.queue_declare(queue, passive=True)
            except Exception:
                return 0
            return int(count)


def dead_letters(amqp_uri: str) -> dict[str, int]:
    """The dead-letter queues of the vhost that hold messages, with how many."""
    from services.runtime.cli.keygen import subscribed_sources
    from services.runtime.launcher import PUBLISHERS
    from services.runtime.subscription import dead_letter_queue_name

    depths = {}
    for subscriber in PUBLISHERS:
        for source in subscribed_sources(subscriber):
            queue = dead_letter_queue_name(subscriber, source)
            depths[queue] = Broker.queue_depth(amqp_uri, queue)
    return {queue: depth for queue, depth in depths.items() if depth}


def _made() -> tuple[str, subprocess.Popen[str]]:
    name = f"casebook-test-{uuid.uuid4().hex[:10]}"
    return name, _started(f"add_vhost {name}", f"set_permissions -p {name} guest '.*' '.*' '.*'")


class PrivateBroker:
    """A RabbitMQ node of a test's own, on free loopback ports, for tests that restart the
    broker: the shared one serves every other test (and other checkouts' suites) meanwhile."""

    def __init__(self, directory: Path, config: str = "") -> None:
        # The rabbitmq user runs the node: its files are in a directory of its own, not under
        # the test's (pytest's are for root only).
        self.directory = directory
        self.node = f"casebook-{uuid.uuid4().hex[:8]}@localhost"
        self.port, dist_port = free_port(), free_port()
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.port}\nloopback_users = none\n{config}")
        (directory / "enabled_plugins").write_text("[].\n")
        shutil.chown(directory, "rabbitmq", "rabbitmq")
        for path in directory.iterdir():
            shutil.chown(path, "rabbitmq", "rabbitmq")
        self.env = {
            **os.environ,
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(dist_port),
            "RABBITMQ_CONFIG_FILE": str(directory / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(directory / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(directory / "mnesia"),
            "RABBITMQ_LOG_BASE": str(directory / "log"),
            "RABBITMQ_PID_FILE": str(directory / "pid"),
        }
        self.uri = f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def ctl(self, *args: str) -> None:
        subprocess.run(["rabbitmqctl", "-q", "-n", self.node, *args], check=True,
                       capture_output=True, timeout=120)

    def start(self) -> None:
        subprocess.run(["rabbitmq-server", "-detached"], env=self.env, check=True, timeout=60)
        self.ctl("wait", str(self.directory / "pid"), "--timeout", "120")

    def restart(self) -> None:
        """The broker goes away and comes back: every connection drops, durable queues stay."""
        self.ctl("stop_app")
        self.ctl("start_app")

    def stop(self) -> None:
        self.ctl("stop")


@contextmanager
def private_broker() -> Iterator[PrivateBroker]:
    directory = Path(tempfile.mkdtemp(prefix="casebook-broker-"))
    broker = PrivateBroker(directory)
    try:
        broker.start()
        yield broker
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            broker.stop()
        shutil.rmtree(directory, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
