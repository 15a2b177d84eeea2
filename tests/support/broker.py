"""A real RabbitMQ for tests: started if it is not running, one fresh vhost per test."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from kombu import Connection

HOST_URI = "amqp://guest:guest@127.0.0.1:5672/"


def _ctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


class Broker:
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
        return cls()

    @contextmanager
    def vhost(self) -> Iterator[str]:
        name = f"casebook-test-{uuid.uuid4().hex[:10]}"
        _ctl("add_vhost", name)
        _ctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        try:
            yield f"{HOST_URI}{name}"
        finally:
            _ctl("delete_vhost", name)

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
