"""The service process of 8.2.1.1 and 8.3, step by step, on the application with its store in
memory. Every refused command is followed by a check that the case did not change."""

from datetime import date

import pytest

from contracts.errors import Conflict, InvalidInput, NotAllowed
from services.cases.rules import PLAN_PARTS
from services.runtime.context import acting_as
from tests.unit.cases.conftest import (
    ASSESSMENT,
    CLOSING_ITEMS,
    INTERVENTION,
    OPENED_ON,
    OTHER_WORKER,
    OUTCOME,
    PLAN,
    PROCESS,
    SUPERVISOR,
    adopt,
    assess,
    case_at,
    close,
    consent,
    open_case,
    published,
    published_types,
    register_student,
    supervise,
)

pytestmark = pytest.mark.usefixtures("as_worker")


def version(app, case_id):
    return app.get_case_timeline(case_id)[-1]["version"]


def test_a_case_walks_every_step_and_publishes_each_without_personal_content(app):
    case_id = case_at(app, "closed")
    follow_up_id = close(app, case_id, summary="Goals met; calmer in class.",
                         follow_up={"due_on": date(2026, 12, 1)})
    app.record_follow_up(case_id, follow_up_id, date(2026, 12, 1), "stable", "Doing well.")

    assert published_types(app) == [
        "ClientRegistered", "CaseOpened", "IntakeCompleted", "ConsentRecorded",
        "ConsentRecorded", "AssessmentRecorded", "PlanAdopted", "InterventionLogged",
        "EvaluationRecorded", "EvaluationRecorded", "CaseClosed", "FollowUpScheduled",
        "FollowUpRecorded",
    ]
    case = app.get_case(case_id, grant_id="grant-1")
    assert case["status"] == "closed" and case["stage"] == "closed"
    assert case["follow_ups"][0]["notes"] == "Doing well."
    # Names, notes and summaries never leave the store.
    text = str(published(app))
    for secret in ("王小明", "王芳", "Fights in class", "Goals met", "Doing well", "anger"):
        assert secret not in text


@pytest.mark.parametrize(
    ("stage", "command", "missing"),
    [
        ("accept", lambda app, c: assess(app, c), "intake"),
        ("accept", lambda app, c: app.log_intervention(c, **INTERVENTION), "intake"),
        ("assessment", lambda app, c: adopt(app, c), "assessment"),
        ("plan", lambda app, c: app.log_intervention(c, **INTERVENTION), "plan"),
        ("intervention", lambda app, c: app.record_evaluation(
            c, "process", date(2026, 10, 1), **PROCESS), "intervention"),
        ("plan", lambda app, c: app.revise_plan(c, date(2026, 9, 6), **{
            "goals": [{"goal": "x"}], "content": "c", "methods": ["m"], "action_steps": ["s"],
            "schedule": "s", "evaluation_participants": ["p"], "evaluation_methods": ["m"]}),
         "plan"),
    ],
)
def test_a_step_out_of_order_is_refused_naming_the_missing_step(app, stage, command, missing):
    # 8.2.1.1: intake → assessment → plan → intervention → evaluation → closing.
    case_id = case_at(app, stage)
    before = version(app, case_id)
    with pytest.raises(Conflict) as refused:
        command(app, case_id)
    assert refused.value.code == "missing_step"
    assert refused.value.errors == {"missing_step": [missing]}
    assert missing.split("_")[0] in refused.value.detail
    assert version(app, case_id) == before


def test_intake_is_accepted_only_when_items_a_to_c_are_done(app):
    register_student(app)
    case_id = open_case(app, intake={"worker_introduced": True})
    with pytest.raises(Conflict) as refused:
        app.accept_intake(case_id, OPENED_ON)
    assert refused.value.errors == {"missing_step": ["respect_and_empathy", "initial_information"]}
    assert "8.3.1b" in refused.value.detail and "8.3.1c" in refused.value.detail
    assert app.get_case(case_id)["status"] == "intake"
    # The worker records the rest of the intake, then accepts.
    app.record_intake(case_id, respect_and_empathy=True, initial_information="Sleeps badly.")
    app.accept_intake(case_id, OPENED_ON)
    assert app.get_case(case_id)["stage"] == "assessment"


def test_a_declined_intake_needs_a_referral_and_publishes_both(app):
    register_student(app)
    case_id = open_case(app)
    before = version(app, case_id)
    with pytest.raises(InvalidInput) as refused:
        app.decline_intake(case_id, "beyond_scope", OPENED_ON, "Needs a psychiatrist.", None)
    assert "referral" in refused.value.errors
    assert version(app, case_id) == before

    referral_id = app.decline_intake(case_id, "beyond_scope", OPENED_ON, "Needs a psychiatrist.",
                                     {"agency_kind": "mental_health", "note": "Called ahead."})
    declined, referral = published(app)[-2:]
    assert declined["type"] == "IntakeDeclined" and referral["type"] == "ReferralMade"
    assert declined["payload"]["referral_id"] == referral["payload"]["referral_id"] == referral_id
    assert referral["payload"]["reason_code"] == "intake_declined"
    assert app.get_case(case_id)["declined"]["explanation"] == "Needs a psychiatrist."
    # A declined case takes no more steps.
    with pytest.raises(Conflict):
        assess(app, case_id)


