"""The outbox relay: the only publisher of a service's events (DESIGN.md "Delivery" 2).

It reads the notification log after the last position it read, maps each event to its
envelope, and stores the envelopes with the new read position in one transaction (moving the
read position by compare-and-set). Then it sends the stored envelopes to the topic exchange
`<service>.events` (routing key = event type) with publisher confirms and persistent delivery,
and records the last one the broker confirmed. A crash or a lost broker between storing and
that record sends the stored envelopes again, byte for byte: an envelope is made once, never
recomputed for a retry, and `events_since` can serve every envelope a subscriber may receive.

Why stored first (DESIGN.md "Delivery" 2 published first, then stored): made again after a
failed send, an envelope is only the same if everything it was made from reads the same; a
subscriber that receives an envelope before the relay stored it cannot fetch what comes before
it; and a second relay (a leadership lost unseen) could publish a different envelope at a
position. Stored first, the first envelope made at a position is the only one ever sent.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from kombu import Connection, Exchange, Producer

from contracts.envelope import envelope_bytes
from services.runtime.broker import BROKER_ERRORS
from services.runtime.leader import leadership
from services.runtime.persistence import log_failure
from services.runtime.publishing import Publications
from services.runtime.settings import settings
from services.runtime.store import CasebookApplication

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
RECONNECT_SECONDS = 2.0


def events_exchange(source: str) -> Exchange:
    return Exchange(f"{source}.events", type="topic", durable=True)


class Relay:
    def __init__(self, app: CasebookApplication, publications: Publications, amqp_uri: str) -> None:
        self.app = app
        self.publications = publications
        self.amqp_uri = amqp_uri
        self.exchange = events_exchange(publications.source)
        self._wake = threading.Event()
        self._running = True

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._running = False
        self._wake.set()

    def run(self) -> None:
        """Lead, then publish until stopped; reconnect after broker failures."""
        with leadership(self.app.store_env, "relay", lambda: self._running) as leading:
            while leading and self._running:
                try:
                    with Connection(
                        self.amqp_uri, transport_options={"confirm_publish": True}
                    ) as connection:
                        producer = Producer(connection.channel(), exchange=self.exchange)
                        self.exchange(producer.channel).declare()
                        self._publish_until_stopped(producer)
                except Exception as error:
                    if not self._running:
                        break
                    if isinstance(error, BROKER_ERRORS):
                        # A node lost or restarting: the relay moves to the next node of a
                        # failover URI, or waits for the broker. What it stored goes out then.
                        log.warning("relay for %s: the broker connection failed (%s); "
                                    "connecting again", self.publications.source, error)
                    else:
                        # With the store unavailable (PostgreSQL down or restarting, a full
                        # disk) nothing is wrong with what it relays: a warning.
                        log_failure(log, error, f"relay for {self.publications.source} failed",
                                    "retrying")
                    self._wake.wait(RECONNECT_SECONDS)

    def _publish_until_stopped(self, producer: Producer) -> None:
        while self._running:
            self._wake.clear()
            if not self.publish_pending(producer):
                self._wake.wait(POLL_SECONDS)

    def publish_pending(self, producer: Producer) -> bool:
        """Send the stored envelopes the broker has not confirmed, or else make the next
        batch's envelopes, store them and send them; record the last the broker confirmed.
        True when more may be waiting: envelopes stored before this turn (the log may have
        grown behind them) or a full batch read. Otherwise the relay waits to be woken: every
        worker of the service wakes it as it ends, and it looks anyway every POLL_SECONDS
        (for what other instances stored). So a command's events cost the relay four
        transactions: its state in one statement, the log, the batch stored, the confirmed
        position."""
        outbox, limit = self.app.outbox, settings().runtime.relay_batch
        state = outbox.relay_state()
        if state.unsent:
            unsent, more = outbox.published_since(state.sent, limit), True
        else:
            notifications = self.app.notifications_after(state.read_through, limit)
            if not notifications:
                return False
            unsent = list(self.publications.envelopes(
                self.app.mapper, notifications, state.published.position,
                state.published.hash))
            outbox.stage_published(unsent, notifications[-1].id, state.read_through)
            more = len(notifications) == limit
        if not unsent:
            return more  # read events that publish nothing (format 1, copies on the trail)
        try:
            for envelope in unsent:
                self._publish(producer, envelope)
        except BaseException:
            log.warning("relay for %s: sending stored envelopes %d..%d failed; they will be "
                        "sent again as stored", self.publications.source,
                        unsent[0]["position"], unsent[-1]["position"])
            raise
        outbox.record_sent(unsent[-1]["position"])
        return more

    def _publish(self, producer: Producer, envelope: dict[str, Any]) -> None:
        producer.publish(
            envelope_bytes(envelope),
            routing_key=envelope["type"],
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
            message_id=envelope["id"],
            headers={
                "casebook_source": envelope["source"],
                "casebook_position": envelope["position"],
            },
            retry=False,
        )
