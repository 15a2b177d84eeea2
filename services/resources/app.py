"""The resources application: the social resource register, donations, volunteers (9.3), the
community network (7.3a, 7.5) and provider feedback (9.3c). Resource links and referrals
started by the cases service (8.3.4b, 8.3.1e) are in `linking.py`. Commands and queries in
plain types."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from contracts.errors import NotAllowed
from services.resources.access import same_school, school_in_scope
from services.resources.base import ResourcesBase
from services.resources.domain import (
    Donation,
    JointActivity,
    Provider,
    ProviderFeedback,
    Resource,
)
from services.resources.feedback import feedback_csv, feedback_figures
from services.resources.linking import ResourceLinking
from services.resources.links import Referral, ResourceLink
from services.resources.views import (
    community_network,
    donation_view,
    provider_view,
    resource_view,
    volunteer_view,
)
from services.resources.volunteers import Volunteer
from services.runtime.clock import clock
from services.runtime.context import Actor, require_role
from services.runtime.plain import plain

# Who keeps the register and the volunteers: the school's social-work team and its admin.
MANAGERS = ("social_worker", "supervisor", "school_admin")
# Clearing volunteers to work with students is a supervisor's or the school's decision.
CHECKERS = ("supervisor", "school_admin")
# Auditors read the register without personal fields.
REGISTER_READERS = (*MANAGERS, "auditor")
FEEDBACK_ISSUERS = ("supervisor", "school_admin")
FEEDBACK_READERS = (*FEEDBACK_ISSUERS, "auditor")


class ResourcesApplication(ResourceLinking, ResourcesBase):
    service = "resources"

    # Providers and resources (9.3a).

    def register_provider(
        self,
        provider_kind: str,
        sector: str,
        name: str,
        contact: dict[str, Any],
        registered_on: date,
        school_id: str | None = None,
    ) -> str:
        actor = require_role(*MANAGERS)
        provider_id = uuid.uuid4()
        provider = Provider(
            id=provider_id,
            school_id=school_in_scope(actor, school_id),
            provider_kind=provider_kind,
            sector=sector,
            display_name=None if provider_kind == "individual" else name,
            sealed_details=self.vault.seal(str(provider_id), {"name": name, "contact": contact}),
            registered_on=registered_on,
        )
        self._save(provider)
        return str(provider.id)

    def register_resource(self, provider_id: str, **resource: Any) -> str:
        actor = require_role(*MANAGERS)
        self._provider(actor, provider_id)
        created = Resource(
            school_id=actor.school_id, provider_id=str(provider_id),
            registered_on=clock.today(), **resource,
        )
        self._save(created)
        return str(created.id)

    def get_provider(self, provider_id: str) -> dict[str, Any]:
        actor = require_role(*REGISTER_READERS)
        return provider_view(self.vault, actor, self._provider(actor, provider_id))

    def list_providers(self) -> list[dict[str, Any]]:
        actor = require_role(*REGISTER_READERS)
        return [provider_view(self.vault, actor, p)
                for p in self._providers_serving(actor.school_id)]

    def get_resource(self, resource_id: str) -> dict[str, Any]:
        actor = require_role(*REGISTER_READERS)
        resource = self.get_aggregate(Resource, resource_id, "resource")
        if not _resource_serves(resource, actor.school_id):
            raise NotAllowed("The resource covers other schools, not yours.")
        return resource_view(resource)

    def list_resources(
        self, provider_id: str | None = None, kind: str | None = None,
        school_id: str | None = None,
    ) -> list[dict[str, Any]]:
        actor = require_role(*REGISTER_READERS)
        return [
            resource_view(resource)
            for resource in self._all(Resource, "Registered")
            if _resource_serves(resource, actor.school_id)
            and (provider_id is None or resource.provider_id == str(provider_id))
            and (kind is None or resource.kind == kind)
            and (school_id is None or school_id in resource.school_ids)
        ]

    # Raised resources (9.3a).

    def record_donation(self, provider_id: str, **donation: Any) -> str:
        actor = require_role(*MANAGERS)
        self._provider(actor, provider_id)
        created = Donation(school_id=actor.school_id, provider_id=str(provider_id), **donation)
        self._save(created)
        return str(created.id)

    def list_donations(self, provider_id: str | None = None) -> dict[str, Any]:
        """The donations the actor's school recorded (all of them for an actor with no school),
        with totals per kind and currency."""
        actor = require_role(*REGISTER_READERS)
        donations = [
            d for d in self._all(Donation, "Recorded")
            if (provider_id is None or d.provider_id == str(provider_id))
            and same_school(actor, d.school_id)
        ]
        totals: dict[str, int] = {}
        for donation in donations:
            key = f"{donation.kind}:{donation.currency}"
            totals[key] = totals.get(key, 0) + donation.amount_cents
        return plain({
            "donations": [donation_view(d) for d in donations],
            "totals_cents": totals,
        })

    # Volunteers (9.3b).

    def register_volunteer(
        self,
        name: str,
        contact: dict[str, Any],
        skills: list[str],
        registered_on: date,
        school_id: str | None = None,
    ) -> str:
        actor = require_role(*MANAGERS)
        volunteer_id = uuid.uuid4()
        volunteer = Volunteer(
            id=volunteer_id,
            school_id=school_in_scope(actor, school_id),
            sealed_details=self.vault.seal(str(volunteer_id), {"name": name, "contact": contact}),
            skills=skills,
            registered_on=registered_on,
        )
        self._save(volunteer)
        return str(volunteer.id)

    def record_volunteer_check(
        self, volunteer_id: str, result: str, checked_on: date, expires_on: date
    ) -> None:
        actor = require_role(*CHECKERS)
        volunteer = self._volunteer(actor, volunteer_id)
        volunteer.record_check(result, checked_on, expires_on, today=clock.today())
        self._save(volunteer)

    def assign_volunteer(self, volunteer_id: str, **assignment: Any) -> str:
        actor = require_role(*MANAGERS)
        volunteer = self._volunteer(actor, volunteer_id)
        assignment_id = str(uuid.uuid4())
        volunteer.assign(assignment_id=assignment_id, today=clock.today(), **assignment)
        self._save(volunteer)
        return assignment_id

    def log_volunteer_hours(
        self, volunteer_id: str, assignment_id: str, served_on: date, hours: float
    ) -> None:
        actor = require_role(*MANAGERS)
        volunteer = self._volunteer(actor, volunteer_id)
        volunteer.log_hours(assignment_id, served_on, hours, today=clock.today())
        self._save(volunteer)

    def get_volunteer(self, volunteer_id: str) -> dict[str, Any]:
        actor = require_role(*REGISTER_READERS)
        return volunteer_view(self.vault, actor, self._volunteer(actor, volunteer_id))

    def list_volunteers(self) -> list[dict[str, Any]]:
        actor = require_role(*REGISTER_READERS)
        return [
            volunteer_view(self.vault, actor, volunteer)
            for volunteer in self._all(Volunteer, "Registered")
            if same_school(actor, volunteer.school_id)
        ]

    # Community network (7.3a, 7.5).

    def hold_joint_activity(
        self, partner_ids: list[str], school_id: str | None = None, **activity: Any
    ) -> str:
        actor = require_role(*MANAGERS)
        school = school_in_scope(actor, school_id)
        for partner_id in partner_ids:
            self._provider(actor, partner_id, "partner")
        created = JointActivity(
            school_id=school,
            partner_ids=[str(p) for p in dict.fromkeys(partner_ids)], **activity,
        )
        self._save(created)
        return str(created.id)

    def get_community_network(self, school_id: str | None = None) -> dict[str, Any]:
        """Partners by sector and the joint activities held with them (for one school, or all
        of them)."""
        actor = require_role(*REGISTER_READERS)
        school = school_in_scope(actor, school_id)
        activities = [
            a for a in self._all(JointActivity, "Held")
            if school is None or a.school_id == school
        ]
        return community_network(school, self._providers_serving(school), activities)

    # Provider feedback (9.3c).

    def provider_feedback(
        self, provider_id: str, period_from: date, period_to: date
    ) -> dict[str, Any]:
        """The feedback as it stands now, without issuing it."""
        actor = require_role(*FEEDBACK_READERS)
        figures = self._feedback_figures(actor, provider_id, period_from, period_to)
        return {"figures": figures, "csv": feedback_csv(figures)}

    def issue_provider_feedback(
        self, provider_id: str, period_from: date, period_to: date
    ) -> dict[str, Any]:
        actor = require_role(*FEEDBACK_ISSUERS)
        figures = self._feedback_figures(actor, provider_id, period_from, period_to)
        issued = ProviderFeedback(
            school_id=actor.school_id, provider_id=str(provider_id), period_from=period_from,
            period_to=period_to, figures=figures, issued_on=clock.today(),
        )
        self._save(issued)
        return {"feedback_id": str(issued.id), "figures": figures, "csv": feedback_csv(figures)}

    def _feedback_figures(
        self, actor: Actor, provider_id: str, period_from: date, period_to: date
    ) -> dict[str, Any]:
        self._provider(actor, provider_id)
        return feedback_figures(
            str(provider_id), actor.school_id, period_from, period_to,
            (r for r in self._all(Resource, "Registered")
             if r.provider_id == str(provider_id)),
            self._all(ResourceLink, "Delivered"),
        )

    # Read models, for `casebook rebuild`.

    def read_models(self) -> dict[str, Any]:
        """What the resources service derives from its log: resource links and referrals by
        state (8.3.4b, 8.3.1e), each resource's capacity in use, each volunteer's latest
        background check and service (9.3b), providers by sector and donation totals (9.3a).
        Identifiers, codes, dates and counts only; names stay sealed in the register."""
        links: dict[str, list[str]] = {}
        for link in self._all(ResourceLink, "Requested"):
            links.setdefault(link.state, []).append(link.request_id)
        referrals: dict[str, list[str]] = {}
        for referral in self._all(Referral, "Made"):
            referrals.setdefault(referral.status, []).append(referral.referral_id)
        providers: dict[str, list[str]] = {}
        for provider in self._all(Provider, "Registered"):
            providers.setdefault(provider.sector, []).append(str(provider.id))
        donations: dict[str, int] = {}
        for donation in self._all(Donation, "Recorded"):
            key = f"{donation.kind}:{donation.currency}"
            donations[key] = donations.get(key, 0) + donation.amount_cents
        return plain({
            "resource_links_by_state": _sorted_groups(links),
            "referrals_by_state": _sorted_groups(referrals),
            "capacity_by_resource": {
                str(r.id): {"capacity": r.capacity, "held": sum(r.held.values()),
                            "delivered": r.delivered_units, "remaining": r.remaining}
                for r in sorted(self._all(Resource, "Registered"), key=lambda r: str(r.id))},
            "volunteers": {
                str(v.id): {"latest_check": v.latest_check, "assignments": len(v.assignments),
                            "total_hours": v.total_hours}
                for v in sorted(self._all(Volunteer, "Registered"), key=lambda v: str(v.id))},
            "providers_by_sector": _sorted_groups(providers),
            "donation_totals_cents": dict(sorted(donations.items())),
        })

    # Loading within the actor's school.

    def _provider(self, actor: Actor, provider_id: str, what: str = "provider") -> Provider:
        provider = self.get_aggregate(Provider, provider_id, what)
        if actor.school_id and not self._serves(provider, actor.school_id, None):
            raise NotAllowed(f"The {what} is another school's: registered there, and none of "
                             f"its resources covers {actor.school_id}.")
        return provider

    def _providers_serving(self, school_id: str | None) -> list[Provider]:
        """The providers a school sees: those it registered, those of no school, and those
        with a resource that covers it; every provider when no school is named."""
        covering = None if school_id is None else {
            r.provider_id for r in self._all(Resource, "Registered") if school_id in r.school_ids}
        return [p for p in self._all(Provider, "Registered")
                if school_id is None or self._serves(p, school_id, covering)]

    def _serves(self, provider: Provider, school_id: str, covering: set[str] | None) -> bool:
        if provider.school_id in (None, school_id):
            return True
        if covering is None:
            covering = {r.provider_id for r in self._all(Resource, "Registered")
                        if r.provider_id == str(provider.id) and school_id in r.school_ids}
        return str(provider.id) in covering

    def _volunteer(self, actor: Actor, volunteer_id: str) -> Volunteer:
        volunteer = self.get_aggregate(Volunteer, volunteer_id, "volunteer")
        if not same_school(actor, volunteer.school_id):
            raise NotAllowed("The volunteer is registered with another school.")
        return volunteer



def _resource_serves(resource: Resource, school_id: str | None) -> bool:
    """A resource is seen by the schools it covers and the school that registered it."""
    return school_id is None or school_id in resource.school_ids or resource.school_id == school_id


def _sorted_groups(groups: dict[str, list[str]]) -> dict[str, list[str]]:
    return {key: sorted(ids) for key, ids in sorted(groups.items())}
