"""`casebook verify` on an untouched system is silent, however many of a source's stored events
lie between two published ones (the repro of a false alarm: more resource requests before the
first provider than a page of the notification log holds)."""

import pytest
from rich.progress import Progress

from services.resources.service import ResourcesService
from services.runtime.cli.audit import verify_source
from services.runtime.publishing import RECOMPUTE_PAGE
from tests.integration.resources.fake_cases import FakeCasesService
from tests.integration.resources.test_resources_rpc import seed_register
from tests.support.services import AUDITOR, SUPERVISOR, WORKER, rpc, running
from tests.support.waiting import wait_for

pytestmark = pytest.mark.faults

REQUESTS = RECOMPUTE_PAGE + 100


def test_verify_is_silent_after_more_stored_events_than_a_page_between_published_ones(amqp_uri):
    with running(amqp_uri, FakeCasesService, ResourcesService):
        with rpc(amqp_uri, WORKER) as worker:
            for _ in range(REQUESTS):
                worker.cases.request_resource()
        with rpc(amqp_uri, AUDITOR) as auditor:
            wait_for(lambda: auditor.resources.status()["cursors"]["cases"]["position"]
                     == auditor.cases.status()["published_position"], timeout=180,
                     what="resources to take every request")
        # Then the first provider and resource: published after the long run of requests.
        with rpc(amqp_uri, SUPERVISOR) as supervisor:
            seed_register(supervisor)
        with rpc(amqp_uri, AUDITOR) as auditor:
            status = auditor.resources.status()
            wait_for(lambda: auditor.resources.status()["published_position"]
                     == auditor.resources.status()["stored_position"], timeout=60,
                     what="the resources relay to publish")
            assert status["stored_position"] > REQUESTS  # the long run is in the store
            with Progress(disable=True) as progress:
                problems = verify_source(auditor, "resources", progress)
    assert problems == []
