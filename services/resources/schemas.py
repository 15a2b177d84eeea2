"""Command payloads of the resources service, as callers send them over RPC and HTTP."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from contracts.events.cases import RESOURCE_KINDS
from contracts.events.resources import (
    ACTIVITY_KINDS,
    CHECK_RESULTS,
    DONATION_KINDS,
    LINK_DECLINE_REASONS,
    PARTNER_SECTORS,
    PROVIDER_KINDS,
    REFERRAL_OUTCOMES,
    USAGE_OUTCOMES,
)
from contracts.fields import SERVICE_CODE, identifier, one_of, service_codes

SHORT_TEXT = validate.Length(min=1, max=200)
FREE_TEXT = validate.Length(max=4000)


def optional_service_codes(**kwargs: Any) -> fields.List:
    """Zero or more §7 service codes (none: no restriction)."""
    return fields.List(fields.String(validate=SERVICE_CODE), **kwargs)


class Contact(Schema):
    """How to reach a provider or volunteer: personal data, sealed before it is stored."""

    person = fields.String(load_default=None, validate=validate.Length(max=200))
    phone = fields.String(load_default=None, validate=validate.Length(max=50))
    email = fields.Email(load_default=None)
    address = fields.String(load_default=None, validate=validate.Length(max=500))


class RegisterProvider(Schema):
    """Register a resource provider (9.3a)."""

    school_id = identifier(load_default=None)
    provider_kind = one_of(PROVIDER_KINDS, required=True)
    sector = one_of(PARTNER_SECTORS, required=True)
    name = fields.String(required=True, validate=SHORT_TEXT)
    contact = fields.Nested(Contact, load_default=dict)
    registered_on = fields.Date(required=True)


class RegisterResource(Schema):
    """Register a resource a provider offers (9.3a)."""

    provider_id = fields.UUID(required=True)
    kind = one_of(RESOURCE_KINDS, required=True)
    title = fields.String(required=True, validate=SHORT_TEXT)
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    unit = fields.String(load_default="places", validate=validate.Length(min=1, max=40))
    school_ids = fields.List(
        identifier(), required=True,
        validate=validate.Length(min=1, error="Name at least one school the resource covers."),
    )
    eligible_service_codes = optional_service_codes(load_default=list)
    max_per_request = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1)
    )
    eligibility_note = fields.String(load_default="", validate=FREE_TEXT)
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(load_default=None, allow_none=True)

    @validates_schema
    def _validity(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("valid_until") and data["valid_until"] < data["valid_from"]:
            raise ValidationError("Must not be before valid_from.", "valid_until")


class RecordDonation(Schema):
    """Record a donation from a provider (9.3a)."""

    provider_id = fields.UUID(required=True)
    kind = one_of(DONATION_KINDS, required=True)
    amount_cents = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    currency = fields.String(load_default="CNY", validate=validate.Regexp(
        r"^[A-Z]{3}$", error="Must be an ISO 4217 code such as CNY."))
    description = fields.String(load_default="", validate=FREE_TEXT)
    restricted_to_service_codes = optional_service_codes(load_default=list)
    restricted_to_school_ids = fields.List(identifier(), load_default=list)
    restriction_note = fields.String(load_default="", validate=FREE_TEXT)
    received_on = fields.Date(required=True)


class RegisterVolunteer(Schema):
    """Register a volunteer (9.3b)."""

    school_id = identifier(load_default=None)
    name = fields.String(required=True, validate=SHORT_TEXT)
    contact = fields.Nested(Contact, load_default=dict)
    skills = fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                         load_default=list)
    registered_on = fields.Date(required=True)


class RecordVolunteerCheck(Schema):
    """Record a volunteer's background check (9.3b)."""

    volunteer_id = fields.UUID(required=True)
    result = one_of(CHECK_RESULTS, required=True)
    checked_on = fields.Date(required=True)
    expires_on = fields.Date(required=True)


class AssignVolunteer(Schema):
    """Assign a volunteer to an activity (9.3b)."""

    volunteer_id = fields.UUID(required=True)
    activity_id = identifier(required=True)
    activity_kind = one_of(ACTIVITY_KINDS, required=True)
    with_students = fields.Boolean(required=True)
    starts_on = fields.Date(required=True)


