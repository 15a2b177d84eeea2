"""The full tour (tests/support/tour.py) with every service running: every type of event every
service stores occurs, and every stored event is on the audit trail (issue 13): the archive's
ledger holds one entry per stored event of each source, and every chain verifies."""

from __future__ import annotations

from collections import Counter

import pytest

from services.archive.publish import PUBLICATIONS as ARCHIVE
from services.archive.service import ArchiveService
from services.cases.publish import PUBLICATIONS as CASES
from services.cases.service import CasesService
from services.resources.publish import PUBLICATIONS as RESOURCES
from services.resources.service import ResourcesService
from services.runtime.clock import clock
from services.runtime.service import ApplicationDependency
from services.supervision.publish import PUBLICATIONS as SUPERVISION
from services.supervision.service import SupervisionService
from tests.support.services import running
from tests.support.tour import full_tour
from tests.support.views import domain_event_classes

PUBLICATIONS = {"cases": CASES, "resources": RESOURCES, "supervision": SUPERVISION,
                "archive": ARCHIVE}
SERVICES = (CasesService, ResourcesService, SupervisionService, ArchiveService)
# Raised only when a chain is broken, which a healthy run never does: the ledger's own tests
# (tests/unit/archive/test_ledger.py) break one to raise it.
ONLY_ON_TAMPERING = {"ChainAlarm.Raised"}


@pytest.fixture
def toured(amqp_uri, monkeypatch, tmp_path):
    monkeypatch.setenv("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", "20")
    monkeypatch.setenv("CASEBOOK_SUPERVISION_TIMER_SECONDS", "1")
    try:
        with running(amqp_uri, *SERVICES) as runner:
            made = full_tour(amqp_uri)
            yield {"uri": amqp_uri, "runner": runner, "made": made}
    finally:
        clock.reset()


def stored_types(runner, source: str) -> Counter[str]:
    container = next(c for c in runner.containers if c.service_name == source)
    app = next(d for d in container.dependencies if isinstance(d, ApplicationDependency)).app
    types: Counter[str] = Counter()
    position = 0
    while notifications := app.notifications_after(position, 1000):
        for notification in notifications:
            types[notification.topic.rpartition(":")[2]] += 1
        position = notifications[-1].id
    return types


def test_the_tour_stores_every_type_of_event_of_every_service(toured):
    missing = {}
    for source, publications in PUBLICATIONS.items():
        stored = stored_types(toured["runner"], source)
        expected = {cls.__qualname__ for cls in domain_event_classes(f"services.{source}")
                    if not publications.is_retired(cls)} - ONLY_ON_TAMPERING
        missing[source] = sorted(expected - set(stored))
    assert missing == {source: [] for source in PUBLICATIONS}
