"""The audit ledger: chains checked against each source's store, signed checkpoints, and the
state of a file or record at any earlier point."""

import base64
import hashlib
import json
import os
from datetime import timedelta
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from contracts.chain import UNREBUILDABLE
from contracts.envelope import HASH_RULE, seal
from contracts.errors import NotAllowed, NotFound
from services.archive import app as archive_app
from services.archive.app import ArchiveApplication
from services.archive.domain import LedgerCheckpoint, LedgerEntry
from services.runtime.clock import clock
from services.runtime.context import Actor, acting_as
from tests.unit.archive.streams import CasesStream, at, feed

AUDITOR = Actor("auditor-1", "auditor")
ARCHIVIST = Actor("archivist-1", "archivist", "JD001")


@pytest.fixture
def app():
    return ArchiveApplication(env={"SQLITE_DBNAME": ":memory:"})


def edit_stored_event(application, notification_id, change):
    """What an intruder with database access does to the archive: rewrite a stored event."""
    with application.recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute("SELECT state FROM stored_events WHERE rowid=?", (notification_id,))
        state = json.loads(cursor.fetchone()[0])
        change(state)
        cursor.execute("UPDATE stored_events SET state=? WHERE rowid=?",
                       (json.dumps(state).encode(), notification_id))


def ledger_notification(app, source, position):
    """The archive's notification id of the ledger entry of (source, position)."""
    topic = get_topic(LedgerEntry.Recorded)
    for notification in app.recorder.select_notifications(1, 10**6, topics=[topic]):
        state = json.loads(notification.state)
        if (state["source"], state["position"]) == (source, position):
            return notification.id
    raise AssertionError(f"no ledger entry {source}:{position}")


def verify(app, recompute=None):
    with acting_as(AUDITOR):
        return app.verify_ledger(recompute)


class SourceStore:
    """A source's own store as `recompute_since` reads it: the events it holds, re-chained."""

    def __init__(self, stream):
        self.stream = stream
        self.events = []
        self.unreadable = {}  # position → why the source cannot read that event back

    def emit(self, envelope):
        self.events.append(dict(envelope))
        return envelope

    def edit(self, position, **payload):
        """What an intruder with database access does: rewrite one stored event in place."""
        for event in self.events:
            if event["position"] == position:
                event["payload"] = {**event["payload"], **payload}

    def recompute(self, name, after, prev_hash, limit):
        assert name == "cases"
        rebuilt = []
        for event in self.events:
            if event["position"] <= after:
                continue
            if event["position"] in self.unreadable:
                rebuilt.append({"position": event["position"],
                                UNREBUILDABLE: self.unreadable[event["position"]]})
                break
            rebuilt.append(seal({**event, "prev_hash": prev_hash}))
            prev_hash = rebuilt[-1]["hash"]
        return rebuilt[:limit]


@pytest.fixture
def cases():
    """One case of three published events, and the cases store they came from."""
    stream = CasesStream()
    store = SourceStore(stream)
    opened = store.emit(stream.open_case("client-1"))
    store.emit(stream.intervene(opened["aggregate_id"], on="2026-09-02"))
    store.emit(stream.intervene(opened["aggregate_id"], on="2026-09-03"))
    return store


def test_an_edited_event_in_the_sources_store_is_found_at_its_position(app, cases):
    feed(app, *cases.events)
    assert verify(app, cases.recompute)["ok"]

    # Someone shortens the second intervention in the cases store.
    cases.edit(3, duration_minutes=5)

    report = verify(app, cases.recompute)
    assert not report["ok"]
    assert report["sources"]["cases"]["problems"] == [{
        "position": 3, "where": "store",
        "problem": "stored event differs from what was published: payload"}]


