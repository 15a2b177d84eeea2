"""Complaints and feedback (9.2c, 10.1.2) with time limits, and evaluations (10.2.1, 10.2.3)."""

from datetime import UTC, date, datetime

import pytest

from contracts.errors import Conflict, InvalidInput, NotAllowed
from services.runtime.clock import clock
from services.runtime.context import Actor, acting_as
from services.runtime.vault import SHREDDED
from tests.unit.supervision.support import (
    ADMIN,
    AUDITOR,
    OPERATOR,
    SCHOOL,
    SUPERVISOR,
    WORKER,
    new_app,
    published,
)

INTEGRATOR = Actor("integrator-1", "integrator", None)


@pytest.fixture
def app():
    clock.set(datetime(2026, 4, 1, 9, tzinfo=UTC))
    return new_app()


def receive(app, **overrides):
    command = {"school_id": SCHOOL, "kind": "complaint", "channel": "online",
               "anonymous": False, "content": "小明说社工没有回电话。",
               "contact": "138-0000-0000", "about_social_worker_id": "worker-1"}
    # The school admin takes it, as it came in through the school's feedback channel (9.2c).
    with acting_as(ADMIN):
        return app.receive_complaint(**{**command, **overrides})


def test_a_complaint_is_acknowledged_and_answered_in_time_and_its_content_stays_sealed(app):
    complaint_id = receive(app)
    clock.set(datetime(2026, 4, 10, 9, tzinfo=UTC))
    with acting_as(SUPERVISOR):
        app.record_complaint_step(complaint_id, "acknowledged", note="Called back.",
                                  taken_on=date(2026, 4, 2))
        app.answer_complaint(complaint_id, "partly_upheld", "We apologise; new call rota.",
                             answered_on=date(2026, 4, 10))
        view = app.get_complaint(complaint_id)
    assert view["content"] == "小明说社工没有回电话。"
    assert view["contact"] == "138-0000-0000"
    assert view["answered_in_time"] is True
    assert view["answer"]["days_to_answer"] == 9
    assert [e["type"] for e in published(app)] == [
        "ComplaintReceived", "ComplaintStepRecorded", "ComplaintAnswered"]
    wire = str(published(app))
    for personal in ("小明", "138-0000-0000", "Called back", "apologise"):
        assert personal not in wire
    # Destroying the complaint's key (disposal) leaves nothing readable.
    app.vault.shred(complaint_id)
    with acting_as(SUPERVISOR):
        assert app.get_complaint(complaint_id)["content"] == SHREDDED


def test_an_anonymous_complaint_carries_no_contact(app):
    with pytest.raises(InvalidInput) as error:
        receive(app, anonymous=True)
    assert "contact" in error.value.errors
    assert published(app) == []
    complaint_id = receive(app, anonymous=True, contact=None)
    with acting_as(AUDITOR):
        [summary] = app.list_complaints(SCHOOL)["items"]
    assert summary["complaint_id"] == complaint_id and summary["anonymous"] is True


def test_time_limits_are_judged_by_the_clock(app):
    complaint_id = receive(app)
    with acting_as(AUDITOR):
        assert app.list_complaints(SCHOOL)["items"][0]["answered_in_time"] is None
    # Fifteen days to answer by default: on the sixteenth day it is late.
    clock.set(datetime(2026, 4, 17, 9, tzinfo=UTC))
    with acting_as(AUDITOR):
        assert app.list_complaints(SCHOOL)["items"][0]["answered_in_time"] is False
    with acting_as(SUPERVISOR):
        app.record_complaint_step(complaint_id, "investigating")
        app.answer_complaint(complaint_id, "not_upheld", "Checked the call log.")
    steps = [e["payload"] for e in published(app) if e["type"] == "ComplaintStepRecorded"]
    assert steps[0]["in_time"] is False  # the first step acknowledges, two days allowed
    answered = [e["payload"] for e in published(app) if e["type"] == "ComplaintAnswered"]
    assert answered[0]["in_time"] is False and answered[0]["days_to_answer"] == 16


def test_complaint_refusals_change_nothing(app):
    complaint_id = receive(app)
    before = published(app)
    # The worker the complaint is about neither handles nor reads it.
    with acting_as(WORKER), pytest.raises(NotAllowed):
        app.record_complaint_step(complaint_id, "investigating")
    with acting_as(Actor("worker-1", "supervisor", SCHOOL)), pytest.raises(NotAllowed):
        app.get_complaint(complaint_id)
    with acting_as(SUPERVISOR), pytest.raises(InvalidInput):
        app.answer_complaint(complaint_id, "noted", "x", answered_on=date(2026, 3, 31))
    assert published(app) == before
    with acting_as(SUPERVISOR):
        app.answer_complaint(complaint_id, "noted", "Thank you.")
        before = published(app)
        with pytest.raises(Conflict):
            app.answer_complaint(complaint_id, "upheld", "Again.")
        with pytest.raises(Conflict):
            app.record_complaint_step(complaint_id, "other")
    assert published(app) == before


