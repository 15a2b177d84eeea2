"""Payloads of the resources service as callers send them over RPC and HTTP (commands and
queries), and what each answers (the `…Record`, `…Row` and `…Report` schemas, and the ids
commands answer with): what the gateway's OpenAPI documents."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from contracts.events.cases import AGENCY_KINDS, RESOURCE_KINDS
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
from contracts.fields import SERVICE_CODE, answer, day, identifier, one_of, out, service_codes
from services.runtime.paging import PageQuery

SHORT_TEXT = validate.Length(min=1, max=200)
FREE_TEXT = validate.Length(max=4000)
CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="Must be an ISO 4217 code such as CNY.")
LINK_STATES = ("requested", "offered", "accepted", "declined", "delivered", "used")
REFERRAL_STATES = ("made", "accepted", "completed")
CHECK_STATES = ("unchecked", "cleared", "expired", "failed")  # 9.3b


class UUIDText(fields.String):
    """A UUID, loaded as its lowercase text: what the application speaks."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {"format": "uuid", **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return str(uuid.UUID(text))
        except ValueError:
            raise ValidationError("Not a valid UUID.") from None


def optional_service_codes(**kwargs: Any) -> fields.List:
    """Zero or more §7 service codes (none: no restriction)."""
    return fields.List(fields.String(validate=SERVICE_CODE), **kwargs)


def maybe(field: Callable[..., fields.Field], **kwargs: Any) -> fields.Field:
    """An optional filter of a list: left out or null, it does not filter."""
    return field(load_default=None, allow_none=True, **kwargs)


# Commands.


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

    provider_id = UUIDText(required=True)
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

    provider_id = UUIDText(required=True)
    kind = one_of(DONATION_KINDS, required=True)
    amount_cents = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    currency = fields.String(load_default="CNY", validate=CURRENCY)
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


class VolunteerRef(Schema):
    volunteer_id = UUIDText(required=True)


class GetVolunteer(VolunteerRef):
    """One volunteer, with their assignments and time served (9.3b)."""


class RecordVolunteerCheck(VolunteerRef):
    """Record a volunteer's background check (9.3b)."""

    result = one_of(CHECK_RESULTS, required=True)
    checked_on = fields.Date(required=True)
    expires_on = fields.Date(required=True)


class AssignVolunteer(VolunteerRef):
    """Assign a volunteer to an activity (9.3b)."""

    activity_id = identifier(required=True)
    activity_kind = one_of(ACTIVITY_KINDS, required=True)
    with_students = fields.Boolean(required=True)
    starts_on = fields.Date(required=True)


class LogVolunteerHours(VolunteerRef):
    """Log the time a volunteer served on an assignment, in whole minutes (9.3b)."""

    assignment_id = identifier(required=True)
    served_on = fields.Date(required=True)
    minutes = fields.Integer(required=True, strict=True,
                             validate=validate.Range(min=15, max=24 * 60))


class ResourceRequest(Schema):
    """A resource link is named by the id of the cases request that started it."""

    request_id = identifier(required=True)


class GetResourceLink(ResourceRequest):
    """One resource link, named by its cases request id."""


class OfferResource(ResourceRequest):
    """Offer a resource for a resource request (8.3.4b)."""

    resource_id = UUIDText(required=True)
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
        UUIDText(), required=True,
        validate=validate.Length(min=1, error="Name at least one partner."),
    )
    theme = fields.String(required=True, validate=SHORT_TEXT)
    service_codes = service_codes(required=True)
    held_on = fields.Date(required=True)
    participant_count = fields.Integer(required=True, strict=True,
                                       validate=validate.Range(min=0))


class ProviderFeedback(Schema):
    """How a provider's resources were used in a period (9.3c)."""

    provider_id = UUIDText(required=True)
    period_from = fields.Date(required=True)
    period_to = fields.Date(required=True)

    @validates_schema
    def _period(self, data: dict[str, Any], **_: Any) -> None:
        if data["period_to"] < data["period_from"]:
            raise ValidationError("Must not be before period_from.", "period_to")


class IssueProviderFeedback(ProviderFeedback):
    """Issue the usage feedback of a period to the provider (9.3c)."""


# Queries. Every list is paged by keyset (`limit`, `after`); filters left out do not filter,
# and a period whose end is before its start holds nothing.


