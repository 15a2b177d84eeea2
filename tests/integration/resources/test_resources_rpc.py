"""The resources service through RPC on a real broker: a case's request becomes a resource
link, is matched, offered, accepted, delivered and used, and the provider gets its feedback;
every cases event is consumed once, also across a restart."""

from datetime import UTC, datetime

import pytest

from contracts.errors import Conflict, InvalidInput, NotAllowed, NotFound
from services.resources.service import ResourcesService
from services.runtime.clock import clock
from tests.integration.resources.fake_cases import FakeCasesService
from tests.support.services import SUPERVISOR, WORKER, rpc, running
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


def linked(proxy, request_id):
    """The resource link for `request_id` once the resources service has it, else None."""
    try:
        return proxy.resources.get_resource_link({"request_id": request_id})
    except NotFound:
        return None


def seed_register(proxy, capacity=3):
    provider_id = proxy.resources.register_provider({
        "provider_kind": "organisation", "sector": "social_organisation",
        "name": "Sunrise Foundation", "contact": {"phone": "13800000000"},
        "registered_on": "2026-09-01",
    })["provider_id"]
    resource_id = proxy.resources.register_resource({
        "provider_id": provider_id, "kind": "tutoring", "title": "Maths tutoring",
        "capacity": capacity, "school_ids": ["JD001"], "valid_from": "2026-09-01",
        "valid_until": "2027-06-30",
    })["resource_id"]
    return provider_id, resource_id


def test_a_request_is_linked_delivered_and_fed_back_to_its_provider(amqp_uri):
    clock.set(datetime(2026, 9, 15, 9, 0, tzinfo=UTC))
    with running(amqp_uri, FakeCasesService, ResourcesService):
        with rpc(amqp_uri, SUPERVISOR) as proxy:
            provider_id, resource_id = seed_register(proxy, capacity=3)
        with rpc(amqp_uri, WORKER) as proxy:
            # Two cases ask for tutoring; the links appear in the resources service.
            first = proxy.cases.request_resource("tutoring", 2, "case-A")
            second = proxy.cases.request_resource("tutoring", 2, "case-B")
            wait_for(lambda: linked(proxy, second), what="the second resource link")
            proposals = proxy.resources.propose_resources({"request_id": first})
            assert [r["resource_id"] for r in proposals["items"]] == [resource_id]
            proxy.resources.offer_resource({"request_id": first, "resource_id": resource_id})
            # Only one place is left: the second offer is refused over RPC, typed and coded.
            with pytest.raises(Conflict) as refused:
                proxy.resources.offer_resource(
                    {"request_id": second, "resource_id": resource_id})
            assert refused.value.code == "capacity_exceeded"
            assert linked(proxy, second)["state"] == "requested"
            with pytest.raises(InvalidInput) as refused:
                proxy.resources.accept_resource_link({"request_id": first,
                                                      "accepted_on": "16/09/2026"})
            assert "accepted_on" in refused.value.detail
            proxy.resources.accept_resource_link({"request_id": first,
                                                  "accepted_on": "2026-09-16"})
            proxy.resources.record_delivery({"request_id": first,
                                             "delivered_on": "2026-09-20"})
            proxy.resources.record_usage({"request_id": first, "units_used": 2,
                                          "outcome": "need_met", "recorded_on": "2026-10-30"})
        with rpc(amqp_uri, SUPERVISOR) as proxy:
            feedback = proxy.resources.issue_provider_feedback({
                "provider_id": provider_id, "period_from": "2026-09-01",
                "period_to": "2026-10-31",
            })
            assert feedback["figures"]["clients_served"] == 1
            assert feedback["figures"]["outcomes"]["need_met"] == 1
            assert feedback["csv"].splitlines()[-1].endswith(",all,,1,1,2,2,1,0,0,0,0")
            assert "case-A" not in str(feedback) and "13800000000" not in str(feedback)
            # What the relay published, in order, with the provider's contact nowhere.
            stored = proxy.resources.status()["stored_position"]
            wait_for(lambda: proxy.resources.status()["published_position"] > 0
                     and proxy.resources.status()["relay_read_through"] == stored,
                     what="the relay to publish everything")
            envelopes = proxy.resources.events_since(0, 100)
            types = [e["type"] for e in envelopes]
            # Integrators act on the contract events; everything else stored is on the trail too,
            # as audit records naming what happened (the request learned from cases, the
            # resource's hold, its use).
            assert [t for t in types if t != "AuditRecorded"] == [
                "ProviderRegistered", "ResourceRegistered", "ResourceOffered",
                "ResourceLinkAccepted", "ResourceDelivered", "ResourceUsageRecorded",
                "ProviderFeedbackIssued",
            ]
            audit = [(e["payload"]["record"], e["payload"]["event"]) for e in envelopes
                     if e["type"] == "AuditRecorded"]
            assert ("ResourceLink", "Requested") in audit, audit
            assert "13800000000" not in str(proxy.resources.events_since(0, 100))


def test_a_volunteer_without_a_valid_check_is_refused_over_rpc(amqp_uri):
    clock.set(datetime(2026, 9, 15, 9, 0, tzinfo=UTC))
    with running(amqp_uri, ResourcesService), rpc(amqp_uri, SUPERVISOR) as proxy:
        volunteer_id = proxy.resources.register_volunteer({
            "name": "Wang Fang", "skills": ["tutoring"], "registered_on": "2026-09-01",
        })["volunteer_id"]
        assignment = {"volunteer_id": volunteer_id, "activity_id": "group-7",
                      "activity_kind": "group", "with_students": True,
                      "starts_on": "2026-09-20"}
        with pytest.raises(NotAllowed) as refused:
            proxy.resources.assign_volunteer(assignment)
        assert refused.value.code == "check_required"
        assert proxy.resources.get_volunteer({"volunteer_id": volunteer_id})["assignments"] == []
        proxy.resources.record_volunteer_check({
            "volunteer_id": volunteer_id, "result": "passed", "checked_on": "2026-09-10",
            "expires_on": "2027-09-09",
        })
        assert proxy.resources.assign_volunteer(assignment)["assignment_id"]


def test_cases_events_are_consumed_once_each_also_across_a_restart(amqp_uri):
    with running(amqp_uri, FakeCasesService):
        with rpc(amqp_uri, WORKER) as proxy:
            # Before the resources service ever ran: its queue does not exist yet.
            requests = [proxy.cases.request_resource()]
            with running(amqp_uri, ResourcesService):
                wait_for(lambda: linked(proxy, requests[0]), what="catch-up at start")
                requests.append(proxy.cases.request_resource())
                wait_for(lambda: linked(proxy, requests[1]), what="a live delivery")
            # While it is down: the durable queue keeps these.
            requests += [proxy.cases.request_resource(), proxy.cases.request_resource()]
            referral_id = proxy.cases.make_referral()
            published = proxy.cases.status()["stored_position"]
            with running(amqp_uri, ResourcesService):
                wait_for(
                    lambda: proxy.resources.status()["cursors"].get("cases", {}).get("position")
                    == published,
                    what="the resources service to catch up after its restart",
                )
                links = proxy.resources.list_resource_links()["items"]
                referral = proxy.resources.get_referral({"referral_id": referral_id})
        # Each request made one link, none was made twice; the referral arrived once.
        assert sorted(link["request_id"] for link in links) == sorted(requests)
        assert all(link["version"] == 1 for link in links)
        assert referral["status"] == "made"
