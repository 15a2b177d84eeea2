"""Disposal (9.4e): after the retention end date, without legal hold, requested by an archivist
and approved by a different supervisor; it destroys personal content and keeps chains valid."""

from datetime import date

import pytest

from contracts.envelope import GENESIS_HASH
from contracts.errors import Conflict, NotAllowed
from services.archive.app import ArchiveApplication
from services.archive.publish import PUBLICATIONS
from services.runtime.clock import clock
from services.runtime.context import Actor, acting_as
from services.runtime.vault import SHREDDED
from tests.unit.archive.streams import CasesStream, at, feed

ARCHIVIST = Actor("archivist-1", "archivist", "JD001")
SUPERVISOR = Actor("supervisor-1", "supervisor", "JD001")
AUDITOR = Actor("auditor-1", "auditor")
# One person holding both roles is still one person.
ARCHIVIST_AS_SUPERVISOR = Actor("archivist-1", "supervisor", "JD001")


@pytest.fixture
def app():
    return ArchiveApplication(env={"SQLITE_DBNAME": ":memory:"})


@pytest.fixture
def closed_case(app):
    """An adult client's case closed on 2026-10-30: kept until 2036-10-30."""
    clock.set(at(2026, 9, 1))
    cases = CasesStream()
    feed(app, cases.register_client("client-1", grade=None, is_minor=False,
                                    client_type="teacher"))
    opened = cases.open_case("client-1")
    feed(app, opened, cases.close_case(opened["aggregate_id"], closed_on=date(2026, 10, 30)))
    with acting_as(ARCHIVIST):
        return app.find_file("cases", opened["aggregate_id"])


def file_state(app, file):
    with acting_as(ARCHIVIST):
        return app.get_file(file["file_id"])


def published_types(app):
    return [e["type"] for e in PUBLICATIONS.envelopes(
        app.mapper, app.notifications_after(0, 1000), 0, GENESIS_HASH)]


def test_disposal_is_refused_before_the_retention_end_date(app, closed_case):
    assert closed_case["retention"]["end_on"] == "2036-10-30"
    clock.set(at(2036, 10, 30))  # the last day of the period: still kept
    with acting_as(ARCHIVIST), pytest.raises(Conflict) as error:
        app.request_disposal(closed_case["file_id"])
    assert error.value.code == "retention_not_expired"
    assert file_state(app, closed_case) == closed_case


def test_an_open_record_cannot_be_disposed(app):
    cases = CasesStream()
    opened = cases.open_case("client-1")
    feed(app, opened)
    clock.set(at(2090, 1, 1))
    with acting_as(ARCHIVIST):
        file = app.find_file("cases", opened["aggregate_id"])
        with pytest.raises(Conflict) as error:
            app.request_disposal(file["file_id"])
    assert error.value.code == "retention_not_expired"
    assert file_state(app, file) == file


def test_a_legal_hold_blocks_disposal_until_lifted(app, closed_case):
    clock.set(at(2037, 1, 5))
    with acting_as(ARCHIVIST):
        app.place_legal_hold(closed_case["file_id"], "hold-1", "court", "(2037) 京0105民初123号")
        held = app.get_file(closed_case["file_id"])
        with pytest.raises(Conflict) as error:
            app.request_disposal(closed_case["file_id"])
    assert error.value.code == "legal_hold"
    assert file_state(app, closed_case) == held

    # A disposal already requested is not approved while a hold is placed.
    with acting_as(ARCHIVIST):
        app.lift_legal_hold(closed_case["file_id"], "hold-1")
        app.request_disposal(closed_case["file_id"])
        app.place_legal_hold(closed_case["file_id"], "hold-2", "police", "2037-0042")
        held = app.get_file(closed_case["file_id"])
    with acting_as(SUPERVISOR), pytest.raises(Conflict) as error:
        app.approve_disposal(closed_case["file_id"])
    assert error.value.code == "legal_hold"
    assert file_state(app, closed_case) == held
    assert published_types(app).count("LegalHoldPlaced") == 2


def test_the_requester_cannot_approve_their_own_disposal(app, closed_case):
    clock.set(at(2037, 1, 5))
    with acting_as(ARCHIVIST):
        app.request_disposal(closed_case["file_id"])
        requested = app.get_file(closed_case["file_id"])
    with acting_as(ARCHIVIST_AS_SUPERVISOR), pytest.raises(NotAllowed) as error:
        app.approve_disposal(closed_case["file_id"])
    assert error.value.code == "two_person_rule"
    assert file_state(app, closed_case) == requested
    # Nor can an archivist approve at all: approval is a supervisor's.
    with acting_as(Actor("archivist-2", "archivist", "JD001")), pytest.raises(NotAllowed):
        app.approve_disposal(closed_case["file_id"])
    assert file_state(app, closed_case) == requested


def test_a_supervisor_may_reject_a_disposal_and_the_file_stays(app, closed_case):
    clock.set(at(2037, 1, 5))
    with acting_as(ARCHIVIST):
        app.request_disposal(closed_case["file_id"])
    with acting_as(SUPERVISOR):
        app.reject_disposal(closed_case["file_id"], "still_needed")
    state = file_state(app, closed_case)
    assert state["status"] == "closed" and state["disposal"] is None


def test_an_approved_disposal_destroys_personal_content_and_chains_still_verify(app, closed_case):
    # Someone read the file while it was kept; their purpose is sealed under the client.
    clock.set(at(2030, 3, 1))
    with acting_as(AUDITOR):
        request_id = app.request_access(closed_case["file_id"], "Annual audit of case 2026-GA-1.",
                                        duration_hours=8)
    with acting_as(SUPERVISOR):
        app.approve_access(request_id)

    clock.set(at(2037, 1, 5))
    with acting_as(ARCHIVIST):
        app.request_disposal(closed_case["file_id"])
    with acting_as(SUPERVISOR):
        app.approve_disposal(closed_case["file_id"])

    state = file_state(app, closed_case)
    assert state["status"] == "disposed" and state["disposed_on"] == "2037-01-05"
    assert app.vault.is_shredded("client-1")
    with acting_as(AUDITOR):
        report = app.get_access_report(closed_case["file_id"])
    assert report["requests"][0]["purpose"] == SHREDDED

    # The disposal is published with the client's id, for every service to destroy its copy.
    envelopes = list(PUBLICATIONS.envelopes(app.mapper, app.notifications_after(0, 1000), 0,
                                            GENESIS_HASH))
    disposed = [e for e in envelopes if e["type"] == "ArchiveFileDisposed"]
    assert disposed[0]["payload"]["subject_ids"] == ["client-1"]
    assert [e["type"] for e in envelopes][-3:] == [
        "DisposalRequested", "DisposalApproved", "ArchiveFileDisposed"]

    # The archive's own published stream goes into its ledger, and every chain verifies.
    feed(app, *envelopes)
    with acting_as(AUDITOR):
        report = app.verify_ledger()
    assert report["ok"], report
    assert set(report["sources"]) == {"cases", "archive"}

    # Nothing is read or disposed twice.
    with acting_as(AUDITOR), pytest.raises(NotAllowed) as error:
        app.authorize_read("cases", closed_case["record_id"], "Check after disposal.")
    assert "file_disposed" in error.value.detail
    with acting_as(ARCHIVIST), pytest.raises(Conflict):
        app.request_disposal(closed_case["file_id"])
