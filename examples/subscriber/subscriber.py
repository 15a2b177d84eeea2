"""A Casebook subscriber in plain kombu (no nameko): catch up, then follow live events.

    python examples/subscriber/subscriber.py --source cases --state state.json --out events.jsonl

It keeps, in `--state`, the position and hash of the last envelope it processed, and:
- reads its own durable queue `<name>.from.<source>`, bound to the source's topic exchange with
  `#` (every event, in order): the one the operator made for its broker user (`casebook
  broker-user add`), or, on a broker where it may declare queues (`casebook up`), its own;
- on start, and whenever an envelope's `prev_position` is not its last position, fetches what it
  missed with the source's `events_since` RPC (nameko's AMQP RPC protocol, spoken by hand below);
- ignores an envelope at or below its last position (a redelivery), and checks each envelope's
  hash and its link to the previous one before it processes it;
- acks a message only after its state is saved, so a crash re-delivers rather than loses.

Processing here means appending the envelope as a JSON line to `--out`; replace `process`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Any

from amqp.exceptions import NotFound
from kombu import Connection, Consumer, Exchange, Producer, Queue

GENESIS = {"position": 0, "hash": "0" * 64}
FETCH_LIMIT = 500


def envelope_hash(envelope: dict[str, Any]) -> str:
    body = {key: value for key, value in envelope.items() if key != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Subscriber:
    def __init__(self, uri: str, source: str, name: str, state: Path, out: Path) -> None:
        self.connection = Connection(uri)
        self.source = source
        self.name = name
        self.state_path = state
        self.out = out
        self.state = json.loads(state.read_text()) if state.exists() else dict(GENESIS)
        # As `casebook broker-user add` makes it: one instance at a time reads it, in order.
        self.queue = Queue(
            f"{name}.from.{source}",
            Exchange(f"{source}.events", "topic", durable=True),
            routing_key="#",
            durable=True,
            queue_arguments={"x-queue-type": "quorum", "x-single-active-consumer": True},
            no_declare=True,
        )

    # nameko RPC by hand: a request on the `nameko-rpc` topic exchange; the answer comes back on
    # that exchange, routed by the key we give as `reply_to`, to a queue bound with that key.
    def events_since(self, position: int) -> list[dict[str, Any]]:
        # Passive: the services declare it, and an integrator's broker user may not.
        rpc_exchange = Exchange("nameko-rpc", "topic", durable=True, passive=True)
        reply_key = str(uuid.uuid4())
        reply_queue = Queue(f"rpc.reply-{self.name}-{reply_key}", rpc_exchange,
                            routing_key=reply_key, exclusive=True, auto_delete=True)
        replies: list[dict[str, Any]] = []

        def on_reply(body: Any, message: Any) -> None:
            replies.append(body)
            message.ack()

        with self.connection.channel() as channel:
            reply_queue(channel).declare()
            with Consumer(channel, [reply_queue], callbacks=[on_reply], accept=["json"]):
                Producer(channel).publish(
                    {"args": [position, FETCH_LIMIT], "kwargs": {}},
                    exchange=rpc_exchange, routing_key=f"{self.source}.events_since",
                    reply_to=reply_key, correlation_id=str(uuid.uuid4()), serializer="json",
                )
                while not replies:
                    self.connection.drain_events(timeout=30)
        if replies[0].get("error"):
            raise RuntimeError(f"events_since failed: {replies[0]['error']}")
        result: list[dict[str, Any]] = replies[0]["result"]
        return result

    def catch_up(self, until: int | None = None) -> None:
        while True:
            batch = self.events_since(self.state["position"])
            for envelope in batch:
                if until is not None and envelope["position"] > until:
                    return
                self.apply(envelope)
            if len(batch) < FETCH_LIMIT:
                return

    def receive(self, envelope: dict[str, Any]) -> None:
        if envelope["position"] <= self.state["position"]:
            return  # seen before
        if envelope["prev_position"] != self.state["position"]:
            self.catch_up(until=envelope["position"] - 1)
        self.apply(envelope)

    def apply(self, envelope: dict[str, Any]) -> None:
        if envelope["position"] <= self.state["position"]:
            return
        if envelope["hash"] != envelope_hash(envelope):
            raise ValueError(f"position {envelope['position']}: hash does not match content")
        if (envelope["prev_position"], envelope["prev_hash"]) != (
            self.state["position"],
            self.state["hash"],
        ):
            raise ValueError(f"position {envelope['position']}: does not continue the chain")
        self.process(envelope)
        self.state = {"position": envelope["position"], "hash": envelope["hash"]}
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.state))
        os.replace(temporary, self.state_path)

    def process(self, envelope: dict[str, Any]) -> None:
        with self.out.open("a", encoding="utf-8") as out:
            out.write(json.dumps(envelope, ensure_ascii=False) + "\n")

    def declare(self) -> None:
        """The queue as it is, or, where there is none, declared and bound here: bound first,
        then caught up, so that nothing falls between."""
        try:
            with self.connection.channel() as channel:
                self.queue(channel).queue_declare(passive=True)
        except NotFound:  # the broker closed that channel
            with self.connection.channel() as channel:
                queue = self.queue(channel)
                queue.exchange.declare()
                queue.queue_declare()
                queue.queue_bind()

    def run(self, idle_exit: float | None) -> None:
        self.declare()
        self.catch_up()

        def on_message(body: Any, message: Any) -> None:
            envelope = body if isinstance(body, dict) else json.loads(body)
            self.receive(envelope)
            message.ack()

        with (
            self.connection.channel() as channel,
            Consumer(
                channel, [self.queue], callbacks=[on_message], accept=["json"], prefetch_count=1
            ),
        ):
            while True:
                try:
                    self.connection.drain_events(timeout=idle_exit)
                except TimeoutError:
                    return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--uri", default=os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
    )
    parser.add_argument("--source", default="cases")
    parser.add_argument(
        "--name", default="example",
        help="Names your queues: <name>.from.<source>. Your broker user's name, if the operator "
             "made it with `casebook broker-user add <name>`.",
    )
    parser.add_argument("--state", type=Path, default=Path("subscriber-state.json"))
    parser.add_argument("--out", type=Path, default=Path("events.jsonl"))
    parser.add_argument(
        "--idle-exit",
        type=float,
        default=None,
        help="Stop after this many seconds without a message (for tests).",
    )
    args = parser.parse_args()
    Subscriber(args.uri, args.source, args.name, args.state, args.out).run(args.idle_exit)


if __name__ == "__main__":
    main()
