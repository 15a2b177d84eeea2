"""Resource links (8.3.4b) and referrals (8.3.1e, 7.1.4b): records the cases service starts
with its events, which the case's worker then carries through here; they belong to the case,
so who may see and change them follows the case (`access.py`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from contracts.errors import Conflict, NotFound
from contracts.registry import validate_payload
from services.resources.access import check_case_record_access, may_see_case_record
from services.resources.base import ResourcesBase
from services.resources.domain import Resource
from services.resources.links import Referral, ResourceLink, link_id_for, referral_id_for
from services.resources.views import link_view, referral_view, resource_view
from services.runtime.clock import clock
from services.runtime.context import require_role
from services.runtime.persistence import Cursor

# Links and referrals belong to cases: their workers and supervisors act on them.
LINK_WORKERS = ("social_worker", "supervisor")
LINK_READERS = (*LINK_WORKERS, "school_admin")


class ResourceLinking(ResourcesBase):
    def handle_cases_event(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        """Open a resource link for a ResourceRequested, a referral record for a ReferralMade;
        every other cases event is not this service's business (the runtime stores the cursor
        alone). Deterministic: the new aggregate's id and content come from the envelope."""
        if envelope["type"] not in ("ResourceRequested", "ReferralMade"):
            return
        payload = validate_payload(envelope["type"], envelope["version"], envelope["payload"])
        created: Aggregate
        if envelope["type"] == "ResourceRequested":
            if link_id_for(payload["request_id"]) in self.repository:
                return
            created = ResourceLink(
                school_id=envelope["school_id"], requested_by=envelope["actor"]["id"], **payload
            )
        else:
            if referral_id_for(payload["referral_id"]) in self.repository:
                return
            created = Referral(
                school_id=envelope["school_id"], referred_by=envelope["actor"]["id"], **payload
            )
        self.save_processed(created, cursor=cursor)

    def propose_resources(self, request_id: str) -> list[dict[str, Any]]:
        """Resources that could serve the request today: its kind, the case's school, valid,
        eligible, and with capacity for the whole quantity."""
        link = self._link(request_id, LINK_READERS)
        today = clock.today()
        return [
            resource_view(resource)
            for resource in self._all(Resource, "Registered")
            if not resource.misfits(link.kind, link.school_id, link.service_codes,
                                    link.quantity, today)
            and resource.remaining >= link.quantity
        ]

    def offer_resource(self, request_id: str, resource_id: str, quantity: int | None) -> None:
        link = self._link(request_id, LINK_WORKERS)
        resource = self.get_aggregate(Resource, resource_id, "resource")
        quantity = quantity or link.quantity
        link.check_offerable(quantity)
        today = clock.today()
        resource.hold(str(link.id), link.kind, link.school_id, link.service_codes, quantity, today)
        link.make_offer(str(resource.id), resource.provider_id, quantity, today)
        self._save(resource, link)

    def accept_resource_link(self, request_id: str, accepted_on: date) -> None:
        link = self._link(request_id, LINK_WORKERS)
        link.accept(accepted_on)
        self._save(link)

    def decline_resource_link(self, request_id: str, reason: str, declined_on: date) -> None:
        link = self._link(request_id, LINK_WORKERS)
        resource = self._offered_resource(link)
        link.decline(reason, declined_on)
        resource.release(str(link.id))
        self._save(resource, link)

    def record_delivery(
        self, request_id: str, delivered_on: date, quantity: int | None
    ) -> None:
        link = self._link(request_id, LINK_WORKERS)
        resource = self._offered_resource(link)
        quantity = quantity or (link.offer["quantity"] if link.offer else link.quantity)
        link.deliver(quantity, delivered_on)
        resource.use_hold(str(link.id), quantity)
        self._save(resource, link)

    def record_usage(
        self, request_id: str, units_used: int, outcome: str, recorded_on: date
    ) -> None:
        link = self._link(request_id, LINK_WORKERS)
        link.record_usage(units_used, outcome, recorded_on)
        self._save(link)

    def get_resource_link(self, request_id: str) -> dict[str, Any]:
        return link_view(self._link(request_id, LINK_READERS))

    def list_resource_links(self, state: str | None = None) -> list[dict[str, Any]]:
        actor = require_role(*LINK_READERS)
        return [
            link_view(link)
            for link in self._all(ResourceLink, "Requested")
            if may_see_case_record(actor, link.school_id, link.requested_by)
            and (state is None or link.state == state)
        ]

    def accept_referral(self, referral_id: str, accepted_on: date) -> None:
        referral = self._referral(referral_id, LINK_WORKERS)
        referral.accept(accepted_on)
        self._save(referral)

    def complete_referral(self, referral_id: str, outcome: str, completed_on: date) -> None:
        referral = self._referral(referral_id, LINK_WORKERS)
        referral.complete(outcome, completed_on)
        self._save(referral)

    def get_referral(self, referral_id: str) -> dict[str, Any]:
        return referral_view(self._referral(referral_id, LINK_READERS))

    def list_referrals(self) -> list[dict[str, Any]]:
        actor = require_role(*LINK_READERS)
        return [
            referral_view(referral)
            for referral in self._all(Referral, "Made")
            if may_see_case_record(actor, referral.school_id, referral.referred_by)
        ]

    def _link(self, request_id: str, roles: tuple[str, ...]) -> ResourceLink:
        actor = require_role(*roles)
        try:
            link: ResourceLink = self.repository.get(link_id_for(request_id))
        except AggregateNotFoundError:
            raise NotFound(f"No resource link for request {request_id}.") from None
        check_case_record_access(actor, link.school_id, link.requested_by)
        return link

    def _offered_resource(self, link: ResourceLink) -> Resource:
        if link.offer is None:
            raise Conflict(
                f"The resource link is {link.state}: no resource is offered for it now.",
                code="missing_step",
            )
        return self.get_aggregate(Resource, link.offer["resource_id"], "resource")

    def _referral(self, referral_id: str, roles: tuple[str, ...]) -> Referral:
        actor = require_role(*roles)
        try:
            referral: Referral = self.repository.get(referral_id_for(referral_id))
        except AggregateNotFoundError:
            raise NotFound(f"No referral {referral_id}.") from None
        check_case_record_access(actor, referral.school_id, referral.referred_by)
        return referral
