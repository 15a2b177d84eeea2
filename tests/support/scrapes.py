"""Where the containers of Compose files serve metrics, read from the files themselves: what
deploy/prometheus/'s scrape configurations must list (tests/unit/deploy/test_prometheus.py),
and what a real Prometheus scrapes in the Compose tests, at the ports of their stack."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
_PORT = re.compile(r"\$\{([A-Z0-9_]+):-(\d+)\}")


def served_addresses(
    files: tuple[str, ...], port: Callable[[str, str], str] = lambda variable, default: default,
) -> dict[str, list[str]]:
    """Each scrape job's addresses, as the Compose `files` (under the project's root) merged
    give the containers: each `CASEBOOK_METRICS_ADDRESS` address of a service's containers (a
    second gateway's in the gateway's job), and each RabbitMQ node's
    `CASEBOOK_RABBITMQ_METRICS_PORT`. `port(variable, default)` gives each `${VARIABLE:-port}`
    its value: its default unless told otherwise."""
    merged: dict[str, dict[str, str]] = {}
    for name in files:
        document = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
        for container, service in document["services"].items():
            merged.setdefault(container, {}).update(service.get("environment") or {})
    served: dict[str, list[str]] = {}
    for container, environment in merged.items():
        job = "rabbitmq" if container.startswith("rabbitmq") else container.removesuffix("-2")
        if "CASEBOOK_RABBITMQ_METRICS_PORT" in environment:
            value = f"127.0.0.1:{environment['CASEBOOK_RABBITMQ_METRICS_PORT']}"
        else:
            value = environment.get("CASEBOOK_METRICS_ADDRESS") or ""
        served.setdefault(job, []).extend(
            _PORT.sub(lambda found: port(found[1], found[2]), address)
            for address in value.split(",") if address)
    return {job: sorted(addresses) for job, addresses in served.items() if addresses}
