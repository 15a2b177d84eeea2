"""Schools, social workers and their eligibility to take cases, supervisors, training and
supervision sessions (6.1, 6.2, 8.1, 9.1), on the in-memory store."""

from datetime import UTC, date, datetime

import pytest

from contracts.errors import Conflict, InvalidInput, NotAllowed, NotFound
from services.runtime.clock import clock
from services.runtime.context import Actor, acting_as
from services.runtime.service import load
from services.supervision import schemas
from tests.unit.supervision.support import (
    ADMIN,
    AUDITOR,
    OPERATOR,
    OTHER_SUPERVISOR,
    OTHER_WORKER,
    OUTSIDER,
    QUALIFIED,
    SCHOOL,
    SUPERVISOR,
    WORKER,
    new_app,
    published,
    published_types,
    seed_school,
    seed_supervisor,
    seed_worker,
)

ARCHIVIST = Actor("archivist-1", "archivist", SCHOOL)
INTEGRATOR = Actor("integrator-1", "integrator", None)


@pytest.fixture(autouse=True)
def _today():
    clock.set(datetime(2026, 6, 1, 9, tzinfo=UTC))


@pytest.fixture
def app():
    application = new_app()
    seed_school(application)
    return application


def eligibility_events(app):
    return [e["payload"] for e in published(app) if e["type"] == "SocialWorkerEligibilityChanged"]


def eligibility(app, worker_id):
    """Whether the worker may take cases, as the school admin reads it."""
    with acting_as(ADMIN):
        return app.worker_eligibility(worker_id)


def test_a_qualified_worker_becomes_eligible_only_once_pre_job_training_is_recorded(app):
    # Register a qualified worker: not yet eligible, pre-job training is missing (9.1a).
    seed_worker(app, trained=False)
    assert eligibility_events(app) == [
        {"social_worker_id": "worker-1", "eligible": False, "reasons": ["no_pre_job_training"]}]
    # Record the pre-job training: eligible now, and said once.
    with acting_as(ADMIN):
        app.record_training(social_worker_id="worker-1", kind="pre_job", minutes=1440,
                            topics=["child_development"], completed_on=date(2026, 1, 12))
        # More training does not change eligibility, so nothing more is said.
        app.record_training(social_worker_id="worker-1", kind="continuing", minutes=360,
                            topics=["law_and_policy"], completed_on=date(2026, 2, 1))
    assert eligibility_events(app)[1:] == [
        {"social_worker_id": "worker-1", "eligible": True, "reasons": []}]
    assert eligibility(app, "worker-1") == {
        "social_worker_id": "worker-1", "eligible": True, "reasons": []}


def test_an_unqualified_worker_is_registered_but_not_eligible_with_every_reason(app):
    # Neither certificate nor a social-work diploma of college level, no project, no pledge.
    seed_worker(app, trained=False, certificate_level="none", diploma_level="college",
                diploma_in_social_work=False, projects_led=0, ethics_commitment=False)
    assert eligibility(app, "worker-1")["reasons"] == [
        "not_qualified", "no_project_experience", "no_ethics_commitment", "no_pre_job_training"]
    registered = next(e for e in published(app) if e["type"] == "SocialWorkerRegistered")
    assert registered["payload"]["qualified"] is False
    assert registered["payload"]["qualification_basis"] is None


def test_a_college_social_work_diploma_qualifies_without_a_certificate(app):
    seed_worker(app, certificate_level="none", diploma_level="college",
                diploma_in_social_work=True)
    assert eligibility(app, "worker-1")["eligible"] is True
    with acting_as(ADMIN):
        assert app.get_social_worker("worker-1")["qualification_basis"] == "diploma"


def test_a_later_certificate_makes_a_worker_eligible(app):
    seed_worker(app, certificate_level="none", diploma_level="secondary",
                diploma_in_social_work=True)
    assert eligibility(app, "worker-1")["reasons"] == ["not_qualified"]
    with acting_as(ADMIN):
        app.record_qualification(social_worker_id="worker-1", certificate_level="assistant",
                                 diploma_level="secondary", diploma_in_social_work=True,
                                 projects_led=2, ethics_commitment=True)
    assert eligibility(app, "worker-1")["eligible"] is True
    assert published_types(app).count("SocialWorkerQualificationRecorded") == 1


