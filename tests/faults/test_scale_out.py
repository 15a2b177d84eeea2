"""Two instances of the archive consume one queue and share one store: each event is still
applied once, in order (the cursor's compare-and-set decides, DESIGN.md "Delivery" 5)."""

from nameko.runners import ServiceRunner

from services.archive.service import ArchiveService
from services.cases.service import CasesService
from tests.support.scenarios import drive_case, events_per_case
from tests.support.services import AUDITOR, WORKER, config, rpc, running
from tests.support.waiting import wait_for


def test_two_archive_instances_apply_every_event_once(amqp_uri):
    second = ServiceRunner(config(amqp_uri))
    second.add_service(ArchiveService)
    with running(amqp_uri, CasesService, ArchiveService):
        second.start()
        try:
            with rpc(amqp_uri, WORKER) as proxy:
                for number in range(10):
                    drive_case(proxy, f"client-{number}")
            with rpc(amqp_uri, AUDITOR) as proxy:
                head = proxy.cases.status()["published_position"]
                wait_for(lambda: proxy.archive.ledger_head("cases")["position"] == head,
                         timeout=60)
                report = proxy.archive.verify_ledger()
        finally:
            second.stop()
    assert report["ok"], report["sources"]["cases"]["problems"][:5]
    assert report["sources"]["cases"]["entries"] == 10 * events_per_case()
