"""The event pipe from cases to the archive ledger, in one process, on a real broker."""

from services.archive.service import ArchiveService
from services.cases.service import CasesService
from tests.support.scenarios import drive_case, events_per_case
from tests.support.services import AUDITOR, WORKER, rpc, running
from tests.support.waiting import wait_for


def ledger_position(proxy):
    return proxy.archive.ledger_head("cases")["position"]


def test_every_case_event_reaches_the_ledger_once_in_order_and_verifies(amqp_uri):
    with running(amqp_uri, CasesService, ArchiveService):
        # A worker drives three cases.
        with rpc(amqp_uri, WORKER) as proxy:
            for number in range(3):
                drive_case(proxy, f"client-{number}")
            published = proxy.cases.status()["stored_position"]
        # The auditor sees every event in the ledger, and the chain verifies against the store.
        with rpc(amqp_uri, AUDITOR) as proxy:
            wait_for(lambda: ledger_position(proxy) == published, what="ledger to catch up")
            report = proxy.archive.verify_ledger()
            assert report["ok"], report
            assert report["sources"]["cases"]["entries"] == 3 * events_per_case()
            assert report["sources"]["cases"]["store_checked"] is True
