"""Fixtures for every layer of tests. eventlet must patch before anything imports sockets."""

import warnings

# eventlet announces its own deprecation on import; nameko 2.14 needs it, nothing to act on.
warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import weakref  # noqa: E402

import pytest  # noqa: E402

from services.runtime.clock import clock  # noqa: E402
from services.runtime.store import CasebookApplication  # noqa: E402
from tests.support.broker import Broker  # noqa: E402
from tests.support.stores import STORE_KINDS, store_overrides  # noqa: E402


@pytest.fixture(autouse=True)
def _real_clock():
    """Each test starts on real time; tests that need another time set it."""
    clock.reset()
    yield
    clock.reset()


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch):
    """No test writes into the checkout's ./var."""
    monkeypatch.setenv("CASEBOOK_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("POSTGRES_DBNAME", raising=False)
    monkeypatch.delenv("CIPHER_KEY", raising=False)
    # Worker eligibility (6.2.1.2, 9.1a) needs supervision's events; tests of that rule turn it on.
    monkeypatch.setenv("CASEBOOK_REQUIRE_ELIGIBLE_WORKERS", "false")


@pytest.fixture(autouse=True)
def _postgres_applications_closed(monkeypatch):
    """Every application on PostgreSQL a test opens is closed when the test ends. Left to the
    garbage collector, each held its pool's connections until a collection came, and a whole
    run once reached the server's limit (a test then waited 30 s for a connection and failed);
    the collector also closed them from a finalizer inside eventlet's hub."""
    opened: weakref.WeakSet[CasebookApplication] = weakref.WeakSet()
    initialise = CasebookApplication.__init__

    def tracked(self, *args, **kwargs):
        initialise(self, *args, **kwargs)
        if self.store_env.get("POSTGRES_DBNAME"):
            opened.add(self)

    monkeypatch.setattr(CasebookApplication, "__init__", tracked)
    yield
    for app in list(opened):
        app.close()


@pytest.fixture(params=STORE_KINDS)
def store(request, tmp_path):
    """Environment overrides for an application's store: SQLite file, then PostgreSQL schema.
    Tests taking this fixture are the one abstract test case run on both backends."""
    with store_overrides(request.param, tmp_path) as overrides:
        yield overrides


@pytest.fixture(scope="session")
def broker():
    shared = Broker.ensure_running()
    yield shared
    shared.close()


@pytest.fixture
def amqp_uri(broker):
    """A fresh RabbitMQ vhost per test: no queue or exchange leaks between tests."""
    with broker.vhost() as uri:
        yield uri