def test_an_event_its_source_cannot_read_back_is_found_there_and_nothing_after_it(app, cases):
    feed(app, *cases.events)
    # An intruder made the second event break its contract in the cases store.
    cases.unreadable[2] = "ValidationError: {'duration_minutes': ['Not a valid integer.']}"

    report = verify(app, cases.recompute)
    assert not report["ok"]
    assert report["sources"]["cases"]["problems"] == [{
        "position": 2, "where": "store",
        "problem": "the stored event cannot be read back into its envelope: ValidationError: "
                   "{'duration_minutes': ['Not a valid integer.']}"}]


def test_an_edited_ledger_entry_is_found_at_its_position(app, cases):
    feed(app, *cases.events)

    def rewrite(state):
        state["envelope"]["payload"]["duration_minutes"] = 5
    edit_stored_event(app, ledger_notification(app, "cases", 2), rewrite)

    problems = verify(app)["sources"]["cases"]["problems"]
    assert problems == [{"position": 2, "where": "ledger",
                         "problem": "hash does not match the envelope's content"}]


@pytest.mark.parametrize(
    "value, why",
    [(float("nan"), "nan is not representable"), (float("inf"), "inf is not representable"),
     (2**60, "exceeds safe integer domain"), ("\ud800", "non-UTF-8 codepoints")],
    ids=["nan", "infinity", "beyond-2^53", "lone-surrogate"],
)
def test_an_entry_edited_to_hold_what_its_rule_cannot_write_is_found_and_the_walk_goes_on(
    app, value, why
):
    """Python's json writes each of these, and reads it back: an intruder's edit of one entry
    is reported at its position, and the entries after it are still checked."""
    stream = CasesStream(hash_rule=HASH_RULE)
    opened = stream.open_case("client-1")
    feed(app, opened, *(stream.intervene(opened["aggregate_id"]) for _ in range(2)))

    def unwritable(state):
        state["envelope"]["payload"]["duration_minutes"] = value

    def shortened(state):
        state["envelope"]["payload"]["duration_minutes"] = 5
    edit_stored_event(app, ledger_notification(app, "cases", 2), unwritable)
    edit_stored_event(app, ledger_notification(app, "cases", 3), shortened)

    second, third = verify(app)["sources"]["cases"]["problems"]
    assert (second["position"], second["where"]) == (2, "ledger")
    assert second["problem"].startswith("the envelope holds a value its hash rule cannot write")
    assert why in second["problem"]
    assert third == {"position": 3, "where": "ledger",
                     "problem": "hash does not match the envelope's content"}
    with acting_as(AUDITOR):
        shown = app.get_ledger_entry("cases", 2)
    assert shown["hashed_text"] is None and shown["computed_hash"] is None


def test_a_broken_chain_is_recorded_with_an_alarm_and_opens_no_file(app):
    stream = CasesStream()
    first = stream.open_case("client-1")
    stream.open_case("client-2")  # never delivered: the next one does not continue the chain
    third = stream.open_case("client-3")
    feed(app, first, third)
    with acting_as(ARCHIVIST):
        assert [f["file_code"] for f in app.list_files()["items"]] == ["JD001-2026-GA-0001"]
    with acting_as(AUDITOR):
        [alarm] = app.list_chain_alarms(source="cases")["items"]
        assert app.list_chain_alarms(source="supervision")["total"] == 0
        entry = app.get_ledger_entry("cases", 3)
    assert (alarm["position"], alarm["expected_prev_position"]) == (3, 1)
    assert alarm["expected_prev_hash"] == first["hash"]
    assert alarm["problems"] == ["prev_position is 2, expected 1",
                                 "prev_hash does not match the previous envelope's hash"]
    # Its envelope as stored, its own hash sound; the ledger's entry before it is 1, not the 2
    # the envelope names.
    assert entry["envelope"] == third and entry["alarm"] == alarm
    assert entry["computed_hash"] == third["hash"]
    assert entry["entry_before"] == {"source": "cases", "position": 1, "hash": first["hash"]}


