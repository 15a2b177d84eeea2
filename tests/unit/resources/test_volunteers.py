"""Volunteer management (9.3b): only a volunteer with a valid background check works with
students."""

from datetime import UTC, date, datetime

import pytest

from contracts.errors import InvalidInput, NotAllowed, NotFound
from services.runtime.clock import clock
from services.runtime.context import Actor, acting_as
from services.runtime.vault import SHREDDED
from tests.unit.resources.support import (
    ADMIN,
    AUDITOR,
    OTHER_SCHOOL,
    SUPERVISOR,
    WORKER,
    items,
    published,
)


def register_volunteer(app, name="Wang Fang"):
    with acting_as(WORKER):
        return app.register_volunteer(
            name=name, contact={"person": None, "phone": "13911112222", "email": None,
                                "address": None},
            skills=["tutoring", "music"], registered_on=date(2026, 9, 1),
        )["volunteer_id"]


def check(app, volunteer_id, result="passed", checked_on=date(2026, 9, 1),
          expires_on=date(2027, 8, 31)):
    with acting_as(SUPERVISOR):
        app.record_volunteer_check(volunteer_id, result, checked_on, expires_on)


def assign(app, volunteer_id, with_students=True, starts_on=date(2026, 9, 20)):
    with acting_as(WORKER):
        return app.assign_volunteer(
            volunteer_id, activity_id="group-7", activity_kind="group",
            with_students=with_students, starts_on=starts_on,
        )["assignment_id"]


def version(app, volunteer_id):
    with acting_as(WORKER):
        return app.get_volunteer(volunteer_id)["version"]


def test_a_volunteer_without_a_check_cannot_be_assigned_to_work_with_students(app):
    volunteer_id = register_volunteer(app)
    before = version(app, volunteer_id)
    with pytest.raises(NotAllowed) as refused:
        assign(app, volunteer_id)
    assert refused.value.code == "check_required"
    assert "no background check" in refused.value.detail
    assert version(app, volunteer_id) == before
    # Work without students needs no check.
    assign(app, volunteer_id, with_students=False)
    assert version(app, volunteer_id) == before + 1


def test_a_checked_volunteer_is_assigned_and_logs_time_until_the_check_expires(app):
    volunteer_id = register_volunteer(app)
    check(app, volunteer_id, expires_on=date(2026, 12, 31))
    assignment_id = assign(app, volunteer_id)
    clock.set(datetime(2026, 12, 31, 18, 0, tzinfo=UTC))
    with acting_as(WORKER):
        app.log_volunteer_hours(volunteer_id, assignment_id, date(2026, 12, 31), 150)
    # The clock passes the expiry: no new work with students, no hours served after it.
    clock.set(datetime(2027, 1, 5, 9, 0, tzinfo=UTC))
    before = version(app, volunteer_id)
    with pytest.raises(NotAllowed) as refused:
        assign(app, volunteer_id, starts_on=date(2027, 1, 10))
    assert refused.value.code == "check_required"
    assert "expired on 2026-12-31" in refused.value.detail
    with acting_as(WORKER), pytest.raises(NotAllowed) as refused:
        app.log_volunteer_hours(volunteer_id, assignment_id, date(2027, 1, 2), 60)
    assert refused.value.code == "check_required"
    assert version(app, volunteer_id) == before
    with acting_as(WORKER):
        view = app.get_volunteer(volunteer_id)
    assert view["may_work_with_students"] is False
    assert view["check_state"] == "expired"
    assert view["minutes_served"] == 150
    assert view["served"] == [{"assignment_id": assignment_id, "served_on": "2026-12-31",
                               "minutes": 150}]
    with acting_as(WORKER):
        assert items(app.list_volunteers(check_state="expired"), "minutes_served") == [150]
        assert app.list_volunteers(check_state="cleared")["items"] == []


def test_a_check_that_expires_before_the_work_starts_is_not_enough(app):
    volunteer_id = register_volunteer(app)
    check(app, volunteer_id, expires_on=date(2026, 9, 30))
    before = version(app, volunteer_id)
    with pytest.raises(NotAllowed) as refused:
        assign(app, volunteer_id, starts_on=date(2026, 10, 8))
    assert refused.value.code == "check_required"
    assert version(app, volunteer_id) == before


