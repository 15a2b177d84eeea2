"""Access approval (9.4d, 4.5): request → approval by another person → a time-limited, revocable
grant; every read of an archived record, allowed or refused, is recorded."""

from datetime import timedelta

import pytest

from contracts.envelope import GENESIS_HASH
from contracts.errors import Conflict, InvalidInput, NotAllowed
from services.archive.app import ArchiveApplication
from services.archive.publish import PUBLICATIONS
from services.runtime.clock import clock
from services.runtime.context import Actor, acting_as
from tests.unit.archive.streams import CasesStream, at, feed

AUDITOR = Actor("auditor-1", "auditor")
SUPERVISOR = Actor("supervisor-1", "supervisor", "JD001")
SUPERVISOR_REQUESTING = Actor("supervisor-2", "supervisor", "JD001")
WORKER = Actor("worker-1", "social_worker", "JD001")


@pytest.fixture
def app():
    return ArchiveApplication(env={"SQLITE_DBNAME": ":memory:"})


@pytest.fixture
def case_id(app):
    clock.set(at(2027, 3, 1))
    cases = CasesStream()
    opened = cases.open_case("client-1")
    feed(app, opened, cases.close_case(opened["aggregate_id"]))
    return opened["aggregate_id"]


def file_id(app, case_id):
    with acting_as(AUDITOR):
        return app.find_file("cases", case_id)["file_id"]


def report(app, case_id):
    with acting_as(AUDITOR):
        return app.get_access_report(file_id(app, case_id))


def request(app, case_id, actor=AUDITOR, hours=4):
    with acting_as(actor):
        return app.request_access(file_id(app, case_id), "Audit of 2026 case closures.", hours)


def read(app, case_id, actor=AUDITOR):
    with acting_as(actor):
        return app.authorize_read("cases", case_id, "Checking the closing summary.")


def test_a_read_without_a_grant_is_refused_and_the_refusal_recorded(app, case_id):
    with pytest.raises(NotAllowed) as error:
        read(app, case_id)
    assert error.value.code == "grant_required"
    [refused] = report(app, case_id)["reads"]
    assert refused["outcome"] == "refused" and refused["reason"] == "no_grant"
    assert refused["reader_id"] == "auditor-1"
    assert refused["purpose"] == "Checking the closing summary."


def test_a_pending_request_is_not_a_grant(app, case_id):
    request(app, case_id)
    with pytest.raises(NotAllowed):
        read(app, case_id)


def test_the_requester_cannot_approve_or_deny_their_own_request(app, case_id):
    request_id = request(app, case_id, actor=SUPERVISOR_REQUESTING)
    before = report(app, case_id)
    with acting_as(SUPERVISOR_REQUESTING):
        with pytest.raises(NotAllowed) as error:
            app.approve_access(request_id)
        assert error.value.code == "two_person_rule"
        with pytest.raises(NotAllowed):
            app.deny_access(request_id, "other")
    assert report(app, case_id) == before
    # Only an authorised approver decides: an auditor is not one.
    with acting_as(Actor("auditor-2", "auditor")), pytest.raises(NotAllowed):
        app.approve_access(request_id)
    assert report(app, case_id) == before


def test_an_approved_grant_allows_reads_until_it_expires(app, case_id):
    request_id = request(app, case_id, hours=4)
    with acting_as(SUPERVISOR):
        grant = app.approve_access(request_id, valid_hours=2)
    assert grant["valid_until"] == "2027-03-01T11:00:00+00:00"

    clock.set(at(2027, 3, 1, hour=10))
    assert read(app, case_id)["grant_id"] == request_id
    # The grant is the auditor's: another reader has none.
    with pytest.raises(NotAllowed):
        read(app, case_id, actor=Actor("auditor-2", "auditor"))

    clock.set(at(2027, 3, 1, hour=11))
    with pytest.raises(NotAllowed) as error:
        read(app, case_id)
    assert "grant_expired" in error.value.detail

    # Who saw this, when and why.
    reads = report(app, case_id)["reads"]
    assert [(r["outcome"], r["reader_id"], r["reason"]) for r in reads] == [
        ("viewed", "auditor-1", None), ("refused", "auditor-2", "no_grant"),
        ("refused", "auditor-1", "grant_expired")]
    assert reads[0]["read_at"] == "2027-03-01T10:00:00+00:00"
    assert reads[0]["grant_id"] == request_id


def test_a_grant_cannot_be_longer_than_requested(app, case_id):
    request_id = request(app, case_id, hours=4)
    before = report(app, case_id)
    with acting_as(SUPERVISOR), pytest.raises(InvalidInput) as error:
        app.approve_access(request_id, valid_hours=5)
    assert "valid_hours" in error.value.errors
    assert report(app, case_id) == before


def test_a_revoked_grant_is_refused(app, case_id):
    request_id = request(app, case_id)
    with acting_as(SUPERVISOR):
        app.approve_access(request_id)
    read(app, case_id)
    with acting_as(SUPERVISOR):
        app.revoke_access(request_id, "purpose_fulfilled")
    clock.advance(timedelta(minutes=5))
    with pytest.raises(NotAllowed) as error:
        read(app, case_id)
    assert "grant_revoked" in error.value.detail
    # A revoked grant cannot be revoked again, nor approved.
    before = report(app, case_id)
    with acting_as(SUPERVISOR):
        with pytest.raises(Conflict):
            app.revoke_access(request_id, "other")
        with pytest.raises(Conflict):
            app.approve_access(request_id)
    assert report(app, case_id) == before


def test_a_denied_request_gives_no_grant(app, case_id):
    request_id = request(app, case_id)
    with acting_as(SUPERVISOR):
        app.deny_access(request_id, "not_need_to_know")
    with pytest.raises(NotAllowed):
        read(app, case_id)
    assert report(app, case_id)["requests"][0]["status"] == "denied"


def test_access_events_are_published_without_the_purpose(app, case_id):
    request_id = request(app, case_id)
    with acting_as(SUPERVISOR):
        app.approve_access(request_id)
    read(app, case_id)
    with pytest.raises(NotAllowed):
        read(app, case_id, actor=WORKER)
    envelopes = list(PUBLICATIONS.envelopes(app.mapper, app.notifications_after(0, 1000), 0,
                                            GENESIS_HASH))
    assert [e["type"] for e in envelopes][-4:] == [
        "ArchiveAccessRequested", "ArchiveAccessGranted", "ArchiveRecordViewed",
        "ArchiveReadRefused"]
    assert "Audit of 2026" not in str(envelopes) and "closing summary" not in str(envelopes)


def test_the_archivist_decides_on_others_requests_but_not_on_their_own(app, case_id):
    archivist = Actor("archivist-1", "archivist", "JD001")
    theirs = request(app, case_id, actor=SUPERVISOR)
    own = request(app, case_id, actor=archivist)
    with acting_as(archivist):
        assert app.approve_access(theirs)["grant_id"] == theirs
        with pytest.raises(NotAllowed) as error:
            app.approve_access(own)
    assert error.value.code == "two_person_rule"
    assert [(r["requester_id"], r["status"], r["decided_by"])
            for r in report(app, case_id)["requests"]] == [
        ("supervisor-1", "approved", "archivist-1"), ("archivist-1", "pending", None)]
