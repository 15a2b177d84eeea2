"""The figures of services/runtime/metrics.py without a broker: lag, command outcomes counted per
greenthread and per container, and what the store collector and the service gauges expose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import eventlet
import pytest
from environs import EnvValidationError
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from contracts.errors import Conflict
from services import __version__
from services.runtime.clock import clock
from services.runtime.commands import note_replay
from services.runtime.context import SYSTEM, acting_as
from services.runtime.metrics import (
    EscalationGauges,
    LedgerGauges,
    Metrics,
    ServiceMetrics,
    _StoreCollector,
    relay_lag,
    subscription_lag,
)
from services.runtime.persistence import ChainHead, RelayState
from services.runtime.settings import ConfigurationError, settings
from services.supervision.escalation import escalation_key
from tests.support.broker import free_port
from tests.unit.supervision.support import (
    OPERATOR,
    CasesStream,
    new_app,
    seed_school,
    seed_worker,
)


def samples(registry: CollectorRegistry) -> dict[tuple[str, frozenset], float]:
    text = generate_latest(registry).decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.mark.parametrize(("stored", "read_through", "lag"), [
    (7, 4, 3),   # three stored events wait for the relay
    (7, 7, 0),   # all published
    (0, 0, 0),   # an empty store
])
def test_relay_lag_is_what_is_stored_and_not_yet_read_by_the_relay(stored, read_through, lag):
    assert relay_lag(stored, read_through) == lag


@pytest.mark.parametrize(("heard_of", "processed", "lag"), [
    (10, 7, 3),  # three heard of, waiting
    (10, 10, 0),
    (5, 8, 0),   # another instance processed more than this one heard of: no lag
    (0, 4, 0),   # heard of nothing since a restart whose catch-up found nothing new
])
def test_subscription_lag_is_what_was_heard_of_and_not_processed(heard_of, processed, lag):
    assert subscription_lag(heard_of, processed) == lag


def run_command(metrics: ServiceMetrics, name: str, failure: Exception | None = None,
                replayed: bool = False) -> None:
    try:
        with metrics.command(name):
            eventlet.sleep(0)  # let the other greenthreads interleave with this one
            if replayed:
                note_replay()
            eventlet.sleep(0)
            if failure is not None:
                raise failure
    except Exception as error:
        assert error is failure


def test_outcomes_are_counted_per_greenthread_and_per_container():
    cases, archive = ServiceMetrics("cases"), ServiceMetrics("archive")
    pool = eventlet.GreenPool()
    for _ in range(3):
        pool.spawn(run_command, cases, "open_case")
    pool.spawn(run_command, cases, "open_case", replayed=True)
    pool.spawn(run_command, cases, "open_case", Conflict("closed", code="wrong_state"))
    pool.spawn(run_command, cases, "open_case", Conflict("again", code="wrong_state"),
               replayed=True)
    pool.spawn(run_command, cases, "open_case", RuntimeError("the store went away"))
    pool.spawn(run_command, archive, "place_legal_hold")
    pool.waitall()

    def count(registry: CollectorRegistry, service: str, command: str, outcome: str,
              code: str = "") -> float | None:
        return samples(registry).get(("casebook_commands_total", frozenset(
            {"service": service, "command": command, "outcome": outcome, "code": code}.items())))

    assert count(cases.registry, "cases", "open_case", "carried_out") == 3
    assert count(cases.registry, "cases", "open_case", "replayed") == 1
    assert count(cases.registry, "cases", "open_case", "refused", "wrong_state") == 1
    # A replayed refusal is a replay, with the refusal's code.
    assert count(cases.registry, "cases", "open_case", "replayed", "wrong_state") == 1
    assert count(cases.registry, "cases", "open_case", "failed") == 1
    assert count(archive.registry, "archive", "place_legal_hold", "carried_out") == 1
    assert count(cases.registry, "archive", "place_legal_hold", "carried_out") is None
    latency = samples(cases.registry)[("casebook_command_duration_seconds_count", frozenset(
        {"service": "cases", "command": "open_case", "outcome": "carried_out"}.items()))]
    assert latency == 3


def test_each_process_says_which_build_it_runs(monkeypatch):
    monkeypatch.setenv("CASEBOOK_REVISION", "4f2c9e1")
    found = samples(ServiceMetrics("archive").registry)
    assert found[("casebook_build_info", frozenset(
        {"service": "archive", "version": __version__, "revision": "4f2c9e1"}.items()))] == 1


def test_a_replay_noted_outside_a_command_changes_nothing():
    note_replay()
    metrics = ServiceMetrics("cases")
    run_command(metrics, "open_case")
    assert samples(metrics.registry)[("casebook_commands_total", frozenset(
        {"service": "cases", "command": "open_case", "outcome": "carried_out",
         "code": ""}.items()))] == 1


class StoredState:
    """An application's store as the collector reads it."""

    def __init__(self, stored: int, read_through: int, published: int, shredded: int,
                 sent: int | None = None) -> None:
        self.stored = stored
        self.outbox = SimpleNamespace(
            relay_state=lambda: RelayState(read_through, ChainHead(published, "h"),
                                           published if sent is None else sent),
            shredded_key_count=lambda: shredded,
            cursors=lambda: {"cases": ChainHead(9, "a"), "supervision": ChainHead(4, "b")},
        )

    def max_position(self) -> int:
        return self.stored