def test_no_plan_without_the_clients_consent(app):
    case_id = case_at(app, "consent")
    assess(app, case_id)
    before = version(app, case_id)
    with pytest.raises(Conflict) as refused:
        adopt(app, case_id)
    assert refused.value.code == "consent_required"
    assert version(app, case_id) == before


def test_a_minor_needs_the_guardians_consent_as_well(app):
    # 4.2: a client without full civil capacity consents with their guardian.
    case_id = case_at(app, "consent")
    consent(app, case_id, "client")
    assess(app, case_id)
    before = version(app, case_id)
    with pytest.raises(Conflict) as refused:
        adopt(app, case_id)
    assert refused.value.code == "consent_required"
    assert refused.value.errors == {"consent": ["guardian"]}
    assert version(app, case_id) == before
    consent(app, case_id, "guardian")
    assert adopt(app, case_id) == 1


def test_an_adult_client_consents_alone(app):
    app.register_client(client_type="teacher", name="张老师", client_id="teacher-1")
    case_id = open_case(app, "teacher-1")
    app.accept_intake(case_id, OPENED_ON)
    consent(app, case_id, "client")
    assess(app, case_id)
    assert adopt(app, case_id) == 1


def test_withdrawn_consent_stops_service_except_life_safety_work(app):
    case_id = case_at(app, "intervention")
    app.withdraw_consent(case_id, "guardian", date(2026, 9, 8), "Moving away.")
    before = version(app, case_id)
    with pytest.raises(Conflict) as refused:
        app.log_intervention(case_id, **INTERVENTION)
    assert refused.value.code == "consent_required"
    with pytest.raises(Conflict):
        app.request_resource(case_id, kind="tutoring", service_codes=["7.1.1a"], quantity=1,
                             needed_by=None)
    assert version(app, case_id) == before
    # Life-safety work goes on only under a risk at life-safety level (4.1).
    with pytest.raises(Conflict):
        app.log_intervention(case_id, life_safety=True, **INTERVENTION)
    assert version(app, case_id) == before
    app.raise_risk(case_id, "self_harm", "critical", date(2026, 9, 9))
    app.log_intervention(case_id, life_safety=True,
                         **{**INTERVENTION, "method": "crisis_intervention"})
    assert app.get_case(case_id)["interventions"][-1]["life_safety"] is True
    assert published_types(app)[-3:] == ["ConsentWithdrawn", "RiskEscalated",
                                         "InterventionLogged"]


def test_assessments_repeat_and_are_numbered(app):
    case_id = case_at(app, "assessment")
    assert assess(app, case_id) == 1
    assert assess(app, case_id, date(2026, 9, 20)) == 2
    numbers = [e["payload"]["assessment_number"] for e in published(app)
               if e["type"] == "AssessmentRecorded"]
    assert numbers == [1, 2]
    assessment = app.get_case(case_id)["assessments"][1]
    assert assessment["strengths"] == ASSESSMENT["strengths"]  # 4.4
    assert assessment["problem_count"] == 1 and assessment["strength_count"] == 2


@pytest.mark.parametrize("part", list(PLAN_PARTS))
def test_a_plan_missing_any_of_its_seven_parts_is_refused_naming_it(app, part):
    case_id = case_at(app, "plan")
    before = version(app, case_id)
    empty = [] if part in ("goals", "methods", "action_steps", "evaluation_participants",
                           "evaluation_methods") else ""
    with pytest.raises(InvalidInput) as refused:
        adopt(app, case_id, **{part: empty})
    assert refused.value.code == "plan_incomplete"
    assert list(refused.value.errors) == [part]
    assert PLAN_PARTS[part] in refused.value.detail
    assert version(app, case_id) == before


def test_a_revised_plan_keeps_its_earlier_versions(app):
    case_id = case_at(app, "intervention")
    revised = {**PLAN, "goals": [{"goal": "Stay in class."}]}
    assert app.revise_plan(case_id, date(2026, 9, 20), "Goal 2 reached early.", **revised) == 2
    plans = app.get_case(case_id)["plans"]
    assert [p["plan_version"] for p in plans] == [1, 2]
    assert len(plans[0]["parts"]["goals"]) == 2 and len(plans[1]["parts"]["goals"]) == 1
    assert published(app)[-1]["payload"]["goal_count"] == 1


def test_direct_and_indirect_methods_are_recorded_as_such(app):
    # 8.2.1.2: case work is direct; administration is indirect.
    case_id = case_at(app, "intervention")
    before = version(app, case_id)
    with pytest.raises(InvalidInput) as refused:
        app.log_intervention(case_id, **{**INTERVENTION, "form": "indirect"})
    assert "form" in refused.value.errors
    assert version(app, case_id) == before
    app.log_intervention(case_id, **{**INTERVENTION, "form": "indirect",
                                     "method": "resource_linking"})
    assert app.get_case(case_id)["interventions"][0]["form"] == "indirect"


