"""Prometheus metrics an operator scrapes: docs/operators.md "Metrics" lists each one.

Every service process serves its own `/metrics` where `CASEBOOK_METRICS_ADDRESS` says (no
listener when it is unset). A service class declares `metrics = Metrics()` (PublishingService
does); the figures are of two kinds:

- What this process saw happen (commands by name and outcome, their latency): counted in a
  registry of the container's own, never a global one, so that two containers in one process
  (as the tests run them) or a restarted container count only their own. Instances of a service
  each count theirs: sum them across instances.
- What the store holds (relay, cursors, ledger, destroyed keys, overdue escalations): read when
  scraped, so a figure is never stale and survives restarts. Every instance of a service reads
  the same store and reports the same figure: aggregate them with `max`, never `sum`.

Everything here runs on eventlet like the rest of the service: the listener is an eventlet WSGI
server in a managed greenthread, and a scrape reads the store as an RPC worker would.
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol

import eventlet
import eventlet.wsgi
from nameko.extensions import DependencyProvider
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    make_wsgi_app,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from contracts.errors import CasebookError
from contracts.events.cases import RISK_LEVELS
from services import __version__
from services.runtime.clock import clock
from services.runtime.commands import Observation, observation
from services.runtime.settings import ConfigurationError, settings

log = logging.getLogger(__name__)

CARRIED_OUT, REFUSED, FAILED, REPLAYED = "carried_out", "refused", "failed", "replayed"
# From a replayed outcome read back (milliseconds) to a command that waits on PostgreSQL and
# the broker; the gateway's deadline (CASEBOOK_GATEWAY_RPC_TIMEOUT) is 30 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def relay_lag(stored: int, read_through: int) -> int:
    """Events stored and not yet published: the store's last notification id less the one up
    to which everything is on the broker (never below 0: the relay reads only what was
    stored)."""
    return max(0, stored - read_through)


def subscription_lag(heard_of: int, processed: int) -> int:
    """Events of a source this instance has heard of (deliveries, catch-up) and not processed.
    Another instance may have processed more than this one heard of: that is no lag."""
    return max(0, heard_of - processed)


class ServiceMetrics:
    """One container's registry: what a service's workers record, and the HTTP answer."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=False)
        self.commands = Counter(
            "casebook_commands", "Commands by name and outcome (carried_out, refused with its "
            "code, failed, replayed: a duplicate command id answered with its stored outcome).",
            ["service", "command", "outcome", "code"], registry=self.registry)
        self.latency = Histogram(
            "casebook_command_duration_seconds",
            "Time from a command's arrival at its worker to its answer.",
            ["service", "command", "outcome"], buckets=LATENCY_BUCKETS, registry=self.registry)
        Info("casebook_build", "Casebook's version and the commit this process was built "
             "from: which build runs where while an upgrade moves one service at a time.",
             ["service"], registry=self.registry).labels(service).info(
            {"version": __version__, "revision": settings().runtime.revision})
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.answer = make_wsgi_app(self.registry)

    @contextmanager
    def command(self, name: str) -> Iterator[None]:
        """Count and time one command: the roles check, the payload, the run and the answer."""
        seen = Observation()
        token = observation.set(seen)
        started = time.perf_counter()
        outcome, code = FAILED, ""
        try:
            yield
            outcome = CARRIED_OUT
        except CasebookError as refusal:
            outcome, code = REFUSED, refusal.code
            raise
        finally:
            observation.reset(token)
            if seen.replayed:
                outcome = REPLAYED  # a replayed refusal keeps its code
            self.latency.labels(self.service, name, outcome).observe(
                time.perf_counter() - started)
            self.commands.labels(self.service, name, outcome, code).inc()


@contextmanager
def observed(service: Any, kind: str, name: str) -> Iterator[None]:
    """What `@command` runs a command in: counted and timed when the service has metrics
    (queries are not commands: they are neither counted nor timed)."""
    metrics = getattr(service, "metrics", None)
    if kind != "command" or not isinstance(metrics, ServiceMetrics):
        yield
        return
    with metrics.command(name):
        yield


