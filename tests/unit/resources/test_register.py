"""The social resource register (9.3a): providers, their resources, raised resources, and the
family–school–community network (7.3a, 7.5)."""

from datetime import date

import pytest

from contracts.errors import InvalidInput, NotAllowed, NotFound
from services.resources import schemas
from services.runtime.context import Actor, acting_as
from services.runtime.service import load
from tests.unit.resources.support import (
    AUDITOR,
    OTHER_SCHOOL,
    SCHOOL,
    SUPERVISOR,
    WORKER,
    items,
    published,
    register_provider,
    register_resource,
)


def test_providers_are_registered_with_sealed_contacts_and_an_individuals_name_sealed(app):
    foundation = register_provider(app, name="Sunrise Foundation")
    tutor = register_provider(app, name="Zhang Wei", kind="individual", sector="community")
    envelopes = published(app)
    assert [e["type"] for e in envelopes] == ["ProviderRegistered", "ProviderRegistered"]
    assert envelopes[1]["payload"] == {
        "provider_id": tutor, "provider_kind": "individual", "sector": "community",
        "registered_on": "2026-09-01",
    }
    for secret in ("Zhang Wei", "Li Hua", "13800000000", "Sunrise"):
        assert secret not in str(envelopes)
    with acting_as(WORKER):
        assert app.get_provider(foundation)["details"]["contact"]["phone"] == "13800000000"
        assert app.get_provider(tutor)["name"] == "Zhang Wei"
    # The auditor sees an organisation's public name but no individual's, and no contacts.
    with acting_as(AUDITOR):
        assert app.get_provider(foundation)["name"] == "Sunrise Foundation"
        assert app.get_provider(tutor)["name"] is None
        assert all("details" not in p for p in app.list_providers()["items"])


def test_an_auditor_cannot_register_and_nothing_changes(app):
    before = app.max_position()
    with pytest.raises(NotAllowed):
        register_provider(app, actor=AUDITOR)
    assert app.max_position() == before


def test_a_resource_is_registered_for_a_known_provider_only(app):
    provider_id = register_provider(app)
    resource_id = register_resource(app, provider_id, kind="financial_aid", capacity=10,
                                    codes=("7.1.1a",))
    envelope = published(app)[-1]
    assert envelope["type"] == "ResourceRegistered"
    assert envelope["payload"]["capacity"] == 10
    assert envelope["payload"]["eligible_service_codes"] == ["7.1.1a"]
    with acting_as(SUPERVISOR):
        assert items(app.list_resources(kind="financial_aid"), "resource_id") == [resource_id]
        assert app.list_resources(school_id="JD999")["items"] == []
    before = app.max_position()
    with pytest.raises(NotFound):
        register_resource(app, "00000000-0000-0000-0000-000000000000")
    assert app.max_position() == before


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"capacity": 0}, "capacity", "Must be greater than or equal to 1."),
        ({"school_ids": []}, "school_ids", "Name at least one school"),
        ({"valid_until": "2026-08-31"}, "valid_until", "Must not be before valid_from."),
        ({"eligible_service_codes": ["9.9"]}, "eligible_service_codes", "Unknown service code"),
        ({"kind": "spaceship"}, "kind", "Must be one of"),
    ],
)
def test_bad_resource_input_names_the_field_and_the_rule(change, field, rule):
    payload = {
        "provider_id": "00000000-0000-0000-0000-000000000001", "kind": "tutoring",
        "title": "Maths tutoring", "capacity": 5, "school_ids": [SCHOOL],
        "valid_from": "2026-09-01", **change,
    }
    with pytest.raises(InvalidInput) as refused:
        load(schemas.RegisterResource, payload)
    assert field in refused.value.detail and rule in refused.value.detail


def test_donations_are_recorded_with_amount_and_restrictions_and_totalled(app):
    provider_id = register_provider(app)
    with acting_as(SUPERVISOR):
        app.record_donation(
            provider_id, kind="funds", amount_cents=500_000, currency="CNY",
            description="Autumn appeal", restricted_to_service_codes=["7.1.1a"],
            restricted_to_school_ids=[], restriction_note="", received_on=date(2026, 9, 3),
        )
        app.record_donation(
            provider_id, kind="funds", amount_cents=120_050, currency="CNY", description="",
            restricted_to_service_codes=[], restricted_to_school_ids=[], restriction_note="",
            received_on=date(2026, 9, 4),
        )
        donations = app.list_donations(provider_id=provider_id)
        totals = app.get_donation_totals(provider_id=provider_id)
    assert totals == {"totals": [{"kind": "funds", "currency": "CNY", "amount_cents": 620_050,
                                  "donations": 2}]}
    assert items(donations, "restricted") == [True, False]
    envelopes = [e for e in published(app) if e["type"] == "DonationRecorded"]
    assert [e["payload"]["restricted_to_service_codes"] for e in envelopes] == [["7.1.1a"], []]
    assert "Autumn appeal" not in str(envelopes)
    # Another school's admin does not see this school's raised resources.
    with acting_as(Actor("admin-2", "school_admin", OTHER_SCHOOL)):
        assert app.list_donations()["items"] == []
        assert app.get_donation_totals() == {"totals": []}
    before = app.max_position()
    with acting_as(SUPERVISOR), pytest.raises(NotFound):
        app.record_donation(
            "00000000-0000-0000-0000-000000000000", kind="goods", amount_cents=1,
            currency="CNY", description="", restricted_to_service_codes=[],
            restricted_to_school_ids=[], restriction_note="", received_on=date(2026, 9, 4),
        )
    assert app.max_position() == before