def test_a_workers_history_is_every_change_of_their_record_in_order(app):
    seed_worker(app, certificate_level="none", diploma_level="secondary",
                diploma_in_social_work=True, trained=False)
    with acting_as(ADMIN):
        app.record_qualification(social_worker_id="worker-1", certificate_level="assistant",
                                 diploma_level="secondary", diploma_in_social_work=True,
                                 projects_led=2, ethics_commitment=True)
        app.deactivate_social_worker(social_worker_id="worker-1", reason="left_service",
                                     left_on=date(2026, 5, 1))
        steps = app.social_worker_history("worker-1")
    # Each command that changes eligibility records the change too (refresh_eligibility).
    assert [step["published_as"] for step in steps] == [
        "SocialWorkerRegistered", "SocialWorkerEligibilityChanged",
        "SocialWorkerQualificationRecorded", "SocialWorkerEligibilityChanged",
        "SocialWorkerDeactivated", "SocialWorkerEligibilityChanged"]
    assert [step["version"] for step in steps] == [1, 2, 3, 4, 5, 6]
    assert {step["actor"]["id"] for step in steps} == {ADMIN.id}
    assert steps[2]["details"]["qualification_basis"] == "certificate"
    assert steps[4]["details"]["reason"] == "left_service"
    # Read as the record is: by the worker themself, not by a colleague or another school.
    with acting_as(WORKER):
        assert len(app.social_worker_history("worker-1")) == 6
    for outsider in (OTHER_WORKER, OUTSIDER):
        with acting_as(outsider), pytest.raises(NotAllowed):
            app.social_worker_history("worker-1")
    with acting_as(ADMIN), pytest.raises(NotFound):
        app.social_worker_history("nobody")


def test_a_worker_who_leaves_is_no_longer_eligible_and_refuses_further_changes(app):
    seed_worker(app)
    with acting_as(ADMIN):
        app.deactivate_social_worker(social_worker_id="worker-1", reason="left_service",
                                     left_on=date(2026, 5, 1))
        assert app.worker_eligibility("worker-1") == {
            "social_worker_id": "worker-1", "eligible": False, "reasons": ["inactive"]}
        version = app.get_social_worker("worker-1")
        with pytest.raises(Conflict):
            app.assign_social_worker(social_worker_id="worker-1", school_id=SCHOOL)
        assert app.get_social_worker("worker-1") == version


def test_an_unknown_worker_is_not_eligible():
    assert eligibility(new_app(), "nobody")["reasons"] == ["not_registered"]


def test_registration_refusals_change_nothing(app):
    seed_worker(app)
    before = published(app)
    # The same worker twice.
    with acting_as(ADMIN), pytest.raises(Conflict):
        app.register_social_worker(social_worker_id="worker-1", employment="full_time",
                                   school_ids=[SCHOOL], certificate_level="none",
                                   diploma_level="none", diploma_in_social_work=False,
                                   projects_led=0, ethics_commitment=True)
    # A school that is not registered.
    with acting_as(OPERATOR), pytest.raises(NotFound):
        app.register_social_worker(social_worker_id="worker-3", employment="full_time",
                                   school_ids=["JD404"], certificate_level="none",
                                   diploma_level="none", diploma_in_social_work=False,
                                   projects_led=0, ethics_commitment=True)
    # Another school's administrator, and a social worker, may not register staff here.
    for actor in (OUTSIDER, WORKER):
        with acting_as(actor), pytest.raises(NotAllowed):
            app.register_social_worker(social_worker_id="worker-3", employment="part_time",
                                       school_ids=[SCHOOL], certificate_level="none",
                                       diploma_level="none", diploma_in_social_work=False,
                                       projects_led=0, ethics_commitment=True)
    assert published(app) == before


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"certificate_level": "master"}, "certificate_level", "Must be one of"),
        ({"projects_led": -1}, "projects_led", "greater than or equal to 0"),
        ({"school_ids": []}, "school_ids", "Give at least one school."),
        ({"employment": None}, "employment", "Field may not be null."),
    ],
)
def test_bad_worker_input_names_the_field_and_rule(change, field, rule):
    good = {"social_worker_id": "w", "employment": "full_time", "school_ids": [SCHOOL],
            "certificate_level": "none", "diploma_level": "bachelor",
            "diploma_in_social_work": True, "projects_led": 1, "ethics_commitment": True}
    with pytest.raises(InvalidInput) as error:
        load(schemas.RegisterSocialWorker, {**good, **change})
    assert field in error.value.errors
    assert rule in error.value.detail