def _listen(addresses: tuple[str, ...]) -> Any:
    """A socket listening at the first of `addresses` no other process holds: instances of one
    service on one host (two replicas on the host's network) each take an address of their
    own from one setting, whichever starts first."""
    taken = []
    for address in addresses:
        host, port = address.rsplit(":", 1)
        try:
            # Without SO_REUSEPORT, which eventlet sets by default: with it a second instance
            # listened at the same address as the first, and the kernel handed each scrape to
            # one or the other, so one target's counters jumped between two processes.
            return eventlet.listen((host, int(port)), reuse_port=False)
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise ConfigurationError(
                    f"CASEBOOK_METRICS_ADDRESS={','.join(addresses)}: cannot listen at "
                    f"{address} ({error.strerror}).") from error
            taken.append(address)
    raise ConfigurationError(
        f"CASEBOOK_METRICS_ADDRESS={','.join(addresses)}: every address is taken "
        f"({', '.join(taken)}); each instance of a service needs an address of its own: "
        "give one more, separated by a comma.")


class StoreGauges(Protocol):
    """Figures a service adds from its own state, read at each scrape."""

    def __call__(self, service: str, app: Any) -> Iterable[Metric]: ...


class Metrics(DependencyProvider):
    """The container's `ServiceMetrics` for its workers, the store's figures at each scrape (the
    relay, the subscriptions, and what `gauges`, classes made once per container, add), and the
    `/metrics` listener when `CASEBOOK_METRICS_ADDRESS` is set."""

    def __init__(self, *gauges: type[StoreGauges]) -> None:
        self.gauges = gauges
        self.address: str | None = None
        self._socket: Any = None
        self._server: Any = None

    def setup(self) -> None:
        self.metrics = ServiceMetrics(self.container.service_name)
        self.metrics.registry.register(_StoreCollector(self, [make() for make in self.gauges]))

    def start(self) -> None:
        addresses = settings().runtime.metrics_addresses
        if not addresses:
            return
        self._socket = _listen(addresses)
        bound = self._socket.getsockname()
        self.address = f"{bound[0]}:{bound[1]}"
        self._server = self.container.spawn_managed_thread(self._serve)
        log.info("%s: metrics at http://%s/metrics", self.container.service_name, self.address)

    def _serve(self) -> None:
        eventlet.wsgi.server(self._socket, self._answer, log=log, log_output=False)

    def _answer(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Metrics are at /metrics.\n"]
        return self.metrics.answer(environ, start_response)

    def stop(self) -> None:
        if self._server is not None:
            self._server.kill()
            self._socket.close()
            self._server = None

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> ServiceMetrics:
        return self.metrics

    def application(self) -> Any:
        # Imported when scraped: the command runtime imports this module, and the service and
        # subscription modules import the command runtime.
        from services.runtime.service import ApplicationDependency

        for dependency in self.container.dependencies:
            if isinstance(dependency, ApplicationDependency):
                return dependency.app
        return None

    def subscriptions(self) -> list[Any]:
        from services.runtime.subscription import subscriptions_of

        return subscriptions_of(self.container)


class _StoreCollector:
    """Reads the store (and the broker's dead-letter queues) when scraped. A part that cannot be
    read is left out and logged: an absent figure, never a wrong one."""

    def __init__(self, provider: Metrics, gauges: list[StoreGauges]) -> None:
        self.provider = provider
        self.gauges = gauges

    def collect(self) -> Iterator[Metric]:
        app = self.provider.application()
        if app is None:
            return
        service = self.provider.container.service_name
        parts: list[tuple[str, Callable[[], Iterable[Metric]]]] = [
            ("relay", lambda: _relay(service, app)),
            ("subscriptions", lambda: _subscriptions(service, app, self.provider.subscriptions())),
            *((type(gauges).__name__, lambda g=gauges: g(service, app)) for gauges in self.gauges),
        ]
        for part, read in parts:
            try:
                families = list(read())
            except Exception:
                log.exception("%s: the %s metrics could not be read", service, part)
                continue
            yield from families


def _gauge(name: str, documentation: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=labels)


def _per_source(name: str, documentation: str) -> GaugeMetricFamily:
    return _gauge(name, documentation, ["service", "source"])


def _relay(service: str, app: Any) -> Iterator[Metric]:
    stored, relay = app.max_position(), app.outbox.relay_state()
    values = {
        "casebook_relay_stored_position": (
            "The last notification id of the service's event store.", stored),
        "casebook_relay_published_position": (
            "The position of the last envelope the relay made and stored, what events_since "
            "serves (subscribers' cursors count in these).", relay.published.position),
        "casebook_relay_sent_position": (
            "The position of the last stored envelope the broker confirmed.", relay.sent),
        "casebook_relay_lag": (
            "Events stored and not yet on the broker.",
            relay_lag(stored, relay.on_the_broker)),
        "casebook_vault_keys_destroyed": (
            "Data subjects whose key was destroyed (crypto-shredding on disposal, 9.4e).",
            app.outbox.shredded_key_count()),
    }
    for name, (documentation, value) in values.items():
        family = _gauge(name, documentation, ["service"])
        family.add_metric([service], value)
        yield family


def _subscriptions(service: str, app: Any, subscriptions: list[Any]) -> Iterator[Metric]:
    if not subscriptions:
        return
    position = _per_source(
        "casebook_subscription_position",
        "The last position of the source the subscriber processed (its cursor).")
    lag = _per_source(
        "casebook_subscription_lag",
        "Events of the source this instance has heard of and the subscriber has not processed.")
    halted = _per_source(
        "casebook_subscription_halted",
        "1 when the subscription halted because its source no longer holds what it processed "
        "last (docs/operators.md, \"A subscription halted\"), else 0.")
    for subscription in subscriptions:
        processed = subscription.head().position
        position.add_metric([service, subscription.source], processed)
        lag.add_metric([service, subscription.source],
                       subscription_lag(subscription.heard_of, processed))
        halted.add_metric([service, subscription.source], int(subscription.halted is not None))
    yield position
    yield lag
    yield halted
    from services.runtime.subscription import dead_letters_waiting  # as in `subscriptions`

    dead = _per_source("casebook_subscription_dead_letters",
                       "Deliveries waiting in the subscription's dead-letter queue.")
    for source, waiting in dead_letters_waiting(subscriptions).items():
        dead.add_metric([service, source], waiting)
    yield dead


class LedgerGauges:
    """The archive's ledger: its position per source and its last signed checkpoint."""

    def __init__(self) -> None:
        # The newest checkpoint seen (notification id, signed at, positions it pins), so that
        # each scrape reads only the checkpoints stored since.
        self._newest: tuple[int, datetime, dict[str, int]] | None = None

    def __call__(self, service: str, app: Any) -> Iterator[Metric]:
        newer = app.newest_checkpoint(after=self._newest[0] if self._newest else 0)
        if newer is not None:
            self._newest = newer
        heads = app.outbox.cursors()
        pinned = self._newest[2] if self._newest else {}
        ledger = _per_source("casebook_archive_ledger_position",
                             "The last position of the source recorded in the ledger.")
        checkpoint = _per_source(
            "casebook_archive_checkpoint_position",
            "The position of the source the last signed checkpoint pins (0 before one does).")
        for source in sorted(heads.keys() | pinned.keys()):
            ledger.add_metric([service, source], heads[source].position if source in heads else 0)
            checkpoint.add_metric([service, source], pinned.get(source, 0))
        yield ledger
        yield checkpoint
        if self._newest is not None:
            age = _gauge("casebook_archive_checkpoint_age_seconds",
                         "Seconds since the last checkpoint was signed (absent before the "
                         "first).", ["service"])
            age.add_metric([service], (clock.now() - self._newest[1]).total_seconds())
            yield age


class EscalationGauges:
    """Supervision's risk escalations (9.6b) that nobody acknowledged within their step's time."""

    def __call__(self, service: str, app: Any) -> Iterator[Metric]:
        overdue = app.overdue_escalations()
        family = _gauge("casebook_escalations_overdue",
                        "Open escalations unacknowledged past their current step's time limit "
                        "(9.6b), by risk level.", ["service", "level"])
        for level in RISK_LEVELS:
            family.add_metric([service, level], overdue.get(level, 0))
        yield family
