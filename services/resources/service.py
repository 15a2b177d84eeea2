"""The resources service: RPC entrypoints and the cases subscription; the work is in `app.py`.
Each entrypoint names the roles that may call it at all (refused before its payload is read),
the payload schema, and the schema of its answer."""

from __future__ import annotations

from typing import Any

from services.resources import schemas
from services.resources.access import (
    CHECKERS,
    FEEDBACK_ISSUERS,
    FEEDBACK_READERS,
    LINK_READERS,
    LINK_WORKERS,
    MANAGERS,
    REGISTER_READERS,
)
from services.resources.app import CASES_EVENTS_ACTED_ON, ResourcesApplication
from services.runtime.entrypoints import rpc
from services.runtime.paging import page_of
from services.runtime.persistence import Cursor
from services.runtime.service import ApplicationDependency, PublishingService, command, query
from services.runtime.subscription import subscribe


class ResourcesService(PublishingService):
    name = "resources"
    app = ApplicationDependency(ResourcesApplication)

    @subscribe("cases", acts_on=CASES_EVENTS_ACTED_ON)
    def on_cases_event(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        self.app.handle_cases_event(envelope, cursor)

    # Providers, resources, donations (9.3a).

    @rpc
    @command(schemas.RegisterProvider, roles=MANAGERS, returns=schemas.ProviderId)
    def register_provider(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.register_provider(**command)

    @rpc
    @command(schemas.RegisterResource, roles=MANAGERS, returns=schemas.ResourceId)
    def register_resource(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.register_resource(**command)

    @rpc
    @command(schemas.RecordDonation, roles=MANAGERS, returns=schemas.DonationId)
    def record_donation(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.record_donation(**command)

    @rpc
    @query(schemas.GetProvider, roles=REGISTER_READERS, returns=schemas.ProviderRecord)
    def get_provider(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_provider(**query)

    @rpc
    @query(schemas.ListProviders, roles=REGISTER_READERS,
           returns=page_of(schemas.ProviderRecord))
    def list_providers(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_providers(**query)

    @rpc
    @query(schemas.GetResource, roles=REGISTER_READERS, returns=schemas.ResourceRecord)
    def get_resource(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_resource(**query)

    @rpc
    @query(schemas.ListResources, roles=REGISTER_READERS,
           returns=page_of(schemas.ResourceRecord))
    def list_resources(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_resources(**query)

    @rpc
    @query(schemas.ListDonations, roles=REGISTER_READERS,
           returns=page_of(schemas.DonationRecord))
    def list_donations(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_donations(**query)

    @rpc
    @query(schemas.GetDonationTotals, roles=REGISTER_READERS, returns=schemas.DonationTotals)
    def get_donation_totals(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_donation_totals(**query)

    # Volunteers (9.3b).

    @rpc
    @command(schemas.RegisterVolunteer, roles=MANAGERS, returns=schemas.VolunteerId)
    def register_volunteer(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.register_volunteer(**command)

    @rpc
    @command(schemas.RecordVolunteerCheck, roles=CHECKERS, returns=schemas.VolunteerId)
    def record_volunteer_check(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.record_volunteer_check(**command)

    @rpc
    @command(schemas.AssignVolunteer, roles=MANAGERS, returns=schemas.AssignmentId)
    def assign_volunteer(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.assign_volunteer(**command)

    @rpc
    @command(schemas.LogVolunteerHours, roles=MANAGERS, returns=schemas.VolunteerId)
    def log_volunteer_hours(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.log_volunteer_hours(**command)

    @rpc
    @query(schemas.GetVolunteer, roles=REGISTER_READERS, returns=schemas.VolunteerRecord)
    def get_volunteer(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_volunteer(**query)

    @rpc
    @query(schemas.ListVolunteers, roles=REGISTER_READERS,
           returns=page_of(schemas.VolunteerRow))
    def list_volunteers(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_volunteers(**query)

    # Resource links (8.3.4b).

    @rpc
    @query(schemas.ProposeResources, roles=LINK_READERS,
           returns=page_of(schemas.ResourceRecord))
    def propose_resources(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.propose_resources(**query)

    @rpc
    @command(schemas.OfferResource, roles=LINK_WORKERS, returns=schemas.RequestId)
    def offer_resource(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.offer_resource(**command)

    @rpc
    @command(schemas.AcceptResourceLink, roles=LINK_WORKERS, returns=schemas.RequestId)
    def accept_resource_link(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.accept_resource_link(**command)

    @rpc
    @command(schemas.DeclineResourceLink, roles=LINK_WORKERS, returns=schemas.RequestId)
    def decline_resource_link(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.decline_resource_link(**command)

    @rpc
    @command(schemas.RecordDelivery, roles=LINK_WORKERS, returns=schemas.RequestId)
    def record_delivery(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.record_delivery(**command)

    @rpc
    @command(schemas.RecordUsage, roles=LINK_WORKERS, returns=schemas.RequestId)
    def record_usage(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.record_usage(**command)

    @rpc
    @query(schemas.GetResourceLink, roles=LINK_READERS, returns=schemas.LinkRecord)
    def get_resource_link(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_resource_link(**query)

    @rpc
    @query(schemas.ListResourceLinks, roles=LINK_READERS, returns=page_of(schemas.LinkRow))
    def list_resource_links(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_resource_links(**query)

    # Referrals (8.3.1e, 7.1.4b).

    @rpc
    @command(schemas.AcceptReferral, roles=LINK_WORKERS, returns=schemas.ReferralId)
    def accept_referral(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.accept_referral(**command)

    @rpc
    @command(schemas.CompleteReferral, roles=LINK_WORKERS, returns=schemas.ReferralId)
    def complete_referral(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.complete_referral(**command)

    @rpc
    @query(schemas.GetReferral, roles=LINK_READERS, returns=schemas.ReferralRecord)
    def get_referral(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_referral(**query)

    @rpc
    @query(schemas.ListReferrals, roles=LINK_READERS, returns=page_of(schemas.ReferralRecord))
    def list_referrals(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_referrals(**query)

    # Community network (7.3a, 7.5).

    @rpc
    @command(schemas.HoldJointActivity, roles=MANAGERS, returns=schemas.ActivityId)
    def hold_joint_activity(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.hold_joint_activity(**command)

    @rpc
    @query(schemas.ListJointActivities, roles=REGISTER_READERS,
           returns=page_of(schemas.ActivityRecord))
    def list_joint_activities(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_joint_activities(**query)

    @rpc
    @query(schemas.CommunityNetwork, roles=REGISTER_READERS,
           returns=schemas.CommunityNetworkReport)
    def get_community_network(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_community_network(**query)

    # Provider feedback (9.3c).

    @rpc
    @query(schemas.ProviderFeedback, roles=FEEDBACK_READERS, returns=schemas.FeedbackReport)
    def provider_feedback(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.provider_feedback(**query)

    @rpc
    @command(schemas.IssueProviderFeedback, roles=FEEDBACK_ISSUERS,
             returns=schemas.IssuedFeedback)
    def issue_provider_feedback(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.issue_provider_feedback(**command)

    @rpc
    @query(schemas.ListIssuedFeedback, roles=FEEDBACK_READERS,
           returns=page_of(schemas.IssuedFeedbackRow))
    def list_issued_feedback(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_issued_feedback(**query)