def test_a_verification_is_kept_as_it_was_answered_with_who_asked(app):
    stream = CasesStream()
    first = stream.open_case("client-1")
    stream.open_case("client-2")  # never delivered: the verification finds the break
    feed(app, first, stream.open_case("client-3"))
    with acting_as(AUDITOR):
        answered = app.keep_verification(since_checkpoint=False)
        kept = app.get_verification(answered["verification_id"])
        [row] = app.list_verifications()["items"]
    assert kept == answered
    assert (answered["verified_by"], answered["ok"], answered["against_stores"]) == (
        "auditor-1", False, False)
    assert answered["sources"]["cases"]["problems"] == verify(app)["sources"]["cases"][
        "problems"]
    assert row == {"verification_id": answered["verification_id"],
                   "checked_at": answered["checked_at"], "verified_by": "auditor-1",
                   "ok": False, "since_checkpoint": None, "against_stores": False,
                   "entry_count": 2, "problem_count": 2, "seq": 1}


def test_a_verification_by_a_role_that_may_not_read_the_ledger_is_refused_and_not_kept(app):
    feed(app, CasesStream().open_case("client-1"))
    before = app.max_position()
    with acting_as(Actor("worker-1", "social_worker", "JD001")), pytest.raises(NotAllowed):
        app.keep_verification()
    assert app.max_position() == before
    with acting_as(AUDITOR):
        assert app.list_verifications()["total"] == 0


def test_a_verification_not_kept_is_not_found(app):
    with acting_as(AUDITOR), pytest.raises(NotFound):
        app.get_verification("00000000-0000-0000-0000-000000000001")


def test_a_ledger_entry_is_shown_as_stored_with_the_text_its_hash_covers(app, cases):
    feed(app, *cases.events)
    with acting_as(AUDITOR):
        first, second = app.get_ledger_entry("cases", 1), app.get_ledger_entry("cases", 2)
        with pytest.raises(NotFound):
            app.get_ledger_entry("cases", 4)
    with acting_as(Actor("worker-1", "social_worker", "JD001")), pytest.raises(NotAllowed):
        app.get_ledger_entry("cases", 1)
    assert second["envelope"] == cases.events[1] and second["alarm"] is None
    # By hand: the SHA-256 of the text is the hash, and prev_hash is the entry before's hash.
    assert hashlib.sha256(second["hashed_text"].encode()).hexdigest() == \
        second["envelope"]["hash"] == second["computed_hash"]
    assert '"hash":' not in second["hashed_text"] and '"prev_hash":' in second["hashed_text"]
    assert second["entry_before"] == {"source": "cases", "position": 1,
                                      "hash": cases.events[0]["hash"]}
    assert second["envelope"]["prev_hash"] == second["entry_before"]["hash"]
    assert first["entry_before"] == {"source": "cases", "position": 0, "hash": "0" * 64}


def test_checkpoints_are_signed_every_n_entries_or_t_minutes(app, monkeypatch):
    monkeypatch.setenv("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", "3")
    monkeypatch.setenv("CASEBOOK_CHECKPOINT_EVERY_MINUTES", "60")
    clock.set(at(2026, 9, 1))
    stream = CasesStream()
    feed(app, stream.open_case("client-1"), stream.open_case("client-2"))
    assert app.checkpoint_if_due() is None  # two entries, no time passed

    feed(app, stream.open_case("client-3"))
    first = app.checkpoint_if_due()
    assert first["sequence"] == 1 and first["entry_count"] == 3
    assert first["heads"] == [{"source": "cases", "position": 3, "hash": stream.hash}]
    assert app.checkpoint_if_due() is None  # nothing new

    feed(app, stream.open_case("client-4"))
    clock.advance(timedelta(minutes=59))
    assert app.checkpoint_if_due() is None
    clock.advance(timedelta(minutes=1))
    assert app.checkpoint_if_due()["entry_count"] == 4
    report = verify(app)
    assert report["ok"] and report["checkpoints"]["count"] == 2


