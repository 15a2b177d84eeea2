"""The resources service: RPC entrypoints and the cases subscription; the work is in `app.py`."""

from __future__ import annotations

from typing import Any

from nameko.rpc import rpc

from services.resources import schemas
from services.resources.app import ResourcesApplication
from services.resources.publish import PUBLICATIONS
from services.runtime.persistence import Cursor
from services.runtime.service import ApplicationDependency, PublishingService, load
from services.runtime.subscription import subscribe


def _id(command: dict[str, Any], key: str) -> str:
    return str(command.pop(key))


class ResourcesService(PublishingService):
    name = "resources"
    publications = PUBLICATIONS
    app = ApplicationDependency(ResourcesApplication, PUBLICATIONS)

    @subscribe("cases")
    def on_cases_event(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        self.app.handle_cases_event(envelope, cursor)

    # Providers, resources, donations (9.3a).

    @rpc
    def register_provider(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"provider_id": self.app.register_provider(**load(schemas.RegisterProvider, data))}

    @rpc
    def register_resource(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.RegisterResource, data)
        return {"resource_id": self.app.register_resource(_id(command, "provider_id"), **command)}

    @rpc
    def record_donation(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.RecordDonation, data)
        return {"donation_id": self.app.record_donation(_id(command, "provider_id"), **command)}

    @rpc
    def get_provider(self, provider_id: str) -> dict[str, Any]:
        return self.app.get_provider(provider_id)

    @rpc
    def list_providers(self) -> list[dict[str, Any]]:
        return self.app.list_providers()

    @rpc
    def get_resource(self, resource_id: str) -> dict[str, Any]:
        return self.app.get_resource(resource_id)

    @rpc
    def list_resources(self, data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        command = load(schemas.ListResources, data or {})
        provider_id = command.pop("provider_id")
        return self.app.list_resources(str(provider_id) if provider_id else None, **command)

    @rpc
    def list_donations(self, data: dict[str, Any] | None = None) -> dict[str, Any]:
        provider_id = load(schemas.ListDonations, data or {})["provider_id"]
        return self.app.list_donations(str(provider_id) if provider_id else None)

    # Volunteers (9.3b).

    @rpc
    def register_volunteer(self, data: dict[str, Any]) -> dict[str, Any]:
        volunteer_id = self.app.register_volunteer(**load(schemas.RegisterVolunteer, data))
        return {"volunteer_id": volunteer_id}

    @rpc
    def record_volunteer_check(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.RecordVolunteerCheck, data)
        volunteer_id = _id(command, "volunteer_id")
        self.app.record_volunteer_check(volunteer_id, **command)
        return {"volunteer_id": volunteer_id}

    @rpc
    def assign_volunteer(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.AssignVolunteer, data)
        return {
            "assignment_id": self.app.assign_volunteer(_id(command, "volunteer_id"), **command)
        }

    @rpc
    def log_volunteer_hours(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.LogVolunteerHours, data)
        volunteer_id = _id(command, "volunteer_id")
        self.app.log_volunteer_hours(volunteer_id, **command)
        return {"volunteer_id": volunteer_id}

    @rpc
    def get_volunteer(self, volunteer_id: str) -> dict[str, Any]:
        return self.app.get_volunteer(volunteer_id)

    @rpc
    def list_volunteers(self) -> list[dict[str, Any]]:
        return self.app.list_volunteers()

    # Resource links (8.3.4b).

    @rpc
    def propose_resources(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.propose_resources(**load(schemas.ResourceRequest, data))

    @rpc
    def offer_resource(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.OfferResource, data)
        self.app.offer_resource(
            command["request_id"], str(command["resource_id"]), command["quantity"]
        )
        return {"request_id": command["request_id"]}

    @rpc
    def accept_resource_link(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.AcceptResourceLink, data)
        self.app.accept_resource_link(**command)
        return {"request_id": command["request_id"]}

    @rpc
    def decline_resource_link(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.DeclineResourceLink, data)
        self.app.decline_resource_link(**command)
        return {"request_id": command["request_id"]}

    @rpc
    def record_delivery(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.RecordDelivery, data)
        self.app.record_delivery(**command)
        return {"request_id": command["request_id"]}

    @rpc
    def record_usage(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.RecordUsage, data)
        self.app.record_usage(**command)
        return {"request_id": command["request_id"]}

    @rpc
    def get_resource_link(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_resource_link(**load(schemas.ResourceRequest, data))

    @rpc
    def list_resource_links(self, data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self.app.list_resource_links(**load(schemas.ListResourceLinks, data or {}))

    # Referrals (8.3.1e, 7.1.4b).

    @rpc
    def accept_referral(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.AcceptReferral, data)
        self.app.accept_referral(**command)
        return {"referral_id": command["referral_id"]}

    @rpc
    def complete_referral(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.CompleteReferral, data)
        self.app.complete_referral(**command)
        return {"referral_id": command["referral_id"]}

    @rpc
    def get_referral(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_referral(**load(schemas.ReferralRef, data))

    @rpc
    def list_referrals(self) -> list[dict[str, Any]]:
        return self.app.list_referrals()

    # Community network (7.3a, 7.5).

    @rpc
    def hold_joint_activity(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.HoldJointActivity, data)
        command["partner_ids"] = [str(p) for p in command["partner_ids"]]
        return {"activity_id": self.app.hold_joint_activity(**command)}

    @rpc
    def get_community_network(self, data: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.app.get_community_network(**load(schemas.CommunityNetwork, data or {}))

    # Provider feedback (9.3c).

    @rpc
    def provider_feedback(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.ProviderFeedback, data)
        return self.app.provider_feedback(_id(command, "provider_id"), **command)

    @rpc
    def issue_provider_feedback(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.ProviderFeedback, data)
        return self.app.issue_provider_feedback(_id(command, "provider_id"), **command)
