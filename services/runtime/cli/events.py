"""Integrators' commands: `casebook events tail` and `casebook export`."""

from __future__ import annotations

import json
import sys
import uuid
from typing import Any
from urllib.parse import urlsplit

import click
from amqp.exceptions import AccessRefused
from kombu import Connection, Consumer, Queue

from contracts.envelope import envelope_bytes
from services.runtime.cli.audit import PAGE
from services.runtime.cli.rpc import cluster
from services.runtime.launcher import PUBLISHERS
from services.runtime.relay import events_exchange
from services.runtime.settings import settings


@click.group()
def events() -> None:
    """Follow Casebook's domain events."""


@events.command()
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice(PUBLISHERS),
    help="Only these sources (repeatable); default all.",
)
@click.option("--type", "types", multiple=True, help="Only these event types (repeatable).")
def tail(sources: tuple[str, ...], types: tuple[str, ...]) -> None:
    """Print live events as JSON lines, as an integrator's queue would receive them."""
    uri = settings().runtime.amqp_uri
    # Named after the broker user, so that the operator sees who tails (`list_queues`).
    owner = urlsplit(uri).username or "guest"
    with Connection(uri) as connection:
        # A private, self-deleting queue: tailing leaves nothing behind on the broker.
        queues = [
            Queue(
                f"{owner}.tail-{uuid.uuid4()}",
                events_exchange(source),
                routing_key=event_type,
                exclusive=True,
                auto_delete=True,
            )
            for source in (sources or PUBLISHERS)
            for event_type in (types or ("#",))
        ]

        def show(body: Any, message: Any) -> None:
            envelope = body if isinstance(body, dict) else json.loads(body)
            click.echo(json.dumps(envelope, ensure_ascii=False))
            message.ack()

        try:
            consumer = Consumer(connection, queues, callbacks=[show], accept=["json"])
        except AccessRefused as error:
            raise click.ClickException(
                f"RabbitMQ refuses {owner} a queue of its own to tail with ({error.reply_text}): "
                "an integrator's or an auditor's broker user declares no queue. An integrator "
                f"reads {owner}.from.<source> (examples/subscriber); the operator's user tails"
            ) from error
        with consumer:
            click.echo(f"following {', '.join(sources or PUBLISHERS)}; Ctrl-C stops", err=True)
            try:
                while True:
                    connection.drain_events()
            except KeyboardInterrupt:
                return


@click.command("export")
@click.option("--source", required=True, type=click.Choice(PUBLISHERS))
@click.option(
    "--from", "start", default=0, show_default=True, help="Export envelopes after this position."
)
@click.option("--out", type=click.File("wb"), default="-", help="File to write; default stdout.")
def export_(source: str, start: int, out: Any) -> None:
    """Write SOURCE's envelopes after a position as JSON Lines, exactly as published."""
    count = 0
    with cluster("integrator", timeout=120) as proxy:
        position = start
        while batch := proxy[source].events_since(position, PAGE):
            for envelope in batch:
                out.write(envelope_bytes(envelope) + b"\n")
            count += len(batch)
            position = batch[-1]["position"]
    out.flush()
    click.echo(f"exported {count} envelopes of {source} after position {start}", err=True)
    if out is not sys.stdout.buffer:
        out.close()
