"""What a lost broker connection looks like from Python: the socket's errors, amqp's and
kombu's. Whoever talks to RabbitMQ and must outlive a broker restart catches these."""

from __future__ import annotations

import amqp.exceptions
import kombu.exceptions

BROKER_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    amqp.exceptions.ConnectionError,
    amqp.exceptions.RecoverableConnectionError,
    kombu.exceptions.OperationalError,
)