class ListIssuedFeedback(PageQuery):
    """Feedback issued to providers (9.3c), in the order issued."""

    provider_id = maybe(UUIDText)


class GetProvider(Schema):
    """One resource provider; its name and contact for the school's own team."""

    provider_id = UUIDText(required=True)


class ListProviders(PageQuery):
    """The resource providers the caller's school uses (9.3a), oldest registration first."""

    sector = maybe(fields.String, validate=validate.OneOf(PARTNER_SECTORS))
    provider_kind = maybe(fields.String, validate=validate.OneOf(PROVIDER_KINDS))
    school_id = maybe(identifier, metadata={"description": "Providers serving this school."})


class GetResource(Schema):
    """One registered resource, with the capacity it has left."""

    resource_id = UUIDText(required=True)


class ListResources(PageQuery):
    """Registered resources the caller's school sees, by provider, kind, school covered,
    validity, eligibility or capacity left."""

    provider_id = maybe(UUIDText)
    kind = maybe(fields.String, validate=validate.OneOf(RESOURCE_KINDS))
    school_id = maybe(identifier, metadata={"description": "Resources covering this school."})
    valid_on = maybe(fields.Date, metadata={"description": "Resources valid on this day."})
    service_code = maybe(fields.String, validate=SERVICE_CODE, metadata={
        "description": "Resources a request with this §7 code is eligible for."})
    available = maybe(fields.Boolean, metadata={
        "description": "true: resources with capacity left; false: those with none."})


class ProposeResources(ResourceRequest, PageQuery):
    """Resources that fit a resource request today (8.3.4b): its kind, the case's school,
    valid, eligible, and with capacity for the whole quantity."""


class DonationFilters(Schema):
    provider_id = maybe(UUIDText)
    kind = maybe(fields.String, validate=validate.OneOf(DONATION_KINDS))
    currency = maybe(fields.String, validate=CURRENCY)
    school_id = maybe(identifier, metadata={"description": "Donations recorded by the school."})
    received_from = maybe(fields.Date)
    received_to = maybe(fields.Date)
    restricted = maybe(fields.Boolean)


class ListDonations(DonationFilters, PageQuery):
    """Donations recorded by the caller's school (9.3a), in the order received."""


class GetDonationTotals(DonationFilters):
    """What the donations add up to, per kind and currency, in cents (9.3a)."""


class ListVolunteers(PageQuery):
    """The volunteers of the caller's school (9.3b), by the state of their latest check today."""

    check_state = maybe(fields.String, validate=validate.OneOf(CHECK_STATES))
    expires_before = maybe(fields.Date, metadata={
        "description": "Volunteers whose latest check expires (or expired) before this day."})
    school_id = maybe(identifier)


class ListResourceLinks(PageQuery):
    """Resource links the caller may see (8.3.4b): a worker their own, others their school's;
    in the order requested."""

    state = maybe(fields.String, validate=validate.OneOf(LINK_STATES))
    kind = maybe(fields.String, validate=validate.OneOf(RESOURCE_KINDS))
    case_id = maybe(identifier)
    resource_id = maybe(UUIDText, metadata={"description": "Links offered this resource now."})
    provider_id = maybe(UUIDText, metadata={"description": "Links offered this provider's."})
    requested_from = maybe(fields.Date)
    requested_to = maybe(fields.Date)


class ListReferrals(PageQuery):
    """Referrals the caller may see (8.3.1e, 7.1.4b), in the order referred."""

    status = maybe(fields.String, validate=validate.OneOf(REFERRAL_STATES))
    agency_kind = maybe(fields.String, validate=validate.OneOf(AGENCY_KINDS))
    case_id = maybe(identifier)
    referred_from = maybe(fields.Date)
    referred_to = maybe(fields.Date)


class ListJointActivities(PageQuery):
    """Activities held with community partners (7.3a, 7.5), in the order held."""

    partner_id = maybe(UUIDText)
    school_id = maybe(identifier)
    held_from = maybe(fields.Date)
    held_to = maybe(fields.Date)


class CommunityNetwork(Schema):
    """A school's partners by sector and the joint activities held with them (7.3a, 7.5)."""

    school_id = identifier(load_default=None, allow_none=True)


# Answers.


