"""A subscription that acts on some event types only (`@subscribe(..., acts_on=...)`): the
others never reach its handler and cost no transaction each; the position past them is stored
with the next envelope acted on, when the consumer holds as many deliveries as the broker sends
it at a time, at the latest PASS_OVER_SECONDS after the first, or when the service stops, and
only then are their deliveries acknowledged. A crash loses only moves past envelopes nothing
was done for: they come again, are passed over again, and nothing is handled twice."""

from __future__ import annotations

from typing import Any, ClassVar

import eventlet
from nameko.runners import ServiceRunner

from services.cases.service import CasesService
from services.runtime import subscription
from services.runtime.persistence import Cursor
from services.runtime.service import ApplicationDependency, CommandContext
from services.runtime.store import CasebookApplication
from services.runtime.subscription import Subscription, subscribe
from tests.support.scenarios import drive_case
from tests.support.services import AUDITOR, WORKER, config, rpc, running
from tests.support.waiting import wait_for

PREFETCH = config("")["max_workers"]  # what the broker sends a consumer before it acknowledges


class PassingApplication(CasebookApplication):
    service = "passing"
    # The position of every cursor stored: each is one transaction.
    stored: ClassVar[list[int]] = []

    def save_processed(self, *changes: Any, cursor: Cursor, learn: Any = None) -> None:
        PassingApplication.stored.append(cursor.position)
        super().save_processed(*changes, cursor=cursor, learn=learn)


class PassingSubscriber:
    """Acts on closed cases only, and stores nothing itself: the pump stores the cursor."""

    name = "passing"
    app = ApplicationDependency(PassingApplication)
    context = CommandContext()
    handled: ClassVar[list[int]] = []

    @subscribe("cases", acts_on=("CaseClosed",))
    def on_cases_event(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        PassingSubscriber.handled.append(envelope["position"])


def _reset() -> None:
    PassingApplication.stored.clear()
    PassingSubscriber.handled.clear()


def _subscription(runner: ServiceRunner) -> Subscription:
    [container] = runner.containers
    [found] = [entrypoint for entrypoint in container.entrypoints
               if isinstance(entrypoint, Subscription)]
    return found


def _two_cases(amqp_uri: str) -> tuple[list[int], int]:
    """One case closed, then one left open: the positions of CaseClosed, and the last one."""
    with rpc(amqp_uri, WORKER) as proxy:
        drive_case(proxy, "closed")
        drive_case(proxy, "open", close=False)
    _all_sent(amqp_uri)
    with rpc(amqp_uri, AUDITOR) as proxy:
        envelopes = proxy.cases.events_since(0, 1000)
    closed = [envelope["position"] for envelope in envelopes if envelope["type"] == "CaseClosed"]
    return closed, envelopes[-1]["position"]


def _all_sent(amqp_uri: str) -> int:
    """The last position of cases, once the relay has sent every event stored."""
    with rpc(amqp_uri, AUDITOR) as proxy:
        state = wait_for(lambda: (status := proxy.cases.status())["sent_position"]
                         == status["stored_position"] and status, what="every event sent")
    return int(state["sent_position"])


def _stored_position() -> int:
    app = PassingApplication()
    try:
        return int(app.cursor("cases").position)
    finally:
        app.close()


def test_only_the_types_acted_on_reach_the_handler_and_no_other_costs_a_transaction(
        amqp_uri, monkeypatch):
    monkeypatch.setattr(subscription, "PASS_OVER_SECONDS", 600)  # never idle long enough here
    _reset()
    with running(amqp_uri, CasesService):
        with running(amqp_uri, PassingSubscriber) as runner:
            closed, last = _two_cases(amqp_uri)
            passing = _subscription(runner)
            wait_for(lambda: passing.head().position == last, what="every envelope seen")
            assert PassingSubscriber.handled == closed
            # A transaction per envelope acted on, which also stores the moves before it, and
            # one whenever the consumer holds as many deliveries as the broker sends at a time.
            stored = PassingApplication.stored
            assert set(closed) <= set(stored) and stored == sorted(stored)
            assert len(stored) <= len(closed) + last // PREFETCH < last
            assert passing.app.cursor("cases").position == stored[-1] < last
        # Stopping stores the position past the envelopes passed over since.
        assert _stored_position() == last
    assert PassingApplication.stored[-1] == last


def test_an_idle_subscription_stores_its_position_past_what_it_passed_over(amqp_uri):
    _reset()
    with running(amqp_uri, CasesService), running(amqp_uri, PassingSubscriber) as runner:
        closed, last = _two_cases(amqp_uri)
        passing = _subscription(runner)
        wait_for(lambda: passing.app.cursor("cases").position == last, timeout=30,
                 what="the position stored while the service runs")
        assert PassingSubscriber.handled == closed


def test_a_subscriber_killed_before_storing_passes_over_them_again_and_handles_nothing_twice(
        amqp_uri, monkeypatch):
    monkeypatch.setattr(subscription, "PASS_OVER_SECONDS", 600)
    _reset()
    with running(amqp_uri, CasesService):
        runner = ServiceRunner(config(amqp_uri))
        runner.add_service(PassingSubscriber)
        runner.start()
        closed, last = _two_cases(amqp_uri)
        wait_for(lambda: _subscription(runner).head().position == last,
                 what="every envelope seen")
        runner.kill()
        assert _stored_position() == closed[-1]
        with running(amqp_uri, PassingSubscriber) as restarted:
            # The catch-up on start fetches what lies past the stored cursor.
            wait_for(lambda: _subscription(restarted).head().position == last,
                     what="the envelopes passed over again")
            eventlet.sleep(0.5)  # anything handled twice would show now
        assert _stored_position() == last
    assert PassingSubscriber.handled == closed


def test_an_instance_killed_holding_deliveries_leaves_them_to_the_other_one(
        amqp_uri, monkeypatch):
    """Two instances share the queue. The one that holds the last delivery, passed over and not
    stored, dies: the broker delivers it to the other, which stores the position past it
    without any restart (acknowledged before it was stored, it would be lost to both)."""
    monkeypatch.setattr(subscription, "PASS_OVER_SECONDS", 600)
    _reset()
    with running(amqp_uri, CasesService):
        runners = [ServiceRunner(config(amqp_uri)) for _ in range(2)]
        for runner in runners:
            runner.add_service(PassingSubscriber)
            runner.start()
        # Fewer envelopes than either instance may hold: none is stored before the kill.
        with rpc(amqp_uri, WORKER) as proxy:
            drive_case(proxy, "open", close=False)
        last = _all_sent(amqp_uri)
        assert last < PREFETCH

        def holding_the_last() -> list[ServiceRunner]:
            return [runner for runner in runners
                    if last in [position for position, _ in _subscription(runner)._held]]

        [doomed] = wait_for(holding_the_last, what="the last delivery held")
        [survivor] = [runner for runner in runners if runner is not doomed]
        doomed.kill()
        wait_for(lambda: _subscription(survivor).head().position == last,
                 what="the dead instance's deliveries passed over by the other")
        survivor.stop()
        assert _stored_position() == last
    assert PassingSubscriber.handled == []
