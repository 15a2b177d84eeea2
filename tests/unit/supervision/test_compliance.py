"""The compliance report of a school over a period names exactly the gaps it has."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.errors import InvalidInput, NotAllowed
from contracts.registry import validate_envelope
from contracts.taxonomy import SHALL_CODES
from services.runtime.clock import clock
from services.runtime.context import SYSTEM, acting_as
from services.supervision.escalation import escalation_key
from tests.unit.supervision.support import (
    ADMIN,
    AUDITOR,
    OPERATOR,
    OUTSIDER,
    SCHOOL,
    SUPERVISOR,
    WORKER,
    CasesStream,
    at,
    new_app,
    published,
    seed_school,
    seed_supervisor,
    seed_worker,
)

PERIOD = {"period_from": date(2026, 1, 1), "period_to": date(2026, 6, 30)}
NOT_DELIVERED = ["7.2b", "7.5.2"]


def seeded_school():
    """worker-1 does everything right; worker-2 (part-time) lacks pre-job training, has 10
    hours of continuing education and no supervision; two shall codes were not delivered; one
    escalation was acknowledged late; one complaint is unanswered past its limit."""
    clock.set(at(date(2026, 1, 10)))
    app = new_app()
    seed_school(app)
    seed_worker(app, "worker-1")
    seed_worker(app, "worker-2", employment="part_time", trained=False)
    seed_supervisor(app)
    with acting_as(ADMIN):
        app.assign_supervisor(social_worker_id="worker-1", supervisor_id="supervisor-1")
    clock.set(at(date(2026, 7, 1)))
    with acting_as(ADMIN):
        app.record_training(social_worker_id="worker-1", kind="continuing", minutes=2400,
                            topics=["law_and_policy"], completed_on=date(2026, 3, 1))
        app.record_training(social_worker_id="worker-2", kind="continuing", minutes=600,
                            topics=["other"], completed_on=date(2026, 3, 1))
    with acting_as(SUPERVISOR):
        for held_on in (date(2026, 1, 10) + timedelta(days=25 * n) for n in range(1, 7)):
            app.record_supervision_session(supervisor_id="supervisor-1",
                                           social_worker_ids=["worker-1"],
                                           kinds=["educational"], format="individual",
                                           held_on=held_on, duration_minutes=60)

    stream = CasesStream(app)
    clock.set(at(date(2025, 12, 20)))
    stream.open_case("case-0", date(2025, 12, 20))
    stream.intervention("case-0", date(2025, 12, 20), codes=("7.2b",))  # before the period
    clock.set(at(date(2026, 2, 1)))
    stream.open_case("case-1", date(2026, 2, 1))
    delivered = sorted(SHALL_CODES - set(NOT_DELIVERED))
    stream.intervention("case-1", date(2026, 2, 2), codes=tuple(delivered[:10]))
    stream.emit("GroupFormed", "group-1", group_id="group-1", kind="support",
                service_codes=delivered[10:15], social_worker_id="worker-1",
                planned_sessions=6, formed_on=date(2026, 2, 3))
    stream.emit("ClassHeld", "class-1", class_id="class-1", theme="life_education",
                service_codes=delivered[15:], held_on=date(2026, 2, 4), attendance=30,
                grade=7)

    # An escalation acknowledged in time, and one acknowledged after it climbed.
    clock.set(datetime(2026, 3, 1, 10, tzinfo=UTC))
    stream.risk("case-1", "risk-1", "self_harm", "critical")
    clock.set(datetime(2026, 3, 1, 10, 30, tzinfo=UTC))
    with acting_as(SUPERVISOR):
        app.acknowledge_escalation(str(escalation_key("risk-1", "critical")))
    clock.set(datetime(2026, 4, 1, 10, tzinfo=UTC))
    stream.risk("case-1", "risk-2", "bullying", "high")
    clock.set(datetime(2026, 4, 1, 15, tzinfo=UTC))
    with acting_as(SYSTEM):
        app.climb_overdue()
    with acting_as(ADMIN):
        app.acknowledge_escalation(str(escalation_key("risk-2", "high")))

    # A complaint answered in time, one never answered.
    with acting_as(ADMIN):
        clock.set(at(date(2026, 2, 5)))
        answered = app.receive_complaint(school_id=SCHOOL, kind="complaint", channel="phone",
                                         anonymous=True, content="...",
                                         received_on=date(2026, 2, 1))
        app.answer_complaint(answered, "noted", "Thanks.")
        clock.set(at(date(2026, 5, 1)))
        unanswered = app.receive_complaint(school_id=SCHOOL, kind="complaint",
                                           channel="mailbox", anonymous=True, content="...")
    clock.set(at(date(2026, 7, 1)))
    return app, unanswered


def test_the_report_names_exactly_the_gaps_of_the_seeded_school():
    app, unanswered = seeded_school()
    with acting_as(AUDITOR):
        report = app.compliance_report(SCHOOL, **PERIOD)
    assert report["compliant"] is False
    assert sorted((g["clause"], g["check"], g["subject_id"]) for g in report["gaps"]) == sorted([
        ("9.1a", "pre_job_training", "worker-2"),
        ("9.1b", "continuing_education_hours", "worker-2"),
        ("9.1c", "supervision_interval", "worker-2"),
        ("7", "shall_services_delivered", "7.2b"),
        ("7", "shall_services_delivered", "7.5.2"),
        ("9.6b", "escalations_acknowledged_in_time", str(escalation_key("risk-2", "high"))),
        ("10.1.2", "complaints_answered_in_time", unanswered),
    ])
    hours_gap = next(g for g in report["gaps"] if g["check"] == "continuing_education_hours")
    assert "1560 missing" in hours_gap["detail"]
    met = {c["check"]: c["met"] for c in report["checks"]}
    assert met["service_space"] is True and met["qualified_full_time_worker"] is True
    assert met["shall_services_delivered"] is False


def test_the_csv_export_has_a_row_per_met_check_and_per_gap():
    app, _ = seeded_school()
    with acting_as(AUDITOR):
        report = app.compliance_report(SCHOOL, **PERIOD)
        text = app.compliance_report_csv(SCHOOL, **PERIOD)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["clause", "check", "met", "subject_id", "detail"]
    assert [(r["check"], r["subject_id"]) for r in rows if r["met"] == "no"] == [
        (g["check"], g["subject_id"]) for g in report["gaps"]]
    assert {r["check"] for r in rows if r["met"] == "yes"} == {
        "service_space", "qualified_full_time_worker"}


def test_a_school_with_nothing_has_the_staffing_space_and_service_gaps():
    clock.set(at(date(2026, 7, 1)))
    app = new_app()
    seed_school(app, facilities=())
    seed_worker(app, employment="part_time")
    with acting_as(OPERATOR):
        report = app.compliance_report(SCHOOL, **PERIOD)
    checks = {(g["check"], g["subject_id"]) for g in report["gaps"]}
    assert ("service_space", None) in checks
    assert ("qualified_full_time_worker", None) in checks
    assert {s for c, s in checks if c == "shall_services_delivered"} == set(SHALL_CODES)


def test_report_refusals():
    app = new_app()
    seed_school(app)
    with acting_as(OUTSIDER), pytest.raises(NotAllowed):
        app.compliance_report(SCHOOL, **PERIOD)
    with acting_as(WORKER), pytest.raises(NotAllowed):
        app.compliance_report(SCHOOL, **PERIOD)
    with acting_as(AUDITOR), pytest.raises(InvalidInput):
        app.compliance_report(SCHOOL, period_from=date(2026, 6, 1), period_to=date(2026, 1, 1))


def test_every_published_event_matches_its_contract_and_chains():
    app, _ = seeded_school()
    envelopes = published(app)
    assert {e["type"] for e in envelopes} >= {
        "SchoolRegistered", "SocialWorkerRegistered", "SocialWorkerEligibilityChanged",
        "SupervisorRegistered", "SupervisorAssigned", "TrainingRecorded",
        "SupervisionSessionHeld", "EscalationOpened", "EscalationAcknowledged",
        "EscalationClimbed", "ComplaintReceived", "ComplaintAnswered"}
    for previous, envelope in zip([None, *envelopes], envelopes, strict=False):
        validate_envelope(envelope)
        if previous is not None:
            assert envelope["prev_hash"] == previous["hash"]
        assert "静安区第一中学" not in str(envelope)
