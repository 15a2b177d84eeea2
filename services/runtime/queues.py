"""Quorum queues: the queues that must outlive a broker node (issue 14, item 5).

Every subscription queue, its dead-letter queue and every service's RPC queue is declared with
`x-queue-type: quorum`, on one node as on three: a quorum queue is replicated on a cluster's
nodes and keeps serving while a minority of them is down, where a classic queue lives on one
node and is gone while that node is. Reply queues are exclusive instead
(services.runtime.replies): they belong to one caller's connection, which a lost node takes with
it anyway.

A subscription queue is also a single-active-consumer queue (`x-single-active-consumer`): of a
service's instances consuming it, the broker delivers to one, and hands the queue (with every
delivery not yet acknowledged) to another when that one's channel closes. A source's stream is
one ordered chain, so a second consumer could only race the first for each position (the
cursor's compare-and-set decides, and the loser's work is wasted): one active consumer keeps
the order at the broker, the others stand by (DESIGN.md "Delivery" 5). An RPC queue is shared:
any instance may answer any call.

A queue cannot change its arguments in place. A queue declared before with other arguments
(classic, or a subscription queue without a single active consumer) is migrated when the
service starts (`ensure_queue`), under a lock so that two instances starting at once do not
both move messages:

1. a quorum queue `<queue>.migrating` is bound like the queue, then the old queue is unbound:
   from then on new messages reach the temporary queue;
2. the old queue's messages are moved across, each acked only after the broker confirmed its
   copy; then the old queue is deleted;
3. the queue is declared again, now as it should be, and bound; the temporary queue is unbound,
   its messages moved into the queue, and it is deleted.

A message published in the instant both are bound reaches both, and so arrives twice: the
subscription's cursor and the RPC entrypoint's command id make that harmless, where a message
lost would not be. A migration interrupted by a crash is finished at the next start (step 3 runs
whenever the temporary queue exists). docs/operators.md has the procedure for operators.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import amqp
import amqp.exceptions
from kombu import Connection, Exchange, Queue

log = logging.getLogger(__name__)

QUORUM: dict[str, Any] = {"x-queue-type": "quorum"}
SINGLE_ACTIVE_CONSUMER: dict[str, Any] = {**QUORUM, "x-single-active-consumer": True}
CONNECT_ATTEMPTS = 10
LOCK_WAIT_SECONDS = 0.5
LOCK_TIMEOUT_SECONDS = 120.0


def migrating_name(queue: str) -> str:
    return f"{queue}.migrating"


def migration_exchange(queue: str) -> Exchange:
    """The exchange that moves `queue`'s messages, a fanout to the one queue being filled: a
    moved message keeps its routing key (nameko's RPC consumer dispatches on it), and the
    default exchange would let the service's broker user write into any queue
    (services.runtime.cli.keygen)."""
    return Exchange(migrating_name(queue), type="fanout", durable=True)


def quorum_queue(name: str, exchange: Exchange, routing_key: str,
                 single_active_consumer: bool = False) -> Queue:
    return Queue(name, exchange=exchange, routing_key=routing_key, durable=True,
                 queue_arguments=SINGLE_ACTIVE_CONSUMER if single_active_consumer else QUORUM)


def ensure_queue(amqp_uri: str, service: str, queue: Queue) -> int:
    """Declare `queue` (a `quorum_queue`) and bind it; if a queue of its name was declared with
    other arguments, migrate it first. Returns how many messages were moved into it."""
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        # Across every host of a failover URI, as the service's consumers will.
        connection.ensure_connection(max_retries=CONNECT_ATTEMPTS)
        with _migration_lock(connection, queue.name):
            moved = 0
            mover = migration_exchange(queue.name)
            temporary = quorum_queue(migrating_name(queue.name), queue.exchange,
                                     queue.routing_key)
            if (found := _declared_otherwise(connection, queue)) is not None:
                channel = connection.channel()
                temporary(channel).declare()  # and bound like the queue
                channel.queue_unbind(queue.name, queue.exchange.name, queue.routing_key)
                held = _move(channel, queue.name, mover, temporary.name)
                channel.queue_delete(queue.name)
                log.warning("%s: queue %s replaced by one declared %s (it was refused: %s; "
                            "%s messages moved)", service, queue.name, _arguments(queue),
                            found, held)
            channel = connection.channel()
            queue(channel).declare()
            if _exists(connection, temporary.name):
                channel.queue_unbind(temporary.name, queue.exchange.name, queue.routing_key)
                moved = _move(channel, temporary.name, mover, queue.name)
                channel.queue_delete(temporary.name)
                mover(channel).delete()
            return moved


def _declared_otherwise(connection: Connection, queue: Queue) -> str | None:
    """Why `queue.name` exists with arguments other than `queue`'s (declaring it as `queue` is
    then refused: PRECONDITION_FAILED, "inequivalent arg", which closes the channel); None when
    it does not, or exists as `queue`."""
    channel = connection.channel()
    try:
        channel.queue_declare(queue.name, durable=True, auto_delete=False,
                              arguments=_arguments(queue))
    except amqp.exceptions.PreconditionFailed as error:
        if "inequivalent arg" not in str(error):
            raise
        return str(error)
    channel.close()
    return None


def _arguments(queue: Queue) -> dict[str, Any]:
    # kombu sets the attribute from its `attrs` table, which mypy cannot see.
    return queue.queue_arguments  # type: ignore[attr-defined]


def _exists(connection: Connection, name: str) -> bool:
    channel = connection.channel()
    try:
        channel.queue_declare(name, passive=True)
    except amqp.exceptions.NotFound:
        return False
    channel.close()
    return True


def _move(channel: Any, source: str, mover: Exchange, target: str) -> int:
    """Every message of `source` into `target`, with its routing key, through `mover` (bound to
    `target` alone meanwhile), each acked in `source` only once the broker confirmed its copy."""
    mover(channel).declare()
    channel.queue_unbind(source, mover.name, "")  # still bound if a crash cut the last move short
    channel.queue_bind(target, mover.name, "")
    moved = 0
    while (message := channel.basic_get(source, no_ack=False)) is not None:
        copy = amqp.Message(message.body, **message.properties)
        channel.basic_publish(copy, exchange=mover.name,
                              routing_key=message.delivery_info["routing_key"])
        channel.basic_ack(message.delivery_tag)
        moved += 1
    channel.queue_unbind(target, mover.name, "")
    return moved


@contextmanager
def _migration_lock(connection: Connection, queue: str) -> Iterator[None]:
    """An exclusive queue as a lock: the broker lets one connection hold it and drops it with
    the connection, also when its holder crashes."""
    deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
    name = f"{migrating_name(queue)}.lock"
    while True:
        channel = connection.channel()
        try:
            channel.queue_declare(name, exclusive=True, auto_delete=True, durable=False)
            break
        except amqp.exceptions.ResourceLocked:
            if time.monotonic() > deadline:
                raise
            time.sleep(LOCK_WAIT_SECONDS)
    try:
        yield
    finally:
        channel.queue_delete(name)
