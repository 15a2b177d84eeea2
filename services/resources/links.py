"""Resource links (8.3.4b) and referrals to outside agencies (8.3.1e, 7.1.4b), both started by
events of the cases service.

A link goes requested → offered → accepted or declined → delivered → usage recorded; after a
decline another resource may be offered. Each is keyed by the id cases gave the request or
referral, so one request can never make two links.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from eventsourcing.domain import event

from contracts.errors import Conflict, InvalidInput
from services.runtime.domain import CasebookAggregate

LINKS_NAMESPACE = uuid.UUID("9b3e2f64-7c1d-4a8e-b5f0-1d2c3e4f5a60")

# Outcomes that can end a referral the agency never accepted.
UNACCEPTED_REFERRAL_OUTCOMES = ("agency_declined", "client_withdrew", "not_taken_up")


def link_id_for(request_id: str) -> uuid.UUID:
    return uuid.uuid5(LINKS_NAMESPACE, f"link:{request_id}")


def referral_id_for(referral_id: str) -> uuid.UUID:
    return uuid.uuid5(LINKS_NAMESPACE, f"referral:{referral_id}")


def _not_before(field: str, day: date, earlier: date, what: str) -> None:
    if day < earlier:
        raise InvalidInput.from_messages(
            {field: [f"Must not be before {what} ({earlier.isoformat()})."]}
        )


class ResourceLink(CasebookAggregate):
    @staticmethod
    def create_id(request_id: str, **_: Any) -> uuid.UUID:
        return link_id_for(request_id)

    @event("Requested")
    def __init__(
        self,
        school_id: str | None,
        request_id: str,
        case_id: str,
        kind: str,
        service_codes: list[str],
        quantity: int,
        needed_by: date | None,
        requested_by: str,
    ) -> None:
        self.school_id = school_id
        self.request_id = request_id
        self.case_id = case_id
        self.kind = kind
        self.service_codes = list(service_codes)
        self.quantity = quantity
        self.needed_by = needed_by
        self.requested_by = requested_by
        self.state = "requested"
        self.offer: dict[str, Any] | None = None
        self.declined: list[dict[str, Any]] = []
        self.accepted_on: date | None = None
        self.delivery: dict[str, Any] | None = None
        self.usage: dict[str, Any] | None = None

    def check_offerable(self, quantity: int) -> None:
        if self.state not in ("requested", "declined"):
            raise Conflict(
                f"The resource link is {self.state}: a resource can be offered only while it is "
                "requested or after a decline.",
                code="wrong_state",
            )
        if quantity > self.quantity:
            raise InvalidInput.from_messages(
                {"quantity": [f"Must not exceed the {self.quantity} requested."]}
            )

    def make_offer(
        self, resource_id: str, provider_id: str, quantity: int, offered_on: date
    ) -> None:
        self.check_offerable(quantity)
        self._offered(
            **self._published_ids(), request_id=self.request_id, kind=self.kind,
            resource_id=resource_id, provider_id=provider_id, quantity=quantity,
            offered_on=offered_on,
        )

    @event("Offered")
    def _offered(
        self,
        case_id: str,
        request_id: str,
        kind: str,
        resource_id: str,
        provider_id: str,
        quantity: int,
        offered_on: date,
    ) -> None:
        self.state = "offered"
        self.offer = {
            "resource_id": resource_id,
            "provider_id": provider_id,
            "quantity": quantity,
            "offered_on": offered_on,
        }

    def accept(self, accepted_on: date) -> None:
        self._require("offered", "accept it", missing="an offer")
        assert self.offer is not None
        _not_before("accepted_on", accepted_on, self.offer["offered_on"], "the offer")
        self._accepted(**self._published_ids(), resource_id=self.offer["resource_id"],
                       accepted_on=accepted_on)

    @event("Accepted")
    def _accepted(self, case_id: str, resource_id: str, accepted_on: date) -> None:
        self.state = "accepted"
        self.accepted_on = accepted_on

    def decline(self, reason: str, declined_on: date) -> None:
        if self.state not in ("offered", "accepted"):
            self._require("offered", "decline it", missing="an offer")
        assert self.offer is not None
        _not_before("declined_on", declined_on, self.offer["offered_on"], "the offer")
        self._declined(**self._published_ids(), resource_id=self.offer["resource_id"],
                       reason=reason, declined_on=declined_on)

    @event("Declined")
    def _declined(self, case_id: str, resource_id: str, reason: str, declined_on: date) -> None:
        assert self.offer is not None
        self.declined.append({**self.offer, "reason": reason, "declined_on": declined_on})
        self.state = "declined"
        self.offer = None
        self.accepted_on = None

    def deliver(self, quantity: int, delivered_on: date) -> None:
        self._require("accepted", "record a delivery", missing="the client's acceptance")
        assert self.offer is not None and self.accepted_on is not None
        _not_before("delivered_on", delivered_on, self.accepted_on, "the acceptance")
        if quantity > self.offer["quantity"]:
            raise InvalidInput.from_messages(
                {"quantity": [f"Must not exceed the {self.offer['quantity']} offered."]}
            )
        self._delivered(
            **self._published_ids(), resource_id=self.offer["resource_id"],
            provider_id=self.offer["provider_id"], quantity=quantity, delivered_on=delivered_on,
        )

    @event("Delivered")
    def _delivered(
        self, case_id: str, resource_id: str, provider_id: str, quantity: int,
        delivered_on: date,
    ) -> None:
        self.state = "delivered"
        self.delivery = {"quantity": quantity, "delivered_on": delivered_on}

    def record_usage(self, units_used: int, outcome: str, recorded_on: date) -> None:
        self._require("delivered", "record its usage", missing="the delivery")
        assert self.delivery is not None
        _not_before("recorded_on", recorded_on, self.delivery["delivered_on"], "the delivery")
        if units_used > self.delivery["quantity"]:
            raise InvalidInput.from_messages(
                {"units_used": [f"Must not exceed the {self.delivery['quantity']} delivered."]}
            )
        assert self.offer is not None
        self._usage_recorded(
            **self._published_ids(), resource_id=self.offer["resource_id"],
            units_used=units_used, outcome=outcome, recorded_on=recorded_on,
        )

    @event("UsageRecorded")
    def _usage_recorded(
        self, case_id: str, resource_id: str, units_used: int, outcome: str, recorded_on: date
    ) -> None:
        self.state = "used"
        self.usage = {"units_used": units_used, "outcome": outcome, "recorded_on": recorded_on}

    def _published_ids(self) -> dict[str, Any]:
        # Each event carries what its contract event names, so an envelope can be rebuilt from
        # the stored event alone (DESIGN.md "Events").
        return {"case_id": self.case_id}

    def _require(self, state: str, action: str, missing: str) -> None:
        if self.state == state:
            return
        order = ("requested", "offered", "accepted", "delivered", "used")
        if self.state in order and order.index(self.state) < order.index(state):
            raise Conflict(
                f"The resource link is {self.state}: cannot {action} before {missing}.",
                code="missing_step",
            )
        raise Conflict(f"The resource link is {self.state}: cannot {action}.",
                       code="wrong_state")


class Referral(CasebookAggregate):
    @staticmethod
    def create_id(referral_id: str, **_: Any) -> uuid.UUID:
        return referral_id_for(referral_id)

    @event("Made")
    def __init__(
        self,
        school_id: str | None,
        referral_id: str,
        case_id: str,
        agency_kind: str,
        agency_id: str | None,
        reason_code: str,
        referred_on: date,
        referred_by: str,
    ) -> None:
        self.school_id = school_id
        self.referral_id = referral_id
        self.case_id = case_id
        self.agency_kind = agency_kind
        self.agency_id = agency_id
        self.reason_code = reason_code
        self.referred_on = referred_on
        self.referred_by = referred_by
        self.status = "made"
        self.accepted_on: date | None = None
        self.outcome: str | None = None
        self.completed_on: date | None = None

    def accept(self, accepted_on: date) -> None:
        if self.status != "made":
            raise Conflict(f"The referral is {self.status}: cannot accept it.",
                           code="wrong_state")
        _not_before("accepted_on", accepted_on, self.referred_on, "the referral")
        self._accepted(**self._published_ids(), accepted_on=accepted_on)

    @event("Accepted")
    def _accepted(
        self, referral_id: str, case_id: str, agency_kind: str, agency_id: str | None,
        accepted_on: date,
    ) -> None:
        self.status = "accepted"
        self.accepted_on = accepted_on

    def complete(self, outcome: str, completed_on: date) -> None:
        if self.status == "completed":
            raise Conflict("The referral is completed already.", code="wrong_state")
        if self.status == "made" and outcome not in UNACCEPTED_REFERRAL_OUTCOMES:
            raise Conflict(
                f"The agency has not accepted the referral: it cannot end as {outcome!r} "
                f"before its acceptance (only {', '.join(UNACCEPTED_REFERRAL_OUTCOMES)}).",
                code="missing_step",
            )
        if self.status == "accepted" and outcome == "agency_declined":
            raise InvalidInput.from_messages(
                {"outcome": ["The agency accepted this referral; it cannot end as declined."]}
            )
        _not_before("completed_on", completed_on, self.accepted_on or self.referred_on,
                    "the acceptance" if self.accepted_on else "the referral")
        self._completed(**self._published_ids(), outcome=outcome, completed_on=completed_on)

    @event("Completed")
    def _completed(
        self, referral_id: str, case_id: str, agency_kind: str, agency_id: str | None,
        outcome: str, completed_on: date,
    ) -> None:
        self.status = "completed"
        self.outcome = outcome
        self.completed_on = completed_on

    def _published_ids(self) -> dict[str, Any]:
        # What ReferralAccepted and ReferralCompleted name, carried by the events themselves.
        return {"referral_id": self.referral_id, "case_id": self.case_id,
                "agency_kind": self.agency_kind, "agency_id": self.agency_id}
