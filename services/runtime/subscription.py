"""Subscriptions: every event of a source, exactly once, in order (DESIGN.md "Delivery" 3, 4).

`@subscribe("cases")` on a service method binds a durable quorum queue `<service>.from.<source>`
(services.runtime.queues) to the source's exchange with routing key `#`, so one queue carries the
source's whole stream in publishing order. One greenthread per subscription (the pump) takes
deliveries in order and, for each, compares the envelope with the subscriber's cursor for that
source:

- position at or below the cursor: already processed; ack and ignore.
- `prev_position` is not the cursor's position: something was missed (a queue that did not exist
  yet, a redelivery out of order, another instance's delivery). Fetch the gap from the source
  over RPC (`events_since`) and process it first. A gap that cannot be fetched is retried, and
  dead-lettered if it stays: an envelope is never processed across a gap.
- otherwise: check the chain link (prev_hash, own hash), then call the handler in a nameko
  worker. The handler gets `(envelope, cursor)`; what it stores it stores with `cursor=cursor`,
  and if it stores nothing the pump stores the cursor alone. Either way cursor and effects commit
  together, and the cursor only moves from the position the handler started from.

On start the pump catches up the same way before taking live deliveries (if the source is not
up, it tries again later, backing off). A catch-up first asks the source for the envelope the
cursor stands at: a source that no longer holds it (its store restored to an older point than
the subscriber's, or replaced) would publish new events at positions the subscriber takes for
processed, and they would be acked and ignored, lost to it for good. So the subscription halts
instead (`SourceBehind`): it processes nothing more from that source, acknowledges nothing,
says so in an error line, in the service's `status` and in `casebook_subscription_halted`, and
waits for an operator (docs/operators.md, "A subscription halted"). A live envelope at the
cursor's own position that is not the one processed there halts it the same way, and so does
a live one from before the cursor when the source, asked then, no longer holds what the cursor
stands at (a source restored while its subscribers run).

Several instances of a service may run (scaling out): the queue has a single active consumer
(services.runtime.queues), so the broker delivers to one of them and hands the queue to
another, with every delivery not yet acknowledged, when that one's channel closes; the others
stand by. Where two still process the same position (both catching up on start, or a delivery
handed over while its first consumer is finishing it), the cursor's compare-and-set lets
exactly one apply it, and the other, finding the cursor moved, dedupes.

With `acts_on` (the event types the handler does anything with) an envelope of any other type
never reaches the handler and costs no transaction of its own: its chain link is checked and
the subscriber's position moves past it in memory, to be stored with the next envelope the
handler acts on (whose transaction moves the cursor from where it was stored), once the
consumer holds as many unacknowledged deliveries as the broker sends it at a time, or at most
PASS_OVER_SECONDS after the first. A delivery is acknowledged only once the stored cursor is
at or past it: an instance that dies first leaves its deliveries with the broker, which
delivers them again (to another instance, if one runs), and nothing was done for them but
passing over, which changes nothing the second time. Most of what a service hears from
another is not its business (the case service acts on one archive event type of all those
the archive publishes for every entry it files), and a transaction for each such envelope
cost the case service about a tenth of its time a command.

With `batch=True` the handler takes a run of envelopes instead, `(envelopes, cursor)`: each
continues the one before, and the cursor moves from where the first continues to the last, in
the handler's one transaction. The pump makes a run of the deliveries already waiting (up to
RUN_LIMIT) and of each page of a catch-up; a run that fails is taken apart and its envelopes
processed one at a time, so that retries and dead letters stay per delivery. The archive's
ledger takes its sources this way: one transaction per run, not per envelope.

A handler that raises because the service's own store is unavailable (PostgreSQL down or
restarting, SQLite's disk full: `services.runtime.persistence.store_unavailable`) waits for it,
backing off, and tries again for as long as it takes, without counting an attempt: that is no
fault of the delivery's, and a dead letter would only park what is fine. Any other failure is
retried; after `CASEBOOK_HANDLER_ATTEMPTS` tries the delivery goes to `<queue>.dlq` (through
the subscriber's own `<subscriber>.dead-letters` exchange) with the error in its headers, and
is acked only then: never silently. The cursor does not move past a failed
event: order is the promise, so later deliveries retry it and park behind it until it is fixed,
and an operator replays the dead letters (or restarts the service, which catches up).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import eventlet
from eventlet.event import Event
from eventlet.queue import Empty, LightQueue
from kombu import Connection, Exchange, Producer
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import DependencyProvider
from nameko.messaging import Consumer

from contracts.envelope import chain_problems, envelope_hash
from contracts.errors import Unavailable
from services.runtime.broker import BROKER_ERRORS, QueueConsumer
from services.runtime.context import SYSTEM
from services.runtime.persistence import ChainHead, Cursor, CursorMoved, store_unavailable
from services.runtime.queues import ensure_queue, quorum_queue
from services.runtime.relay import events_exchange
from services.runtime.replies import cluster_rpc
from services.runtime.secrets import with_amqp_password
from services.runtime.settings import settings

log = logging.getLogger(__name__)

FETCH_LIMIT = 500
# The most envelopes one run of a `batch=True` subscription carries (one transaction).
RUN_LIMIT = 500
RPC_TIMEOUT_SECONDS = 10
# A look at the broker to count what waits in a queue: a status or a scrape does not wait longer.
BROKER_TIMEOUT_SECONDS = 2
RETRY_PAUSE_SECONDS = 0.2
# The longest the position past envelopes passed over (`acts_on`) stays unstored, and their
# deliveries unacknowledged.
PASS_OVER_SECONDS = 1.0
CATCH_UP_FIRST_SECONDS = 2.0
CATCH_UP_MAX_SECONDS = 60.0


class SourceBehind(Exception):
    """The source no longer holds the envelope the subscriber processed last: it would reuse
    positions the subscriber takes for processed."""

    def __init__(self, subscriber: str, source: str, head: ChainHead,
                 held: dict[str, Any] | None) -> None:
        found = ("nothing at that position" if held is None or held["position"] > head.position
                 else "another envelope there")
        super().__init__(
            f"{subscriber} has processed {source} up to position {head.position}, but the "
            f"{source} store holds {found}: it is older than the {subscriber} store (restored "
            "from another backup) or was replaced. Nothing more from "
            f"{source} is processed until this is resolved (docs/operators.md, \"A "
            "subscription halted\")")


class _Stopping(Exception):
    """The service stops while a delivery waits: it is left unacknowledged, to come again."""


class ChainBroken(Exception):
    """An envelope does not link to the subscriber's last one: tampering or a forked source."""

    def __init__(self, source: str, position: int, problems: list[str]) -> None:
        super().__init__(f"{source} position {position}: {'; '.join(problems)}")
        self.source = source
        self.position = position
        self.problems = problems