def collected(app: object, *gauges: object) -> dict[tuple[str, frozenset], float]:
    provider = SimpleNamespace(application=lambda: app, subscriptions=lambda: [],
                               container=SimpleNamespace(service_name="cases"))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_StoreCollector(provider, list(gauges)))  # type: ignore[arg-type]
    return samples(registry)


def test_the_relay_figures_come_from_the_store_when_scraped():
    found = collected(StoredState(stored=7, read_through=4, published=4, shredded=2))
    service = frozenset({"service": "cases"}.items())
    assert found[("casebook_relay_stored_position", service)] == 7
    assert found[("casebook_relay_published_position", service)] == 4
    assert found[("casebook_relay_sent_position", service)] == 4
    assert found[("casebook_relay_lag", service)] == 3
    assert found[("casebook_vault_keys_destroyed", service)] == 2


def test_envelopes_stored_and_not_yet_confirmed_by_the_broker_count_as_lag():
    # Read through 7 and stored up to 6, but the broker confirmed only up to 3.
    found = collected(StoredState(stored=7, read_through=7, published=6, shredded=0, sent=3))
    service = frozenset({"service": "cases"}.items())
    assert found[("casebook_relay_sent_position", service)] == 3
    assert found[("casebook_relay_lag", service)] == 4


def test_a_part_that_cannot_be_read_is_left_out_not_reported_as_zero():
    class Broken(StoredState):
        def max_position(self) -> int:
            raise ConnectionError("PostgreSQL went away")

    found = collected(Broken(7, 4, 4, 0), EscalationGauges())
    assert not any(name.startswith("casebook_relay") for name, _ in found)
    assert not any(name == "casebook_vault_keys_destroyed" for name, _ in found)


def test_overdue_escalations_are_reported_for_every_level():
    app = StoredState(0, 0, 0, 0)
    app.overdue_escalations = lambda: {"high": 2}  # type: ignore[attr-defined]
    found = collected(app, EscalationGauges())

    def overdue(level: str) -> float:
        return found[("casebook_escalations_overdue",
                      frozenset({"service": "cases", "level": level}.items()))]

    assert overdue("high") == 2
    assert overdue("low") == overdue("medium") == overdue("critical") == 0


def test_the_ledger_figures_follow_the_newest_checkpoint_reading_only_what_is_new():
    signed_at = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    asked: list[int] = []

    def newest_checkpoint(after: int = 0):
        asked.append(after)
        return (12, signed_at, {"cases": 7}) if after < 12 else None

    app = StoredState(0, 0, 0, 0)
    app.newest_checkpoint = newest_checkpoint  # type: ignore[attr-defined]
    gauges = LedgerGauges()
    clock.set(signed_at + timedelta(minutes=90))
    collected(app, gauges)
    found = collected(app, gauges)
    assert asked == [0, 12]

    def at(name: str, **labels: str) -> float | None:
        return found.get((name, frozenset({"service": "cases", **labels}.items())))

    assert at("casebook_archive_ledger_position", source="cases") == 9
    assert at("casebook_archive_checkpoint_position", source="cases") == 7
    # A source the checkpoint does not pin yet counts from 0.
    assert at("casebook_archive_ledger_position", source="supervision") == 4
    assert at("casebook_archive_checkpoint_position", source="supervision") == 0
    assert at("casebook_archive_checkpoint_age_seconds") == 90 * 60