def test_a_failed_recheck_withdraws_the_clearance(app):
    volunteer_id = register_volunteer(app)
    check(app, volunteer_id, checked_on=date(2026, 9, 1))
    check(app, volunteer_id, result="failed", checked_on=date(2026, 9, 10))
    before = version(app, volunteer_id)
    with pytest.raises(NotAllowed) as refused:
        assign(app, volunteer_id)
    assert "failed the latest background check" in refused.value.detail
    assert version(app, volunteer_id) == before


def test_checks_are_recorded_by_supervisors_and_school_admins_only(app):
    volunteer_id = register_volunteer(app)
    before = version(app, volunteer_id)
    with acting_as(WORKER), pytest.raises(NotAllowed):
        app.record_volunteer_check(volunteer_id, "passed", date(2026, 9, 1), date(2027, 9, 1))
    assert version(app, volunteer_id) == before
    with acting_as(ADMIN):
        app.record_volunteer_check(volunteer_id, "passed", date(2026, 9, 1), date(2027, 9, 1))
    assert version(app, volunteer_id) == before + 1


@pytest.mark.parametrize(
    ("checked_on", "expires_on", "field"),
    [
        (date(2026, 9, 16), date(2027, 9, 1), "checked_on"),  # the clock says 2026-09-15
        (date(2026, 9, 1), date(2026, 9, 1), "expires_on"),
    ],
)
def test_a_check_with_impossible_dates_is_refused(app, checked_on, expires_on, field):
    volunteer_id = register_volunteer(app)
    before = version(app, volunteer_id)
    with acting_as(SUPERVISOR), pytest.raises(InvalidInput) as refused:
        app.record_volunteer_check(volunteer_id, "passed", checked_on, expires_on)
    assert field in refused.value.errors
    assert version(app, volunteer_id) == before


def test_time_served_needs_a_known_assignment_and_a_day_that_has_come(app):
    volunteer_id = register_volunteer(app)
    assignment_id = assign(app, volunteer_id, with_students=False,
                           starts_on=date(2026, 9, 10))
    before = version(app, volunteer_id)
    with acting_as(WORKER):
        with pytest.raises(NotFound):
            app.log_volunteer_hours(volunteer_id, "no-such-assignment", date(2026, 9, 12), 60)
        with pytest.raises(InvalidInput) as refused:
            app.log_volunteer_hours(volunteer_id, assignment_id, date(2026, 9, 16), 60)
        assert "served_on" in refused.value.errors
        with pytest.raises(InvalidInput):
            app.log_volunteer_hours(volunteer_id, assignment_id, date(2026, 9, 9), 60)
    assert version(app, volunteer_id) == before


def test_the_volunteers_name_and_contact_stay_sealed_and_out_of_published_events(app):
    volunteer_id = register_volunteer(app, name="Wang Fang")
    check(app, volunteer_id)
    assign(app, volunteer_id)
    envelopes = published(app)
    assert [e["type"] for e in envelopes] == [
        "VolunteerRegistered", "VolunteerCheckRecorded", "VolunteerAssigned",
    ]
    assert "Wang Fang" not in str(envelopes) and "13911112222" not in str(envelopes)
    with acting_as(WORKER):
        assert app.get_volunteer(volunteer_id)["details"]["name"] == "Wang Fang"
    # An auditor reads the record without the personal fields.
    with acting_as(AUDITOR):
        assert "details" not in app.get_volunteer(volunteer_id)
    # Another school's staff do not see the volunteer at all.
    with acting_as(Actor("worker-9", "social_worker", OTHER_SCHOOL)):
        assert app.list_volunteers()["items"] == []
        with pytest.raises(NotAllowed):
            app.get_volunteer(volunteer_id)
    # Once the volunteer's key is destroyed, the content is gone for good.
    app.vault.shred(volunteer_id)
    with acting_as(WORKER):
        assert app.get_volunteer(volunteer_id)["details"] == SHREDDED
        assert items(app.list_volunteers(), "details") == [SHREDDED]