@dataclass
class _Delivery:
    envelope: dict[str, Any] | None
    message: Any = None
    attempts: int = 0
    errors: list[str] = field(default_factory=list)
    store_waits: int = 0  # times it waited for the service's own store, counted apart
    arrived: float = field(default_factory=time.monotonic)


def _backoff(first: float, attempt: int) -> float:
    """The pause before try `attempt` + 1: doubling from `first`, at most CATCH_UP_MAX_SECONDS."""
    return min(CATCH_UP_MAX_SECONDS, first * 2 ** (attempt - 1))


def queue_name(subscriber: str, source: str) -> str:
    return f"{subscriber}.from.{source}"


def dead_letter_queue_name(subscriber: str, source: str) -> str:
    return f"{queue_name(subscriber, source)}.dlq"


def dead_letter_exchange(subscriber: str) -> Exchange:
    """Each subscriber's own exchange for dead letters: its broker user may write there and
    nowhere near another service's queues (the default exchange would let it)."""
    return Exchange(f"{subscriber}.dead-letters", type="direct", durable=True)


def fetch_since(
    amqp_uri: str, source: str, position: int, until: int | None = None,
    page: int = FETCH_LIMIT,
) -> Iterator[dict[str, Any]]:
    """Every envelope `source` published after `position` (up to `until`), over RPC, `page` at
    a time."""
    try:
        with cluster_rpc({"AMQP_URI": amqp_uri}, timeout=RPC_TIMEOUT_SECONDS) as rpc:
            while True:
                batch = rpc[source].events_since(position, page)
                for envelope in batch:
                    if until is not None and envelope["position"] > until:
                        return
                    yield envelope
                    position = envelope["position"]
                if len(batch) < page:
                    return
    except Exception as error:  # the RPC layer raises several kinds; all mean "not now"
        if isinstance(error, GeneratorExit):
            raise
        raise Unavailable(f"{source} did not answer events_since: {error}") from error


