"""The client register (9.2a, 5, 4.6), the risk register (9.6a, 4.1, 8.3.1d), the eligibility
learned from supervision (6.2.1.2, 9.1a) and disposal from the archive (9.4e)."""

from datetime import UTC, date, datetime

import pytest

from contracts.errors import Conflict, InvalidInput, NotAllowed, NotFound
from services.runtime.context import SYSTEM, acting_as
from services.runtime.vault import SHREDDED
from tests.unit.cases.conftest import (
    INTAKE,
    OPENED_ON,
    OTHER_WORKER,
    SUPERVISOR,
    WORKER,
    case_at,
    close,
    cursor,
    envelope,
    open_case,
    published,
    published_types,
    register_student,
    supervise,
)

pytestmark = pytest.mark.usefixtures("as_worker")


# Client register.


def test_a_student_has_a_grade_and_a_date_of_birth(app):
    with pytest.raises(InvalidInput) as refused:
        app.register_client(client_type="student", name="王小明")
    assert set(refused.value.errors) == {"grade", "date_of_birth"}
    assert app.max_position() == 0


def test_the_register_publishes_no_personal_content_and_opens_it_for_its_readers(app):
    register_student(app)
    (registered,) = published(app)
    assert registered["payload"] == {"client_id": "client-1", "client_type": "student",
                                     "grade": 6, "is_minor": True, "guardian_count": 1}
    app.add_related_party("client-1", "peer", name="小李", relation="desk mate", contact=None)
    client = app.get_client("client-1")
    assert client["details"]["name"] == "王小明"
    assert client["guardians"][0]["name"] == "王芳"
    assert [p["kind"] for p in client["related_parties"]] == ["teacher", "peer"]  # 4.6
    with acting_as(OTHER_WORKER), pytest.raises(NotAllowed):
        app.get_client("client-1")


def test_a_client_is_registered_once(app):
    register_student(app)
    with pytest.raises(Conflict):
        register_student(app)
    assert published_types(app) == ["ClientRegistered"]


def test_a_minor_without_a_guardian_on_record_cannot_start_intake(app):
    # 4.2: guardian consent needs a guardian.
    register_student(app, guardians=False)
    with pytest.raises(Conflict) as refused:
        open_case(app)
    assert refused.value.code == "guardian_required"
    assert published_types(app) == ["ClientRegistered"]
    app.add_guardian("client-1", name="王强", relation="father", contact=None)
    open_case(app)
    assert published_types(app)[-1] == "CaseOpened"


def test_a_student_who_has_turned_eighteen_is_not_a_minor_at_intake(app):
    register_student(app, born=date(2008, 8, 1))
    case_id = open_case(app)
    assert app.get_case(case_id)["client_is_minor"] is False


def test_a_case_needs_a_registered_client(app):
    with pytest.raises(NotFound):
        open_case(app, "nobody")
    assert app.max_position() == 0


# Risk register.


def test_an_emergency_intake_raises_a_life_safety_risk_at_once(app):
    register_student(app)
    case_id = open_case(app, intake={**INTAKE, "emergency": {"risk_type": "abuse",
                                                             "level": "critical"}})
    opened, escalated = published(app)[1:]
    assert opened["type"] == "CaseOpened" and escalated["type"] == "RiskEscalated"
    assert escalated["payload"]["life_safety"] is True
    assert escalated["payload"]["risk_type"] == "abuse"
    assert escalated["payload"]["case_id"] == case_id
    app.accept_intake(case_id, OPENED_ON)
    assert published(app)[-1]["payload"]["emergency"] is True
    # Emergency intervention goes on before consent (8.3.1d, 4.1).
    app.log_intervention(case_id, life_safety=True, form="direct",
                         method="crisis_intervention", service_codes=["7.1.4a"],
                         delivered_on=OPENED_ON, duration_minutes=90)
    assert published_types(app)[-1] == "InterventionLogged"


