"""Resource links (8.3.4b): a case's request is matched, offered, accepted or declined,
delivered and its usage recorded, within the resource's capacity."""

from datetime import date

import pytest

from contracts.errors import Conflict, InvalidInput, NotAllowed, NotFound
from services.runtime.context import acting_as
from tests.unit.resources.support import (
    OTHER_SCHOOL,
    OTHER_WORKER,
    SCHOOL,
    SUPERVISOR,
    WORKER,
    items,
    published,
    published_types,
    register_provider,
    register_resource,
)


def link(app, request_id, actor=WORKER):
    with acting_as(actor):
        return app.get_resource_link(request_id)


def test_a_request_from_cases_is_linked_offered_accepted_delivered_and_its_usage_recorded(
    app, cases
):
    provider_id = register_provider(app)
    resource_id = register_resource(app, provider_id, capacity=3)
    # A case asks for two tutoring places.
    request_id = cases.request(kind="tutoring", quantity=2)
    assert link(app, request_id)["state"] == "requested"
    with acting_as(WORKER):
        # The worker sees the resource proposed and offers it.
        proposals = app.propose_resources(request_id)
        assert items(proposals, "resource_id") == [resource_id]
        app.offer_resource(request_id, resource_id, None)
        assert app.get_resource(resource_id)["remaining"] == 1
        # The client accepts; the places are delivered; usage is recorded.
        app.accept_resource_link(request_id, date(2026, 9, 16))
        app.record_delivery(request_id, date(2026, 9, 20), None)
        app.record_usage(request_id, units_used=2, outcome="need_met",
                         recorded_on=date(2026, 10, 30))
        view = app.get_resource_link(request_id)
        resource = app.get_resource(resource_id)
    assert view["state"] == "used"
    assert view["delivery"] == {"quantity": 2, "delivered_on": "2026-09-20"}
    assert (resource["held"], resource["delivered"], resource["remaining"]) == (0, 2, 1)

    envelopes = published(app)
    link_types = [e["type"] for e in envelopes if e["aggregate_id"] == view["link_id"]]
    # The request learned from cases is on the trail as what it is; then each step.
    assert link_types == ["AuditRecorded", "ResourceOffered", "ResourceLinkAccepted",
                          "ResourceDelivered", "ResourceUsageRecorded"]
    offered = next(e for e in envelopes if e["type"] == "ResourceOffered")
    assert offered["school_id"] == SCHOOL
    assert offered["payload"]["request_id"] == request_id
    assert offered["payload"]["quantity"] == 2


def test_the_same_request_never_makes_two_links_and_other_cases_events_are_ignored(app, cases):
    request_id = cases.request()
    versions = link(app, request_id)["version"]
    # The cases stream repeats the request id at a later position (a replay from a restored
    # cases store): the link stays as it is, but the cursor moves on.
    envelope = cases.envelope("ResourceRequested", {
        "request_id": request_id, "case_id": "another-case", "kind": "medical",
        "service_codes": ["7.1.4b"], "quantity": 1, "needed_by": None,
    })
    cases.deliver(envelope)
    assert link(app, request_id)["version"] == versions
    assert link(app, request_id)["kind"] == "tutoring"
    # A cases event that is not about resources changes nothing here.
    before = app.max_position()
    cases.deliver(cases.envelope("CaseReopened", {"case_id": "c-1",
                                                   "reopened_on": "2026-09-15"}))
    assert app.max_position() == before
    assert app.cursor("cases").position == cases.position == 3


def test_an_offer_beyond_the_remaining_capacity_is_refused_until_a_decline_frees_it(app, cases):
    provider_id = register_provider(app)
    resource_id = register_resource(app, provider_id, capacity=3)
    first, second = cases.request(quantity=2), cases.request(quantity=2)
    with acting_as(WORKER):
        app.offer_resource(first, resource_id, None)
        # The second request no longer sees the resource proposed: one place is left.
        assert app.propose_resources(second)["items"] == []
        before = (app.get_resource(resource_id), app.get_resource_link(second))
        with pytest.raises(Conflict) as refused:
            app.offer_resource(second, resource_id, None)
        assert refused.value.code == "capacity_exceeded"
        assert (app.get_resource(resource_id), app.get_resource_link(second)) == before
        # The first client declines: the places are free again and go to the second.
        app.decline_resource_link(first, "client_refused", date(2026, 9, 16))
        app.offer_resource(second, resource_id, None)
        assert app.get_resource(resource_id)["remaining"] == 1
        assert app.get_resource_link(first)["state"] == "declined"
        assert app.get_resource_link(first)["declined"][0]["reason"] == "client_refused"
    assert "ResourceLinkDeclined" in published_types(app)