def test_a_supervisor_must_meet_6_2_2_1_and_then_takes_supervisees(app):
    seed_worker(app)
    with acting_as(ADMIN):
        with pytest.raises(InvalidInput) as error:
            app.register_supervisor(supervisor_id="supervisor-1", employment="full_time",
                                    setting="internal", certificate_level="assistant",
                                    years_of_practice=1, school_id=SCHOOL)
        assert error.value.code == "not_qualified"
        assert set(error.value.errors) == {"certificate_level", "years_of_practice"}
        assert "SupervisorRegistered" not in published_types(app)
    seed_supervisor(app)
    with acting_as(ADMIN):
        app.assign_supervisor(social_worker_id="worker-1", supervisor_id="supervisor-1")
        with pytest.raises(Conflict):
            app.assign_supervisor(social_worker_id="worker-1", supervisor_id="supervisor-1")
        with pytest.raises(NotFound):
            app.assign_supervisor(social_worker_id="worker-1", supervisor_id="nobody")
    with acting_as(SUPERVISOR):
        assert [w["social_worker_id"] for w in app.list_supervisees("supervisor-1")["items"]] == [
            "worker-1"]
    with acting_as(OTHER_SUPERVISOR), pytest.raises(NotAllowed):
        app.list_supervisees("supervisor-1")["items"]
    assert published_types(app).count("SupervisorAssigned") == 1


def test_training_below_36_hours_a_year_is_reported_with_the_minutes_missing(app):
    seed_worker(app)
    seed_worker(app, worker_id="worker-2")
    with acting_as(ADMIN):
        app.record_training(social_worker_id="worker-1", kind="continuing", minutes=1200,
                            topics=["law_and_policy"], completed_on=date(2026, 3, 1))
        app.record_training(social_worker_id="worker-1", kind="continuing", minutes=990,
                            topics=["education_administration"], completed_on=date(2026, 4, 1))
        app.record_training(social_worker_id="worker-2", kind="continuing", minutes=720,
                            topics=["child_development"], completed_on=date(2026, 3, 1))
        # Last year's training does not count towards this year.
        app.record_training(social_worker_id="worker-2", kind="continuing", minutes=1800,
                            topics=["other"], completed_on=date(2026, 1, 10))
    with acting_as(AUDITOR):
        report = {line["social_worker_id"]: line
                  for line in app.training_report(SCHOOL, 2026)["lines"]}
    assert report["worker-1"]["below_minimum"] is False
    assert report["worker-1"]["continuing_minutes"] == 2190
    assert report["worker-2"]["minutes_missing"] == 0  # 12 + 30 hours in 2026
    with acting_as(AUDITOR):
        last_year = {line["social_worker_id"]: line
                     for line in app.training_report(SCHOOL, 2025)["lines"]}
    assert last_year["worker-2"]["minutes_missing"] == 36 * 60
    # Pre-job training (9.1a) is not continuing education (9.1b).
    assert last_year["worker-1"]["continuing_minutes"] == 0


def test_training_refusals_change_nothing(app):
    seed_worker(app)
    before = published(app)
    with acting_as(ADMIN):
        with pytest.raises(Conflict):
            app.record_training(social_worker_id="worker-1", kind="pre_job", minutes=480,
                                topics=["ethics"], completed_on=date(2026, 2, 1))
        with pytest.raises(InvalidInput) as error:
            app.record_training(social_worker_id="worker-1", kind="continuing", minutes=480,
                                topics=["ethics"], completed_on=date(2026, 7, 1))
        assert "completed_on" in error.value.errors
    with acting_as(WORKER), pytest.raises(NotAllowed):
        app.record_training(social_worker_id="worker-1", kind="continuing", minutes=480,
                            topics=["ethics"], completed_on=date(2026, 2, 1))
    assert published(app) == before


