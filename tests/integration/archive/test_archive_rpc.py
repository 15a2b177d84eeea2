"""The archive through RPC on a real broker, beside the cases service: a case's file, reads of
the archived case under a grant, signed checkpoints, disposal, and verification of every chain
against the stores, including an edited stored event."""

import json
import sqlite3
import uuid
from datetime import UTC, datetime

import pytest

from contracts.errors import NotAllowed
from services.archive.service import ArchiveService
from services.cases.service import CasesService
from services.runtime.cli.journeys import staff_school
from services.runtime.clock import clock
from services.runtime.replies import cluster_rpc
from services.runtime.settings import settings
from services.runtime.vault import SHREDDED
from services.supervision.service import SupervisionService
from tests.support.scenarios import client_id, drive_case
from tests.support.services import (
    ARCHIVIST,
    AUDITOR,
    OPERATOR,
    SUPERVISOR,
    WORKER,
    config,
    ledgered,
    rpc,
    running,
)
from tests.support.waiting import wait_for

SECOND_SUPERVISOR = {"id": "supervisor-2", "role": "supervisor", "school_id": "JD001"}


def supervise_worker(amqp_uri):
    """Supervision makes supervisor-1 worker-1's supervisor (6.2.2.1), which the cases service
    learns from its events: supervisor-1 then acts on worker-1's cases."""
    with rpc(amqp_uri, OPERATOR) as proxy:
        staff_school(proxy, "JD001", "worker-1")
        proxy.supervision.register_supervisor(
            {"supervisor_id": "supervisor-1", "employment": "full_time",
             "certificate_level": "intermediate", "years_of_practice": 5, "school_id": "JD001"})
        proxy.supervision.assign_supervisor(
            {"social_worker_id": "worker-1", "supervisor_id": "supervisor-1"})


def supervises(amqp_uri, case_id):
    with rpc(amqp_uri, SUPERVISOR) as proxy:
        try:
            proxy.cases.get_case_timeline({"case_id": case_id})
        except NotAllowed:
            return False
        return True


def caught_up(proxy, source):
    """The archive's ledger holds everything `source` has published."""
    published = proxy[source].status()["published_position"]
    return published > 0 and ledgered(proxy, source) == published


def edit_cases_store(position, payload):
    """Rewrite one stored event of the cases service in its SQLite file, as an intruder would:
    change a number the published payload carries."""
    path = settings().runtime.data_dir / "cases.sqlite"
    with sqlite3.connect(path) as db:
        state = json.loads(db.execute("SELECT state FROM stored_events WHERE rowid=?",
                                      (position,)).fetchone()[0])
        field = next(k for k, v in payload.items()
                     if isinstance(v, int) and not isinstance(v, bool) and k in state)
        state[field] += 1
        db.execute("UPDATE stored_events SET state=? WHERE rowid=?",
                   (json.dumps(state).encode(), position))


