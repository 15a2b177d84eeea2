"""The resources application: the social resource register, donations, volunteers (9.3),
resource links and referrals started by the cases service (8.3.4b, 8.3.1e), the community
network (7.3a, 7.5) and provider feedback (9.3c). Commands and queries in plain types."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from contracts.errors import Conflict, NotAllowed, NotFound
from contracts.registry import validate_payload
from services.resources.access import (
    check_case_record_access,
    may_see_case_record,
    same_school,
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
from services.resources.views import (
    community_network,
    donation_view,
    link_view,
    provider_view,
    referral_view,
    resource_view,
    volunteer_view,
)
from services.resources.volunteers import Volunteer
from services.runtime.clock import clock
from services.runtime.context import Actor, require_role
from services.runtime.persistence import Cursor
from services.runtime.plain import plain
from services.runtime.store import CasebookApplication

# Who keeps the register and the volunteers: the school's social-work team and its admin.
MANAGERS = ("social_worker", "supervisor", "school_admin")
# Clearing volunteers to work with students is a supervisor's or the school's decision.
CHECKERS = ("supervisor", "school_admin")
# Links and referrals belong to cases: their workers and supervisors act on them.
LINK_WORKERS = ("social_worker", "supervisor")
LINK_READERS = (*LINK_WORKERS, "school_admin")
# Auditors read the register without personal fields.
REGISTER_READERS = (*MANAGERS, "auditor")
FEEDBACK_ISSUERS = ("supervisor", "school_admin")
FEEDBACK_READERS = (*FEEDBACK_ISSUERS, "auditor")
PAGE = 500

A = TypeVar("A", bound=Aggregate)


class ResourcesApplication(CasebookApplication):
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
        self._get(Provider, provider_id, "provider")
        created = Resource(
            school_id=actor.school_id, provider_id=str(provider_id),
            registered_on=clock.today(), **resource,
        )
        self._save(created)
        return str(created.id)

    def get_provider(self, provider_id: str) -> dict[str, Any]:
        actor = require_role(*REGISTER_READERS)
        provider = self._get(Provider, provider_id, "provider")
        return provider_view(self.vault, actor, provider)

    def list_providers(self) -> list[dict[str, Any]]:
        actor = require_role(*REGISTER_READERS)
        return [provider_view(self.vault, actor, p) for p in self._all(Provider, "Registered")]

    def get_resource(self, resource_id: str) -> dict[str, Any]:
        require_role(*REGISTER_READERS)
        return resource_view(self._get(Resource, resource_id, "resource"))

    def list_resources(
        self, provider_id: str | None = None, kind: str | None = None,
        school_id: str | None = None,
    ) -> list[dict[str, Any]]:
        require_role(*REGISTER_READERS)
        return [
            resource_view(resource)
            for resource in self._all(Resource, "Registered")
            if (provider_id is None or resource.provider_id == str(provider_id))
            and (kind is None or resource.kind == kind)
            and (school_id is None or school_id in resource.school_ids)
        ]

    # Raised resources (9.3a).

    def record_donation(self, provider_id: str, **donation: Any) -> str:
        actor = require_role(*MANAGERS)
        self._get(Provider, provider_id, "provider")
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

    # Resource links (8.3.4b) and referrals (8.3.1e, 7.1.4b), started by cases events.

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
        resource = self._get(Resource, resource_id, "resource")
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

    # Community network (7.3a, 7.5).

    def hold_joint_activity(
        self, partner_ids: list[str], school_id: str | None = None, **activity: Any
    ) -> str:
        actor = require_role(*MANAGERS)
        for partner_id in partner_ids:
            self._get(Provider, partner_id, "partner")
        created = JointActivity(
            school_id=school_in_scope(actor, school_id),
            partner_ids=[str(p) for p in dict.fromkeys(partner_ids)], **activity,
        )
        self._save(created)
        return str(created.id)

    def get_community_network(self, school_id: str | None = None) -> dict[str, Any]:
        """Partners by sector and the joint activities held with them (for one school, or all
        of them)."""
        actor = require_role(*REGISTER_READERS)
        school = school_id or actor.school_id
        activities = [
            a for a in self._all(JointActivity, "Held")
            if school is None or a.school_id == school
        ]
        return community_network(school, self._all(Provider, "Registered"), activities)

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
        self._get(Provider, provider_id, "provider")
        return feedback_figures(
            str(provider_id), actor.school_id, period_from, period_to,
            (r for r in self._all(Resource, "Registered")
             if r.provider_id == str(provider_id)),
            self._all(ResourceLink, "Delivered"),
        )

    # Loading, saving, scoping.

    def _save(self, *aggregates: Aggregate) -> None:
        try:
            self.save(*aggregates)
        except IntegrityError:
            raise Conflict(
                "Someone changed this record at the same time; reload and try again.",
                code="conflict",
            ) from None

    def _get(self, kind: type[A], aggregate_id: Any, what: str) -> A:
        try:
            aggregate: Aggregate = self.repository.get(UUID(str(aggregate_id)))
        except (AggregateNotFoundError, ValueError):
            raise NotFound(f"No {what} {aggregate_id}.") from None
        if not isinstance(aggregate, kind):
            raise NotFound(f"No {what} {aggregate_id}.")
        return aggregate

    def _all(self, kind: type[A], created: str) -> Iterator[A]:
        """Every aggregate of `kind`, in the order they were created (`created` names the
        created event: eventsourcing makes the class from the `@event` name)."""
        topic = f"{kind.__module__}:{kind.__qualname__}.{created}"
        position = 0
        while True:
            batch = list(self.recorder.select_notifications(
                start=position + 1, limit=PAGE, topics=[topic]
            ))
            for notification in batch:
                yield self._get(kind, notification.originator_id, kind.__name__)
            if len(batch) < PAGE:
                return
            position = batch[-1].id

    def _volunteer(self, actor: Actor, volunteer_id: str) -> Volunteer:
        volunteer = self._get(Volunteer, volunteer_id, "volunteer")
        if not same_school(actor, volunteer.school_id):
            raise NotAllowed("The volunteer is registered with another school.")
        return volunteer

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
        return self._get(Resource, link.offer["resource_id"], "resource")

    def _referral(self, referral_id: str, roles: tuple[str, ...]) -> Referral:
        actor = require_role(*roles)
        try:
            referral: Referral = self.repository.get(referral_id_for(referral_id))
        except AggregateNotFoundError:
            raise NotFound(f"No referral {referral_id}.") from None
        check_case_record_access(actor, referral.school_id, referral.referred_by)
        return referral