def test_the_community_network_shows_partners_by_sector_and_joint_activities(app):
    clinic = register_provider(app, name="District clinic", sector="medical")
    centre = register_provider(app, name="Street community centre", sector="community")
    register_provider(app, name="Parents' association", sector="family")
    with acting_as(SUPERVISOR):
        activity_id = app.hold_joint_activity(
            partner_ids=[clinic, centre, clinic], theme="Safety week",
            service_codes=["7.3a", "7.5.1"], held_on=date(2026, 9, 12), participant_count=80,
        )["activity_id"]
        network = app.get_community_network()
        activities = app.list_joint_activities()
        with_the_clinic = app.list_joint_activities(partner_id=clinic)
        medical_partners = app.list_providers(sector="medical")
    assert network["school_id"] == SCHOOL
    assert [s["sector"] for s in network["sectors"]] == ["community", "family", "medical"]
    medical = network["sectors"][2]
    assert (medical["label_zh"], medical["label_en"]) == ("医疗机构", "Medical institution")
    assert (medical["partners"], medical["joint_activities"]) == (1, 1)
    assert network["sectors"][1]["joint_activities"] == 0
    assert (network["partners"], network["joint_activities"]) == (3, 1)
    assert activities["items"][0]["partner_ids"] == [clinic, centre]
    assert items(with_the_clinic, "activity_id") == [activity_id]
    assert items(medical_partners, "provider_id") == [clinic]
    held = published(app)[-1]
    assert held["type"] == "JointActivityHeld"
    assert held["payload"]["activity_id"] == activity_id
    assert "Safety week" not in str(held)
    before = app.max_position()
    with acting_as(SUPERVISOR), pytest.raises(NotFound):
        app.hold_joint_activity(
            partner_ids=["00000000-0000-0000-0000-000000000000"], theme="x",
            service_codes=["7.3a"], held_on=date(2026, 9, 12), participant_count=1,
        )
    assert app.max_position() == before


def test_the_register_is_scoped_to_the_schools_a_provider_serves(app):
    other_admin = Actor("admin-3", "school_admin", OTHER_SCHOOL)
    other_worker = Actor("worker-3", "social_worker", OTHER_SCHOOL)
    # JD002 registers a provider and a resource for itself alone.
    theirs = register_provider(app, name="JD002 Youth Centre", actor=other_admin)
    with acting_as(other_admin):
        their_resource = app.register_resource(
            theirs, kind="tutoring", title="Homework club", capacity=5, unit="places",
            school_ids=[OTHER_SCHOOL], eligible_service_codes=[], max_per_request=None,
            eligibility_note="", valid_from=date(2026, 9, 1), valid_until=None)["resource_id"]
    ours = register_provider(app, name="Sunrise Foundation")
    before = app.max_position()

    # JD001 staff neither see nor extend it.
    with acting_as(WORKER):
        assert items(app.list_providers(), "provider_id") == [ours]
        assert app.list_resources()["items"] == []
        for refused in (
            lambda: app.get_provider(theirs),
            lambda: app.get_resource(their_resource),
            lambda: app.register_resource(
                theirs, kind="venue", title="Hall", capacity=1, unit="rooms",
                school_ids=[SCHOOL], eligible_service_codes=[], max_per_request=None,
                eligibility_note="", valid_from=date(2026, 9, 1), valid_until=None),
            lambda: app.record_donation(theirs, kind="funds", amount_cents=100,
                                        currency="CNY", description="", restricted=False,
                                        restricted_to_service_codes=[],
                                        restricted_to_school_ids=[], restriction_note="",
                                        received_on=date(2026, 9, 2)),
            lambda: app.hold_joint_activity([theirs], theme="Family day",
                                            service_codes=["7.3a"],
                                            held_on=date(2026, 9, 5), participant_count=10),
            lambda: app.get_community_network(OTHER_SCHOOL),
        ):
            with pytest.raises(NotAllowed):
                refused()
        assert app.get_community_network()["partners"] == 1
    with acting_as(SUPERVISOR), pytest.raises(NotAllowed):
        app.provider_feedback(theirs, date(2026, 9, 1), date(2026, 10, 31))
    assert app.max_position() == before

    # Once JD001 registers a resource of its own provider that covers JD002, JD002 sees both.
    register_resource(app, ours, school_ids=(SCHOOL, OTHER_SCHOOL))
    with acting_as(other_worker):
        assert set(items(app.list_providers(), "provider_id")) == {theirs, ours}
        assert app.list_resources()["total"] == 2
    with acting_as(AUDITOR):
        assert app.list_providers()["total"] == 2
