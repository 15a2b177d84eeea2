"""The resources application: the social resource register, donations and volunteers (9.3), the
community network (7.3a, 7.5), provider feedback (9.3c), and the resource links and referrals
the cases service starts with its events (8.3.4b, 8.3.1e, 7.1.4b). Commands and queries in
plain types; every list reads the views (`views.py`)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate

from contracts.errors import Conflict, NotAllowed, NotFound
from contracts.events.resources import SECTOR_LABELS
from contracts.registry import validate_payload
from services.resources.access import (
    CHECKERS,
    FEEDBACK_ISSUERS,
    FEEDBACK_READERS,
    LINK_READERS,
    LINK_WORKERS,
    MANAGERS,
    PERSONAL_READERS,
    REGISTER_READERS,
    check_case_record_access,
    in_scope,
    school_in_scope,
)
from services.resources.domain import (
    Donation,
    JointActivity,
    Provider,
    ProviderFeedback,
    Resource,
)
from services.resources.feedback import feedback_csv, feedback_figures
from services.resources.links import Referral, ResourceLink, link_id_for, referral_id_for
from services.resources.publish import PUBLICATIONS
from services.resources.views import ResourcesViews
from services.resources.volunteers import Volunteer
from services.runtime.clock import clock
from services.runtime.context import Actor, require_role
from services.runtime.persistence import Cursor
from services.runtime.plain import plain
from services.runtime.store import CasebookApplication

# The cases events `handle_cases_event` does anything with; the subscription passes over the
# rest without a transaction of their own (services.runtime.subscription, `acts_on`).
CASES_EVENTS_ACTED_ON = ("ResourceRequested", "ReferralMade")


class ResourcesApplication(CasebookApplication):
    service = "resources"
    publications = PUBLICATIONS
    views_class = ResourcesViews
    views: ResourcesViews

    # Providers and resources (9.3a).

    def register_provider(
        self,
        provider_kind: str,
        sector: str,
        name: str,
        contact: dict[str, Any],
        registered_on: date,
        school_id: str | None = None,
    ) -> dict[str, Any]:
        actor = require_role(*MANAGERS)
        provider_id = uuid.uuid4()
        provider = Provider(
            id=provider_id,
            school_id=school_in_scope(actor, school_id),
            provider_kind=provider_kind,
            sector=sector,
            # An organisation's or government body's name is public; an individual's is sealed.
            display_name=None if provider_kind == "individual" else name,
            sealed_details=self.vault.seal(str(provider_id), {"name": name, "contact": contact}),
            registered_on=registered_on,
        )
        self.save(provider)
        return {"provider_id": str(provider.id)}

    def register_resource(self, provider_id: str, **resource: Any) -> dict[str, Any]:
        actor = require_role(*MANAGERS)
        self._provider(actor, provider_id)
        created = Resource(school_id=actor.school_id, provider_id=provider_id,
                           registered_on=clock.today(), **resource)
        self.save(created)
        return {"resource_id": str(created.id)}

    def get_provider(self, provider_id: str) -> dict[str, Any]:
        actor = require_role(*REGISTER_READERS)
        row = self.views.provider(provider_id)
        if row is None:
            raise NotFound(f"No provider {provider_id}.")
        self._check_serves(actor, provider_id, row["school_id"])
        return self._with_details(actor, row)

    def list_providers(self, **query: Any) -> dict[str, Any]:
        actor = require_role(*REGISTER_READERS)
        found = self.views.providers(actor, **query)
        return {**found, "items": [self._with_details(actor, row) for row in found["items"]]}

    def get_resource(self, resource_id: str) -> dict[str, Any]:
        actor = require_role(*REGISTER_READERS)
        row = self.views.resource(resource_id)
        if row is None:
            raise NotFound(f"No resource {resource_id}.")
        if not in_scope(actor, row["school_id"]) and actor.school_id not in row["school_ids"]:
            raise NotAllowed("The resource covers other schools, not yours.")
        return row

    def list_resources(self, **query: Any) -> dict[str, Any]:
        actor = require_role(*REGISTER_READERS)
        return self.views.resources(actor, **query)

    # Raised resources (9.3a).

    def record_donation(self, provider_id: str, **donation: Any) -> dict[str, Any]:
        actor = require_role(*MANAGERS)
        self._provider(actor, provider_id)
        created = Donation(school_id=actor.school_id, provider_id=provider_id, **donation)
        self.save(created)
        return {"donation_id": str(created.id)}

    def list_donations(self, **query: Any) -> dict[str, Any]:
        """The donations the actor's school recorded (all of them for an actor with no school)."""
        actor = require_role(*REGISTER_READERS)
        return self.views.donations(actor, **query)

    def get_donation_totals(self, **filters: Any) -> dict[str, Any]:
        """What the same donations add up to, per kind and currency, in cents."""
        actor = require_role(*REGISTER_READERS)
        return {"totals": self.views.donation_totals(actor, **filters)}

    # Volunteers (9.3b).

    def register_volunteer(
        self,
        name: str,
        contact: dict[str, Any],
        skills: list[str],
        registered_on: date,
        school_id: str | None = None,
    ) -> dict[str, Any]:
        actor = require_role(*MANAGERS)
        volunteer_id = uuid.uuid4()
        volunteer = Volunteer(
            id=volunteer_id,
            school_id=school_in_scope(actor, school_id),
            sealed_details=self.vault.seal(str(volunteer_id), {"name": name, "contact": contact}),
            skills=skills,
            registered_on=registered_on,
        )
        self.save(volunteer)
        return {"volunteer_id": str(volunteer.id)}

    def record_volunteer_check(
        self, volunteer_id: str, result: str, checked_on: date, expires_on: date
    ) -> dict[str, Any]:
        actor = require_role(*CHECKERS)
        volunteer = self._volunteer(actor, volunteer_id)
        volunteer.record_check(result, checked_on, expires_on, today=clock.today())
        self.save(volunteer)
        return {"volunteer_id": volunteer_id}

    def assign_volunteer(self, volunteer_id: str, **assignment: Any) -> dict[str, Any]:
        actor = require_role(*MANAGERS)
        volunteer = self._volunteer(actor, volunteer_id)
        assignment_id = str(uuid.uuid4())
        volunteer.assign(assignment_id=assignment_id, today=clock.today(), **assignment)
        self.save(volunteer)
        return {"assignment_id": assignment_id}

    def log_volunteer_hours(
        self, volunteer_id: str, assignment_id: str, served_on: date, minutes: int
    ) -> dict[str, Any]:
        actor = require_role(*MANAGERS)
        volunteer = self._volunteer(actor, volunteer_id)
        volunteer.log_time(assignment_id, served_on, minutes, today=clock.today())
        self.save(volunteer)
        return {"volunteer_id": volunteer_id}

    def get_volunteer(self, volunteer_id: str) -> dict[str, Any]:
        actor = require_role(*REGISTER_READERS)
        volunteer = self._volunteer(actor, volunteer_id)
        today = clock.today()
        view = {
            "volunteer_id": str(volunteer.id),
            "version": volunteer.version,
            "school_id": volunteer.school_id,
            "sealed_details": volunteer.sealed_details,
            "skills": volunteer.skills,
            "registered_on": volunteer.registered_on,
            "latest_check": volunteer.latest_check,
            "check_state": volunteer.check_state(today),
            "may_work_with_students": volunteer.clearance_problem(today) is None,
            "assignments": list(volunteer.assignments.values()),
            "served": volunteer.served,
            "minutes_served": volunteer.total_minutes,
        }
        return self._with_details(actor, plain(view))

    def list_volunteers(self, **query: Any) -> dict[str, Any]:
        actor = require_role(*REGISTER_READERS)
        found = self.views.volunteers(actor, today=clock.today(), **query)
        return {**found, "items": [self._with_details(actor, row) for row in found["items"]]}

    # Resource links (8.3.4b), opened by the cases service's ResourceRequested.

    def handle_cases_event(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        """Open a resource link for a ResourceRequested, a referral record for a ReferralMade:
        records of this service's own, which it then carries through with its commands. Every
        other cases event is not this service's business (the runtime stores the cursor alone).
        Deterministic: the new aggregate's id and content come from the envelope."""
        if envelope["type"] not in CASES_EVENTS_ACTED_ON:
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

    def propose_resources(self, request_id: str, **page: Any) -> dict[str, Any]:
        """Resources that could serve the request today: its kind, the case's school, valid,
        eligible, and with capacity for the whole quantity."""
        link = self._link(request_id, LINK_READERS)
        return self.views.proposals(link.kind, link.school_id, link.service_codes,
                                    link.quantity, clock.today(), **page)

    def offer_resource(self, request_id: str, resource_id: str,
                       quantity: int | None) -> dict[str, Any]:
        link = self._link(request_id, LINK_WORKERS)
        # Capacity is decided on the resource's own record, never on a view row that may lag:
        # two instances offering its last places both save its next version, and one of the
        # two saves is refused (8.3.4b).
        resource = self.get_aggregate(Resource, resource_id, "resource")
        quantity = quantity or link.quantity
        link.check_offerable(quantity)
        today = clock.today()
        resource.hold(str(link.id), link.kind, link.school_id, link.service_codes, quantity, today)
        link.make_offer(str(resource.id), resource.provider_id, quantity, today)
        self.save(resource, link)
        return {"request_id": request_id}

    def accept_resource_link(self, request_id: str, accepted_on: date) -> dict[str, Any]:
        link = self._link(request_id, LINK_WORKERS)
        link.accept(accepted_on)
        self.save(link)
        return {"request_id": request_id}

    def decline_resource_link(
        self, request_id: str, reason: str, declined_on: date
    ) -> dict[str, Any]:
        link = self._link(request_id, LINK_WORKERS)
        resource = self._offered_resource(link)
        link.decline(reason, declined_on)
        resource.release(str(link.id))
        self.save(resource, link)
        return {"request_id": request_id}

    def record_delivery(
        self, request_id: str, delivered_on: date, quantity: int | None
    ) -> dict[str, Any]:
        link = self._link(request_id, LINK_WORKERS)
        resource = self._offered_resource(link)
        quantity = quantity or (link.offer["quantity"] if link.offer else link.quantity)
        link.deliver(quantity, delivered_on)
        resource.use_hold(str(link.id), quantity)
        self.save(resource, link)
        return {"request_id": request_id}

    def record_usage(
        self, request_id: str, units_used: int, outcome: str, recorded_on: date
    ) -> dict[str, Any]:
        link = self._link(request_id, LINK_WORKERS)
        link.record_usage(units_used, outcome, recorded_on)
        self.save(link)
        return {"request_id": request_id}

    def get_resource_link(self, request_id: str) -> dict[str, Any]:
        link = self._link(request_id, LINK_READERS)
        return plain({
            "link_id": str(link.id), "version": link.version, "request_id": link.request_id,
            "case_id": link.case_id, "school_id": link.school_id, "kind": link.kind,
            "service_codes": link.service_codes, "quantity": link.quantity,
            "needed_by": link.needed_by, "state": link.state, "offer": link.offer,
            "declined": link.declined, "accepted_on": link.accepted_on,
            "delivery": link.delivery, "usage": link.usage,
        })

    def list_resource_links(self, **query: Any) -> dict[str, Any]:
        actor = require_role(*LINK_READERS)
        return self.views.resource_links(actor, **query)

    # Referrals (8.3.1e, 7.1.4b), opened by the cases service's ReferralMade.

    def accept_referral(self, referral_id: str, accepted_on: date) -> dict[str, Any]:
        referral = self._referral(referral_id, LINK_WORKERS)
        referral.accept(accepted_on)
        self.save(referral)
        return {"referral_id": referral_id}

    def complete_referral(
        self, referral_id: str, outcome: str, completed_on: date
    ) -> dict[str, Any]:
        referral = self._referral(referral_id, LINK_WORKERS)
        referral.complete(outcome, completed_on)
        self.save(referral)
        return {"referral_id": referral_id}

    def get_referral(self, referral_id: str) -> dict[str, Any]:
        actor = require_role(*LINK_READERS)
        row = self.views.referral(referral_id)
        if row is None:
            raise NotFound(f"No referral {referral_id}.")
        check_case_record_access(actor, row["school_id"], row.pop("referred_by"))
        return row

    def list_referrals(self, **query: Any) -> dict[str, Any]:
        actor = require_role(*LINK_READERS)
        found = self.views.referrals(actor, **query)
        for row in found["items"]:
            del row["referred_by"]
        return found

    # Community network (7.3a, 7.5).

    def hold_joint_activity(
        self, partner_ids: list[str], school_id: str | None = None, **activity: Any
    ) -> dict[str, Any]:
        actor = require_role(*MANAGERS)
        school = school_in_scope(actor, school_id)
        for partner_id in partner_ids:
            self._provider(actor, partner_id, "partner")
        created = JointActivity(
            school_id=school, partner_ids=list(dict.fromkeys(partner_ids)), **activity,
        )
        self.save(created)
        return {"activity_id": str(created.id)}

    def list_joint_activities(self, **query: Any) -> dict[str, Any]:
        actor = require_role(*REGISTER_READERS)
        return self.views.joint_activities(actor, **query)

    def get_community_network(self, school_id: str | None = None) -> dict[str, Any]:
        """Partners per sector and the joint activities held with them, for one school, or all
        of them."""
        actor = require_role(*REGISTER_READERS)
        school = school_in_scope(actor, school_id)
        partners, activities, held = self.views.network(school)
        counts: dict[str, dict[str, int]] = {}
        for name, rows in (("partners", partners), ("joint_activities", activities)):
            for row in rows:
                counts.setdefault(row["sector"], {"partners": 0, "joint_activities": 0})[
                    name] = int(row["n"])
        return {
            "school_id": school,
            "sectors": [{"sector": sector, **SECTOR_LABELS[sector], **counts[sector]}
                        for sector in sorted(counts)],
            "partners": sum(int(row["n"]) for row in partners),
            "joint_activities": int(held[0]["n"]),
        }

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
            school_id=actor.school_id, provider_id=provider_id, period_from=period_from,
            period_to=period_to, figures=figures, issued_on=clock.today(),
        )
        self.save(issued)
        return {"feedback_id": str(issued.id), "figures": figures, "csv": feedback_csv(figures)}

    def list_issued_feedback(self, provider_id: str | None = None,
                             **query: Any) -> dict[str, Any]:
        """The feedback the actor's school issued to providers (every school's for an actor
        bound to none), as issued, in the order issued; of one provider it serves, if named."""
        actor = require_role(*FEEDBACK_READERS)
        if provider_id is not None:
            self._provider(actor, provider_id)
        return self.views.issued_feedback(actor, provider_id=provider_id, **query)

    def _feedback_figures(
        self, actor: Actor, provider_id: str, period_from: date, period_to: date
    ) -> dict[str, Any]:
        self._provider(actor, provider_id)
        rows = self.views.feedback_rows(provider_id, actor.school_id, period_from, period_to)
        return feedback_figures(provider_id, actor.school_id, period_from, period_to, rows)

    # Loading one record, within the actor's scope.

    def _provider(self, actor: Actor, provider_id: str, what: str = "provider") -> Provider:
        provider = self.get_aggregate(Provider, provider_id, what)
        self._check_serves(actor, provider_id, provider.school_id, what)
        return provider

    def _check_serves(self, actor: Actor, provider_id: str, registered_with: str | None,
                      what: str = "provider") -> None:
        """Staff of a school use the providers that serve it (docs/permissions.md)."""
        if not (actor.school_id is None or registered_with in (None, actor.school_id)
                or self.views.provider_serves(provider_id, actor.school_id)):
            raise NotAllowed(f"The {what} is another school's: registered there, and none of "
                             f"its resources covers {actor.school_id}.")

    def _with_details(self, actor: Actor, row: dict[str, Any]) -> dict[str, Any]:
        """A provider's or volunteer's row with the sealed token replaced: by the name and
        contact for the school's own team, by nothing for everyone else."""
        sealed = row.pop("sealed_details")
        if actor.role in PERSONAL_READERS:
            row["details"] = self.vault.open(sealed)
            if "name" in row and isinstance(row["details"], dict):
                row["name"] = row["details"]["name"]
        return row

    def _volunteer(self, actor: Actor, volunteer_id: str) -> Volunteer:
        volunteer = self.get_aggregate(Volunteer, volunteer_id, "volunteer")
        if not in_scope(actor, volunteer.school_id):
            raise NotAllowed("The volunteer is registered with another school.")
        return volunteer

    def _link(self, request_id: str, roles: tuple[str, ...]) -> ResourceLink:
        actor = require_role(*roles)
        link = self.find_aggregate(ResourceLink, link_id_for(request_id))
        if link is None:
            raise NotFound(f"No resource link for request {request_id}.")
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
        referral = self.find_aggregate(Referral, referral_id_for(referral_id))
        if referral is None:
            raise NotFound(f"No referral {referral_id}.")
        check_case_record_access(actor, referral.school_id, referral.referred_by)
        return referral

