"""The resources service: RPC entrypoints and the cases subscription; the work is in `app.py`."""

from __future__ import annotations

from typing import Any

from services.resources import schemas
from services.resources.app import ResourcesApplication
from services.resources.publish import PUBLICATIONS
from services.runtime.entrypoints import rpc
from services.runtime.persistence import Cursor
from services.runtime.service import ApplicationDependency, PublishingService, command, query
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
    @command(schemas.RegisterProvider)
    def register_provider(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"provider_id": self.app.register_provider(**command)}

    @rpc
    @command(schemas.RegisterResource)
    def register_resource(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"resource_id": self.app.register_resource(_id(command, "provider_id"), **command)}

    @rpc
    @command(schemas.RecordDonation)
    def record_donation(self, command: dict[str, Any]) -> dict[str, Any]:
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
    @query(schemas.ListResources)
    def list_resources(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        provider_id = command.pop("provider_id")
        return self.app.list_resources(str(provider_id) if provider_id else None, **command)

    @rpc
    @query(schemas.ListDonations)
    def list_donations(self, command: dict[str, Any]) -> dict[str, Any]:
        provider_id = command["provider_id"]
        return self.app.list_donations(str(provider_id) if provider_id else None)

    # Volunteers (9.3b).

    @rpc
    @command(schemas.RegisterVolunteer)
    def register_volunteer(self, command: dict[str, Any]) -> dict[str, Any]:
        volunteer_id = self.app.register_volunteer(**command)
        return {"volunteer_id": volunteer_id}

    @rpc
    @command(schemas.RecordVolunteerCheck)
    def record_volunteer_check(self, command: dict[str, Any]) -> dict[str, Any]:
        volunteer_id = _id(command, "volunteer_id")
        self.app.record_volunteer_check(volunteer_id, **command)
        return {"volunteer_id": volunteer_id}

    @rpc
    @command(schemas.AssignVolunteer)
    def assign_volunteer(self, command: dict[str, Any]) -> dict[str, Any]:
        return {
            "assignment_id": self.app.assign_volunteer(_id(command, "volunteer_id"), **command)
        }

    @rpc
    @command(schemas.LogVolunteerHours)
    def log_volunteer_hours(self, command: dict[str, Any]) -> dict[str, Any]:
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
    @query(schemas.ProposeResources)
    def propose_resources(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.propose_resources(**command)

    @rpc
    @command(schemas.OfferResource)
    def offer_resource(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.offer_resource(
            command["request_id"], str(command["resource_id"]), command["quantity"]
        )
        return {"request_id": command["request_id"]}

    @rpc
    @command(schemas.AcceptResourceLink)
    def accept_resource_link(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.accept_resource_link(**command)
        return {"request_id": command["request_id"]}

    @rpc
    @command(schemas.DeclineResourceLink)
    def decline_resource_link(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.decline_resource_link(**command)
        return {"request_id": command["request_id"]}

    @rpc
    @command(schemas.RecordDelivery)
    def record_delivery(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.record_delivery(**command)
        return {"request_id": command["request_id"]}

    @rpc
    @command(schemas.RecordUsage)
    def record_usage(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.record_usage(**command)
        return {"request_id": command["request_id"]}

    @rpc
    @query(schemas.GetResourceLink)
    def get_resource_link(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_resource_link(**command)

    @rpc
    @query(schemas.ListResourceLinks)
    def list_resource_links(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.list_resource_links(**command)

    # Referrals (8.3.1e, 7.1.4b).

    @rpc
    @command(schemas.AcceptReferral)
    def accept_referral(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.accept_referral(**command)
        return {"referral_id": command["referral_id"]}

    @rpc
    @command(schemas.CompleteReferral)
    def complete_referral(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.complete_referral(**command)
        return {"referral_id": command["referral_id"]}

    @rpc
    @query(schemas.GetReferral)
    def get_referral(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_referral(**command)

    @rpc
    def list_referrals(self) -> list[dict[str, Any]]:
        return self.app.list_referrals()

    # Community network (7.3a, 7.5).

    @rpc
    @command(schemas.HoldJointActivity)
    def hold_joint_activity(self, command: dict[str, Any]) -> dict[str, Any]:
        command["partner_ids"] = [str(p) for p in command["partner_ids"]]
        return {"activity_id": self.app.hold_joint_activity(**command)}

    @rpc
    @query(schemas.CommunityNetwork)
    def get_community_network(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_community_network(**command)

    # Provider feedback (9.3c).

    @rpc
    @query(schemas.ProviderFeedback)
    def provider_feedback(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.provider_feedback(_id(command, "provider_id"), **command)

    @rpc
    @command(schemas.IssueProviderFeedback)
    def issue_provider_feedback(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.issue_provider_feedback(_id(command, "provider_id"), **command)
