"""`casebook dlq`: see and replay a subscription's dead letters."""

from __future__ import annotations

import json

import click
from kombu import Connection, Producer

from services.runtime.launcher import SERVICES
from services.runtime.queues import QUORUM
from services.runtime.settings import settings
from services.runtime.subscription import dead_letter_queue_name, queue_name

NAMES = click.Choice(sorted(SERVICES))


@click.group()
def dlq() -> None:
    """Dead letters: deliveries a subscription could not handle after its retries."""


@dlq.command("list")
@click.option("--subscriber", required=True, type=NAMES)
@click.option("--source", required=True, type=NAMES)
def list_(subscriber: str, source: str) -> None:
    """Show each dead letter's position, type, attempts and error; leaves them in place."""
    name = dead_letter_queue_name(subscriber, source)
    with Connection(settings().runtime.amqp_uri) as connection:
        queue = connection.SimpleQueue(name, queue_args=QUORUM)
        held = []
        try:
            while True:
                message = queue.get(block=False)
                held.append(message)
                headers = message.headers or {}
                envelope = json.loads(message.body)
                click.echo(
                    f"position {headers.get('casebook_position')} {envelope.get('type')}: "
                    f"{headers.get('casebook_attempts')} attempts, "
                    f"{headers.get('casebook_error')}"
                )
        except queue.Empty:
            pass
        finally:
            for message in held:
                message.requeue()
    click.echo(f"{len(held)} dead letter(s) in {name}", err=True)


@dlq.command()
@click.option("--subscriber", required=True, type=NAMES)
@click.option("--source", required=True, type=NAMES)
def replay(subscriber: str, source: str) -> None:
    """Move every dead letter back to the subscription's queue. The subscriber dedupes by
    position, so a letter whose event was processed since (by a catch-up) is simply acked."""
    name, target = dead_letter_queue_name(subscriber, source), queue_name(subscriber, source)
    moved = 0
    uri = settings().runtime.amqp_uri
    with Connection(uri, transport_options={"confirm_publish": True}) as connection:
        queue = connection.SimpleQueue(name, queue_args=QUORUM)
        producer = Producer(connection.channel())
        try:
            while True:
                message = queue.get(block=False)
                producer.publish(
                    message.body,
                    exchange="",
                    routing_key=target,
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                    headers={"casebook_replayed": True},
                )
                message.ack()  # only after the broker confirmed the copy
                moved += 1
        except queue.Empty:
            pass
    click.echo(f"replayed {moved} dead letter(s) from {name} to {target}")