class LogVolunteerHours(Schema):
    """Log hours a volunteer served (9.3b)."""

    volunteer_id = fields.UUID(required=True)
    assignment_id = identifier(required=True)
    served_on = fields.Date(required=True)
    hours = fields.Float(required=True, validate=validate.Range(min=0.25, max=24))


class ResourceRequest(Schema):
    """A resource link is named by the id of the cases request that started it."""

    request_id = identifier(required=True)


class ProposeResources(ResourceRequest):
    """Resources that fit a resource request, best first (8.3.4b)."""


class GetResourceLink(ResourceRequest):
    """One resource link, named by its cases request id."""


class OfferResource(ResourceRequest):
    """Offer a resource for a resource request (8.3.4b)."""

    resource_id = fields.UUID(required=True)
    quantity = fields.Integer(load_default=None, allow_none=True, strict=True,
                              validate=validate.Range(min=1))


class AcceptResourceLink(ResourceRequest):
    """Record that the offered resource was accepted."""

    accepted_on = fields.Date(required=True)


class DeclineResourceLink(ResourceRequest):
    """Record that the offered resource was declined, with the reason."""

    reason = one_of(LINK_DECLINE_REASONS, required=True)
    declined_on = fields.Date(required=True)


class RecordDelivery(ResourceRequest):
    """Record the delivery of the linked resource."""

    delivered_on = fields.Date(required=True)
    quantity = fields.Integer(load_default=None, allow_none=True, strict=True,
                              validate=validate.Range(min=1))


class RecordUsage(ResourceRequest):
    """Record how the linked resource was used."""

    units_used = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    outcome = one_of(USAGE_OUTCOMES, required=True)
    recorded_on = fields.Date(required=True)


class ListResourceLinks(Schema):
    """Resource links, by state (8.3.4b)."""

    state = one_of(("requested", "offered", "accepted", "declined", "delivered", "used"),
                   load_default=None, allow_none=True)


class ReferralRef(Schema):
    """A referral is named by the id the cases service gave it."""

    referral_id = identifier(required=True)


class GetReferral(ReferralRef):
    """One referral (8.3.1e, 7.1.4b)."""


class AcceptReferral(ReferralRef):
    """Record that the receiving agency accepted the referral (8.3.1e)."""

    accepted_on = fields.Date(required=True)


class CompleteReferral(ReferralRef):
    """Record the referral's outcome (8.3.1e)."""

    outcome = one_of(REFERRAL_OUTCOMES, required=True)
    completed_on = fields.Date(required=True)


class HoldJointActivity(Schema):
    """Record an activity held with community partners (7.3a, 7.5)."""

    school_id = identifier(load_default=None)
    partner_ids = fields.List(
        fields.UUID(), required=True,
        validate=validate.Length(min=1, error="Name at least one partner."),
    )
    theme = fields.String(required=True, validate=SHORT_TEXT)
    service_codes = service_codes(required=True)
    held_on = fields.Date(required=True)
    participant_count = fields.Integer(required=True, strict=True,
                                       validate=validate.Range(min=0))


class ListResources(Schema):
    """Registered resources, by provider, kind or school."""

    provider_id = fields.UUID(load_default=None, allow_none=True)
    kind = one_of(RESOURCE_KINDS, load_default=None, allow_none=True)
    school_id = identifier(load_default=None, allow_none=True)


class ListDonations(Schema):
    """Donations with totals, of one provider or all."""

    provider_id = fields.UUID(load_default=None, allow_none=True)


class CommunityNetwork(Schema):
    """A school's partners and joint activities (7.3a, 7.5)."""

    school_id = identifier(load_default=None, allow_none=True)


class ProviderFeedback(Schema):
    """How a provider's resources were used in a period (9.3c)."""

    provider_id = fields.UUID(required=True)
    period_from = fields.Date(required=True)
    period_to = fields.Date(required=True)

    @validates_schema
    def _period(self, data: dict[str, Any], **_: Any) -> None:
        if data["period_to"] < data["period_from"]:
            raise ValidationError("Must not be before period_from.", "period_to")


class IssueProviderFeedback(ProviderFeedback):
    """Issue the usage feedback of a period to the provider (9.3c)."""