def test_a_risk_is_raised_changed_and_resolved(app):
    case_id = case_at(app, "assessment")
    risk_id = app.raise_risk(case_id, "bullying", "medium", date(2026, 9, 2), "Pushed at break.")
    app.change_risk_level(case_id, risk_id, "high", date(2026, 9, 3))
    app.change_risk_level(case_id, risk_id, "low", date(2026, 9, 4))
    before = published_types(app)
    with pytest.raises(Conflict):
        app.change_risk_level(case_id, risk_id, "low", date(2026, 9, 5))
    app.resolve_risk(case_id, risk_id, date(2026, 9, 6), "Class moved.")
    with pytest.raises(Conflict):
        app.resolve_risk(case_id, risk_id, date(2026, 9, 7))
    assert published_types(app)[len(before) - 3:] == [
        "RiskEscalated", "RiskEscalated", "RiskLevelLowered", "RiskResolved"]
    up = published(app)[-3]["payload"]
    assert (up["previous_level"], up["level"], up["life_safety"]) == ("medium", "high", False)
    risk = app.get_case(case_id)["risks"][0]
    assert risk["status"] == "resolved" and risk["description"] == "Pushed at break."


def test_a_case_is_not_closed_over_an_open_risk(app):
    case_id = case_at(app, "closed")
    app.raise_risk(case_id, "self_harm", "high", date(2026, 9, 30))
    before = len(published(app))
    with pytest.raises(Conflict):
        close(app, case_id)
    assert len(published(app)) == before


def test_disclosure_despite_confidentiality_needs_a_life_safety_risk(app):
    # 4.1 over 4.5: who was told what, when and why is recorded; only the kinds are published.
    case_id = case_at(app, "assessment")
    risk_id = app.raise_risk(case_id, "violence", "high", date(2026, 9, 2))
    told = [{"kind": "guardian", "who": "王芳"}, {"kind": "medical", "who": "市第一医院"}]
    at = datetime(2026, 9, 2, 15, 0, tzinfo=UTC)
    with pytest.raises(NotAllowed):
        app.record_disclosure(case_id, risk_id, told, "Threatened.", "Immediate risk.", at)
    app.change_risk_level(case_id, risk_id, "critical", date(2026, 9, 2))
    app.record_disclosure(case_id, risk_id, told, "Threatened.", "Immediate risk.", at)
    disclosed = published(app)[-1]
    assert disclosed["type"] == "LifeSafetyDisclosureRecorded"
    assert disclosed["payload"]["recipient_kinds"] == ["guardian", "medical"]
    assert "王芳" not in str(disclosed) and "Threatened" not in str(disclosed)
    details = app.get_case(case_id)["disclosures"][0]["details"]
    assert details["recipients"] == told and details["why"] == "Immediate risk."


def test_self_harm_and_suicide_threaten_life_from_level_high_by_default(app):
    # 4.1 by the risk policy: the worker who rates a suicide risk high already fears for a life.
    case_id = case_at(app, "assessment")
    risk_id = app.raise_risk(case_id, "suicide", "high", date(2026, 9, 2))
    escalated = published(app)[-1]
    assert escalated["type"] == "RiskEscalated" and escalated["payload"]["life_safety"] is True
    app.record_disclosure(case_id, risk_id, [{"kind": "guardian", "who": "王芳"}],
                          "Plan to self-harm.", "Immediate risk.",
                          datetime(2026, 9, 2, 15, 0, tzinfo=UTC))
    # Lowered to medium it no longer counts: life-safety work needs a live life-safety risk.
    app.change_risk_level(case_id, risk_id, "medium", date(2026, 9, 3))
    assert app.get_case(case_id)["risks"][0]["life_safety"] is False
    with pytest.raises(Conflict):
        app.log_intervention(case_id, life_safety=True, form="direct", method="crisis_intervention",
                             service_codes=["7.1.3a"], delivered_on=date(2026, 9, 3),
                             duration_minutes=30)


def test_the_risk_policy_is_configurable_and_its_decision_is_recorded(app, tmp_path,
                                                                      monkeypatch):
    policy = tmp_path / "policy.json"
    policy.write_text('{"bullying/high": {"life_safety": true}, "suicide/high": '
                      '{"life_safety": false}}')
    monkeypatch.setenv("CASEBOOK_ESCALATION_POLICY", str(policy))
    store = {"SQLITE_DBNAME": str(tmp_path / "cases.sqlite")}
    configured = type(app)(env=store)
    with acting_as(WORKER):
        case_id = case_at(configured, "assessment")
        configured.raise_risk(case_id, "bullying", "high", date(2026, 9, 2))
        configured.raise_risk(case_id, "suicide", "high", date(2026, 9, 2))
    escalations = [e["payload"] for e in published(configured) if e["type"] == "RiskEscalated"]
    assert [(e["risk_type"], e["life_safety"]) for e in escalations] == [
        ("bullying", True), ("suicide", False)]
    # Recorded, not re-decided: under the default policy the same store recomputes the same
    # envelopes, so a change of policy never makes verification cry wolf.
    monkeypatch.delenv("CASEBOOK_ESCALATION_POLICY")
    assert published(type(app)(env=store)) == published(configured)


