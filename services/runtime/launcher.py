"""How Casebook's services are started: the one list `casebook up`, the tests and Compose use."""

from __future__ import annotations

import sys
from pathlib import Path

# service name → nameko service class. Order is start order: publishers before subscribers is
# not required (subscribers catch up), but it makes the first log lines easier to read.
SERVICES: dict[str, str] = {
    "cases": "services.cases.service:CasesService",
    "archive": "services.archive.service:ArchiveService",
    "resources": "services.resources.service:ResourcesService",
    "supervision": "services.supervision.service:SupervisionService",
    "gateway": "services.gateway.service:GatewayService",
    "console": "services.console.service:ConsoleService",
}

# The services people and programs call over HTTP; they keep no event store and publish nothing.
FRONT_ENDS = ("gateway", "console")

# The services that keep an event store and publish (every one but the front ends): they answer
# `status`, `events_since`, `recompute_since`, `replay` and `rebuild`.
PUBLISHERS: tuple[str, ...] = tuple(name for name in SERVICES if name not in FRONT_ENDS)

# The port each service serves /metrics on, on 127.0.0.1, by default: one each, since every
# process shares the host's network (`casebook up --metrics`, deploy/compose.yaml).
METRICS_PORTS: dict[str, int] = {
    "cases": 9101,
    "archive": 9102,
    "resources": 9103,
    "supervision": 9104,
    "gateway": 9105,
    "console": 9106,
}

CONFIG_FILE = Path(__file__).resolve().parents[2] / "deploy" / "config.yaml"


def service_command(name: str) -> list[str]:
    """The command line that runs one service as its own process."""
    return [sys.executable, "-m", "nameko", "run", "--config", str(CONFIG_FILE), SERVICES[name]]