def test_supervision_sessions_are_typed_and_a_worker_without_one_is_reported(app):
    seed_worker(app)
    seed_worker(app, worker_id="worker-2")
    seed_supervisor(app)
    with acting_as(ADMIN):
        app.assign_supervisor(social_worker_id="worker-1", supervisor_id="supervisor-1")
        app.assign_supervisor(social_worker_id="worker-2", supervisor_id="supervisor-1")
    with acting_as(SUPERVISOR):
        app.record_supervision_session(supervisor_id="supervisor-1",
                                       social_worker_ids=["worker-1", "worker-2"],
                                       kinds=["educational", "supportive"], format="group",
                                       held_on=date(2026, 4, 1), duration_minutes=90)
        app.record_supervision_session(supervisor_id="supervisor-1",
                                       social_worker_ids=["worker-1"], kinds=["administrative"],
                                       format="individual", held_on=date(2026, 5, 20),
                                       duration_minutes=60)
    # On 1 June, worker-2's last session was 61 days ago: over the 30-day default (9.1c).
    with acting_as(AUDITOR):
        report = {line["social_worker_id"]: line
                  for line in app.supervision_report(SCHOOL)["lines"]}
    assert report["worker-1"]["overdue"] is False
    assert report["worker-1"]["kinds"] == {"administrative": 1, "educational": 1,
                                           "supportive": 1}
    assert report["worker-2"]["overdue"] is True
    assert report["worker-2"]["days_without_supervision"] == 61


def test_the_supervision_interval_is_a_setting(app, monkeypatch):
    seed_worker(app)
    monkeypatch.setenv("CASEBOOK_SUPERVISION_INTERVAL_DAYS", "200")
    with acting_as(AUDITOR):
        assert app.supervision_report(SCHOOL)["lines"][0]["overdue"] is False


def test_supervision_session_refusals_change_nothing(app):
    seed_worker(app)
    seed_supervisor(app)
    seed_supervisor(app, "supervisor-2")
    with acting_as(ADMIN):
        app.assign_supervisor(social_worker_id="worker-1", supervisor_id="supervisor-2")
    before = published(app)
    session = {"social_worker_ids": ["worker-1"], "kinds": ["supportive"],
               "format": "individual", "held_on": date(2026, 5, 1), "duration_minutes": 60}
    # Not this supervisor's supervisee.
    with acting_as(SUPERVISOR), pytest.raises(Conflict):
        app.record_supervision_session(supervisor_id="supervisor-1", **session)
    # A supervisor records only their own sessions.
    with acting_as(SUPERVISOR), pytest.raises(NotAllowed):
        app.record_supervision_session(supervisor_id="supervisor-2", **session)
    # Not in the future.
    with acting_as(OTHER_SUPERVISOR), pytest.raises(InvalidInput):
        app.record_supervision_session(supervisor_id="supervisor-2",
                                       **{**session, "held_on": date(2026, 6, 2)})
    assert published(app) == before


def test_a_school_records_its_mode_and_service_spaces(app):
    with acting_as(ADMIN):
        school = app.get_school(SCHOOL)
        assert school["service_mode"] == "resident"
        assert school["has_service_space"] is True
        app.record_facilities(school_id=SCHOOL, facility_kinds=[])
        assert app.get_school(SCHOOL)["has_service_space"] is False
    with acting_as(ADMIN), pytest.raises(Conflict):
        app.register_school(school_id=SCHOOL, name="x", district="y", service_mode="visiting",
                            facility_kinds=[])
    with acting_as(OUTSIDER), pytest.raises(NotAllowed):
        app.get_school(SCHOOL)
    assert published_types(app) == ["SchoolRegistered", "SchoolFacilitiesRecorded"]
    # The published registration carries codes, not the school's name.
    assert "静安区第一中学" not in str(published(app))