def test_closing_needs_both_evaluations(app):
    case_id = case_at(app, "evaluations")
    app.record_evaluation(case_id, "process", date(2026, 10, 1), **PROCESS)
    before = version(app, case_id)
    with pytest.raises(Conflict) as refused:
        close(app, case_id)
    assert refused.value.code == "evaluations_required"
    assert "outcome evaluation" in refused.value.detail
    assert version(app, case_id) == before


def test_an_outcome_evaluation_scores_every_goal_and_satisfaction(app):
    # 8.3.5b, 10.2.2: goal attainment per goal of the plan, and satisfaction.
    case_id = case_at(app, "evaluations")
    before = version(app, case_id)
    with pytest.raises(InvalidInput) as refused:
        app.record_evaluation(case_id, "outcome", date(2026, 10, 1),
                              **{**OUTCOME, "goals": OUTCOME["goals"][:1]})
    assert "goals" in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        app.record_evaluation(case_id, "outcome", date(2026, 10, 1),
                              **{**OUTCOME, "satisfaction": None})
    assert "satisfaction" in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        app.record_evaluation(case_id, "process", date(2026, 10, 1), progress="ok")
    assert set(refused.value.errors) == {"worker_performance", "reflection"}
    assert version(app, case_id) == before
    app.record_evaluation(case_id, "outcome", date(2026, 10, 1), **OUTCOME)
    payload = published(app)[-1]["payload"]
    assert payload["goal_attainment"] == [1, 0] and payload["satisfaction"] == 4


@pytest.mark.parametrize("item", list(CLOSING_ITEMS))
def test_closing_does_each_item_of_8_3_6(app, item):
    case_id = case_at(app, "closed")
    before = version(app, case_id)
    with pytest.raises(Conflict) as refused:
        close(app, case_id, **{item: False})
    assert refused.value.errors == {"missing_step": [item]}
    assert version(app, case_id) == before


def test_follow_up_and_reopening_start_a_new_round_of_evaluation(app):
    case_id = case_at(app, "closed")
    close(app, case_id)
    follow_up_id = app.schedule_follow_up(case_id, date(2026, 11, 2))
    app.record_follow_up(case_id, follow_up_id, date(2026, 11, 2), "needs_support", None)
    app.reopen_case(case_id, date(2026, 11, 3), "Fights again.")
    assert app.get_case(case_id)["stage"] == "evaluation"
    # The earlier round's evaluations do not close the reopened case.
    before = version(app, case_id)
    with pytest.raises(Conflict) as refused:
        close(app, case_id, closed_on=date(2026, 12, 1))
    assert refused.value.code == "evaluations_required"
    assert version(app, case_id) == before
    assert published_types(app)[-3:] == ["FollowUpScheduled", "FollowUpRecorded",
                                         "CaseReopened"]


def test_only_a_supervisor_reassigns_and_the_new_worker_takes_the_case(app):
    case_id = case_at(app, "assessment")
    supervise(app, "worker-1")
    supervise(app, "worker-2")
    before = version(app, case_id)
    with pytest.raises(NotAllowed):
        app.reassign_case(case_id, "worker-2", date(2026, 9, 4))
    assert version(app, case_id) == before
    with acting_as(SUPERVISOR):
        app.reassign_case(case_id, "worker-2", date(2026, 9, 4), "Caseload balance.")
    assert published(app)[-1]["payload"] == {
        "case_id": case_id, "from_social_worker_id": "worker-1", "to_social_worker_id": "worker-2"}
    with pytest.raises(NotAllowed):
        app.get_case(case_id)
    with acting_as(OTHER_WORKER):
        assess(app, case_id)


def test_another_workers_case_is_not_theirs_to_read_or_write(app):
    case_id = case_at(app, "assessment")
    with acting_as(OTHER_WORKER):
        with pytest.raises(NotAllowed):
            app.get_case(case_id)
        with pytest.raises(NotAllowed):
            assess(app, case_id)
    assert app.get_case(case_id)["assessments"] == []


def test_a_closed_case_is_read_only_under_an_archive_grant(app):
    case_id = case_at(app, "closed")
    close(app, case_id)
    assert app.case_read_needs_grant(case_id) is True
    with pytest.raises(NotAllowed) as refused:
        app.get_case(case_id)
    assert refused.value.code == "grant_required"
    assert app.get_case(case_id, grant_id="grant-1")["intake"]["initial_information"]
    # The timeline holds no personal content: it needs no grant.
    assert app.get_case_timeline(case_id)[-1]["published_as"] == "CaseClosed"


def test_dates_before_the_case_was_opened_are_refused(app):
    case_id = case_at(app, "assessment")
    before = version(app, case_id)
    with pytest.raises(InvalidInput) as refused:
        app.record_assessment(case_id, date(2026, 8, 1), **ASSESSMENT)
    assert "assessed_on" in refused.value.errors
    assert version(app, case_id) == before