class Subscription(Consumer):
    """`@subscribe(source)`: decorate `handler(self, envelope, cursor)` to receive every event
    of `source`.

    With `verify_chain=False` an envelope that breaks the chain is still delivered: for the
    archive, which records the break as an alarm instead of stopping. With `acts_on`, only
    envelopes of those types are (see the module docstring).
    """

    queue_consumer = QueueConsumer()

    def __init__(
        self, source: str, verify_chain: bool = True, batch: bool = False,
        acts_on: Iterable[str] | None = None, **kwargs: Any
    ) -> None:
        if batch and acts_on is not None:
            raise ValueError(f"subscription to {source}: acts_on is for handlers of one "
                             "envelope at a time, not batch=True")
        self.source = source
        self.verify_chain = verify_chain
        self.batch = batch
        self.acts_on = None if acts_on is None else frozenset(acts_on)
        super().__init__(queue=None, requeue_on_error=False, **kwargs)

    def setup(self) -> None:
        subscriber = self.container.service_name
        self.queue = quorum_queue(queue_name(subscriber, self.source),
                                  events_exchange(self.source), "#", single_active_consumer=True)
        self.dead_letters = quorum_queue(
            dead_letter_queue_name(subscriber, self.source),
            dead_letter_exchange(subscriber),
            dead_letter_queue_name(subscriber, self.source),
        )
        self.amqp_uri = with_amqp_password(
            self.container.config.get("AMQP_URI", settings().runtime.amqp_uri))
        for queue in (self.queue, self.dead_letters):
            ensure_queue(self.amqp_uri, subscriber, queue)
        self.max_attempts = settings().runtime.handler_attempts
        self._inbox: LightQueue = LightQueue()
        # A catch-up request met while a run was being gathered: it comes next.
        self._next: _Delivery | None = None
        # Set on stop: it also ends a wait for the store at once.
        self._stopping = threading.Event()
        # The highest position of the source this instance has heard of: its lag's measure
        # (services.runtime.metrics).
        self.heard_of = 0
        # The cursor past the envelopes passed over since the stored one (`acts_on`), its
        # `expected_position` the stored cursor's; the deliveries the stored cursor is not at
        # yet, by position, unacknowledged; and since when either has waited.
        self._passed: Cursor | None = None
        self._held: list[tuple[int, Any]] = []
        self._waiting_since = 0.0
        # Why this subscription halted (`SourceBehind`), or None while it runs; and when the
        # source was last asked, and said it holds what the cursor stood at (time.monotonic()).
        self.halted: str | None = None
        self._confirmed_at = float("-inf")
        super().setup()

    def start(self) -> None:
        super().start()
        self._inbox.put(_Delivery(envelope=None))  # catch up before anything live
        self.container.spawn_managed_thread(self._pump)

    def stop(self) -> None:
        self._stopping.set()
        self._inbox.put(_Delivery(envelope=None))
        self._store_position()  # a restart then fetches none of them again
        super().stop()

    @property
    def _running(self) -> bool:
        return not self._stopping.is_set()

    def handle_message(self, body: Any, message: Any) -> None:
        self._hear(body)
        self._inbox.put(_Delivery(envelope=body, message=message))

    def _hear(self, envelope: Any) -> None:
        position = envelope.get("position") if isinstance(envelope, dict) else None
        if isinstance(position, int):
            self.heard_of = max(self.heard_of, position)

    @property
    def app(self) -> Any:
        from services.runtime.service import ApplicationDependency

        for dependency in self.container.dependencies:
            if isinstance(dependency, ApplicationDependency):
                return dependency.app
        raise RuntimeError(f"{self.container.service_name} declares no ApplicationDependency")

    # The pump: one delivery at a time, in arrival order.

    def _pump(self) -> None:
        while self._running:
            if self.halted is not None:
                # What waits in the inbox stays unacknowledged: the broker keeps it.
                self._stopping.wait()
                break
            deliveries = self._waiting()
            if not self._running:
                break
            try:
                if len(deliveries) == 1:
                    self._handle(deliveries[0])
                else:
                    self._handle_run(deliveries)
            except BROKER_ERRORS as error:
                # The broker went away mid-delivery (publishing a dead letter; a failed ack is
                # the QueueConsumer's to log): the message stays unacknowledged, comes again once
                # the connection is back, and the cursor dedupes it. Never a reason to die.
                log.warning("%s from %s: the broker connection failed (%s); the delivery will "
                            "come again", self.container.service_name, self.source, error)
            except ContainerBeingKilled:
                # The service is dying (nameko kills a container whose reply or consumer broke)
                # and refuses new workers. The handler never ran: nothing to retry or dead-letter
                # here. The delivery stays unacknowledged and comes again to the next start.
                log.warning("%s from %s: the service is being killed; the delivery will come "
                            "again", self.container.service_name, self.source)
                return

    def _waiting(self) -> list[_Delivery]:
        """The next delivery; for a `batch=True` subscription, with the live deliveries waiting
        behind it (a catch-up request ends the run and comes next). The position past envelopes
        passed over is stored when none comes for what is left of PASS_OVER_SECONDS."""
        first, self._next = self._next, None
        while first is None:
            try:
                first = self._inbox.get(timeout=self._position_due_in())
            except Empty:
                self._store_position()
        deliveries = [first]
        while self.batch and first.envelope is not None and len(deliveries) < RUN_LIMIT:
            try:
                delivery: _Delivery = self._inbox.get_nowait()
            except Empty:
                break
            if delivery.envelope is None:
                self._next = delivery
                break
            deliveries.append(delivery)
        return deliveries

    def _handle_run(self, deliveries: list[_Delivery]) -> None:
        try:
            self.receive_run([delivery.envelope for delivery in deliveries
                              if delivery.envelope is not None],
                             arrived=max(delivery.arrived for delivery in deliveries))
        except (*BROKER_ERRORS, ContainerBeingKilled):
            raise
        except Exception as error:
            # Taken apart: each delivery retried, and dead-lettered if it must be, on its own.
            log.info("%s from %s: a run of %d deliveries failed (%s); taking them one by one",
                     self.container.service_name, self.source, len(deliveries), error)
            for delivery in deliveries:
                self._handle(delivery)
            return
        for delivery in deliveries:
            self.queue_consumer.ack_message(delivery.message)

    def _handle(self, delivery: _Delivery) -> None:
        while self.halted is None:
            try:
                if delivery.envelope is None:
                    self.catch_up()
                else:
                    self.receive(delivery.envelope, delivery.arrived)
            except CursorMoved:
                # Another instance got there first: not a failure; look again, and dedupe.
                continue
            except ContainerBeingKilled:
                raise
            except _Stopping:
                return
            except SourceBehind as error:
                self.halted = str(error)
                log.error("%s from %s: halted: %s", self.container.service_name, self.source,
                          error)
                return
            except Unavailable as error:
                if delivery.envelope is None:
                    # The source is not up: try the catch-up again later, without a dead letter
                    # (there is no message to park), backing off to CATCH_UP_MAX_SECONDS.
                    self._retry_catch_up(delivery.attempts + 1, error)
                    return
                if self._retry_or_dead_letter(delivery, error):
                    continue
                return
            except Exception as error:
                if store_unavailable(error):
                    # Not the delivery's fault: the service's own store is down, restarting or
                    # full.
                    # It waits for the store, however long, and counts no attempt: a dead
                    # letter is for what would fail again.
                    delivery.store_waits += 1
                    if self._wait_for_store(delivery.store_waits, error):
                        continue
                    return  # stopping: unacknowledged, the delivery comes again
                if self._retry_or_dead_letter(delivery, error):
                    continue
                return
            if delivery.message is not None:
                self._acknowledge(delivery)
            return

    def _wait_for_store(self, wait: int, error: Exception) -> bool:
        """Pause before trying again with the store, backing off to CATCH_UP_MAX_SECONDS;
        False when the service stops meanwhile."""
        delay = _backoff(RETRY_PAUSE_SECONDS, wait)
        log.warning("%s from %s: the store is unavailable (%s); trying again in %ss",
                    self.container.service_name, self.source, error, delay)
        self._stopping.wait(delay)
        return self._running

    def _acknowledge(self, delivery: _Delivery) -> None:
        """Ack a delivery processed once the stored cursor is at or past it (see the module
        docstring): at once, unless it was passed over."""
        if self.acts_on is None:
            self.queue_consumer.ack_message(delivery.message)
            return
        assert delivery.envelope is not None
        self._hold(delivery.envelope["position"], delivery.message)
        if self._passed is None:
            self._release()  # all it processed is stored
        if len(self._held) >= self.queue_consumer.prefetch_count:
            self._store_position()  # the broker sends no more until some are acknowledged

    def _retry_or_dead_letter(self, delivery: _Delivery, error: Exception) -> bool:
        """True to try the delivery again; False once it was dead-lettered (or was a catch-up)."""
        delivery.attempts += 1
        delivery.errors.append(f"{type(error).__name__}: {error}")
        log.warning(
            "%s from %s: attempt %s failed: %s",
            self.container.service_name, self.source, delivery.attempts, error,
        )
        if delivery.attempts < self.max_attempts and self._running:
            eventlet.sleep(RETRY_PAUSE_SECONDS * delivery.attempts)
            return True
        if delivery.message is not None:
            self._dead_letter(delivery, traceback.format_exc())
        return False

    def _retry_catch_up(self, attempt: int, error: Exception) -> None:
        delay = _backoff(CATCH_UP_FIRST_SECONDS, attempt)
        log.info(
            "%s: %s not reachable for catch-up (%s); trying again in %ss",
            self.container.service_name, self.source, error, delay,
        )
        if self._running:
            eventlet.spawn_after(delay, self._inbox.put, _Delivery(envelope=None, attempts=attempt))

    def head(self) -> ChainHead:
        """Where this instance stands in the source's stream: its stored cursor, or past it,
        the last envelope it passed over since."""
        return self._standing()[0]

    def _standing(self) -> tuple[ChainHead, int]:
        """The head, and the position the stored cursor stands at (what the next transaction
        moves it from)."""
        stored: ChainHead = self.app.cursor(self.source)
        passed = self._passed
        if passed is None or passed.position <= stored.position:
            return stored, stored.position
        # Past the stored cursor, even one another instance moved since the first of them:
        # every envelope from where this one's stood to `passed` was passed over here.
        return ChainHead(passed.position, passed.hash), stored.position

    def _pass_over(self, cursor: Cursor) -> None:
        self._start_waiting()
        self._passed = cursor
        if self._position_due_in() == 0:
            self._store_position()

    def _hold(self, position: int, message: Any) -> None:
        self._start_waiting()
        self._held.append((position, message))

    def _start_waiting(self) -> None:
        if self._passed is None and not self._held:
            self._waiting_since = time.monotonic()

    def _position_due_in(self) -> float | None:
        """How much longer the position past envelopes passed over, and the deliveries held,
        may wait (None: nothing waits)."""
        if self._passed is None and not self._held:
            return None
        return max(0.0, PASS_OVER_SECONDS - (time.monotonic() - self._waiting_since))

    def _release(self, stored: int | None = None) -> None:
        """Acknowledge the deliveries held that the stored cursor is at or past (all of them:
        nothing passed over waits to be stored)."""
        kept = []
        for position, message in self._held:
            if stored is None or position <= stored:
                self.queue_consumer.ack_message(message)
            else:
                kept.append((position, message))
        self._held = kept

    def _store_position(self) -> None:
        """Store the position past the envelopes passed over, and acknowledge the deliveries
        it covers; on failure, try again after PASS_OVER_SECONDS."""
        try:
            # Where the stored cursor stands once this is done (None: nothing passed over
            # waits, so it covers every delivery held).
            passed, stored = self._passed, None
            while passed is not None:
                try:
                    self.app.save_processed(cursor=passed)
                    stored = passed.position
                    break
                except CursorMoved:
                    # Another instance stored a cursor meanwhile. Short of this one, it stands
                    # among envelopes passed over here, none of which the handler acts on:
                    # this one moves on from there.
                    stored = self.app.cursor(self.source).position
                    passed = (replace(passed, expected_position=stored)
                              if stored < passed.position else None)
            self._passed = None
            self._release(stored)
        except Exception as error:
            log.warning("%s from %s: storing the position past envelopes passed over failed "
                        "(%s); trying again", self.container.service_name, self.source, error)
            self._waiting_since = time.monotonic()

    def catch_up(self) -> int:
        """Process everything the source published after our cursor; return how many. Read
        from the envelope the cursor stands at, which the source must still hold."""
        head = self.head()
        count = 0
        page: list[dict[str, Any]] = []
        asked_at = time.monotonic()
        envelopes = fetch_since(self.amqp_uri, self.source, max(0, head.position - 1))
        if head.position > 0:
            self._holds(head, next(envelopes, None), asked_at)
        for envelope in envelopes:
            if not self.batch:
                count += self._process(envelope)
                continue
            page.append(envelope)
            if len(page) == RUN_LIMIT:
                count += self._process_run(page)
                page = []
        return count + self._process_run(page)

    def receive_run(self, envelopes: list[dict[str, Any]], arrived: float) -> None:
        """Live deliveries in arrival order, the last `arrived` then (time.monotonic()),
        processed as runs (`batch=True`)."""
        head: ChainHead = self.app.cursor(self.source)
        fresh = [envelope for envelope in envelopes
                 if not self._seen(envelope, head.position, head.hash)]
        if any(envelope["position"] < head.position for envelope in envelopes):
            self._confirm(head, arrived)
        if fresh and fresh[0]["prev_position"] != head.position:
            fresh = [*fetch_since(self.amqp_uri, self.source, head.position,
                                  until=fresh[0]["position"] - 1), *fresh]
        self._process_run(fresh)

    def receive(self, envelope: dict[str, Any], arrived: float | None = None) -> None:
        """A live delivery, `arrived` then (time.monotonic(); None: now)."""
        head = self.head()
        if self._seen(envelope, head.position, head.hash):
            if envelope["position"] < head.position:
                self._confirm(head, time.monotonic() if arrived is None else arrived)
            return  # delivered before: ack and ignore
        if envelope["prev_position"] != head.position:
            for missed in fetch_since(
                self.amqp_uri, self.source, head.position, until=envelope["position"] - 1
            ):
                self._process(missed)
        self._process(envelope)

    def _holds(self, head: ChainHead, held: dict[str, Any] | None, asked_at: float) -> None:
        """`held`, the source's first envelope from the cursor's position on when asked at
        `asked_at`, must be the one the cursor stands at: else `SourceBehind`."""
        if held is None or held["position"] != head.position:
            raise SourceBehind(self.container.service_name, self.source, head, held)
        self._seen(held, head.position, head.hash)
        self._confirmed_at = max(self._confirmed_at, asked_at)

    def _confirm(self, head: ChainHead, arrived: float) -> None:
        """A live delivery from before the cursor is a redelivery only while the source holds
        what the cursor stands at (its chain then holds every envelope before it as it was);
        a source restored older publishes new ones there. The source is asked unless it said
        so after the delivery arrived: its answer then vouches for everything it had sent.
        Until it answers (one just restarted sends what it holds before it answers), the
        delivery waits, unacknowledged, backing off to CATCH_UP_MAX_SECONDS: no attempt is
        counted, and nothing is taken for processed unconfirmed."""
        if arrived <= self._confirmed_at:
            return
        waits = 0
        while True:
            asked_at = time.monotonic()
            try:
                held = next(fetch_since(self.amqp_uri, self.source, head.position - 1, page=1),
                            None)
            except Unavailable as error:
                waits += 1
                delay = _backoff(RETRY_PAUSE_SECONDS, waits)
                log.info("%s from %s: a delivery from before position %s waits until %s says "
                         "it still holds that position (%s); asking again in %ss",
                         self.container.service_name, self.source, head.position, self.source,
                         error, delay)
                if self._stopping.wait(delay):
                    raise _Stopping() from error
                continue
            self._holds(head, held, asked_at)
            return

    def _seen(self, envelope: dict[str, Any], position: int, hash_: str) -> bool:
        """Whether the envelope is at or before `position`, where the subscriber stands with
        `hash_`: processed before. `SourceBehind` for one that shows the source's chain no
        longer passes through that envelope: another at that very position, or one after it
        that follows a position before it (the source's positions skip those of events it
        does not publish, so its new envelopes may all lie past the subscriber's)."""
        if envelope["position"] > position and envelope["prev_position"] >= position:
            return False
        if envelope["position"] < position:
            return True
        if (envelope["position"] > position
                or (envelope.get("hash") or envelope_hash(envelope)) != hash_):
            raise SourceBehind(self.container.service_name, self.source,
                               ChainHead(position, hash_), envelope)
        return True

    def _process_run(self, envelopes: list[dict[str, Any]]) -> int:
        """Process the envelopes that continue the cursor's chain as one run, in one call of the
        handler, and any after a gap in them one at a time (each fetching what it misses);
        return how many were processed."""
        head: ChainHead = self.app.cursor(self.source)
        position, hash_ = head.position, head.hash
        run: list[dict[str, Any]] = []
        rest: list[dict[str, Any]] = []
        for index, envelope in enumerate(envelopes):
            self._hear(envelope)
            if self._seen(envelope, position, hash_):
                continue
            if envelope["prev_position"] != position:
                rest = envelopes[index:]
                break
            problems = chain_problems(envelope, position, hash_)
            if problems and self.verify_chain:
                raise ChainBroken(self.source, envelope["position"], problems)
            run.append(envelope)
            position, hash_ = envelope["position"], envelope.get("hash") or envelope_hash(envelope)
        if run:
            cursor = Cursor(self.source, position, hash_, head.position)
            self._call_handler(run, cursor)
            if self.app.cursor(self.source).position < position:
                self.app.save_processed(cursor=cursor)
        count = len(run)
        for envelope in rest:
            before = self.app.cursor(self.source).position
            self.receive(envelope)
            count += self.app.cursor(self.source).position > before
        return count

    def _process(self, envelope: dict[str, Any]) -> int:
        self._hear(envelope)  # fetched in a catch-up or a gap: heard of now
        head, stored = self._standing()
        if self._seen(envelope, head.position, head.hash):
            return 0
        if envelope["prev_position"] > head.position:
            # Not served yet, or not by the instance asked: the envelope waits for the ones
            # before it. Never recorded across the gap, not even by a subscriber that records
            # broken chains (the archive): what is skipped here would never come back.
            raise Unavailable(
                f"{self.source} position {envelope['position']} follows "
                f"{envelope['prev_position']}; this subscriber has processed up to "
                f"{head.position} and could not fetch what lies between")
        problems = chain_problems(envelope, head.position, head.hash)
        if problems and self.verify_chain:
            raise ChainBroken(self.source, envelope["position"], problems)
        cursor = Cursor(
            self.source,
            envelope["position"],
            envelope.get("hash") or envelope_hash(envelope),
            stored,
        )
        if self.acts_on is not None and envelope["type"] not in self.acts_on:
            self._pass_over(cursor)
            return 1
        self._call_handler([envelope] if self.batch else envelope, cursor)
        if self.app.cursor(self.source).position < envelope["position"]:
            self.app.save_processed(cursor=cursor)
        # Stored from where the cursor stood: past every envelope passed over before this one.
        self._passed = None
        return 1

    def _call_handler(self, envelopes: dict[str, Any] | list[dict[str, Any]],
                      cursor: Cursor) -> None:
        done: Event = Event()

        def handle_result(worker_ctx: Any, result: Any = None, exc_info: Any = None) -> Any:
            done.send((result, exc_info))
            return result, exc_info

        # A run's worker carries its last envelope's ids; a run's handler names each envelope
        # as the cause of what it makes of it (ArchiveApplication.record_envelopes).
        last = envelopes[-1] if isinstance(envelopes, list) else envelopes
        context_data = {
            "actor": {"id": SYSTEM.id, "role": SYSTEM.role},
            "correlation_id": last.get("correlation_id"),
            "causation_id": last.get("id"),
        }
        self.container.spawn_worker(
            self, (envelopes, cursor), {}, context_data=context_data, handle_result=handle_result
        )
        _, exc_info = done.wait()
        if exc_info is not None:
            raise exc_info[1]

    def _dead_letter(self, delivery: _Delivery, trace: str) -> None:
        envelope = delivery.envelope or {}
        with Connection(self.amqp_uri, transport_options={"confirm_publish": True}) as conn:
            producer = Producer(conn.channel())
            self.dead_letters(producer.channel).declare()
            producer.publish(
                delivery.envelope,
                exchange=self.dead_letters.exchange,
                routing_key=self.dead_letters.name,
                serializer="json",
                delivery_mode=2,
                headers={
                    "casebook_error": delivery.errors[-1] if delivery.errors else "",
                    "casebook_errors": delivery.errors,
                    "casebook_traceback": trace[-4000:],
                    "casebook_attempts": delivery.attempts,
                    "casebook_source": self.source,
                    "casebook_position": envelope.get("position"),
                    "casebook_dead_lettered_at": time.time(),
                },
            )
        self.queue_consumer.ack_message(delivery.message)
        log.error(
            "%s from %s: position %s dead-lettered after %s attempts",
            self.container.service_name,
            self.source,
            envelope.get("position"),
            delivery.attempts,
        )