# Eligibility learned from supervision (6.2.1.2, 9.1a).


def learn(app, position, worker, eligible, reasons=()):
    with acting_as(SYSTEM):
        app.learn_from_supervision(
            envelope("SocialWorkerEligibilityChanged", position,
                     {"social_worker_id": worker, "eligible": eligible, "reasons": list(reasons)}),
            cursor("supervision", position),
        )


def test_a_case_goes_only_to_a_worker_supervision_says_is_eligible(app, monkeypatch):
    monkeypatch.setenv("CASEBOOK_REQUIRE_ELIGIBLE_WORKERS", "true")
    register_student(app)
    with pytest.raises(NotAllowed) as refused:
        open_case(app)
    assert refused.value.code == "not_qualified"
    learn(app, 1, "worker-1", False, ["no_pre_job_training"])
    with pytest.raises(NotAllowed) as refused:
        open_case(app)
    assert "no_pre_job_training" in refused.value.detail
    assert published_types(app) == ["ClientRegistered"]
    learn(app, 2, "worker-1", True)
    open_case(app)
    assert published_types(app)[-1] == "CaseOpened"
    assert app.cursor("supervision").position == 2


def test_a_case_is_not_reassigned_to_an_ineligible_worker(app, monkeypatch):
    case_id = case_at(app, "assessment")
    monkeypatch.setenv("CASEBOOK_REQUIRE_ELIGIBLE_WORKERS", "true")
    supervise(app, "worker-1")
    supervise(app, "worker-2")
    learn(app, 3, "worker-2", False, ["not_qualified"])
    with acting_as(SUPERVISOR):
        with pytest.raises(NotAllowed) as refused:
            app.reassign_case(case_id, "worker-2", date(2026, 9, 4))
        assert refused.value.code == "not_qualified"
        assert app.get_case(case_id)["social_worker_id"] == "worker-1"


def test_other_supervision_events_only_move_the_cursor(app):
    with acting_as(SYSTEM):
        app.learn_from_supervision(envelope("SupervisionSessionHeld", 1, {}),
                                   cursor("supervision", 1))
    assert app.max_position() == 0


# Disposal (9.4e).


def test_a_disposal_destroys_the_clients_personal_content_everywhere(app):
    case_id = case_at(app, "intervention")
    sealed = app.check_content(0, 1000)
    assert sealed["proved"] > 0 and sealed["unprovable"] == 0 and sealed["problems"] == []
    with acting_as(SYSTEM):
        disposal = envelope("ArchiveFileDisposed", 1, {
            "file_id": "file-1", "file_code": "JD001-2026-GA-0001", "category": "GA",
            "subject_ids": ["client-1"], "disposed_on": "2033-09-01"}, source="archive")
        app.apply_disposal(disposal, cursor("archive", 1))
    client = app.get_client("client-1")
    assert client["details"] == SHREDDED and client["guardians"] == [SHREDDED]
    assert client["personal_content_destroyed_on"] == "2033-09-01"
    case = app.get_case(case_id)
    assert case["intake"]["initial_information"] == SHREDDED
    assert case["assessments"][0]["strengths"] == SHREDDED
    # The commitments now prove nothing about the client, and nothing is reported as edited.
    after = app.check_content(0, 1000)
    assert after["problems"] == [] and after["proved"] == 0
    assert after["unprovable"] == sealed["proved"]
    # The published history is untouched and nothing new can be recorded about the client.
    assert published_types(app)[0] == "ClientRegistered"
    with pytest.raises(Conflict):
        app.log_intervention(case_id, form="direct", method="case_work",
                             service_codes=["7.1.3a"], delivered_on=date(2026, 9, 10),
                             duration_minutes=30, notes="More.")