def codes(description: str) -> fields.Field:
    return out(fields.List, description, cls_or_instance=fields.String())


def details() -> fields.Field:
    return fields.Raw(metadata={"description": "Name and contact, for the school's own team "
                                "only; `[destroyed]` once the person's key is destroyed."})


ProviderId = answer("provider_id", "The provider registered.")
ResourceId = answer("resource_id", "The resource registered.")
DonationId = answer("donation_id", "The donation recorded.")
VolunteerId = answer("volunteer_id", "The volunteer.")
AssignmentId = answer("assignment_id", "The new assignment of the volunteer.")
RequestId = answer("request_id", "The cases request the resource link is for.")
ReferralId = answer("referral_id", "The referral.")
ActivityId = answer("activity_id", "The joint activity recorded.")


class ProviderRecord(Schema):
    """A resource provider of the register (9.3a)."""

    provider_id = out(fields.String, "The provider's id.")
    version = out(fields.Integer, "How many changes its record has had.")
    school_id = out(fields.String, "The school that registered it; null: every school's.",
                    allow_none=True)
    provider_kind = out(fields.String, "organisation, individual or government.")
    sector = out(fields.String, "Its sector in the family–school–community network (7.3a).")
    name = out(fields.String, "An organisation's public name; an individual's only for the "
               "school's own team.", allow_none=True)
    registered_on = day("When it joined the register.")
    details = details()


class ResourceRecord(Schema):
    """A resource a provider offers, with its capacity in use (9.3a, 8.3.4b)."""

    resource_id = out(fields.String, "The resource's id.")
    version = out(fields.Integer, "How many changes its record has had.")
    provider_id = out(fields.String, "Who offers it.")
    school_id = out(fields.String, "The school that registered it.", allow_none=True)
    kind = out(fields.String, "What kind of resource it is.")
    title = out(fields.String, "What it is called.")
    capacity = out(fields.Integer, "How many units it has in all.")
    unit = out(fields.String, "What a unit is (places, hours, …).")
    held = out(fields.Integer, "Units held by standing offers.")
    delivered = out(fields.Integer, "Units delivered.")
    remaining = out(fields.Integer, "Units left: capacity − held − delivered.")
    school_ids = codes("The schools it covers.")
    eligible_service_codes = codes("The §7 codes a request needs one of; none: any.")
    max_per_request = out(fields.Integer, "The most one request may take.", allow_none=True)
    eligibility_note = out(fields.String, "Who it is for, as the provider says it.")
    valid_from = day("First day it may be offered.")
    valid_until = day("Last day it may be offered; null: no end.", allow_none=True)
    registered_on = day("When it was registered.")


class DonationRecord(Schema):
    """Raised resources: a donation of funds, goods or services (9.3a)."""

    donation_id = out(fields.String, "The donation's id.")
    provider_id = out(fields.String, "Who gave it.")
    school_id = out(fields.String, "The school that recorded it.", allow_none=True)
    kind = out(fields.String, "funds, goods or services.")
    amount_cents = out(fields.Integer, "Its amount or value, in cents of `currency`.")
    currency = out(fields.String, "ISO 4217 code.")
    description = out(fields.String, "What was given.")
    restricted = out(fields.Boolean, "Whether its use is restricted.")
    restricted_to_service_codes = codes("The §7 codes it may serve; none: any.")
    restricted_to_school_ids = codes("The schools it may serve; none: any.")
    restriction_note = out(fields.String, "Any other restriction, as the donor put it.")
    received_on = day("When it was received.")


class DonationTotal(Schema):
    kind = out(fields.String, "funds, goods or services.")
    currency = out(fields.String, "ISO 4217 code.")
    amount_cents = out(fields.Integer, "The sum, in cents.")
    donations = out(fields.Integer, "How many donations make it.")


class DonationTotals(Schema):
    """Donations added up per kind and currency, in integer cents."""

    totals = out(fields.List, "One row per kind and currency.",
                 cls_or_instance=fields.Nested(DonationTotal))


class Check(Schema):
    result = out(fields.String, "passed or failed.")
    checked_on = day("When the check was made.")
    expires_on = day("Its last valid day.")