def test_eligibility_is_read_by_those_who_staff_the_school_and_the_worker_themselves(app):
    seed_worker(app)
    seed_worker(app, worker_id="worker-2")
    for reader in (ADMIN, SUPERVISOR, OPERATOR, WORKER):
        with acting_as(reader):
            assert app.worker_eligibility("worker-1")["eligible"] is True
    # A colleague, a school the worker does not serve, and roles that do not staff schools.
    for outsider in (OTHER_WORKER, OUTSIDER, AUDITOR, ARCHIVIST, INTEGRATOR):
        with acting_as(outsider), pytest.raises(NotAllowed):
            app.worker_eligibility("worker-1")


def test_a_supervisees_or_supervisors_list_stays_within_the_readers_school(app):
    seed_school(app, "JD002")
    seed_worker(app)
    with acting_as(OPERATOR):
        app.register_social_worker(social_worker_id="worker-3", employment="full_time",
                                   school_ids=["JD002"], **QUALIFIED)
        # An external supervisor with no school supervises workers of both schools.
        app.register_supervisor(supervisor_id="supervisor-x", employment="part_time",
                                setting="external", certificate_level="senior",
                                years_of_practice=12)
        app.register_supervisor(supervisor_id="supervisor-3", employment="full_time",
                                setting="internal", certificate_level="senior",
                                years_of_practice=12, school_id="JD002")
        for worker_id in ("worker-1", "worker-3"):
            app.assign_supervisor(social_worker_id=worker_id, supervisor_id="supervisor-x")
    with acting_as(ADMIN):
        assert [w["social_worker_id"] for w in app.list_supervisees("supervisor-x")["items"]] == [
            "worker-1"]
        # Another school's supervisor is not this school's to list.
        with pytest.raises(NotAllowed):
            app.list_supervisees("supervisor-3")["items"]
    with acting_as(AUDITOR):
        assert [w["social_worker_id"] for w in app.list_supervisees("supervisor-x")["items"]] == [
            "worker-1", "worker-3"]
    # The supervisors a school's worker may be assigned: its own, and those of no one school.
    with acting_as(ADMIN):
        listed = app.list_supervisors(school_id=SCHOOL)
        assert [s["supervisor_id"] for s in listed["items"]] == ["supervisor-x"]
        with pytest.raises(NotAllowed):
            app.list_supervisors(school_id="JD002")
    with acting_as(OPERATOR):
        first = app.list_supervisors(school_id="JD002", limit=1)
        assert [s["supervisor_id"] for s in first["items"]] == ["supervisor-3"]
        assert first["total"] == 2 and first["next"] is not None
        rest = app.list_supervisors(school_id="JD002", limit=1, after=first["next"])
        assert [(s["supervisor_id"], s["school_id"]) for s in rest["items"]] == [
            ("supervisor-x", None)]
    with acting_as(OTHER_WORKER), pytest.raises(NotAllowed):
        app.list_supervisors(school_id=SCHOOL)


def test_a_session_held_today_in_beijing_is_not_in_the_future_while_utc_is_still_yesterday(app):
    """At 01:30 in Beijing on 2 June it is 17:30 on 1 June in UTC: the day a supervisor types
    is 2 June, and it is today, not tomorrow. 3 June is still the future."""
    seed_worker(app)
    seed_supervisor(app)
    with acting_as(ADMIN):
        app.assign_supervisor(social_worker_id="worker-1", supervisor_id="supervisor-1")
    clock.set(datetime(2026, 6, 1, 17, 30, tzinfo=UTC))
    session = {"social_worker_ids": ["worker-1"], "kinds": ["supportive"],
               "format": "individual", "duration_minutes": 60}
    with acting_as(SUPERVISOR):
        app.record_supervision_session(supervisor_id="supervisor-1", held_on=date(2026, 6, 2),
                                       **session)
        before = published(app)
        with pytest.raises(InvalidInput) as refused:
            app.record_supervision_session(supervisor_id="supervisor-1",
                                           held_on=date(2026, 6, 3), **session)
    assert refused.value.errors == {"held_on": ["Must not be in the future (2026-06-03)."]}
    assert published(app) == before
