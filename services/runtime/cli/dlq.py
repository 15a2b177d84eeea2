"""`casebook dlq`: see and replay a subscription's dead letters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import click
from amqp.exceptions import NotFound
from kombu import Connection, Producer

from services.runtime.cli.rpc import broker_connection
from services.runtime.launcher import PUBLISHERS
from services.runtime.queues import QUORUM
from services.runtime.settings import settings
from services.runtime.subscription import dead_letter_queue_name, queue_name

# Every service that publishes also subscribes; the front ends (gateway, console) do neither.
NAMES = click.Choice(sorted(PUBLISHERS))


@click.group()
def dlq() -> None:
    """Dead letters: deliveries a subscription could not handle after its retries."""


@dlq.command("list")
@click.option("--subscriber", required=True, type=NAMES)
@click.option("--source", required=True, type=NAMES)
def list_(subscriber: str, source: str) -> None:
    """Show each dead letter's position, type, attempts and error; leaves them in place."""
    name = dead_letter_queue_name(subscriber, source)
    with subscription(subscriber, source) as connection:
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
    with subscription(subscriber, source) as connection:
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


@contextmanager
def subscription(subscriber: str, source: str) -> Iterator[Connection]:
    """A connection to the broker (publishing with confirms), once the subscription's queue and
    its dead letters' are found there: looking must not declare a queue for a subscription that
    does not exist, and a replay must not publish to a queue that is not there (the broker
    would drop the letters)."""
    uri = settings().runtime.amqp_uri
    with broker_connection(uri, transport_options={"confirm_publish": True}) as connection:
        for name in (queue_name(subscriber, source), dead_letter_queue_name(subscriber, source)):
            try:
                with connection.channel() as channel:
                    channel.queue_declare(name, passive=True)
            except NotFound:
                raise click.ClickException(
                    f"{subscriber} has no subscription to {source} on this broker (no queue "
                    f"{name}): `casebook status` lists the subscriptions") from None
        yield connection
