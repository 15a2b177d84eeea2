"""A subscription that acts on some event types only (`@subscribe(..., acts_on=...)`): the
others never reach its handler and cost no transaction each; the position past them is stored
with the next envelope acted on, when the pump has been idle for PASS_OVER_SECONDS, or when the
service stops. A crash loses only moves past envelopes nothing was done for: they are fetched
and passed over again, and nothing is handled twice."""

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
    with rpc(amqp_uri, AUDITOR) as proxy:
        envelopes = proxy.cases.events_since(0, 1000)
    closed = [envelope["position"] for envelope in envelopes if envelope["type"] == "CaseClosed"]
    return closed, envelopes[-1]["position"]


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
            # One transaction per envelope acted on, which also stored the moves before it.
            assert PassingApplication.stored == closed
            assert passing.app.cursor("cases").position == closed[-1] < last
        # Stopping stores the position past the envelopes passed over since.
        assert _stored_position() == last
    assert PassingApplication.stored == [*closed, last]
    assert last > 2 * len(closed)


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
