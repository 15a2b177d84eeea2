"""Every stored event of the cases service reaches the audit trail (envelope format 2): each one
has a contract event, its payload holds no personal content, and each sealed value travels only
as a keyed commitment that proves it to whoever may read it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from contracts.envelope import HASH_RULE
from contracts.registry import validate_envelope
from services.cases.publish import PUBLICATIONS
from services.runtime.context import SYSTEM, acting_as
from services.runtime.vault import parse
from tests.support.views import undeclared
from tests.unit.cases.conftest import (
    case_at,
    close,
    cursor,
    envelope,
    published,
    register_student,
)

pytestmark = pytest.mark.usefixtures("as_worker")

# Personal content the scenario records: none of it may reach an envelope.
PERSONAL = ("王小明", "王芳", "李老师", "138-0000-0000", "Fights in class", "anger in class",
            "Weekly sessions", "Help me", "Session notes", "Calmer", "王奶奶")


def test_every_domain_event_class_is_declared():
    assert undeclared(PUBLICATIONS, "services.cases") == []


def test_every_stored_event_is_published_with_commitments_and_nothing_personal(app):
    # A case from intake to closing, with a risk, a disclosure and a follow-up; a guardian and a
    # related party added; a group with a member, a session and an evaluation; a letter that
    # opens a case; a class; and a disposal.
    case_id = case_at(app, "closed", "client-1")
    risk_id = app.raise_risk(case_id, "suicide", "high", date(2026, 9, 20))
    app.record_disclosure(case_id, risk_id, [{"kind": "guardian", "who": "王芳"}],
                          "Plan to self-harm.", "Immediate risk.",
                          datetime(2026, 9, 20, 9, tzinfo=UTC))
    app.resolve_risk(case_id, risk_id, date(2026, 9, 21))
    close(app, case_id, follow_up={"due_on": date(2026, 11, 1)})
    app.add_guardian("client-1", name="王奶奶", relation="grandmother", contact=None)
    app.add_related_party("client-1", "teacher", name="李老师", relation="maths")
    register_student(app, "client-2")
    group_id = app.form_group("support", "Coping with change", ["7.1.3a"], "worker-1", 6,
                              date(2026, 9, 5))
    app.add_group_member(group_id, "client-2", date(2026, 9, 5))
    app.hold_group_session(group_id, date(2026, 9, 12), ["client-2"], "Session notes.")
    app.evaluate_group(group_id, date(2026, 10, 1), [1, 2], "Calmer as a group.")
    letter_id = app.receive_letter(date(2026, 9, 6), "Help me, please.", client_id="client-2")
    app.open_case(client_id="client-2", social_worker_id="worker-1", service_codes=["7.1.3a"],
                  opened_on=date(2026, 9, 7), letter_id=letter_id,
                  intake={"worker_introduced": True})
    app.hold_class("life_education", "Valuing life", ["7.1.4d"], date(2026, 9, 9), 38, 5)
    with acting_as(SYSTEM):
        app.apply_disposal(envelope("ArchiveFileDisposed", 1, {
            "file_id": "f-1", "record_id": case_id, "subject_ids": ["client-1"],
            "disposed_on": "2036-09-01", "category": "GA"}, source="archive"),
            cursor("archive", 1))

    stored = app.notifications_after(0, 10_000)
    envelopes = published(app)
    assert len(envelopes) == len(stored)  # every stored event, none left out
    types = {e["type"] for e in envelopes}
    assert {"AuditRecorded", "GroupMemberAdded", "PersonalContentDestroyed"} <= types
    text = json.dumps(envelopes, ensure_ascii=False)
    assert not [word for word in PERSONAL if word in text]
    for published_envelope in envelopes:
        validate_envelope(published_envelope)
        assert published_envelope["hash_rule"] == HASH_RULE
    # Each sealed value is a commitment in its envelope, and proves its content.
    committed = [e for e in envelopes if e.get("commitments")]
    assert committed
    events = {n.id: app.mapper.to_domain_event(n) for n in stored}
    for sealed in committed:
        event = events[sealed["position"]]
        for path, commitment in sealed["commitments"].items():
            token = _at(vars(event), path)
            assert parse(token).commitment == commitment
            assert app.vault.check(token) in (True, None)  # None: client-1's key is destroyed


def _at(value: object, path: str) -> str:
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]  # type: ignore[index]
    assert isinstance(value, str)
    return value
