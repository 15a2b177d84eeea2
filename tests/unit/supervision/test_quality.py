"""Key control points of the service process (9.5c), computed from the cases stream and the
settable clock, and improvement actions (10.3)."""

from datetime import UTC, date, datetime

import pytest

from contracts.errors import Conflict, InvalidInput, NotAllowed
from services.runtime.clock import clock
from services.runtime.context import SYSTEM, acting_as
from services.runtime.settings import settings as runtime_settings
from services.supervision.app import SupervisionApplication
from services.supervision.quality import finding_key, letter_breaches
from tests.unit.supervision.support import (
    AUDITOR,
    SCHOOL,
    SUPERVISOR,
    WORKER,
    CasesStream,
    new_app,
    published,
)


def on(day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 8, tzinfo=UTC))


@pytest.fixture
def app():
    on(date(2026, 3, 1))
    return new_app()


@pytest.fixture
def stream(app):
    return CasesStream(app)


def settings():
    return runtime_settings().supervision


def run_timer(app):
    with acting_as(SYSTEM):
        return app.raise_overdue_findings()


def findings(app):
    with acting_as(AUDITOR):
        return [(f["control_point"], f["case_id"] or f["letter_id"], f["due_on"], f["detected_on"])
                for f in app.list_findings(SCHOOL)["items"]]


def test_no_assessment_fourteen_days_after_intake_is_raised_once_by_the_clock(app, stream):
    stream.open_case("case-1", date(2026, 3, 1))
    stream.emit("IntakeCompleted", "case-1", case_id="case-1", accepted_on=date(2026, 3, 2),
                emergency=False)
    # On the deadline nothing is wrong yet.
    on(date(2026, 3, 16))
    assert run_timer(app) == []
    # The day after, the finding is raised, once.
    on(date(2026, 3, 17))
    assert len(run_timer(app)) == 1
    assert run_timer(app) == []
    # The late assessment arrives: the same control point is not raised again.
    stream.emit("AssessmentRecorded", "case-1", case_id="case-1", assessment_number=1,
                assessed_on=date(2026, 3, 18), problem_count=2, strength_count=3)
    assert findings(app) == [("assessment_overdue", "case-1", "2026-03-16", "2026-03-17")]
    [raised] = [e for e in published(app) if e["type"] == "QualityFindingRaised"]
    assert raised["payload"]["social_worker_id"] == "worker-1"


def test_a_late_step_is_found_from_the_event_itself_without_the_timer(app, stream):
    stream.open_case("case-1", date(2026, 3, 1))
    stream.emit("AssessmentRecorded", "case-1", case_id="case-1", assessment_number=1,
                assessed_on=date(2026, 3, 5), problem_count=1, strength_count=1)
    # The plan comes 20 days after the assessment: 14 are allowed.
    stream.emit("PlanAdopted", "case-1", case_id="case-1", plan_version=1, goal_count=2,
                adopted_on=date(2026, 3, 25), review_by=None)
    assert findings(app) == [("plan_overdue", "case-1", "2026-03-19", "2026-03-25")]


def test_an_open_case_without_intervention_for_thirty_days_and_the_settings(app, stream,
                                                                            monkeypatch):
    stream.open_case("case-1", date(2026, 3, 1))
    stream.emit("AssessmentRecorded", "case-1", case_id="case-1", assessment_number=1,
                assessed_on=date(2026, 3, 2), problem_count=1, strength_count=1)
    stream.emit("PlanAdopted", "case-1", case_id="case-1", plan_version=1, goal_count=1,
                adopted_on=date(2026, 3, 3), review_by=None)
    stream.intervention("case-1", date(2026, 3, 10))
    # Forty days after the last intervention, with the gap set to 45: nothing.
    monkeypatch.setenv("CASEBOOK_QC_INTERVENTION_GAP_DAYS", "45")
    on(date(2026, 4, 19))
    assert run_timer(app) == []
    # With the default of 30 it is a finding.
    monkeypatch.delenv("CASEBOOK_QC_INTERVENTION_GAP_DAYS")
    assert len(run_timer(app)) == 1
    # Service resumes and stalls again later: a new gap is a new finding.
    stream.intervention("case-1", date(2026, 4, 20))
    on(date(2026, 5, 21))
    assert len(run_timer(app)) == 1
    assert [f[0] for f in findings(app)] == ["no_recent_intervention"] * 2


def test_closing_without_both_evaluations_is_a_finding_and_with_both_is_not(app, stream):
    for case_id, kinds in (("case-1", ["process"]), ("case-2", ["process", "outcome"])):
        stream.open_case(case_id, date(2026, 3, 1))
        for kind in kinds:
            stream.emit("EvaluationRecorded", case_id, case_id=case_id, kind=kind,
                        evaluated_on=date(2026, 3, 5), goal_attainment=[1], satisfaction=None)
        stream.emit("CaseClosed", case_id, reason="goals_met", closed_on=date(2026, 3, 6),
                    intervention_count=0)
    assert findings(app) == [("closed_without_evaluations", "case-1", "2026-03-06",
                              "2026-03-06")]


def test_declined_intakes_have_no_process_deadlines(app, stream):
    stream.open_case("case-1", date(2026, 3, 1))
    stream.emit("IntakeDeclined", "case-1", case_id="case-1", reason_code="beyond_scope",
                referral_id="ref-1", declined_on=date(2026, 3, 2))
    on(date(2026, 9, 1))
    assert run_timer(app) == []


