"""Quorum queues: the queues that must outlive a broker node (issue 14, item 5).

Every subscription queue, its dead-letter queue and every service's RPC queue is declared with
`x-queue-type: quorum`, on one node as on three: a quorum queue is replicated on a cluster's
nodes and keeps serving while a minority of them is down, where a classic queue lives on one
node and is gone while that node is. Reply queues are exclusive instead
(services.runtime.replies): they belong to one caller's connection, which a lost node takes with
it anyway.

A queue cannot change its type in place. Queues declared before (classic) are migrated when the
service starts (`ensure_quorum`), under a lock so that two instances starting at once do not
both move messages:

1. a quorum queue `<queue>.migrating` is bound like the queue, then the classic queue is unbound:
   from then on new messages reach the temporary queue;
2. the classic queue's messages are moved across, each acked only after the broker confirmed its
   copy; then the classic queue is deleted;
3. the queue is declared again, now quorum, and bound; the temporary queue is unbound, its
   messages moved into the queue, and it is deleted.

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


def quorum_queue(name: str, exchange: Exchange, routing_key: str) -> Queue:
    return Queue(name, exchange=exchange, routing_key=routing_key, durable=True,
                 queue_arguments=QUORUM)


def ensure_quorum(amqp_uri: str, service: str, queue: Queue) -> int:
    """Declare `queue` (a `quorum_queue`) and bind it; if a classic queue holds its name, migrate
    it first. Returns how many messages were moved into it."""
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        # Across every host of a failover URI, as the service's consumers will.
        connection.ensure_connection(max_retries=CONNECT_ATTEMPTS)
        with _migration_lock(connection, queue.name):
            moved = 0
            mover = migration_exchange(queue.name)
            temporary = quorum_queue(migrating_name(queue.name), queue.exchange,
                                     queue.routing_key)
            if _is_classic(connection, queue):
                channel = connection.channel()
                temporary(channel).declare()  # and bound like the queue
                channel.queue_unbind(queue.name, queue.exchange.name, queue.routing_key)
                held = _move(channel, queue.name, mover, temporary.name)
                channel.queue_delete(queue.name)
                log.warning("%s: classic queue %s replaced by a quorum queue (%s messages "
                            "moved)", service, queue.name, held)
            channel = connection.channel()
            queue(channel).declare()
            if _exists(connection, temporary.name):
                channel.queue_unbind(temporary.name, queue.exchange.name, queue.routing_key)
                moved = _move(channel, temporary.name, mover, queue.name)
                channel.queue_delete(temporary.name)
                mover(channel).delete()
            return moved


def _is_classic(connection: Connection, queue: Queue) -> bool:
    """Whether `queue.name` exists with another type: declaring it as quorum is then refused
    (PRECONDITION_FAILED, which closes the channel)."""
    channel = connection.channel()
    try:
        channel.queue_declare(queue.name, durable=True, auto_delete=False, arguments=QUORUM)
    except amqp.exceptions.PreconditionFailed as error:
        if "x-queue-type" not in str(error):
            raise
        return True
    channel.close()
    return False


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
