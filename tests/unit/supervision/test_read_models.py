"""Supervision's views for `casebook rebuild`: the live tables equal tables rebuilt from the
service's own log, they answer eligibility, escalations, findings and complaints, and hold no
personal content."""

import json
from datetime import date

from services.runtime.clock import clock
from services.runtime.context import SYSTEM, acting_as
from services.supervision.escalation import escalation_key
from tests.support.views import assert_views_match_the_log
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

    assert_views_match_the_log(app)
    with acting_as(ADMIN):
        workers = {w["social_worker_id"]: w for w in app.list_social_workers(SCHOOL)["items"]}
        escalations = {e["level"]: e for e in app.list_escalations(SCHOOL)["items"]}
        findings = app.list_findings(SCHOOL, status="open")["items"]
        complaints = {c["complaint_id"]: c for c in app.list_complaints(SCHOOL)["items"]}
    assert (workers["worker-1"]["eligible"], workers["worker-1"]["supervisor_id"]) == (
        True, "supervisor-1")
    assert workers["worker-2"]["ineligibility"] == ["no_pre_job_training"]
    assert (escalations["critical"]["escalation_id"], escalations["critical"]["status"]) == (
        str(escalation_key("risk-1", "critical")), "acknowledged")
    assert (escalations["medium"]["escalation_id"], escalations["medium"]["status"]) == (
        str(escalation_key("risk-2", "medium")), "awaiting acknowledgement")
    assert sorted(f["finding_id"] for f in findings
                  if f["control_point"] == "assessment_overdue") == sorted(raised)
    assert (complaints[answered]["outcome"], complaints[waiting]["answered_on"]) == (
        "upheld", None)
    _, rows = app.views.store.snapshot()
    text = json.dumps(rows, ensure_ascii=False)
    assert "sealed:v1:" not in text
    for personal in ("李小红", CONTACT, "已致歉"):
        assert personal not in text