def test_overdue_follow_ups_and_unanswered_letters(app, stream):
    stream.open_case("case-1", date(2026, 3, 1))
    stream.emit("AssessmentRecorded", "case-1", case_id="case-1", assessment_number=1,
                assessed_on=date(2026, 3, 2), problem_count=1, strength_count=1)
    for kind in ("process", "outcome"):
        stream.emit("EvaluationRecorded", "case-1", case_id="case-1", kind=kind,
                    evaluated_on=date(2026, 3, 4), goal_attainment=[2], satisfaction=None)
    stream.emit("CaseClosed", "case-1", reason="goals_met", closed_on=date(2026, 3, 5),
                intervention_count=0)
    stream.emit("FollowUpScheduled", "case-1", case_id="case-1", follow_up_id="fu-1",
                due_on=date(2026, 3, 10))
    stream.emit("FollowUpScheduled", "case-1", case_id="case-1", follow_up_id="fu-2",
                due_on=date(2026, 3, 10))
    stream.emit("FollowUpRecorded", "case-1", case_id="case-1", follow_up_id="fu-2",
                done_on=date(2026, 3, 12), outcome="stable")
    stream.emit("LetterReceived", "letter-1", letter_id="letter-1", anonymous=True,
                received_on=date(2026, 3, 10), service_codes=[])
    stream.emit("LetterReceived", "letter-2", letter_id="letter-2", anonymous=False,
                received_on=date(2026, 3, 10), service_codes=[])
    stream.emit("LetterAnswered", "letter-2", letter_id="letter-2",
                answered_on=date(2026, 3, 12), days_to_answer=2, opened_case_id=None)
    # Seven days of grace for the follow-up, seven days to answer a letter.
    on(date(2026, 3, 18))
    run_timer(app)
    assert sorted(f[:2] for f in findings(app)) == [
        ("follow_up_overdue", "case-1"), ("letter_unanswered", "letter-1")]


def test_two_instances_raise_each_finding_once_when_one_lags_behind(tmp_path):
    """Two instances of the service on one store: the one whose views have not yet seen what the
    other raised tries it again, and stores the rest."""
    on(date(2026, 3, 1))
    store = {"SQLITE_DBNAME": str(tmp_path / "supervision.sqlite")}
    first, second = SupervisionApplication(env=store), SupervisionApplication(env=store)
    stream = CasesStream(first)
    for letter_id in ("letter-1", "letter-2"):
        stream.emit("LetterReceived", letter_id, letter_id=letter_id, anonymous=True,
                    received_on=date(2026, 3, 1), service_codes=[])
    on(date(2026, 3, 20))
    [letter_1] = [row for row in second.views.overdue_letters(settings(), clock.today())
                  if row["letter_id"] == "letter-1"]
    # The first raises letter-1's finding, and its views do not follow before the second runs.
    first.follow = lambda *_: None  # type: ignore[method-assign]
    [breach] = letter_breaches(date(2026, 3, 1), None, settings(), clock.today(), set())
    with acting_as(SYSTEM):
        first.save(first._finding(SCHOOL, letter_1["letter_id"], breach, letter=True))
    with acting_as(SYSTEM):
        raised = second.raise_overdue_findings()
    assert raised == [str(finding_key("letter-2", "letter_unanswered"))]
    with acting_as(AUDITOR):
        assert sorted(f["letter_id"] for f in second.list_findings(SCHOOL)["items"]) == [
            "letter-1", "letter-2"]


def test_a_finding_starts_an_improvement_action_tracked_to_done(app, stream):
    stream.open_case("case-1", date(2026, 3, 1))
    on(date(2026, 4, 1))
    [finding_id] = run_timer(app)
    with acting_as(SUPERVISOR):
        action_id = app.open_improvement_action(finding_id, "worker-1",
                                                "Weekly case review with the supervisor.",
                                                date(2026, 4, 30))
        # One action at a time per finding.
        before = published(app)
        with pytest.raises(Conflict):
            app.open_improvement_action(finding_id, "worker-1", "Again.", date(2026, 4, 30))
        assert published(app) == before
        assert app.list_findings(SCHOOL)["items"][0]["status"] == "in_improvement"
        on(date(2026, 4, 20))
        app.complete_improvement_action(action_id, "Reviews held; assessments on time.")
        with pytest.raises(Conflict):
            app.complete_improvement_action(action_id, "Twice.")
        assert app.list_findings(SCHOOL)["items"][0]["status"] == "addressed"
        assert app.list_improvement_actions(SCHOOL)["items"][0]["status"] == "done"
    completed = [e["payload"] for e in published(app) if e["type"] == "ImprovementActionCompleted"]
    assert completed == [{"action_id": action_id, "finding_id": finding_id,
                          "completed_on": "2026-04-20", "on_time": True}]
    # The plan and result describe practice and stay in the store.
    assert "Weekly case review" not in str(published(app))


def test_improvement_action_refusals(app, stream):
    stream.open_case("case-1", date(2026, 3, 1))
    on(date(2026, 4, 1))
    [finding_id] = run_timer(app)
    before = published(app)
    with acting_as(SUPERVISOR), pytest.raises(InvalidInput):
        app.open_improvement_action(finding_id, "worker-1", "Plan.", date(2026, 3, 31))
    with acting_as(WORKER), pytest.raises(NotAllowed):
        app.open_improvement_action(finding_id, "worker-1", "Plan.", date(2026, 4, 30))
    assert published(app) == before
