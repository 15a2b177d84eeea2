"""Risk escalation (9.6b, 4.1): the policy table, opening from the cases stream, climbing on the
settable clock, acknowledgement, actions, resolution and the trail."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from contracts.errors import Conflict, NotAllowed
from services.runtime.clock import clock
from services.runtime.context import SYSTEM, acting_as
from services.supervision.escalation import escalation_key, ladder_for
from tests.unit.supervision.support import (
    ADMIN,
    AUDITOR,
    OPERATOR,
    OTHER_SUPERVISOR,
    OTHER_WORKER,
    OUTSIDER,
    SUPERVISOR,
    WORKER,
    CasesStream,
    new_app,
    published,
    seed_school,
    seed_supervisor,
    seed_worker,
    supervise,
)

OPENED = datetime(2026, 5, 4, 10, tzinfo=UTC)


@pytest.fixture
def app():
    """worker-1 and worker-2 of JD001, both supervised by supervisor-1; supervisor-2 has
    nobody."""
    clock.set(OPENED)
    app = new_app()
    seed_school(app)
    for supervisor_id in ("supervisor-1", "supervisor-2"):
        seed_supervisor(app, supervisor_id)
    for worker_id in ("worker-1", "worker-2"):
        seed_worker(app, worker_id)
        supervise(app, worker_id, "supervisor-1")
    return app


@pytest.fixture
def stream(app):
    stream = CasesStream(app)
    stream.open_case("case-1", OPENED.date())
    return stream


def escalation_id(risk_id="risk-1", level="critical"):
    return str(escalation_key(risk_id, level))


def climb(app):
    with acting_as(SYSTEM):
        return app.climb_overdue()


def published_of(app, type_):
    return [e["payload"] for e in published(app) if e["type"] == type_]


def test_the_policy_table_has_documented_defaults():
    assert ladder_for("bullying", "critical", False) == [
        {"role": "supervisor", "minutes": 60}, {"role": "school_admin", "minutes": 60},
        {"role": "operator", "minutes": 120}]
    assert ladder_for("bullying", "low", False) == [
        {"role": "social_worker", "minutes": 5 * 24 * 60},
        {"role": "supervisor", "minutes": 5 * 24 * 60}]
    # Life-threatening types at high take the critical ladder, and so does any life-safety risk.
    assert ladder_for("suicide", "high", False) == ladder_for("suicide", "critical", False)
    assert ladder_for("bullying", "low", True) == ladder_for("bullying", "critical", False)


def test_an_operator_can_replace_rows_of_the_table(tmp_path, monkeypatch):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"bullying/medium": [["supervisor", 30], ["operator", 30]]}))
    monkeypatch.setenv("CASEBOOK_ESCALATION_POLICY", str(policy))
    assert ladder_for("bullying", "medium", False) == [
        {"role": "supervisor", "minutes": 30}, {"role": "operator", "minutes": 30}]
    policy.write_text(json.dumps({"bullying/medium": [["janitor", 30]]}))
    with pytest.raises(ValueError, match="acknowledging role"):
        ladder_for("bullying", "medium", False)


def test_an_unacknowledged_critical_escalation_climbs_step_by_step_on_the_clock(app, stream):
    # A critical risk is raised: the supervisor must acknowledge within an hour.
    stream.risk("case-1", "risk-1", "self_harm", "critical")
    [opened] = published_of(app, "EscalationOpened")
    assert opened["role"] == "supervisor"
    assert opened["due_at"] == (OPENED + timedelta(hours=1)).isoformat()
    # Fifty-nine minutes later nothing climbs.
    clock.set(OPENED + timedelta(minutes=59))
    assert climb(app) == []
    # At the hour it climbs to the school administrator.
    clock.set(OPENED + timedelta(hours=1))
    assert climb(app) == [escalation_id()]
    # The timer was down for three more hours: it catches up to the operator, and stops there.
    clock.set(OPENED + timedelta(hours=5))
    assert climb(app) == [escalation_id()]
    assert climb(app) == []
    assert [(c["from_role"], c["to_role"], c["step"], c["climbed_at"])
            for c in published_of(app, "EscalationClimbed")] == [
        ("supervisor", "school_admin", 2, (OPENED + timedelta(hours=1)).isoformat()),
        ("school_admin", "operator", 3, (OPENED + timedelta(hours=2)).isoformat())]
    with acting_as(AUDITOR):
        assert app.get_escalation(escalation_id())["role"] == "operator"


def test_acknowledged_in_time_stops_the_climb_and_the_trail_reads_in_order(app, stream):
    stream.risk("case-1", "risk-1", "abuse", "critical")
    # The supervisor acknowledges after 40 minutes: in time.
    clock.set(OPENED + timedelta(minutes=40))
    with acting_as(SUPERVISOR):
        app.acknowledge_escalation(escalation_id())
    clock.set(OPENED + timedelta(hours=3))
    assert climb(app) == []
    # The worker records what was done; the supervisor resolves it.
    with acting_as(WORKER):
        app.record_escalation_action(escalation_id(), "contacted_guardian")
        app.record_escalation_action(escalation_id(), "child_protection_notified")
    with acting_as(SUPERVISOR):
        app.resolve_escalation(escalation_id(), "handled")
        trail = app.escalation_trail(escalation_id())["trail"]
    assert [step["event"] for step in trail] == [
        "Opened", "Acknowledged", "ActionTaken", "ActionTaken", "Resolved"]
    assert [step["version"] for step in trail] == [1, 2, 3, 4, 5]
    assert trail[1]["actor"] == {"id": "supervisor-1", "role": "supervisor"}
    assert trail[1]["details"]["in_time"] is True
    assert trail[2]["details"]["action"] == "contacted_guardian"
    [acknowledged] = published_of(app, "EscalationAcknowledged")
    assert acknowledged["in_time"] is True and acknowledged["step"] == 1


def test_acknowledged_after_a_climb_is_late(app, stream):
    stream.risk("case-1", "risk-1", "violence", "critical")
    clock.set(OPENED + timedelta(minutes=70))
    climb(app)
    with acting_as(ADMIN):
        summary = app.acknowledge_escalation(escalation_id())
    assert summary["acknowledgement"]["in_time"] is False
    assert summary["acknowledgement"]["step"] == 2


def test_acknowledgement_refusals_change_nothing(app, stream):
    stream.risk("case-1", "risk-1", "bullying", "medium")
    medium = escalation_id(level="medium")
    before = published(app)
    # At its first step a medium risk waits for the case's own social worker.
    with acting_as(OTHER_WORKER), pytest.raises(NotAllowed):
        app.acknowledge_escalation(medium)
    # Another school's administrator may not touch it.
    with acting_as(OUTSIDER), pytest.raises(NotAllowed):
        app.acknowledge_escalation(medium)
    # Actions and resolution need an acknowledgement first.
    with acting_as(WORKER), pytest.raises(Conflict):
        app.record_escalation_action(medium, "counselling")
    with acting_as(SUPERVISOR), pytest.raises(Conflict):
        app.resolve_escalation(medium, "handled")
    assert published(app) == before
    # Once it climbs to the supervisor, the worker's step is past.
    clock.set(OPENED + timedelta(hours=24))
    climb(app)
    before = published(app)
    with acting_as(WORKER), pytest.raises(NotAllowed):
        app.acknowledge_escalation(medium)
    with acting_as(SUPERVISOR):
        app.acknowledge_escalation(medium)
        with pytest.raises(Conflict):
            app.acknowledge_escalation(medium)
    assert len(published(app)) == len(before) + 1


def test_a_higher_level_supersedes_the_lower_escalation_and_risk_resolved_closes_it(app,
                                                                                    stream):
    stream.risk("case-1", "risk-1", "bullying", "medium")
    clock.set(OPENED + timedelta(hours=2))
    stream.risk("case-1", "risk-1", "bullying", "critical", previous_level="medium")
    with acting_as(AUDITOR):
        assert app.get_escalation(escalation_id(level="medium"))["status"] == "resolved"
        assert app.get_escalation(escalation_id())["status"] == "awaiting acknowledgement"
    clock.set(OPENED + timedelta(hours=3))
    stream.emit("RiskResolved", "case-1", risk_id="risk-1", case_id="case-1",
                resolved_on=clock.today())
    assert [r["resolution"] for r in published_of(app, "EscalationResolved")] == [
        "superseded", "risk_resolved"]
    # Resolved escalations no longer climb.
    clock.set(OPENED + timedelta(days=30))
    assert climb(app) == []


def test_each_risk_event_opens_one_escalation_even_when_delivered_again(app, stream):
    envelope = stream.risk("case-1", "risk-1", "suicide", "high", life_safety=True)
    stream.deliver(envelope)
    assert len(published_of(app, "EscalationOpened")) == 1
    with acting_as(OPERATOR):
        escalations = app.list_escalations("JD001")["items"]
    assert [e["level"] for e in escalations] == ["high"]
    # Life safety (4.1): the critical ladder, the supervisor within the hour.
    assert escalations[0]["role"] == "supervisor"
    assert escalations[0]["ladder"][0]["minutes"] == 60


def test_a_worker_sees_only_escalations_of_their_own_cases(app, stream):
    stream.open_case("case-2", OPENED.date(), worker_id="worker-2")
    stream.risk("case-1", "risk-1", "bullying", "low")
    stream.risk("case-2", "risk-2", "bullying", "low", worker_id="worker-2")
    with acting_as(WORKER):
        assert [e["case_id"] for e in app.list_escalations("JD001")["items"]] == ["case-1"]
        with pytest.raises(NotAllowed):
            app.get_escalation(escalation_id("risk-2", "low"))


def test_only_the_system_or_an_operator_runs_the_timer_duties(app):
    with acting_as(SUPERVISOR), pytest.raises(NotAllowed):
        app.climb_overdue()


def test_a_supervisor_oversees_only_the_escalations_of_their_supervisees_cases(app, stream):
    stream.risk("case-1", "risk-1", "abuse", "critical")
    critical = escalation_id()
    before = published(app)
    # supervisor-2 does not supervise worker-1, whose case it is.
    with acting_as(OTHER_SUPERVISOR):
        for refused in (app.acknowledge_escalation, app.get_escalation, app.escalation_trail):
            with pytest.raises(NotAllowed):
                refused(critical)
        with pytest.raises(NotAllowed):
            app.resolve_escalation(critical, "handled")
        assert app.list_escalations("JD001")["items"] == []
    assert published(app) == before

    # The case goes to worker-3, whom supervisor-2 supervises: its escalation follows it.
    seed_worker(app, "worker-3")
    supervise(app, "worker-3", "supervisor-2")
    stream.emit("CaseReassigned", "case-1", case_id="case-1",
                from_social_worker_id="worker-1", to_social_worker_id="worker-3")
    before = published(app)
    with acting_as(SUPERVISOR), pytest.raises(NotAllowed):
        app.acknowledge_escalation(critical)
    assert published(app) == before
    with acting_as(OTHER_SUPERVISOR):
        app.acknowledge_escalation(critical)
        app.record_escalation_action(critical, "contacted_guardian")
        assert [e["escalation_id"] for e in app.list_escalations("JD001")["items"]] == [critical]


def test_an_escalation_of_a_worker_with_no_supervisor_goes_past_the_supervisors(app, stream):
    stream.open_case("case-9", OPENED.date(), worker_id="worker-9")
    stream.risk("case-9", "risk-9", "suicide", "critical", worker_id="worker-9")
    critical = escalation_id("risk-9")
    before = published(app)
    with acting_as(SUPERVISOR), pytest.raises(NotAllowed):
        app.acknowledge_escalation(critical)
    assert published(app) == before
    # The next step up the ladder takes charge at once.
    with acting_as(ADMIN):
        assert app.acknowledge_escalation(critical)["acknowledgement"]["role"] == "school_admin"
