"""Every event the resources service stores reaches the audit trail (issue 13.1): from envelope
format 2 each one is published, as a contract event or as `AuditRecorded`, its envelope valid
and without a name, a contact or a note in it; time served travels in whole minutes, and what
the old code stored (hours as a float) still loads and publishes exactly as before."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from contracts.registry import validate_envelope
from services.resources.app import ResourcesApplication
from services.resources.publish import PUBLICATIONS
from services.resources.volunteers import Volunteer
from services.runtime.context import acting_as
from tests.support.stores import as_before_formats
from tests.support.views import domain_event_classes, undeclared
from tests.unit.resources.support import (
    SUPERVISOR,
    WORKER,
    CasesFeed,
    published,
    register_provider,
    register_resource,
)

# What people typed that must never leave the store in clear.
PERSONAL = ("Zhang Wei", "Li Hua", "13800000000", "Wang Fang", "13911112222")
FREE_TEXT = ("Autumn appeal", "Only for year 7", "Safety week", "tutoring places")


def test_every_event_class_of_the_service_is_declared_for_format_2() -> None:
    assert undeclared(PUBLICATIONS, "services.resources") == []


def tour(app: ResourcesApplication, cases: CasesFeed) -> None:
    """Every command of the service once, and the events the cases service starts."""
    provider_id = register_provider(app)
    register_provider(app, name="Zhang Wei", kind="individual", sector="community")
    resource_id = register_resource(app, provider_id, capacity=5)
    spare_id = register_resource(app, provider_id, capacity=5)
    declined, used = cases.request(quantity=2), cases.request(quantity=1)
    referral_id = cases.refer()
    with acting_as(SUPERVISOR):
        app.record_donation(
            provider_id, kind="funds", amount_cents=500_000, currency="CNY",
            description="Autumn appeal", restricted_to_service_codes=["7.1.1a"],
            restricted_to_school_ids=[], restriction_note="Only for year 7",
            received_on=date(2026, 9, 3))
        volunteer_id = app.register_volunteer(
            name="Wang Fang", contact={"person": None, "phone": "13911112222", "email": None,
                                       "address": None},
            skills=["music"], registered_on=date(2026, 9, 1))["volunteer_id"]
        app.record_volunteer_check(volunteer_id, "passed", date(2026, 9, 1), date(2027, 8, 31))
        assignment_id = app.assign_volunteer(
            volunteer_id, activity_id="group-7", activity_kind="group", with_students=True,
            starts_on=date(2026, 9, 2))["assignment_id"]
        app.log_volunteer_hours(volunteer_id, assignment_id, date(2026, 9, 3), 90)
        app.hold_joint_activity(partner_ids=[provider_id], theme="Safety week",
                                service_codes=["7.3a"], held_on=date(2026, 9, 12),
                                participant_count=40)
    with acting_as(WORKER):
        app.offer_resource(declined, resource_id, None)
        app.decline_resource_link(declined, "client_refused", date(2026, 9, 15))
        app.offer_resource(used, spare_id, None)
        app.accept_resource_link(used, date(2026, 9, 15))
        app.record_delivery(used, date(2026, 9, 15), None)
        app.record_usage(used, 1, "need_met", date(2026, 9, 15))
        app.accept_referral(referral_id, date(2026, 9, 12))
        app.complete_referral(referral_id, "service_provided", date(2026, 9, 14))
    with acting_as(SUPERVISOR):
        app.issue_provider_feedback(provider_id, date(2026, 9, 1), date(2026, 9, 30))


def test_every_stored_event_is_published_valid_and_impersonal(
    app, cases, monkeypatch
):
    tour(app, cases)
    stored = [app.mapper.to_domain_event(n) for n in app.notifications_after(0, 10_000)]
    envelopes = published(app)
    # One envelope for each stored event, and every class of the service among them.
    assert len(envelopes) == len(stored)
    made = {type(event) for event in stored}
    assert made == domain_event_classes("services.resources") - {Volunteer.HoursLogged}  # type: ignore[attr-defined]
    for envelope in envelopes:
        validate_envelope(envelope)
    text = json.dumps(envelopes, ensure_ascii=False)
    for secret in (*PERSONAL, *FREE_TEXT):
        assert secret not in text
    # The names and contacts travel as keyed commitments only, and time as minutes.
    registered = [e for e in envelopes if e["type"] in ("ProviderRegistered",
                                                        "VolunteerRegistered")]
    assert all(set(e["commitments"]) == {"sealed_details"} for e in registered)
    logged = next(e for e in envelopes if e["type"] == "VolunteerHoursLogged")
    assert (logged["version"], logged["payload"]["minutes"]) == (2, 90)
    audited = {(e["payload"]["record"], e["payload"]["event"]) for e in envelopes
               if e["type"] == "AuditRecorded"}
    assert audited == {("ResourceLink", "Requested"), ("Referral", "Made"),
                       ("Resource", "Held"), ("Resource", "Released"),
                       ("Resource", "HoldUsed")}


def log_hours_as_the_old_code_did(app: ResourcesApplication, hours: float) -> str:
    """A volunteer whose time was logged in hours, as stored before whole minutes."""
    with acting_as(SUPERVISOR):
        volunteer_id = app.register_volunteer(
            name="Wang Fang", contact={}, skills=[], registered_on=date(2026, 9, 1),
        )["volunteer_id"]
        assignment_id = app.assign_volunteer(
            volunteer_id, activity_id="fair", activity_kind="event", with_students=False,
            starts_on=date(2026, 9, 2))["assignment_id"]
        volunteer = app.get_aggregate(Volunteer, volunteer_id, "volunteer")
        with as_before_formats():
            volunteer._hours_logged(assignment_id=assignment_id, served_on=date(2026, 9, 3),
                                    hours=hours)
        app.save(volunteer)
    return volunteer_id


def hours_envelopes(app: ResourcesApplication) -> list[dict[str, Any]]:
    return [e for e in published(app) if e["type"] == "VolunteerHoursLogged"]


def test_hours_stored_by_the_old_code_publish_as_before_and_count_in_minutes(app):
    volunteer_id = log_hours_as_the_old_code_did(app, 1.3)
    [envelope] = hours_envelopes(app)
    assert (envelope["version"], envelope["payload"]["hours"]) == (1, 1.3)
    with acting_as(SUPERVISOR):
        assert app.get_volunteer(volunteer_id)["minutes_served"] == 78
        assert app.list_volunteers()["items"][0]["minutes_served"] == 78


@pytest.mark.parametrize(("stamped", "version", "payload"),
                         [(1, 1, {"hours": 0.75}), (2, 2, {"minutes": 45})])
def test_minutes_publish_as_hours_until_format_2(app, monkeypatch, stamped, version, payload):
    monkeypatch.setattr("services.runtime.domain.STAMPED_FORMAT", stamped)
    with acting_as(SUPERVISOR):
        volunteer_id = app.register_volunteer(
            name="Wang Fang", contact={}, skills=[], registered_on=date(2026, 9, 1),
        )["volunteer_id"]
        assignment_id = app.assign_volunteer(
            volunteer_id, activity_id="fair", activity_kind="event", with_students=False,
            starts_on=date(2026, 9, 2))["assignment_id"]
        app.log_volunteer_hours(volunteer_id, assignment_id, date(2026, 9, 3), 45)
    [envelope] = hours_envelopes(app)
    assert envelope["version"] == version
    assert {k: v for k, v in envelope["payload"].items() if k in payload} == payload