def test_a_checkpoint_signed_while_verify_reads_the_entries_is_no_alarm(app, monkeypatch):
    """Two archive instances: one verifies while the other records an entry and signs a
    checkpoint over it, after the first has read the entries. The ledger is untouched."""
    monkeypatch.setenv("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", "1")
    stream = CasesStream()
    feed(app, stream.open_case("client-1"))
    app.checkpoint_if_due()
    reading = archive_app.recorded_entries

    def recorded_then_another_signs(*args: Any, **kwargs: Any) -> Any:
        yield from reading(*args, **kwargs)
        monkeypatch.setattr(archive_app, "recorded_entries", reading)  # the other reads as usual
        feed(app, stream.open_case("client-2"))
        app.checkpoint_if_due()

    monkeypatch.setattr(archive_app, "recorded_entries", recorded_then_another_signs)
    report = verify(app)
    assert report["ok"], report
    assert report["checkpoints"]["count"] == 1  # the one signed before the reading began
    assert verify(app)["ok"] and verify(app)["checkpoints"]["count"] == 2


def test_a_forged_checkpoint_signature_is_rejected(app, monkeypatch):
    monkeypatch.setenv("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", "1")
    stream = CasesStream()
    feed(app, stream.open_case("client-1"))
    app.checkpoint_if_due()
    assert verify(app)["ok"]

    # Whoever rewrites the ledger must re-sign the checkpoint; without the key they cannot.
    def forge(state):
        state["heads"][0]["hash"] = "f" * 64
        state["signature"] = base64.b64encode(os.urandom(64)).decode()
    edit_stored_event(app, app.max_position(), forge)
    report = verify(app)
    assert not report["ok"]
    assert {"sequence": 1, "problem": "signature does not verify"} in \
        report["checkpoints"]["problems"]
    assert {"sequence": 1, "problem": "signed head cases:1 has another hash in the ledger"} in \
        report["checkpoints"]["problems"]


def test_a_file_as_of_an_earlier_time_is_what_the_live_system_returned_then(app):
    stream = CasesStream()
    clock.set(at(2026, 9, 1))
    opened = stream.open_case("client-1")
    case_id = opened["aggregate_id"]
    feed(app, opened, stream.accept_intake(case_id))
    with acting_as(ARCHIVIST):
        file_id = app.find_file("cases", case_id)["file_id"]
        live_then = app.get_file(file_id)
        record_then = app.get_record("cases", case_id)

    # Later: more service, a closing and a legal hold.
    clock.set(at(2026, 10, 1))
    feed(app, stream.intervene(case_id), stream.close_case(case_id))
    with acting_as(ARCHIVIST):
        app.place_legal_hold(file_id, "hold-1", "court", "ref-1")
        assert app.get_file(file_id) != live_then
        assert app.get_file_as_of(file_id, at=at(2026, 9, 1)) == live_then
        assert app.get_record("cases", case_id, at=at(2026, 9, 1)) == record_then
        # By ledger position: as it was when the ledger recorded the intake.
        assert app.get_file_as_of(file_id, ledger_source="cases", ledger_position=2) == live_then
        assert app.get_record("cases", case_id, ledger_source="cases",
                              ledger_position=2) == record_then
        assert app.get_record("cases", case_id)["status"] == "closed"
        assert record_then["status"] == "open" and record_then["event_count"] == 2


def since_checkpoint(app, recompute=None):
    with acting_as(AUDITOR):
        return app.verify_ledger(recompute, since_checkpoint=True)


@pytest.fixture
def checkpointed(app, monkeypatch):
    """Five cases events in the ledger, a checkpoint signed over the first three, the cases
    store they came from."""
    monkeypatch.setenv("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", "3")
    stream = CasesStream()
    store = SourceStore(stream)
    feed(app, *(store.emit(stream.open_case(f"client-{n}")) for n in range(3)))
    assert app.checkpoint_if_due()["heads"][0]["position"] == 3
    feed(app, *(store.emit(stream.open_case(f"client-{n}")) for n in range(3, 5)))
    return store


