"""nameko's `@rpc`, made safe for commands that must happen once (DESIGN.md "Delivery" 0).

- A request whose caller's deadline has passed is answered `DeadlineExceeded` without running:
  the caller has given up and was told "not done".
- A caller that sent no command id still gets exactly-once for redeliveries of its message:
  the AMQP correlation id is the same every time the broker delivers the same request.
- A reply that cannot be sent (the broker restarting) is not a reason to die: nameko would kill
  the whole service. The request goes back to its queue, the broker delivers it again once the
  connection is back, and its stored outcome answers it then.
- A request no caller of nameko's makes (no `reply_to` to answer to) is logged and dropped,
  never run; one whose answer cannot be made (no content type to make it in, or a reply queue
  that refuses it) is logged and dropped once run. nameko would kill the service on the first
  kind, and the broker would hand it to the next instance, and to this one restarted, for ever;
  the second would go round the queue without end. Any broker user that may publish one call
  could otherwise stop every instance of the service, or keep one busy.
- The service's RPC queue `rpc-<service>` is a quorum queue (services.runtime.queues): requests
  waiting in it outlive the broker node that held them. A service takes all its RPC entrypoints
  from here: one of nameko's own `@rpc` beside them would declare the queue classic, and such a
  service refuses to start.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from amqp.exceptions import MessageNacked
from nameko import rpc as nameko_rpc
from nameko.constants import AMQP_URI_CONFIG_KEY

from contracts.errors import DeadlineExceeded

# Registers the RPC encoding deploy/config.yaml names, before nameko looks it up.
from services.runtime import transport  # noqa: F401
from services.runtime.broker import BROKER_ERRORS, QueueConsumer
from services.runtime.commands import deadline_passed
from services.runtime.queues import ensure_queue, quorum_queue
from services.runtime.secrets import with_amqp_password

log = logging.getLogger(__name__)

COMMAND_ID = "command_id"
DEADLINE = "deadline"


def deadline_of(data: dict[str, Any]) -> float | None:
    """The caller's deadline (epoch seconds) from context data; None if absent or malformed."""
    value = data.get(DEADLINE)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


class QuorumRpcConsumer(nameko_rpc.RpcConsumer):
    """nameko's RPC consumer with its queue declared as a quorum queue (shared: any instance
    answers any call), migrated if it was declared otherwise (classic)."""

    queue_consumer = QueueConsumer()

    def setup(self) -> None:
        if nameko_rpc.RpcConsumer in self.container.shared_extensions:
            # nameko's own `@rpc` beside this module's would consume `rpc-<service>` too, as a
            # classic queue: refused while the quorum one exists (PRECONDITION_FAILED), which
            # kombu retries for ever while the service's RPC goes unanswered.
            raise TypeError(f"{self.container.service_name} mixes nameko.rpc.rpc with "
                            "services.runtime.entrypoints.rpc: use the latter throughout")
        if self.queue is None:  # type: ignore[has-type]
            service = self.container.service_name
            queue = quorum_queue(
                nameko_rpc.RPC_QUEUE_TEMPLATE.format(service),
                nameko_rpc.get_rpc_exchange(self.container.config),
                f"{service}.*",
            )
            amqp_uri = with_amqp_password(self.container.config[AMQP_URI_CONFIG_KEY])
            ensure_queue(amqp_uri, service, queue)
            self.queue = queue
            self.queue_consumer.register_provider(self)
            self._registered = True

    def handle_message(self, body: Any, message: Any) -> None:
        if not message.properties.get("reply_to"):
            log.warning("dropped a request to %s with no reply_to, without running it: no "
                        "caller of Casebook's sends one", message.delivery_info.get("routing_key"))
            self.queue_consumer.ack_message(message)
            return
        super().handle_message(body, message)

    def handle_result(self, message: Any, result: Any, exc_info: Any) -> tuple[Any, Any]:
        # Every answer goes out from here, a worker's and those made before an entrypoint runs
        # (an unknown method, a malformed request): a reply that cannot be sent must not kill
        # the service, nor send the request round again when it would fail the same way.
        try:
            return super().handle_result(message, result, exc_info)
        except Exception as error:
            call = message.delivery_info.get("routing_key")
            if isinstance(error, BROKER_ERRORS) and not refused_by_its_queue(error):
                log.warning(
                    "could not reply to %s (%s): the request goes back to its queue and is "
                    "answered from its stored outcome when the broker delivers it again",
                    call, error)
                # Where the connection is gone this does nothing: the broker requeues it.
                self.requeue_message(message)
            else:  # the request's own properties, or its caller's reply queue: every time
                reason = error.__cause__ or error
                log.warning("dropped a request to %s whose answer cannot be made (%s%s); a "
                            "command's outcome is stored", call, type(reason).__name__,
                            f": {reason}" if str(reason) else "")
                self.queue_consumer.ack_message(message)
        return result, exc_info


def refused_by_its_queue(error: BaseException) -> bool:
    """Whether the broker refused a message (a negative confirm: a queue full and set to
    refuse) rather than lost its connection; kombu wraps the refusal in an OperationalError."""
    return isinstance(error, MessageNacked) or isinstance(error.__cause__, MessageNacked)


class Rpc(nameko_rpc.Rpc):
    rpc_consumer = QuorumRpcConsumer()

    def unpack_message_headers(self, message: Any) -> dict[str, Any]:
        data: dict[str, Any] = super().unpack_message_headers(message)
        correlation_id = message.properties.get("correlation_id")
        if correlation_id and not data.get(COMMAND_ID):
            data[COMMAND_ID] = str(correlation_id)
        return data

    def handle_message(self, body: Any, message: Any) -> None:
        if deadline_passed(deadline_of(self.unpack_message_headers(message))):
            try:
                raise DeadlineExceeded(
                    f"{self.method_name} arrived after its caller's deadline; it was not run."
                )
            except DeadlineExceeded:
                self.rpc_consumer.handle_result(message, None, sys.exc_info())
            return
        super().handle_message(body, message)


rpc = Rpc.decorator
