"""The event pipe from cases to the archive ledger, in one process, on a real broker."""

import pytest

from contracts.errors import InvalidInput
from services.archive.service import ArchiveService
from services.cases.service import CasesService
from tests.support.scenarios import drive_case, events_per_case, register_student
from tests.support.services import AUDITOR, WORKER, ledgered, rpc, running
from tests.support.waiting import wait_for


def ledger_position(proxy):
    return ledgered(proxy, "cases")


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


def test_bad_input_to_open_case_is_refused_naming_field_and_rule_and_stores_nothing(amqp_uri):
    with running(amqp_uri, CasesService), rpc(amqp_uri, WORKER) as proxy:
        register_student(proxy, "client-1")
        stored = proxy.cases.status()["stored_position"]
        good = {"client_id": "client-1", "social_worker_id": WORKER["id"],
                "service_codes": ["7.1.3a"], "opened_on": "2026-09-01"}
        refusals = [
            ({k: v for k, v in good.items() if k != "client_id"},
             "client_id", "Missing data for required field."),
            ({**good, "opened_on": 20260901}, "opened_on", "Not a valid date."),
            ({**good, "service_codes": ["9.9"]}, "service_codes", "Unknown service code '9.9'"),
        ]
        for payload, field, rule in refusals:
            with pytest.raises(InvalidInput) as refused:
                proxy.cases.open_case(payload)
            assert field in refused.value.errors
            assert field in refused.value.detail and rule in refused.value.detail
        # Nothing was stored by any of them.
        assert proxy.cases.status()["stored_position"] == stored