def test_a_smaller_offer_or_delivery_uses_only_what_it_takes(app, cases):
    provider_id = register_provider(app)
    resource_id = register_resource(app, provider_id, capacity=5)
    request_id = cases.request(quantity=3)
    with acting_as(WORKER):
        app.offer_resource(request_id, resource_id, 2)
        app.accept_resource_link(request_id, date(2026, 9, 15))
        app.record_delivery(request_id, date(2026, 9, 16), 1)
        assert app.get_resource(resource_id)["remaining"] == 4
        before = app.get_resource_link(request_id)
        with pytest.raises(InvalidInput) as refused:
            app.record_usage(request_id, units_used=2, outcome="need_met",
                             recorded_on=date(2026, 9, 30))
        assert "units_used" in refused.value.errors
        assert app.get_resource_link(request_id) == before


def test_an_offer_larger_than_the_request_is_refused(app, cases):
    resource_id = register_resource(app, register_provider(app), capacity=5)
    request_id = cases.request(quantity=1)
    with acting_as(WORKER):
        with pytest.raises(InvalidInput) as refused:
            app.offer_resource(request_id, resource_id, 2)
        assert "quantity" in refused.value.errors
        assert app.get_resource(resource_id)["remaining"] == 5
        assert app.get_resource_link(request_id)["state"] == "requested"


@pytest.mark.parametrize(
    ("resource", "request_", "why"),
    [
        ({"kind": "medical"}, {}, "it is medical, the request needs tutoring"),
        ({"school_ids": (OTHER_SCHOOL,)}, {}, f"does not cover school {SCHOOL}"),
        ({"valid_until": date(2026, 9, 14)}, {}, "not valid on 2026-09-15"),
        ({"valid_from": date(2026, 10, 1)}, {}, "not valid on 2026-09-15"),
        ({"codes": ("7.1.4b",)}, {"codes": ("7.1.1a",)}, "service codes are none of 7.1.4b"),
        ({"max_per_request": 1}, {"quantity": 2}, "at most 1 per request"),
    ],
)
def test_a_resource_that_does_not_fit_is_not_proposed_and_cannot_be_offered(
    app, cases, resource, request_, why
):
    resource_id = register_resource(app, register_provider(app), **resource)
    request_id = cases.request(**request_)
    with acting_as(WORKER):
        assert app.propose_resources(request_id)["items"] == []
        before = app.get_resource(resource_id)
        with pytest.raises(Conflict) as refused:
            app.offer_resource(request_id, resource_id, None)
        assert refused.value.code == "not_eligible"
        assert why in refused.value.detail
        assert app.get_resource(resource_id) == before
        assert app.get_resource_link(request_id)["state"] == "requested"


def test_steps_out_of_order_are_refused_naming_the_missing_step(app, cases):
    resource_id = register_resource(app, register_provider(app))
    request_id = cases.request()
    with acting_as(WORKER):
        for command in (
            lambda: app.accept_resource_link(request_id, date(2026, 9, 15)),
            lambda: app.decline_resource_link(request_id, "other", date(2026, 9, 15)),
            lambda: app.record_delivery(request_id, date(2026, 9, 15), None),
            lambda: app.record_usage(request_id, 1, "need_met", date(2026, 9, 15)),
        ):
            with pytest.raises(Conflict) as refused:
                command()
            assert refused.value.code == "missing_step"
        app.offer_resource(request_id, resource_id, None)
        with pytest.raises(Conflict) as refused:
            app.record_delivery(request_id, date(2026, 9, 16), None)
        assert refused.value.code == "missing_step"
        assert "acceptance" in refused.value.detail
        # A second offer while one stands is refused too.
        with pytest.raises(Conflict) as refused:
            app.offer_resource(request_id, resource_id, None)
        assert refused.value.code == "wrong_state"
        assert app.get_resource_link(request_id)["state"] == "offered"
        assert app.get_resource(resource_id)["held"] == 1


def test_a_date_before_the_previous_step_is_refused(app, cases):
    resource_id = register_resource(app, register_provider(app))
    request_id = cases.request()
    with acting_as(WORKER):
        app.offer_resource(request_id, resource_id, None)
        with pytest.raises(InvalidInput) as refused:
            app.accept_resource_link(request_id, date(2026, 9, 1))
        assert "accepted_on" in refused.value.errors
        assert app.get_resource_link(request_id)["state"] == "offered"


def test_links_belong_to_the_worker_who_asked_and_to_their_school(app, cases):
    resource_id = register_resource(app, register_provider(app))
    request_id = cases.request()
    with acting_as(OTHER_WORKER), pytest.raises(NotAllowed):
        app.offer_resource(request_id, resource_id, None)
    with acting_as(OTHER_WORKER):
        assert app.list_resource_links()["items"] == []
    # The supervisor of the school may act on it.
    with acting_as(SUPERVISOR):
        app.offer_resource(request_id, resource_id, None)
        assert items(app.list_resource_links(state="offered"), "request_id") == [request_id]
    with acting_as(WORKER), pytest.raises(NotFound):
        app.get_resource_link("no-such-request")
