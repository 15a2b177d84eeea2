"""`casebook status`: each service's positions, each subscriber's lag and dead letters."""

from __future__ import annotations

from typing import Any

import click
from kombu import Connection
from rich.console import Console
from rich.table import Table

from services.runtime import config
from services.runtime.cli.rpc import cluster
from services.runtime.launcher import SERVICES
from services.runtime.subscription import dead_letter_queue_name


def collect(timeout: float = 5) -> dict[str, Any]:
    """Every service's status, or the reason it gave none."""
    statuses: dict[str, Any] = {}
    with cluster("operator", timeout=timeout) as proxy:
        for name in SERVICES:
            try:
                statuses[name] = proxy[name].status()
            except Exception as error:
                statuses[name] = {"error": f"{type(error).__name__}: {error}"}
    return statuses


def dead_letters(subscriber: str, source: str) -> int:
    with Connection(config.amqp_uri()) as connection:
        try:
            _, count, _ = connection.channel().queue_declare(
                dead_letter_queue_name(subscriber, source), passive=True
            )
        except Exception:
            return 0
        return int(count)


@click.command()
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for each service.")
def status(timeout: float) -> None:
    """Published positions per service; lag and dead letters per subscription."""
    statuses = collect(timeout)
    console = Console()
    services = Table(title="Services")
    for column in ("service", "stored", "published", "relay lag", "head hash"):
        services.add_column(column)
    subscriptions = Table(title="Subscriptions")
    for column in ("subscriber", "source", "processed", "lag", "dead letters"):
        subscriptions.add_column(column)
    failed = False
    for name, state in statuses.items():
        if "error" in state:
            failed = True
            services.add_row(name, "-", "-", "-", f"[red]not answering: {state['error']}[/red]")
            continue
        services.add_row(
            name,
            str(state["stored_position"]),
            str(state["published_position"]),
            str(state["stored_position"] - state["relay_read_through"]),
            state["published_hash"][:16],
        )
        for source, cursor in sorted(state["cursors"].items()):
            published = statuses.get(source, {}).get("published_position")
            lag = "?" if published is None else str(published - cursor["position"])
            subscriptions.add_row(
                name, source, str(cursor["position"]), lag, str(dead_letters(name, source))
            )
    console.print(services)
    console.print(subscriptions)
    if failed:
        raise SystemExit(1)
