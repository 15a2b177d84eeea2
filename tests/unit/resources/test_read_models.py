"""The resources service's read models for `casebook rebuild`: what the live store shows equals
what a fresh copy fed with the service's own log rebuilds, and it holds no personal content."""

import json
from datetime import date

from services.runtime.context import acting_as
from tests.unit.resources.support import (
    SUPERVISOR,
    WORKER,
    register_provider,
    register_resource,
)

VOLUNTEER_NAME = "Wang Fang"
VOLUNTEER_PHONE = "13911112222"
TUTOR_NAME = "Zhang Wei"


def test_links_referrals_capacity_and_volunteers_rebuild_equal_and_impersonal(app, cases):
    provider_id = register_provider(app)
    tutor_id = register_provider(app, name=TUTOR_NAME, kind="individual", sector="individual")
    resource_id = register_resource(app, provider_id, capacity=3)
    # One request delivered, one offered and waiting, one not yet matched.
    delivered, offered, waiting = (cases.request(quantity=1) for _ in range(3))
    referral_id = cases.refer()
    cases.refer()
    with acting_as(WORKER):
        app.offer_resource(delivered, resource_id, None)
        app.accept_resource_link(delivered, date(2026, 9, 15))
        app.record_delivery(delivered, date(2026, 9, 15), None)
        app.offer_resource(offered, resource_id, None)
        app.accept_referral(referral_id, date(2026, 9, 12))
        volunteer_id = app.register_volunteer(
            name=VOLUNTEER_NAME, contact={"person": None, "phone": VOLUNTEER_PHONE,
                                          "email": None, "address": None},
            skills=["tutoring"], registered_on=date(2026, 9, 1))
    with acting_as(SUPERVISOR):
        app.record_volunteer_check(volunteer_id, "passed", date(2026, 9, 1), date(2027, 8, 31))
        app.record_donation(
            provider_id, kind="funds", amount_cents=500_000, currency="CNY",
            description="Autumn appeal", restricted_to_service_codes=[],
            restricted_to_school_ids=[], restriction_note="", received_on=date(2026, 9, 3))

    live = app.read_models()

    assert live == app.rebuilt_read_models()
    assert live["resource_links_by_state"] == {
        "delivered": [delivered], "offered": [offered], "requested": [waiting]}
    assert live["referrals_by_state"]["accepted"] == [referral_id]
    assert live["capacity_by_resource"][resource_id] == {
        "capacity": 3, "held": 1, "delivered": 1, "remaining": 1}
    assert live["volunteers"][volunteer_id]["latest_check"] == {
        "result": "passed", "checked_on": "2026-09-01", "expires_on": "2027-08-31"}
    assert live["providers_by_sector"]["individual"] == [tutor_id]
    assert live["donation_totals_cents"] == {"funds:CNY": 500_000}
    text = json.dumps(live, ensure_ascii=False)
    assert "sealed:v1:" not in text
    for personal in (VOLUNTEER_NAME, VOLUNTEER_PHONE, TUTOR_NAME, "Li Hua", "13800000000"):
        assert personal not in text
