"""Supervision's read models for `casebook rebuild`: what the live store shows equals what a
fresh copy fed with the service's own log rebuilds, and it holds no personal content."""

import json
from datetime import date

from services.runtime.clock import clock
from services.runtime.context import SYSTEM, acting_as
from services.supervision.escalation import escalation_key
from tests.unit.supervision.support import (
    ADMIN,
    SCHOOL,
    SUPERVISOR,
    CasesStream,
    at,
    new_app,
    seed_school,
    seed_supervisor,
    seed_worker,
    supervise,
)

CONTENT = "李小红的妈妈说社工没有回电话。"
CONTACT = "139-1234-5678"


def test_eligibility_escalations_findings_and_complaints_rebuild_equal_and_impersonal():
    clock.set(at(date(2026, 3, 1)))
    app = new_app()
    seed_school(app)
    seed_supervisor(app)
    seed_worker(app, "worker-1")
    seed_worker(app, "worker-2", trained=False)
    supervise(app, "worker-1")
    stream = CasesStream(app)
    # Two cases: one risk taken in charge by the supervisor, one left waiting.
    stream.open_case("case-1", date(2026, 3, 1))
    stream.open_case("case-2", date(2026, 3, 1))
    stream.risk("case-1", "risk-1", "self_harm", "critical")
    stream.risk("case-2", "risk-2", "bullying", "medium")
    with acting_as(SUPERVISOR):
        app.acknowledge_escalation(str(escalation_key("risk-1", "critical")))
    # Nobody assesses either case: the timer raises a finding on each (9.5c).
    clock.set(at(date(2026, 3, 17)))
    with acting_as(SYSTEM):
        raised = app.raise_overdue_findings()
    assert len(raised) == 2
    # Two complaints: one answered, one just received.
    with acting_as(ADMIN):
        answered = app.receive_complaint(
            school_id=SCHOOL, kind="complaint", channel="online", anonymous=False,
            content=CONTENT, contact=CONTACT, about_social_worker_id="worker-1")
        waiting = app.receive_complaint(
            school_id=SCHOOL, kind="suggestion", channel="mailbox", anonymous=True,
            content=CONTENT, contact=None, about_social_worker_id=None)
    with acting_as(SUPERVISOR):
        app.answer_complaint(answered, "upheld", "已致歉并调整回访安排。",
                             answered_on=date(2026, 3, 17))

    live = app.read_models()

    assert live == app.rebuilt_read_models()
    assert live["eligibility"]["worker-1"]["eligible"] is True
    assert live["eligibility"]["worker-1"]["supervisor_id"] == "supervisor-1"
    assert live["eligibility"]["worker-2"]["reasons"] == ["no_pre_job_training"]
    assert live["escalations_by_level_and_state"]["critical"] == {
        "acknowledged": [str(escalation_key("risk-1", "critical"))]}
    assert live["escalations_by_level_and_state"]["medium"] == {
        "awaiting acknowledgement": [str(escalation_key("risk-2", "medium"))]}
    assert live["open_findings_by_control_point"]["assessment_overdue"] == sorted(raised)
    assert live["complaints_by_state"] == {"answered": [answered], "received": [waiting]}
    text = json.dumps(live, ensure_ascii=False)
    assert "sealed:v1:" not in text
    for personal in ("李小红", CONTACT, "已致歉"):
        assert personal not in text