def test_surveys_and_evaluations_say_who_evaluated(app):
    with acting_as(ADMIN):
        app.record_satisfaction_survey(
            school_id=SCHOOL, respondent_kind="student", respondent_count=40,
            satisfied_count=34, mean_score_permille=4200, evaluator_type="third_party",
            period_from=date(2026, 1, 1), period_to=date(2026, 3, 31),
            social_worker_id="worker-1")
        app.record_service_evaluation(school_id=SCHOOL, scope="school",
                                      evaluator_type="peer", rating="good",
                                      findings="Strong group work.")
        with pytest.raises(InvalidInput):
            app.record_satisfaction_survey(
                school_id=SCHOOL, respondent_kind="parent", respondent_count=10,
                satisfied_count=11, mean_score_permille=4000, evaluator_type="self",
                period_from=date(2026, 1, 1), period_to=date(2026, 3, 31))
    # A self-evaluation of a worker is the worker's own.
    with acting_as(WORKER):
        app.record_service_evaluation(school_id=SCHOOL, scope="social_worker",
                                      social_worker_id="worker-1", evaluator_type="self",
                                      rating="good")
    with acting_as(SUPERVISOR), pytest.raises(InvalidInput):
        app.record_service_evaluation(school_id=SCHOOL, scope="social_worker",
                                      social_worker_id="worker-1", evaluator_type="self",
                                      rating="excellent")
    with acting_as(AUDITOR):
        summary = app.evaluation_summary(SCHOOL)
    assert summary["respondents"] == 40 and summary["satisfied_permille"] == 850
    # The surveys themselves, the one refused not among them; filtered by who answered.
    with acting_as(AUDITOR):
        (survey,) = app.list_satisfaction_surveys(SCHOOL)["items"]
        assert app.list_satisfaction_surveys(SCHOOL, respondent_kind="parent")["total"] == 0
    assert {key: survey[key] for key in ("respondent_kind", "respondent_count", "satisfied_count",
                                         "mean_score_permille", "evaluator_type",
                                         "social_worker_id", "period_to")} == {
        "respondent_kind": "student", "respondent_count": 40, "satisfied_count": 34,
        "mean_score_permille": 4200, "evaluator_type": "third_party",
        "social_worker_id": "worker-1", "period_to": "2026-03-31"}
    assert sorted(e["evaluator_type"] for e in summary["evaluations"]) == ["peer", "self"]
    assert [e["type"] for e in published(app)] == [
        "SatisfactionSurveyRecorded", "ServiceEvaluationRecorded", "ServiceEvaluationRecorded"]
    assert "Strong group work" not in str(published(app))


def test_integrators_file_no_complaints_and_auditors_record_no_evaluations(app):
    with acting_as(INTEGRATOR), pytest.raises(NotAllowed):
        app.receive_complaint(school_id=SCHOOL, kind="complaint", channel="online",
                              anonymous=True, content="Nobody called back.")
    with acting_as(AUDITOR):
        with pytest.raises(NotAllowed):
            app.record_satisfaction_survey(
                school_id=SCHOOL, respondent_kind="student", respondent_count=40,
                satisfied_count=34, mean_score_permille=4200, evaluator_type="third_party",
                period_from=date(2026, 1, 1), period_to=date(2026, 3, 31))
        with pytest.raises(NotAllowed):
            app.record_service_evaluation(school_id=SCHOOL, scope="school",
                                          evaluator_type="third_party", rating="good")
    assert published(app) == []


def test_an_operator_sees_a_complaints_handling_but_not_what_it_says(app):
    complaint_id = receive(app)
    with acting_as(SUPERVISOR):
        app.record_complaint_step(complaint_id, "acknowledged", note="Called back.")
    with acting_as(OPERATOR):
        view = app.get_complaint(complaint_id)
    assert view["acknowledge_by"] == "2026-04-03" and view["answer_by"] == "2026-04-16"
    assert [step["step"] for step in view["steps"]] == ["acknowledged"]
    assert "content" not in view and "contact" not in view
    assert "小明" not in str(view) and "Called back" not in str(view)
