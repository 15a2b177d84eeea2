"""Every event the archive stores reaches the audit trail (issue 13): from envelope format 2
each one is published, as a contract event or as `AuditRecorded`, its envelope valid and with
no purpose or legal reference in it; ledger entries are the trail itself and are never published
again (or each copy would come back to be copied once more); what the archive only derived from
the cases service is learned into views, and its old classes are retired."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from contracts.envelope import GENESIS_HASH
from contracts.errors import NotAllowed
from contracts.registry import validate_envelope
from services.archive.app import ArchiveApplication
from services.archive.domain import LedgerEntry
from services.archive.files import ClientProfile, CodeSequence
from services.archive.publish import PUBLICATIONS
from services.runtime.clock import clock
from services.runtime.context import SYSTEM, Actor, acting_as
from services.runtime.publishing import Unmapped
from tests.support.stores import as_before_formats
from tests.support.views import domain_event_classes, undeclared
from tests.unit.archive.streams import CasesStream, at, feed

ARCHIVIST = Actor("archivist-1", "archivist", "JD001")
AUDITOR = Actor("auditor-1", "auditor")
SUPERVISOR = Actor("supervisor-1", "supervisor", "JD001")
WORKER = Actor("worker-1", "social_worker", "JD001")
# What people typed that must never leave the store in clear.
FREE_TEXT = ("王小明的监护人投诉复核", "(2027) 京0105民初1号")
# The aggregates' event classes are made by @event at runtime; mypy cannot see them.
Entry: Any = LedgerEntry
Profile: Any = ClientProfile
Sequence: Any = CodeSequence


@pytest.fixture
def app() -> ArchiveApplication:
    return ArchiveApplication(env={"SQLITE_DBNAME": ":memory:"})


def published(app: ArchiveApplication) -> list[dict[str, Any]]:
    """Every envelope the relay would publish from the store, in order."""
    return list(PUBLICATIONS.envelopes(app.mapper, app.notifications_after(0, 10_000), 0,
                                       GENESIS_HASH))


def test_every_event_class_of_the_service_is_declared_for_format_2() -> None:
    assert undeclared(PUBLICATIONS, "services.archive") == []


def tour(app: ArchiveApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command of the archive once, on files built from the cases service's events."""
    monkeypatch.setenv("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", "1")
    clock.set(at(2026, 9, 1))
    cases = CasesStream()
    registered = cases.register_client("client-1")
    opened = cases.open_case("client-1")
    stale = cases.emit("ClassHeld", {"class_id": "class-1", "theme": "life_education",
                                     "service_codes": ["7.1.4d"], "held_on": "2020-03-01",
                                     "attendance": 30, "grade": None})
    kept = cases.emit("ClassHeld", {"class_id": "class-2", "theme": "life_education",
                                    "service_codes": ["7.1.4d"], "held_on": "2020-03-02",
                                    "attendance": 30, "grade": None})
    cases.intervene(opened["aggregate_id"])  # never delivered: the next breaks the chain
    broken = cases.intervene(opened["aggregate_id"])
    feed(app, registered, opened, stale, kept, broken)
    app.checkpoint_if_due()
    with acting_as(SYSTEM):
        case_file = app.find_file("cases", opened["aggregate_id"])["file_id"]
        class_file = app.find_file("cases", "class-1")["file_id"]
        other_file = app.find_file("cases", "class-2")["file_id"]
    with acting_as(ARCHIVIST):
        app.place_legal_hold(case_file, "hold-1", "court", FREE_TEXT[1])
        app.lift_legal_hold(case_file, "hold-1")
        app.request_disposal(class_file)
        app.request_disposal(other_file)
    with acting_as(SUPERVISOR):
        app.approve_disposal(class_file)
        app.reject_disposal(other_file, "still_needed")
    with acting_as(WORKER):
        granted = app.request_access(case_file, FREE_TEXT[0], 4)
        denied = app.request_access(case_file, FREE_TEXT[0], 4)
    with acting_as(SUPERVISOR):
        app.approve_access(granted)
        app.deny_access(denied, "not_need_to_know")
    with acting_as(WORKER):
        app.authorize_read("cases", opened["aggregate_id"], FREE_TEXT[0])
    with acting_as(SUPERVISOR):
        app.revoke_access(granted, "purpose_fulfilled")
    with acting_as(WORKER), pytest.raises(NotAllowed):
        app.authorize_read("cases", opened["aggregate_id"], FREE_TEXT[0])
    with acting_as(AUDITOR):
        assert not app.keep_verification()["ok"]  # the break above


def test_every_stored_event_is_published_valid_and_impersonal(app, monkeypatch):
    tour(app, monkeypatch)
    stored = [app.mapper.to_domain_event(n) for n in app.notifications_after(0, 10_000)]
    envelopes = published(app)
    # One envelope for each stored event but the ledger's copies, and every class the archive
    # still triggers among them.
    copies = [event for event in stored if isinstance(event, Entry.Recorded)]
    assert len(copies) == 5 and len(envelopes) == len(stored) - len(copies)
    made = {type(event) for event in stored}
    assert made == domain_event_classes("services.archive") - {
        Profile.Registered, Sequence.Started, Sequence.Allocated}
    for envelope in envelopes:
        validate_envelope(envelope)
    text = json.dumps(envelopes, ensure_ascii=False)
    for secret in FREE_TEXT:
        assert secret not in text
    # The purposes and the hold's reference travel as keyed commitments only.
    assert {e["type"]: sorted(e.get("commitments", {})) for e in envelopes
            if e["type"] in ("ArchiveAccessRequested", "LegalHoldPlaced")} == {
        "ArchiveAccessRequested": ["purpose"], "LegalHoldPlaced": ["reference"]}
    audited = {(e["payload"]["record"], e["payload"]["event"]) for e in envelopes
               if e["type"] == "AuditRecorded"}
    assert audited == {("ArchiveFile", "Indexed")}


def test_a_retired_class_stored_before_publishes_as_before_and_a_new_one_is_refused(app):
    with acting_as(SYSTEM), as_before_formats():
        profile = ClientProfile(school_id="JD001", client_id="client-1", client_type="student",
                                grade=3, is_minor=True, registered_on=date(2026, 9, 1))
    app.save(profile)
    # Format 1, never published: nothing on the wire, as before.
    assert published(app) == []
    event = app.mapper.to_domain_event(app.notifications_after(0, 10)[0])
    event.meta["envelope_format"] = 2
    with pytest.raises(Unmapped):
        PUBLICATIONS.envelope(event, 1, 0, GENESIS_HASH)