class Volunteer(Schema):
    volunteer_id = out(fields.String, "The volunteer's id.")
    version = out(fields.Integer, "How many changes their record has had.")
    school_id = out(fields.String, "Their school.", allow_none=True)
    skills = codes("What they can do.")
    registered_on = day("When they were registered.")
    latest_check = out(fields.Nested, "The check that decides; null: none yet.",
                       nested=Check, allow_none=True)
    check_state = out(fields.String, "unchecked, cleared, expired or failed, today.")
    may_work_with_students = out(fields.Boolean, "Cleared today to work with students.")
    minutes_served = out(fields.Integer, "Time served in all, in minutes.")
    details = details()


class VolunteerRow(Volunteer):
    """A volunteer as lists show them (9.3b)."""

    assignment_count = out(fields.Integer, "How many assignments they have had.")


class Assignment(Schema):
    assignment_id = out(fields.String, "The assignment's id.")
    activity_id = out(fields.String, "The activity they were assigned to.")
    activity_kind = out(fields.String, "What kind of activity it is.")
    with_students = out(fields.Boolean, "Whether they work with students there.")
    starts_on = day("When it starts.")


class Served(Schema):
    assignment_id = out(fields.String, "The assignment served on.")
    served_on = day("The day served.")
    minutes = out(fields.Integer, "Time served, in minutes.")


class VolunteerRecord(Volunteer):
    """One volunteer with their assignments and time served (9.3b)."""

    assignments = out(fields.List, "Their assignments.",
                      cls_or_instance=fields.Nested(Assignment))
    served = out(fields.List, "Time served, entry by entry.",
                 cls_or_instance=fields.Nested(Served))


class Link(Schema):
    link_id = out(fields.String, "The link's id.")
    version = out(fields.Integer, "How many changes its record has had.")
    request_id = out(fields.String, "The cases request it serves.")
    case_id = out(fields.String, "The case.")
    school_id = out(fields.String, "The case's school.", allow_none=True)
    kind = out(fields.String, "The kind of resource asked for.")
    service_codes = codes("The request's §7 codes.")
    quantity = out(fields.Integer, "Units asked for.")
    needed_by = day("When it is needed by.", allow_none=True)
    state = out(fields.String, "requested, offered, accepted, declined, delivered or used.")
    accepted_on = day("When the standing offer was accepted.", allow_none=True)


class LinkRow(Link):
    """A resource link as lists show it (8.3.4b): the request and its current step."""

    requested_at = fields.String(required=True, metadata={
        "description": "When the request arrived (UTC).", "format": "date-time"})
    requested_on = day("The day the request arrived.")
    resource_id = out(fields.String, "The resource offered now.", allow_none=True)
    provider_id = out(fields.String, "Its provider.", allow_none=True)
    offered_quantity = out(fields.Integer, "Units offered.", allow_none=True)
    offered_on = day("When offered.", allow_none=True)
    delivered_quantity = out(fields.Integer, "Units delivered.", allow_none=True)
    delivered_on = day("When delivered.", allow_none=True)
    units_used = out(fields.Integer, "Units used.", allow_none=True)
    outcome = out(fields.String, "How the need was met.", allow_none=True)
    usage_recorded_on = day("When the usage was recorded.", allow_none=True)
    declines = out(fields.Integer, "How many offers were declined before.")


class Offer(Schema):
    resource_id = out(fields.String, "The resource offered.")
    provider_id = out(fields.String, "Its provider.")
    quantity = out(fields.Integer, "Units offered.")
    offered_on = day("When offered.")


class Declined(Offer):
    reason = out(fields.String, "Why it was declined (a code).")
    declined_on = day("When it was declined.")


class Delivery(Schema):
    quantity = out(fields.Integer, "Units delivered.")
    delivered_on = day("When delivered.")


class Usage(Schema):
    units_used = out(fields.Integer, "Units used.")
    outcome = out(fields.String, "How the need was met.")
    recorded_on = day("When recorded.")


class LinkRecord(Link):
    """One resource link with its whole course (8.3.4b)."""

    offer = out(fields.Nested, "The standing offer.", nested=Offer, allow_none=True)
    declined = out(fields.List, "Offers declined before.",
                   cls_or_instance=fields.Nested(Declined))
    delivery = out(fields.Nested, "The delivery.", nested=Delivery, allow_none=True)
    usage = out(fields.Nested, "How it was used.", nested=Usage, allow_none=True)


