"""The social resource register (9.3a) and the community network (7.3a, 7.5): providers, their
resources with capacity, donations, joint activities, and the feedback issued to providers (9.3c).

Guards run before any event is triggered, so a refused command changes nothing. Names and contact
details arrive here already sealed by the application (`sealed_details`): aggregates never hold
them in clear.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from eventsourcing.domain import event

from contracts.errors import Conflict, InvalidInput
from services.runtime.domain import CasebookAggregate


class Provider(CasebookAggregate):
    @event("Registered")
    def __init__(
        self,
        id: uuid.UUID,
        school_id: str | None,
        provider_kind: str,
        sector: str,
        display_name: str | None,
        sealed_details: str,
        registered_on: date,
    ) -> None:
        self.school_id = school_id
        self.provider_kind = provider_kind
        self.sector = sector
        # An organisation's or government body's name is public; an individual's is sealed.
        self.display_name = display_name
        self.sealed_details = sealed_details
        self.registered_on = registered_on


class Resource(CasebookAggregate):
    """A resource a provider offers. Its capacity is held by offers and used by deliveries:
    what is left is capacity − held − delivered, and no offer may take more (8.3.4b)."""

    @event("Registered")
    def __init__(
        self,
        school_id: str | None,
        provider_id: str,
        kind: str,
        title: str,
        capacity: int,
        unit: str,
        school_ids: list[str],
        eligible_service_codes: list[str],
        max_per_request: int | None,
        eligibility_note: str,
        valid_from: date,
        valid_until: date | None,
        registered_on: date,
    ) -> None:
        self.school_id = school_id
        self.provider_id = provider_id
        self.kind = kind
        self.title = title
        self.capacity = capacity
        self.unit = unit
        self.school_ids = list(school_ids)
        self.eligible_service_codes = list(eligible_service_codes)
        self.max_per_request = max_per_request
        self.eligibility_note = eligibility_note
        self.valid_from = valid_from
        self.valid_until = valid_until
        self.registered_on = registered_on
        self.held: dict[str, int] = {}
        self.delivered_units = 0

    @property
    def remaining(self) -> int:
        return self.capacity - sum(self.held.values()) - self.delivered_units

    def is_valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    def misfits(
        self, kind: str, school_id: str | None, service_codes: list[str], quantity: int, day: date
    ) -> list[str]:
        """Why this resource cannot serve a request, apart from capacity; empty if it can."""
        problems = []
        if kind != self.kind:
            problems.append(f"it is {self.kind}, the request needs {kind}")
        if school_id not in self.school_ids:
            problems.append(f"it does not cover school {school_id}")
        if not self.is_valid_on(day):
            problems.append(f"it is not valid on {day.isoformat()}")
        if self.eligible_service_codes and not set(service_codes) & set(
            self.eligible_service_codes
        ):
            problems.append(
                "the request's service codes are none of "
                + ", ".join(self.eligible_service_codes)
            )
        if self.max_per_request is not None and quantity > self.max_per_request:
            problems.append(f"it gives at most {self.max_per_request} per request")
        return problems

    def hold(
        self,
        link_id: str,
        kind: str,
        school_id: str | None,
        service_codes: list[str],
        quantity: int,
        day: date,
    ) -> None:
        problems = self.misfits(kind, school_id, service_codes, quantity, day)
        if problems:
            raise Conflict(
                f"Resource {self.id} does not fit the request: {'; '.join(problems)}.",
                code="not_eligible",
            )
        if link_id in self.held:
            raise Conflict(f"Resource {self.id} is already held for link {link_id}.",
                           code="conflict")
        if quantity > self.remaining:
            raise Conflict(
                f"Resource {self.id} has {self.remaining} {self.unit} left; {quantity} asked.",
                code="capacity_exceeded",
            )
        self._held(link_id=link_id, quantity=quantity)

    @event("Held")
    def _held(self, link_id: str, quantity: int) -> None:
        self.held[link_id] = quantity

    def release(self, link_id: str) -> None:
        if link_id not in self.held:
            raise Conflict(f"Resource {self.id} holds nothing for link {link_id}.",
                           code="wrong_state")
        self._released(link_id=link_id)

    @event("Released")
    def _released(self, link_id: str) -> None:
        del self.held[link_id]

    def use_hold(self, link_id: str, quantity: int) -> None:
        """A delivery turns the held units into delivered ones; what was held but not
        delivered becomes free again."""
        held = self.held.get(link_id)
        if held is None:
            raise Conflict(f"Resource {self.id} holds nothing for link {link_id}.",
                           code="wrong_state")
        if quantity > held:
            raise InvalidInput.from_messages(
                {"quantity": [f"Must not exceed the {held} {self.unit} offered."]}
            )
        self._hold_used(link_id=link_id, quantity=quantity)

    @event("HoldUsed")
    def _hold_used(self, link_id: str, quantity: int) -> None:
        del self.held[link_id]
        self.delivered_units += quantity


class Donation(CasebookAggregate):
    """Raised resources (9.3a): funds, goods or services given by a provider."""

    @event("Recorded")
    def __init__(
        self,
        school_id: str | None,
        provider_id: str,
        kind: str,
        amount_cents: int,
        currency: str,
        description: str,
        restricted_to_service_codes: list[str],
        restricted_to_school_ids: list[str],
        restriction_note: str,
        received_on: date,
    ) -> None:
        self.school_id = school_id
        self.provider_id = provider_id
        self.kind = kind
        self.amount_cents = amount_cents
        self.currency = currency
        self.description = description
        self.restricted_to_service_codes = list(restricted_to_service_codes)
        self.restricted_to_school_ids = list(restricted_to_school_ids)
        self.restriction_note = restriction_note
        self.received_on = received_on

    @property
    def restricted(self) -> bool:
        return bool(
            self.restricted_to_service_codes or self.restricted_to_school_ids
            or self.restriction_note
        )


class JointActivity(CasebookAggregate):
    """An activity held with partners of the family–school–community network (7.3a, 7.5)."""

    @event("Held")
    def __init__(
        self,
        school_id: str | None,
        partner_ids: list[str],
        theme: str,
        service_codes: list[str],
        held_on: date,
        participant_count: int,
    ) -> None:
        self.school_id = school_id
        self.partner_ids = list(partner_ids)
        self.theme = theme
        self.service_codes = list(service_codes)
        self.held_on = held_on
        self.participant_count = participant_count


class ProviderFeedback(CasebookAggregate):
    """Feedback issued to a provider on how its resources were used (9.3c): the figures as
    they stood when issued, so a later read shows what the provider was told."""

    @event("Issued")
    def __init__(
        self,
        school_id: str | None,
        provider_id: str,
        period_from: date,
        period_to: date,
        figures: dict[str, Any],
        issued_on: date,
    ) -> None:
        self.school_id = school_id
        self.provider_id = provider_id
        self.period_from = period_from
        self.period_to = period_to
        self.figures = figures
        self.issued_on = issued_on
