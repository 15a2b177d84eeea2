"""The resources application on an in-memory store, on a fixed day, with a cases feed."""

from datetime import UTC, datetime

import pytest

from services.resources.app import ResourcesApplication
from services.runtime.clock import clock
from tests.unit.resources.support import CasesFeed


@pytest.fixture
def app() -> ResourcesApplication:
    clock.set(datetime(2026, 9, 15, 9, 0, tzinfo=UTC))
    return ResourcesApplication(env={"SQLITE_DBNAME": ":memory:"})


@pytest.fixture
def cases(app: ResourcesApplication) -> CasesFeed:
    return CasesFeed(app)
