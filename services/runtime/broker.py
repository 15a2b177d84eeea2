"""What a lost broker connection looks like from Python (the socket's errors, amqp's and
kombu's), and the one consumer of a service's queues, which must notice every loss.

Whoever talks to RabbitMQ and must outlive a broker restart catches `BROKER_ERRORS`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import amqp.exceptions
import kombu.exceptions
from kombu import Connection
from nameko import messaging
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    DEFAULT_HEARTBEAT,
    DEFAULT_TRANSPORT_OPTIONS,
    HEARTBEAT_CONFIG_KEY,
    LOGIN_METHOD_CONFIG_KEY,
    TRANSPORT_OPTIONS_CONFIG_KEY,
)

from services.runtime.secrets import without_amqp_password

log = logging.getLogger(__name__)

# How long the consumer's loop waits on a quiet connection before it turns: only between turns
# can it cancel a consumer or end, and a service stops in three turns (its entrypoints' consumers,
# its reply listener's, then the loop). At kombu's 1 s every stop took 3 s: that long between
# Ctrl-C or SIGTERM and the end, and a restart's queues without a consumer. A turn costs a timed-out
# read, so five a second on a quiet connection cost nothing measurable.
TURN_SECONDS = 0.2

BROKER_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    amqp.exceptions.ConnectionError,
    amqp.exceptions.RecoverableConnectionError,
    kombu.exceptions.OperationalError,
)


class ConsumerConnection(Connection):
    """A consumer's connection that never comes back on its own.

    A service's consumer shares its connection with the greenthreads that acknowledge, requeue
    and reply on it. When one of their writes meets a broken socket, py-amqp marks the
    connection down without telling the consumer, and kombu, on the consumer's next read,
    quietly opens a new connection in its place: one with none of the consumer's queues. The
    service then answers nothing and logs nothing, while its messages wait on the old connection
    (seen after a broker restart). Here that read raises instead, and the consumer reconnects as
    after any lost connection: logged, and with its queues."""

    @property
    def connection(self) -> Any:
        if self._connection is not None and not self._closed and not self.connected:
            raise amqp.exceptions.RecoverableConnectionError(
                "the consumer's connection to the broker was lost")
        return super().connection


class QueueConsumer(messaging.QueueConsumer):
    """nameko's queue consumer on a `ConsumerConnection`: every consumer of a service's queues
    (RPC, replies, subscriptions) takes it, so that one connection carries them all.

    An acknowledgement or requeue that meets a broken connection is not an error of the worker
    that asked for it: the broker keeps every unacknowledged message and delivers it again once
    the connection is gone (the cursor, or the command's stored outcome, makes that harmless).
    nameko lets the socket's OSError out of the worker, which kills the whole service."""

    def consume(self, limit: int | None = None, timeout: float | None = None,
                safety_interval: float = TURN_SECONDS, **kwargs: Any) -> Iterator[None]:
        return super().consume(limit, timeout, safety_interval, **kwargs)

    def ack_message(self, message: Any) -> None:
        try:
            super().ack_message(message)
        except BROKER_ERRORS as error:
            log.warning("could not acknowledge a message (%s): the broker delivers it again",
                        error)

    def requeue_message(self, message: Any) -> None:
        try:
            super().requeue_message(message)
        except BROKER_ERRORS as error:
            log.warning("could not requeue a message (%s): the broker delivers it again", error)

    def on_connection_error(self, exc: Exception, interval: float) -> None:
        # nameko masks the password of the first of a failover URI's URIs only: a cluster's
        # service would log its broker password for every other node.
        log.warning("Error connecting to broker at %s (%s); retrying in %s seconds",
                    without_amqp_password(self.amqp_uri), exc, interval)

    @property
    def connection(self) -> ConsumerConnection:
        config = self.container.config
        return ConsumerConnection(
            self.amqp_uri,
            transport_options=config.get(TRANSPORT_OPTIONS_CONFIG_KEY, DEFAULT_TRANSPORT_OPTIONS),
            heartbeat=config.get(HEARTBEAT_CONFIG_KEY, DEFAULT_HEARTBEAT),
            ssl=config.get(AMQP_SSL_CONFIG_KEY),
            login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
        )