class ReferralRecord(Schema):
    """A referral to an outside agency (8.3.1e, 7.1.4b)."""

    referral_id = out(fields.String, "The referral's id, as the cases service gave it.")
    version = out(fields.Integer, "How many changes its record has had.")
    case_id = out(fields.String, "The case.")
    school_id = out(fields.String, "The case's school.", allow_none=True)
    agency_kind = out(fields.String, "The kind of agency referred to.")
    agency_id = out(fields.String, "The agency, if known.", allow_none=True)
    reason_code = out(fields.String, "Why the client was referred (a code).")
    referred_on = day("When referred.")
    status = out(fields.String, "made, accepted or completed.")
    accepted_on = day("When the agency accepted it.", allow_none=True)
    outcome = out(fields.String, "How it ended (a code).", allow_none=True)
    completed_on = day("When it ended.", allow_none=True)


class ActivityRecord(Schema):
    """An activity held with community partners (7.3a, 7.5)."""

    activity_id = out(fields.String, "The activity's id.")
    school_id = out(fields.String, "The school that held it.", allow_none=True)
    partner_ids = codes("The providers it was held with.")
    theme = out(fields.String, "What it was about.")
    service_codes = codes("Its §7 codes.")
    held_on = day("When it was held.")
    participant_count = out(fields.Integer, "How many took part.")


class Sector(Schema):
    sector = out(fields.String, "The sector's code.")
    label_zh = out(fields.String, "Its name in Chinese.")
    label_en = out(fields.String, "Its name in English.")
    partners = out(fields.Integer, "Providers of the sector serving the school.")
    joint_activities = out(fields.Integer, "The school's activities held with one of them.")


class CommunityNetworkReport(Schema):
    """The family–school–community network of a school, or of all (7.3a, 7.5)."""

    school_id = out(fields.String, "The school; null: every school.", allow_none=True)
    sectors = out(fields.List, "Each sector with partners or activities.",
                  cls_or_instance=fields.Nested(Sector))
    partners = out(fields.Integer, "Providers serving the school.")
    joint_activities = out(fields.Integer, "Activities the school held with partners.")


class Outcomes(Schema):
    need_met = out(fields.Integer, "Deliveries whose need was met.")
    partly_met = out(fields.Integer, "… partly met.")
    not_met = out(fields.Integer, "… not met.")
    not_used = out(fields.Integer, "… not used.")
    not_recorded = out(fields.Integer, "… with no usage recorded yet.")


class Tally(Schema):
    clients_served = out(fields.Integer, "Distinct cases served: counted, never named.")
    deliveries = out(fields.Integer, "Deliveries in the period.")
    units_delivered = out(fields.Integer, "Units delivered.")
    units_used = out(fields.Integer, "Units used.")
    outcomes = out(fields.Nested, "Deliveries by outcome.", nested=Outcomes)


class ResourceTally(Tally):
    resource_id = out(fields.String, "The resource.")
    kind = out(fields.String, "Its kind.")


class Figures(Tally):
    provider_id = out(fields.String, "The provider.")
    school_id = out(fields.String, "The school whose cases count; null: every school's.",
                    allow_none=True)
    period_from = day("First day of the period.")
    period_to = day("Last day of the period.")
    resources = out(fields.List, "Per resource of the provider.",
                    cls_or_instance=fields.Nested(ResourceTally))


class FeedbackReport(Schema):
    """How a provider's resources were used in a period (9.3c): counts, never who."""

    figures = out(fields.Nested, "The figures.", nested=Figures)
    csv = out(fields.String, "The same as CSV: one row per resource and one for all.")


class IssuedFeedbackRow(Schema):
    """Feedback issued to a provider (9.3c), as lists show it: what the provider was told."""

    feedback_id = out(fields.String, "The feedback issued.")
    provider_id = out(fields.String, "The provider it was issued to.")
    school_id = out(fields.String, "The school that issued it; null: for every school.",
                    allow_none=True)
    period_from = day("First day of the period.")
    period_to = day("Last day of the period.")
    issued_on = day("When it was issued.")
    figures = out(fields.Nested, "The figures as they stood when issued.", nested=Figures)


class IssuedFeedback(FeedbackReport):
    """Feedback issued to a provider (9.3c): the figures as they stood when issued."""

    feedback_id = out(fields.String, "The feedback issued.")
