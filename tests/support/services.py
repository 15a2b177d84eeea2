"""Running Casebook services in tests: in this process (nameko's ServiceRunner) or each as its
own `nameko run` process, the way `casebook up` runs them."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nameko.runners import ServiceRunner

import contracts  # noqa: F401  (registers the error types RPC callers receive)
from services.runtime.launcher import service_command
from services.runtime.replies import cluster_rpc
from services.runtime.secrets import shuffled_nodes
from services.runtime.transport import ACCEPTED, SERIALIZER
from tests.support.waiting import wait_for

WORKER = {"id": "worker-1", "role": "social_worker", "school_id": "JD001"}
SUPERVISOR = {"id": "supervisor-1", "role": "supervisor", "school_id": "JD001"}
AUDITOR = {"id": "auditor-1", "role": "auditor", "school_id": None}
ARCHIVIST = {"id": "archivist-1", "role": "archivist", "school_id": "JD001"}
OPERATOR = {"id": "operator-1", "role": "operator", "school_id": None}


def config(amqp_uri: str) -> dict[str, Any]:
    return {"AMQP_URI": amqp_uri, "max_workers": 10, "serializer": SERIALIZER,
            "ACCEPT": ACCEPTED}


@contextmanager
def running(amqp_uri: str, *service_classes: type) -> Iterator[ServiceRunner]:
    """Services in this process; stopped (not killed) at the end."""
    runner = ServiceRunner(config(amqp_uri))
    for service_class in service_classes:
        runner.add_service(service_class)
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()


@contextmanager
def rpc(amqp_uri: str, actor: dict[str, Any] | None = None, timeout: float = 30,
        command_id: str | None = None) -> Iterator[Any]:
    """A proxy calling as `actor`; each command it sends carries `command_id` when given (a
    client retrying one command), else an id of its own."""
    context: dict[str, Any] = {"actor": actor} if actor else {}
    if command_id is not None:
        context["command_id"] = command_id
    with cluster_rpc(config(amqp_uri), context_data=context, timeout=timeout) as proxy:
        yield proxy


def ledgered(proxy: Any, source: str) -> int:
    """The position of the archive's last ledger entry of `source`."""
    return int(proxy.archive.ledger_head({"source": source})["position"])


class ServiceProcess:
    """One service as its own OS process, as `casebook up` starts it."""

    def __init__(self, name: str, amqp_uri: str, data_dir: Path, env: dict[str, str] | None = None):
        self.name = name
        self.amqp_uri = amqp_uri
        self.env = {
            **os.environ,
            "AMQP_URI": shuffled_nodes(amqp_uri),
            "CASEBOOK_DATA_DIR": str(data_dir),
            "CASEBOOK_SERVICE": name,
            "PYTHONWARNINGS": "ignore",
            **(env or {}),
        }
        self.log_path = data_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, wait: bool = True) -> ServiceProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            service_command(self.name), env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        def answers() -> bool:
            assert self.process is not None and self.process.poll() is None, (
                f"{self.name} exited; log:\n{self.log_path.read_text()[-3000:]}"
            )
            try:
                with rpc(self.amqp_uri, timeout=2) as proxy:
                    return bool(proxy[self.name].ping() == "pong")
            except Exception:
                return False

        wait_for(answers, timeout=timeout, interval=0.2, what=f"{self.name} to answer ping")

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as a crash or an OOM kill would do."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        self.terminate()
        self.wait_stopped()

    def terminate(self) -> None:
        """SIGTERM: the service stops cleanly, in its own time."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait_stopped(self) -> None:
        """Waits for a terminated service to end; kills it if it will not."""
        if self.process:
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def processes(
    amqp_uri: str, data_dir: Path, *names: str,
    each: dict[str, dict[str, str]] | None = None, **env: str
) -> Iterator[dict[str, ServiceProcess]]:
    """The services as processes, with `env` and what `each` gives the one of that name."""
    started = {
        name: ServiceProcess(name, amqp_uri, data_dir, {**env, **(each or {}).get(name, {})})
        .start(wait=False)
        for name in names
    }
    try:
        for process in started.values():
            process.wait_ready()
        yield started
    finally:
        for process in started.values():
            process.terminate()  # all at once, as `casebook up` stops them
        for process in started.values():
            process.wait_stopped()
