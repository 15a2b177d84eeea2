"""RPC reply queues that follow their caller from broker node to broker node (issue 14, item 5).

nameko 2.14 declares each caller's reply queue durable and untyped. On a vhost whose default
queue type is quorum that makes it a quorum queue, a Raft group per caller (every standalone
caller makes a new one), which overloaded a three-node cluster; as a durable classic queue it
lives on the node its caller first connected to, and a caller that moves to another node cannot
declare it again until that node is back. Here it is exclusive instead: owned by the caller's
connection, always classic, gone with that connection and declared afresh on the next one, on
whichever node that is.

A reply sent while its caller is between connections is lost, as it would be with the caller's
node: the caller's timeout, and the command's stored outcome that `settle_command` answers
(docs/guarantees.md), cover that.

Every caller in Casebook takes its reply queue from here: `RpcProxy` in services (through
services.runtime.proxies.AnsweringProxy, which bounds each call), the gateway's backends
(`ReplyListener`), and standalone callers (`cluster_rpc`: catch-up, CLI, the Compose health
checks, tests).

A caller from outside the services (the `casebook` CLI, under an integrator's or an auditor's
broker user) binds its reply queue to `nameko-rpc` without declaring the exchange: its user may
not configure it, since a user who may configure an exchange may delete it.
"""

from __future__ import annotations

import uuid
from typing import Any

from kombu import Exchange, Queue
from nameko import rpc as nameko_rpc
from nameko.constants import ACCEPT_CONFIG_KEY, SERIALIZER_CONFIG_KEY
from nameko.standalone.rpc import ClusterRpcProxy, SingleThreadedReplyListener

from services.runtime.broker import QueueConsumer
from services.runtime.transport import ACCEPTED, SERIALIZER


def reply_queue(
    service_name: str, config: dict[str, Any], declare_exchange: bool = True,
) -> tuple[Queue, str]:
    """An exclusive reply queue for `service_name`'s calls, and the routing key replies carry;
    without `declare_exchange`, bound to `nameko-rpc` as it is, declared passively."""
    routing_key = str(uuid.uuid4())
    rpc: Exchange = nameko_rpc.get_rpc_exchange(config)
    queue = Queue(
        nameko_rpc.RPC_REPLY_QUEUE_TEMPLATE.format(service_name, routing_key),
        exchange=Exchange(rpc.name, rpc.type, durable=rpc.durable, passive=not declare_exchange),
        routing_key=routing_key,
        durable=False,
        exclusive=True,
    )
    return queue, routing_key


class ReplyListener(nameko_rpc.ReplyListener):
    """nameko's reply listener for a service's calls, on an exclusive reply queue."""

    queue_consumer = QueueConsumer()

    def setup(self) -> None:
        self.queue, self.routing_key = reply_queue(
            self.container.service_name, self.container.config)
        self.queue_consumer.register_provider(self)


class StandaloneReplyListener(SingleThreadedReplyListener):
    """The standalone proxy's reply listener, on an exclusive reply queue."""

    declare_exchange = True

    def setup(self) -> None:
        self.queue, self.routing_key = reply_queue(
            self.container.service_name, self.container.config, self.declare_exchange)
        self.queue_consumer.register_provider(self)


class OutsideReplyListener(StandaloneReplyListener):
    """The reply listener of a caller whose broker user may not declare `nameko-rpc`."""

    declare_exchange = False


class RpcProxy(nameko_rpc.RpcProxy):
    """nameko's `RpcProxy` whose replies come back on an exclusive queue."""

    rpc_reply_listener = ReplyListener()


def cluster_rpc(
    config: dict[str, Any], context_data: dict[str, Any] | None = None,
    timeout: float | None = None, declare_exchange: bool = True,
) -> ClusterRpcProxy:
    """nameko's standalone `ClusterRpcProxy`, its replies on an exclusive queue, its bodies
    sealed as the services' are (services.runtime.transport). Without `declare_exchange` it
    needs `nameko-rpc` to exist, as it does once a service has run (`amqp.NotFound` if not)."""
    config = {**config, SERIALIZER_CONFIG_KEY: SERIALIZER, ACCEPT_CONFIG_KEY: ACCEPTED}
    listener = StandaloneReplyListener if declare_exchange else OutsideReplyListener
    return ClusterRpcProxy(config, context_data=context_data, timeout=timeout,
                           reply_listener_cls=listener)
