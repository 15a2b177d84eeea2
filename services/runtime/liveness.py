"""A service's own proof that it serves: its `ping` answered through the broker, marked by
touching a file whose age the container's health check reads.

Compose's health check asked each service for a ping itself, from a new Python process: the
imports of nameko, eventlet and kombu alone cost half a second of CPU per check, every 30 s in
every container (about a seventh of a core for the cluster profile's eight publishing
containers), and the check said no more than the process could say for itself. With
`CASEBOOK_LIVENESS_FILE` set, the service sends the same ping, on the same path (its broker
connection, its `rpc-<service>` queue, a consumer taking it, the reply coming back), every
`CASEBOOK_LIVENESS_SECONDS`, and touches the file each time the pong comes back. The health
check is then `find FILE -mmin -1`: no interpreter at all. A process that hangs, lost its broker
or stopped consuming leaves the file to age, and Docker calls the container unhealthy. As
before, where two instances share the queue either may answer: the ping proves the service
serves, not which instance does."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import eventlet
from nameko.extensions import DependencyProvider

from services.runtime.replies import cluster_rpc
from services.runtime.secrets import with_amqp_password
from services.runtime.settings import settings

log = logging.getLogger(__name__)


class Liveness(DependencyProvider):
    """Declared once per service class (`liveness = Liveness()`); idle unless
    `CASEBOOK_LIVENESS_FILE` is set."""

    def __init__(self) -> None:
        self._thread: Any = None

    def start(self) -> None:
        runtime = settings().runtime
        path = runtime.liveness_file
        if path is None:
            return
        # Docker keeps a container's files when it restarts it: the file a process touched
        # before it died would make the new one healthy before it has answered anything.
        path.unlink(missing_ok=True)
        self._thread = self.container.spawn_managed_thread(
            lambda: self._beat(path, runtime.liveness_seconds))

    def _beat(self, path: Path, seconds: float) -> None:
        name = self.container.service_name
        config = {"AMQP_URI": with_amqp_password(self.container.config["AMQP_URI"])}
        failing = False
        while True:
            try:
                with cluster_rpc(config, timeout=seconds) as proxy:
                    proxy[name].ping()
            except Exception as error:  # the broker's, the RPC layer's, a timeout: not served
                if not failing:
                    log.warning("%s did not answer its own ping (%s): %s is left to age until "
                                "the health check fails", name, error, path)
                failing = True
            else:
                path.touch()
                if failing:
                    log.info("%s answers its own ping again", name)
                failing = False
            eventlet.sleep(seconds)

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.kill()
            self._thread = None

    def kill(self) -> None:
        self.stop()
