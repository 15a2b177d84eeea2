"""Envelope formats, audit-only events and keyed commitments: an old event's envelope never
changes; every new event is published; each sealed value travels as a commitment that proves
its content to whoever may read it, and nothing once the subject's key is destroyed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eventsourcing.domain import event

from contracts.envelope import GENESIS_HASH, HASH_RULE, canonical_json, envelope_hash
from contracts.registry import validate_envelope
from services.runtime import domain
from services.runtime.context import Actor, acting_as
from services.runtime.domain import CasebookAggregate
from services.runtime.publishing import Publications, Unmapped
from services.runtime.store import CasebookApplication
from services.runtime.vault import SHREDDED, parse

WORKER = Actor("worker-1", "social_worker", "JD001")


class Pupil(CasebookAggregate):
    @event("Noted")
    def __init__(self, school_id: str, client_id: str, note: str, grade: int) -> None:
        self.school_id = school_id
        self.client_id = client_id
        self.note = note
        self.grade = grade

    @event("Moved")
    def move(self, grade: int, reasons: list[str]) -> None:
        self.grade = grade


PUBLICATIONS = Publications("cases")
PUBLICATIONS.audit_only(Pupil.Noted, "Pupil", "client_id", "grade")  # type: ignore[attr-defined]


class Pupils(CasebookApplication):
    service = "cases"
    publications = PUBLICATIONS


@pytest.fixture
def app() -> Pupils:
    return Pupils(env={"SQLITE_DBNAME": ":memory:"})


def note(app: Pupils, value: Any, stamped: int) -> Any:
    """A pupil noted with a sealed `value`, stamped with envelope format `stamped`."""
    original = domain.STAMPED_FORMAT
    domain.STAMPED_FORMAT = stamped
    try:
        with acting_as(WORKER):
            pupil = Pupil(school_id="JD001", client_id="c-1",
                          note=app.vault.seal("c-1", value), grade=5)
            app.save(pupil)
    finally:
        domain.STAMPED_FORMAT = original
    return next(iter(app.events.get(pupil.id)))


def test_a_format_2_event_is_published_with_its_hash_rule_and_commitments(app) -> None:
    stored = note(app, {"text": "Cries in class."}, stamped=2)
    envelope = PUBLICATIONS.envelope(stored, 7, 0, GENESIS_HASH)
    assert envelope is not None
    validate_envelope(envelope)
    assert envelope["type"] == "AuditRecorded" and envelope["hash_rule"] == HASH_RULE
    assert envelope["payload"] == {"event": "Noted", "record": "Pupil",
                                   "details": {"client_id": "c-1", "grade": 5}}
    assert envelope["commitments"] == {"note": parse(stored.note).commitment}
    # Nothing of the sealed content is in the envelope; the hash is RFC 8785's.
    assert "Cries" not in json.dumps(envelope, ensure_ascii=False)
    body = {k: v for k, v in envelope.items() if k != "hash"}
    assert envelope["hash"] == envelope_hash(envelope)
    assert canonical_json(body) == canonical_json(body, HASH_RULE)


def test_an_event_from_before_the_format_keeps_its_first_envelope(app) -> None:
    # Stored before formats were stamped: not mapped then, so never published.
    stored = note(app, "A note.", stamped=1)
    assert PUBLICATIONS.envelope(stored, 3, 0, GENESIS_HASH) is None


def test_a_new_event_without_a_mapping_is_an_error_not_a_silent_gap(app) -> None:
    with acting_as(WORKER):
        pupil = Pupil(school_id="JD001", client_id="c-2", note=None, grade=5)
        pupil.move(6, ["promoted"])
    moved = pupil.collect_events()[-1]
    with pytest.raises(Unmapped, match="Moved"):
        PUBLICATIONS.envelope(moved, 9, 8, GENESIS_HASH)
    assert not PUBLICATIONS.declares(Pupil.Moved)  # type: ignore[attr-defined]
    assert PUBLICATIONS.declares(Pupil.Noted)  # type: ignore[attr-defined]


def test_an_event_that_could_not_be_published_fails_its_save_and_nothing_is_stored(app) -> None:
    # Stored, it would stop the relay at its position with every later event behind it.
    with acting_as(WORKER):
        pupil = Pupil(school_id="JD001", client_id="c-3", note=None, grade=5)
        app.save(pupil)
        stored = app.max_position()
        pupil.move(6, ["promoted"])
        with pytest.raises(Unmapped, match="Moved"):
            app.save(pupil)
    assert app.max_position() == stored
    assert app.repository.get(pupil.id).grade == 5


def test_a_commitment_proves_the_content_and_an_edit_is_found(app) -> None:
    token = app.vault.seal("c-1", {"text": "Cries in class."})
    assert app.vault.check(token) is True
    # Another content under the same commitment, sealed with the subject's own key: found.
    forged_body = app.vault.seal("c-1", {"text": "Something else."})
    forged = f"sealed:v2:c-1:{parse(token).commitment}:{forged_body.rpartition(':')[2]}"
    assert app.vault.check(forged) is False
    # After disposal the commitment proves nothing to anyone, and the envelope is unchanged.
    stored = note(app, "A note.", stamped=2)
    before = PUBLICATIONS.envelope(stored, 7, 0, GENESIS_HASH)
    app.vault.shred("c-1")
    assert app.vault.check(stored.note) is None
    assert app.vault.open(stored.note) == SHREDDED
    assert PUBLICATIONS.envelope(stored, 7, 0, GENESIS_HASH) == before


def test_audit_only_fields_hold_no_free_text(app) -> None:
    from marshmallow import ValidationError

    from contracts.registry import validate_payload

    with pytest.raises(ValidationError):
        validate_payload("AuditRecorded", 1, {"event": "Noted", "record": "Pupil",
                                              "details": {"reason": "She told me that"}})
    with pytest.raises(ValidationError):
        validate_payload("AuditRecorded", 1, {"event": "Noted", "record": "Pupil",
                                              "details": {"hours": 2.5}})