subscribe = Subscription.decorator


def subscriptions_of(container: Any) -> list[Subscription]:
    """The container's subscriptions, by source."""
    found = [e for e in container.entrypoints if isinstance(e, Subscription)]
    return sorted(found, key=lambda subscription: subscription.source)


def dead_letters_waiting(subscriptions: list[Subscription]) -> dict[str, int]:
    """Deliveries waiting in each subscription's dead-letter queue, by source: what the
    service's status and its metrics report. Each queue is declared as the first dead letter
    declares it, rather than asked for passively: a queue not there yet would be an error in
    the broker's log at every look."""
    if not subscriptions:
        return {}
    with Connection(subscriptions[0].amqp_uri, connect_timeout=BROKER_TIMEOUT_SECONDS) as broker:
        channel = broker.channel()
        return {subscription.source: int(subscription.dead_letters(channel).queue_declare()[1])
                for subscription in subscriptions}


class DeadLetters(DependencyProvider):
    """For a worker: a way to count the dead letters waiting for each of the service's
    subscriptions (one broker round trip a queue, so only when asked)."""

    def get_dependency(self, worker_ctx: Any) -> Callable[[], dict[str, int]]:
        return lambda: dead_letters_waiting(subscriptions_of(self.container))


class HaltedSubscriptions(DependencyProvider):
    """For a worker: why each of the service's halted subscriptions halted, by source."""

    def get_dependency(self, worker_ctx: Any) -> dict[str, str]:
        return {subscription.source: subscription.halted
                for subscription in subscriptions_of(self.container)
                if subscription.halted is not None}