def test_no_checkpoint_age_before_the_first_checkpoint():
    app = StoredState(0, 0, 0, 0)
    app.newest_checkpoint = lambda after=0: None  # type: ignore[attr-defined]
    found = collected(app, LedgerGauges())
    assert not any(name == "casebook_archive_checkpoint_age_seconds" for name, _ in found)
    assert found[("casebook_archive_checkpoint_position",
                  frozenset({"service": "cases", "source": "cases"}.items()))] == 0


def test_overdue_escalations_are_those_unacknowledged_past_their_steps_time():
    opened = datetime(2026, 5, 4, 10, tzinfo=UTC)
    clock.set(opened)
    app = new_app()
    seed_school(app)
    seed_worker(app)
    stream = CasesStream(app)
    stream.open_case("case-1", opened.date())
    stream.risk("case-1", "risk-1", "suicide", "critical", life_safety=True)
    stream.risk("case-1", "risk-2", "bullying", "low")
    assert app.overdue_escalations() == {}
    # A week on, with no timer climbing them: both are overdue at their first step.
    clock.set(opened + timedelta(days=7))
    assert app.overdue_escalations() == {"critical": 1, "low": 1}
    # Climbed: the critical one past the top of its ladder (four hours in all) is still overdue;
    # the low one's second step (the supervisor's five days, from day 5) is not.
    with acting_as(SYSTEM):
        app.climb_overdue()
    assert app.overdue_escalations() == {"critical": 1}
    with acting_as(OPERATOR):
        app.acknowledge_escalation(str(escalation_key("risk-1", "critical")))
    assert app.overdue_escalations() == {}


def metrics_of(service: str) -> Metrics:
    provider = Metrics()
    provider.container = SimpleNamespace(  # type: ignore[assignment]
        service_name=service, spawn_managed_thread=eventlet.spawn)
    return provider


def test_an_address_already_taken_stops_the_service_saying_which_setting(monkeypatch):
    taken = eventlet.listen(("127.0.0.1", 0))
    address = f"127.0.0.1:{taken.getsockname()[1]}"
    monkeypatch.setenv("CASEBOOK_METRICS_ADDRESS", address)
    try:
        with pytest.raises(ConfigurationError,
                           match=f"CASEBOOK_METRICS_ADDRESS={address}: every address is taken"):
            metrics_of("cases").start()
    finally:
        taken.close()


def test_instances_given_several_addresses_each_take_the_first_free_one(monkeypatch):
    # Two replicas of a service on the host's network get one setting (compose.cluster.yaml).
    ports = [free_port(), free_port()]
    monkeypatch.setenv("CASEBOOK_METRICS_ADDRESS",
                       ",".join(f"127.0.0.1:{port}" for port in ports))
    first, second, third = metrics_of("cases"), metrics_of("cases"), metrics_of("cases")
    try:
        first.start()
        second.start()
        assert [first.address, second.address] == [f"127.0.0.1:{port}" for port in ports]
        with pytest.raises(ConfigurationError, match=r"every address is taken .*give one more"):
            third.start()
        first.stop()
        third.start()  # the first instance gone, its restart takes the address it left
        assert third.address == f"127.0.0.1:{ports[0]}"
    finally:
        for provider in (first, second, third):
            provider.stop()


def test_an_address_that_cannot_be_listened_at_is_not_passed_over(monkeypatch):
    # Only a taken address makes way for the next: one not on this host is a mistake to fix.
    monkeypatch.setenv("CASEBOOK_METRICS_ADDRESS", f"192.0.2.1:9101,127.0.0.1:{free_port()}")
    provider = metrics_of("cases")
    with pytest.raises(ConfigurationError, match=r"cannot listen at 192\.0\.2\.1:9101"):
        provider.start()
    assert provider.address is None


@pytest.mark.parametrize("value", ["9101", "127.0.0.1:9101,", "127.0.0.1:9101, 127.0.0.1:9111",
                                   "127.0.0.1:metrics"])
def test_a_malformed_metrics_address_is_refused_naming_the_rule(monkeypatch, value):
    monkeypatch.setenv("CASEBOOK_METRICS_ADDRESS", value)
    with pytest.raises(EnvValidationError, match=r"CASEBOOK_METRICS_ADDRESS.*Must be host:port"):
        settings()
