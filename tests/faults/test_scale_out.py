"""Two instances of the archive share one store and one queue for each source: the broker
delivers a source's stream to one of them (the queue's single active consumer) and hands it to
the other when that one stops; each event is applied once, in order, either way (the cursor's
compare-and-set decides where both process a position, DESIGN.md "Delivery" 5)."""

from collections import Counter
from typing import Any

from nameko.runners import ServiceRunner

from services.archive.app import ArchiveApplication
from services.archive.service import ArchiveService
from services.cases.service import CasesService
from services.runtime.persistence import Cursor
from services.runtime.service import ApplicationDependency
from services.runtime.subscription import Subscription
from tests.support.scenarios import drive_case, events_per_case
from tests.support.services import AUDITOR, WORKER, config, ledgered, rpc, running
from tests.support.waiting import wait_for


def archive_instance(amqp_uri: str) -> ServiceRunner:
    runner = ServiceRunner(config(amqp_uri))
    runner.add_service(ArchiveService)
    runner.start()
    return runner


def app_of(runner: ServiceRunner) -> ArchiveApplication:
    (container,) = runner.containers
    (dependency,) = [dependency for dependency in container.dependencies
                     if isinstance(dependency, ApplicationDependency)]
    return dependency.app


def test_one_archive_instance_consumes_and_the_other_takes_over(amqp_uri, monkeypatch):
    # What each instance's application recorded of cases' envelopes, by instance.
    recorded: Counter[int] = Counter()
    record = ArchiveApplication.record_envelopes

    def counted(app: ArchiveApplication, envelopes: list[dict[str, Any]],
                cursor: Cursor) -> Any:
        done = record(app, envelopes, cursor)
        if cursor.source == "cases":
            recorded[id(app)] += len(envelopes)
        return done

    # The instances whose start-up catch-up of cases has finished, by application.
    caught_up: set[int] = set()
    catch_up = Subscription.catch_up

    def noted(subscription: Subscription) -> int:
        count = catch_up(subscription)
        if subscription.source == "cases":
            caught_up.add(id(subscription.app))
        return count

    monkeypatch.setattr(ArchiveApplication, "record_envelopes", counted)
    monkeypatch.setattr(Subscription, "catch_up", noted)
    with running(amqp_uri, CasesService):
        first = archive_instance(amqp_uri)
        second = archive_instance(amqp_uri)
        instances = {id(app_of(first)): first, id(app_of(second)): second}
        try:
            # Both have caught up with cases (nothing yet) before any case is driven: the
            # standby's start-up catch-up, were it still to come, would record what it found
            # (the cursor's compare-and-set keeping that once), and only live deliveries go to
            # one consumer. On a busy machine it came late enough to find events.
            wait_for(lambda: caught_up == set(instances), timeout=60,
                     what="both archive instances to catch up with cases")

            def drive_and_wait(cases: range) -> None:
                with rpc(amqp_uri, WORKER) as proxy:
                    for number in cases:
                        drive_case(proxy, f"client-{number}")
                with rpc(amqp_uri, AUDITOR) as proxy:
                    head = proxy.cases.status()["published_position"]
                    wait_for(lambda: ledgered(proxy, "cases") == head,
                             timeout=60, what="the archive to record every event of cases")

            drive_and_wait(range(6))
            # One instance consumed the whole stream; the other stood by.
            assert len(recorded) == 1, f"both instances recorded envelopes: {recorded}"
            ((active, taken),) = recorded.items()
            assert taken == 6 * events_per_case()

            instances.pop(active).stop()
            drive_and_wait(range(6, 10))
            (standby,) = instances
            assert recorded == {active: 6 * events_per_case(),
                                standby: 4 * events_per_case()}

            with rpc(amqp_uri, AUDITOR) as proxy:
                report = proxy.archive.verify_ledger()
        finally:
            first.stop()
            second.stop()
    assert report["ok"], report["sources"]["cases"]["problems"][:5]
    assert report["sources"]["cases"]["entries"] == 10 * events_per_case()