def test_an_archived_case_from_filing_to_disposal(amqp_uri, monkeypatch):
    monkeypatch.setenv("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", "5")
    clock.set(datetime(2026, 11, 2, 9, tzinfo=UTC))
    with running(amqp_uri, CasesService, ArchiveService, SupervisionService):
        supervise_worker(amqp_uri)
        with rpc(amqp_uri, WORKER) as proxy:
            case_id = drive_case(proxy, "client-1")
        wait_for(lambda: supervises(amqp_uri, case_id),
                 what="cases to learn that supervisor-1 supervises worker-1")
        with rpc(amqp_uri, AUDITOR) as proxy:
            wait_for(lambda: caught_up(proxy, "cases"), what="the ledger to catch up")
        # The closed case has a file with a unified code and every section of 9.4b.
        with rpc(amqp_uri, ARCHIVIST) as proxy:
            file = proxy.archive.find_file({"source": "cases", "record_id": case_id})
        assert file["file_code"] == "JD001-2026-GA-0001"
        assert file["status"] == "closed" and file["completeness"]["complete"], file

        # A supervisor reading the archived case needs a grant; the refusal is recorded.
        read = {"case_id": case_id, "purpose": "Review before the follow-up visit."}
        with rpc(amqp_uri, SUPERVISOR) as proxy:
            with pytest.raises(NotAllowed) as error:
                proxy.cases.get_case(read)
            assert error.value.code == "grant_required"
            request_id = proxy.archive.request_access(
                {"file_id": file["file_id"], "purpose": "Review before the follow-up visit.",
                 "duration_hours": 2})["request_id"]
            with pytest.raises(NotAllowed) as error:
                proxy.archive.approve_access({"request_id": request_id})
            assert error.value.code == "two_person_rule"
        with rpc(amqp_uri, SECOND_SUPERVISOR) as proxy:
            proxy.archive.approve_access({"request_id": request_id})
        with rpc(amqp_uri, SUPERVISOR) as proxy:
            assert proxy.cases.get_case(read)["case_id"] == case_id
        # The client's record is archived with their only case: even the worker who registered
        # them reads it under a grant now, and the refusal is recorded too.
        with rpc(amqp_uri, WORKER) as proxy, pytest.raises(NotAllowed) as error:
            proxy.cases.get_client({"client_id": client_id("client-1")})
        assert error.value.code == "grant_required"
        with rpc(amqp_uri, SUPERVISOR) as proxy:
            client = proxy.cases.get_client({"client_id": client_id("client-1")})
            assert client["details"]["name"] == "王小明"
        with rpc(amqp_uri, AUDITOR) as proxy:
            reads = proxy.archive.get_access_report({"file_id": file["file_id"]})["reads"]
            assert [(r["outcome"], r["reader_id"]) for r in reads] == [
                ("refused", "supervisor-1"), ("viewed", "supervisor-1"),
                ("refused", "worker-1"), ("viewed", "supervisor-1")]
            # Checkpoints are signed as entries arrive, on the service's own timer.
            wait_for(lambda: proxy.archive.list_checkpoints()["items"], what="a signed checkpoint")

        # Long after the retention end, an archivist requests and a supervisor approves.
        clock.set(datetime(2050, 1, 3, 9, tzinfo=UTC))
        with rpc(amqp_uri, ARCHIVIST) as proxy:
            proxy.archive.request_disposal({"file_id": file["file_id"]})
        with rpc(amqp_uri, SUPERVISOR) as proxy:
            proxy.archive.approve_disposal({"file_id": file["file_id"]})

        with rpc(amqp_uri, AUDITOR) as proxy:
            wait_for(lambda: caught_up(proxy, "archive") and caught_up(proxy, "cases"),
                     what="the disposal to reach the ledger")
            # The cases service destroyed the client's personal content on the disposal.
            with rpc(amqp_uri, SUPERVISOR) as supervisor:
                client = client_id("client-1")
                wait_for(lambda: supervisor.cases.get_client(
                    {"client_id": client})["details"] == SHREDDED,
                    what="the cases service to destroy the client's key")
            # Every chain, and every checkpoint, still verifies against every store.
            report = proxy.archive.verify_ledger()
            assert report["ok"], report
            assert report["sources"]["cases"]["store_checked"]
            assert report["sources"]["archive"]["store_checked"]
            assert report["checkpoints"]["count"] >= 1

            # An edited event in the cases store is found at its exact position.
            intervention = next(e for e in proxy.cases.events_since(0, 100)
                                if e["type"] == "InterventionLogged")
            edit_cases_store(intervention["position"], intervention["payload"])
            failed = proxy.archive.verify_ledger()
            problems = failed["sources"]["cases"]["problems"]
            assert [(p["position"], p["where"]) for p in problems] == [
                (intervention["position"], "store")]
            # Each verification is kept, the failed one too, as it was answered.
            kept = proxy.archive.list_verifications({})
            assert [row["ok"] for row in kept["items"][:2]] == [False, True]
            assert proxy.archive.get_verification(
                {"verification_id": failed["verification_id"]}) == failed
        # A verification retried under its command id is answered again, and kept once.
        retried = {"actor": AUDITOR, "command_id": str(uuid.uuid4())}
        with cluster_rpc(config(amqp_uri), context_data=retried, timeout=30) as proxy:
            first = proxy.archive.verify_ledger({"against_stores": False})
            assert proxy.archive.verify_ledger({"against_stores": False}) == first
        with rpc(amqp_uri, AUDITOR) as proxy:
            assert proxy.archive.list_verifications({})["total"] == kept["total"] + 1
