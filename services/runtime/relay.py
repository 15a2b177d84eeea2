"""The outbox relay: the only publisher of a service's events (DESIGN.md "Delivery" 2).

It reads the notification log after the last position it stored, maps each event to its
envelope, publishes it to the topic exchange `<service>.events` (routing key = event type) with
publisher confirms and persistent delivery, and only after the broker's confirm stores the
envelopes and the new read position. A crash between publish and store re-sends the same,
byte-identical envelopes; it never skips one.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from kombu import Connection, Exchange, Producer

from contracts.envelope import envelope_bytes
from services.runtime.leader import leadership
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
                except Exception:
                    if not self._running:
                        break
                    log.exception(
                        "relay for %s lost the broker; retrying", self.publications.source
                    )
                    self._wake.wait(RECONNECT_SECONDS)

    def _publish_until_stopped(self, producer: Producer) -> None:
        while self._running:
            self._wake.clear()
            if not self.publish_pending(producer):
                self._wake.wait(POLL_SECONDS)

    def publish_pending(self, producer: Producer) -> int:
        """Publish one batch of unpublished events; return how many notifications were read."""
        read_through = self.app.outbox.relay_read_through()
        notifications = self.app.notifications_after(read_through, settings().runtime.relay_batch)
        if not notifications:
            return 0
        head = self.app.outbox.published_head()
        envelopes = list(
            self.publications.envelopes(self.app.mapper, notifications, head.position, head.hash)
        )
        try:
            for envelope in envelopes:
                self._publish(producer, envelope)
            # Stored only now: every envelope above was confirmed by the broker.
            self.app.outbox.record_published(envelopes, notifications[-1].id)
        except BaseException:
            # The retry recomputes these envelopes from the same head and notifications; what
            # this attempt read and made is what tells a later reader whether it did.
            log.warning("relay for %s: a batch failed before it was stored: notifications "
                        "%d..%d after published position %d made envelopes at %s",
                        self.publications.source, notifications[0].id, notifications[-1].id,
                        head.position, [envelope["position"] for envelope in envelopes])
            raise
        return len(notifications)

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