def test_since_checkpoint_checks_only_what_follows_the_signed_heads(app, checkpointed):
    report = since_checkpoint(app, checkpointed.recompute)
    assert report["ok"] and report["since_checkpoint"] == 1
    # The walk goes on from the signed head: the entries after it, not the whole chain.
    assert report["sources"]["cases"]["entries"] == 2
    assert report["sources"]["cases"]["head"]["position"] == 5
    assert report["checkpoint_heads"] == [
        {"source": "cases", "position": 3, "hash": app._entry_at("cases", 3)["hash"]}]


def test_an_edit_before_the_checkpoint_is_found_by_the_full_check_only(app, checkpointed):
    def rewrite(state):
        state["envelope"]["payload"]["service_codes"] = ["7.1.1a"]
    edit_stored_event(app, ledger_notification(app, "cases", 2), rewrite)

    assert since_checkpoint(app)["ok"]
    problems = verify(app)["sources"]["cases"]["problems"]
    assert problems == [{"position": 2, "where": "ledger",
                         "problem": "hash does not match the envelope's content"}]


def test_an_edit_after_the_checkpoint_is_found_by_both_checks(app, checkpointed):
    def rewrite(state):
        state["envelope"]["payload"]["service_codes"] = ["7.1.1a"]
    edit_stored_event(app, ledger_notification(app, "cases", 4), rewrite)

    expected = [{"position": 4, "where": "ledger",
                 "problem": "hash does not match the envelope's content"}]
    assert since_checkpoint(app)["sources"]["cases"]["problems"] == expected
    assert verify(app)["sources"]["cases"]["problems"] == expected


def test_an_edit_after_the_checkpoint_in_the_sources_store_is_found_by_both(app, checkpointed):
    checkpointed.edit(5, service_codes=["7.1.1a"])
    for report in (since_checkpoint(app, checkpointed.recompute),
                   verify(app, checkpointed.recompute)):
        assert report["sources"]["cases"]["problems"] == [{
            "position": 5, "where": "store",
            "problem": "stored event differs from what was published: payload"}]


def test_since_checkpoint_refuses_a_head_the_ledger_no_longer_holds(app, checkpointed):
    # Rewriting the signed head itself (and its hash) breaks the signed statement.
    def rewrite(state):
        state["envelope"]["hash"] = "e" * 64
    edit_stored_event(app, ledger_notification(app, "cases", 3), rewrite)
    report = since_checkpoint(app)
    assert not report["ok"]
    assert report["checkpoints"]["problems"] == [
        {"sequence": 1, "problem": "signed head cases:3 has another hash in the ledger"}]


def test_verification_reads_the_ledger_in_batches(app, monkeypatch):
    monkeypatch.setattr("services.archive.verifier.BATCH", 4)
    stream = CasesStream()
    feed(app, *(stream.open_case(f"client-{n}") for n in range(10)))
    reads = []
    states_after = app.recorder.states_after

    def counted(topic, position, limit):
        reads.append((topic, limit))
        return states_after(topic, position, limit)
    monkeypatch.setattr(app.recorder, "states_after", counted)
    assert verify(app)["sources"]["cases"]["entries"] == 10
    # Ten entries, four to a read: three reads of the ledger, not ten.
    assert reads.count((get_topic(LedgerEntry.Recorded), 4)) == 3


def test_a_checkpoint_removed_from_the_store_hides_none_after_it(app, monkeypatch):
    monkeypatch.setenv("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", "1")
    stream = CasesStream()
    for n in range(3):
        feed(app, stream.open_case(f"client-{n}"))
        app.checkpoint_if_due()
    topic = get_topic(LedgerCheckpoint.Signed)
    second, third = [n.id for n in app.recorder.select_notifications(1, 100, topics=[topic])][1:]
    with app.recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute("DELETE FROM stored_events WHERE rowid=?", (second,))

    def forge(state):
        state["signature"] = base64.b64encode(os.urandom(64)).decode()
    edit_stored_event(app, third, forge)
    assert {"sequence": 3, "problem": "signature does not verify"} in \
        verify(app)["checkpoints"]["problems"]
