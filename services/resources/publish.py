"""Resources domain events → contract events. Payloads carry identifiers, codes, dates, amounts
and counts; names, contact details, titles and notes stay in the store (sealed names travel only
as commitments in the envelope).

Format 1 published only what integrators act on. From format 2 every stored event is published:
internal ones (a resource link opened from a cases request, capacity held and released, a
referral recorded) as `AuditRecorded`, naming only ids, codes, dates and counts; time served in
whole minutes (`VolunteerHoursLogged` v2), never hours as a float."""

from __future__ import annotations

from typing import Any

from services.resources.domain import Donation, JointActivity, Provider, ProviderFeedback, Resource
from services.resources.links import Referral, ResourceLink
from services.resources.volunteers import Volunteer
from services.runtime.publishing import Publications

# eventsourcing makes each aggregate's event classes from its `@event("Name")` methods when the
# class is defined; mypy cannot see them, hence the ignores on the decorators below.
PUBLICATIONS = Publications("resources")


@PUBLICATIONS.maps(Provider.Registered, "ProviderRegistered", 1)  # type: ignore[attr-defined]
def provider_registered(event: Any) -> dict[str, Any]:
    return {
        "provider_id": str(event.originator_id),
        "provider_kind": event.provider_kind,
        "sector": event.sector,
        "registered_on": event.registered_on,
    }


@PUBLICATIONS.maps(Resource.Registered, "ResourceRegistered", 1)  # type: ignore[attr-defined]
def resource_registered(event: Any) -> dict[str, Any]:
    return {
        "resource_id": str(event.originator_id),
        "provider_id": event.provider_id,
        "kind": event.kind,
        "capacity": event.capacity,
        "school_ids": event.school_ids,
        "eligible_service_codes": event.eligible_service_codes,
        "valid_from": event.valid_from,
        "valid_until": event.valid_until,
    }


@PUBLICATIONS.maps(Donation.Recorded, "DonationRecorded", 1)  # type: ignore[attr-defined]
def donation_recorded(event: Any) -> dict[str, Any]:
    return {
        "donation_id": str(event.originator_id),
        "provider_id": event.provider_id,
        "kind": event.kind,
        "amount_cents": event.amount_cents,
        "currency": event.currency,
        "restricted": bool(
            event.restricted_to_service_codes or event.restricted_to_school_ids
            or event.restriction_note
        ),
        "restricted_to_service_codes": event.restricted_to_service_codes,
        "restricted_to_school_ids": event.restricted_to_school_ids,
        "received_on": event.received_on,
    }


@PUBLICATIONS.maps(Volunteer.Registered, "VolunteerRegistered", 1)  # type: ignore[attr-defined]
def volunteer_registered(event: Any) -> dict[str, Any]:
    return {
        "volunteer_id": str(event.originator_id),
        "skill_count": len(event.skills),
        "registered_on": event.registered_on,
    }


@PUBLICATIONS.maps(Volunteer.CheckRecorded, "VolunteerCheckRecorded", 1)  # type: ignore[attr-defined]
def volunteer_check_recorded(event: Any) -> dict[str, Any]:
    return {
        "volunteer_id": str(event.originator_id),
        "result": event.result,
        "checked_on": event.checked_on,
        "expires_on": event.expires_on,
    }


@PUBLICATIONS.maps(Volunteer.Assigned, "VolunteerAssigned", 1)  # type: ignore[attr-defined]
def volunteer_assigned(event: Any) -> dict[str, Any]:
    return {
        "volunteer_id": str(event.originator_id),
        "assignment_id": event.assignment_id,
        "activity_id": event.activity_id,
        "activity_kind": event.activity_kind,
        "with_students": event.with_students,
        "starts_on": event.starts_on,
    }


@PUBLICATIONS.maps(Volunteer.HoursLogged, "VolunteerHoursLogged", 1,  # type: ignore[attr-defined]
                   until=1)
def volunteer_hours_logged(event: Any) -> dict[str, Any]:
    return {
        "volunteer_id": str(event.originator_id),
        "assignment_id": event.assignment_id,
        "served_on": event.served_on,
        "hours": event.hours,
    }


# Time logged since whole minutes: v1 (hours) while events are stamped format 1, v2 after.
@PUBLICATIONS.maps(Volunteer.MinutesLogged, "VolunteerHoursLogged", 1,  # type: ignore[attr-defined]
                   until=1)
def volunteer_minutes_logged_v1(event: Any) -> dict[str, Any]:
    return {
        "volunteer_id": str(event.originator_id),
        "assignment_id": event.assignment_id,
        "served_on": event.served_on,
        "hours": event.minutes / 60,
    }


@PUBLICATIONS.maps(Volunteer.MinutesLogged, "VolunteerHoursLogged", 2,  # type: ignore[attr-defined]
                   since=2)
def volunteer_minutes_logged(event: Any) -> dict[str, Any]:
    return {
        "volunteer_id": str(event.originator_id),
        "assignment_id": event.assignment_id,
        "served_on": event.served_on,
        "minutes": event.minutes,
    }


# Logged in hours before whole minutes: no new event of it is made.
PUBLICATIONS.retired(Volunteer.HoursLogged)  # type: ignore[attr-defined]


@PUBLICATIONS.maps(ResourceLink.Offered, "ResourceOffered", 1)  # type: ignore[attr-defined]
def resource_offered(event: Any) -> dict[str, Any]:
    return {
        "link_id": str(event.originator_id),
        "request_id": event.request_id,
        "case_id": event.case_id,
        "resource_id": event.resource_id,
        "provider_id": event.provider_id,
        "kind": event.kind,
        "quantity": event.quantity,
        "offered_on": event.offered_on,
    }


@PUBLICATIONS.maps(ResourceLink.Accepted, "ResourceLinkAccepted", 1)  # type: ignore[attr-defined]
def resource_link_accepted(event: Any) -> dict[str, Any]:
    return {
        "link_id": str(event.originator_id),
        "case_id": event.case_id,
        "resource_id": event.resource_id,
        "accepted_on": event.accepted_on,
    }


@PUBLICATIONS.maps(ResourceLink.Declined, "ResourceLinkDeclined", 1)  # type: ignore[attr-defined]
def resource_link_declined(event: Any) -> dict[str, Any]:
    return {
        "link_id": str(event.originator_id),
        "case_id": event.case_id,
        "resource_id": event.resource_id,
        "reason": event.reason,
        "declined_on": event.declined_on,
    }


@PUBLICATIONS.maps(ResourceLink.Delivered, "ResourceDelivered", 1)  # type: ignore[attr-defined]
def resource_delivered(event: Any) -> dict[str, Any]:
    return {
        "link_id": str(event.originator_id),
        "case_id": event.case_id,
        "resource_id": event.resource_id,
        "provider_id": event.provider_id,
        "quantity": event.quantity,
        "delivered_on": event.delivered_on,
    }


@PUBLICATIONS.maps(ResourceLink.UsageRecorded, "ResourceUsageRecorded", 1)  # type: ignore[attr-defined]
def resource_usage_recorded(event: Any) -> dict[str, Any]:
    return {
        "link_id": str(event.originator_id),
        "case_id": event.case_id,
        "resource_id": event.resource_id,
        "units_used": event.units_used,
        "outcome": event.outcome,
        "recorded_on": event.recorded_on,
    }


@PUBLICATIONS.maps(Referral.Accepted, "ReferralAccepted", 1)  # type: ignore[attr-defined]
def referral_accepted(event: Any) -> dict[str, Any]:
    return {
        "referral_id": event.referral_id,
        "case_id": event.case_id,
        "agency_kind": event.agency_kind,
        "agency_id": event.agency_id,
        "accepted_on": event.accepted_on,
    }


@PUBLICATIONS.maps(Referral.Completed, "ReferralCompleted", 1)  # type: ignore[attr-defined]
def referral_completed(event: Any) -> dict[str, Any]:
    return {
        "referral_id": event.referral_id,
        "case_id": event.case_id,
        "agency_kind": event.agency_kind,
        "agency_id": event.agency_id,
        "outcome": event.outcome,
        "completed_on": event.completed_on,
    }


@PUBLICATIONS.maps(JointActivity.Held, "JointActivityHeld", 1)  # type: ignore[attr-defined]
def joint_activity_held(event: Any) -> dict[str, Any]:
    return {
        "activity_id": str(event.originator_id),
        "partner_ids": event.partner_ids,
        "service_codes": event.service_codes,
        "held_on": event.held_on,
        "participant_count": event.participant_count,
    }


@PUBLICATIONS.maps(ProviderFeedback.Issued, "ProviderFeedbackIssued", 1)  # type: ignore[attr-defined]
def provider_feedback_issued(event: Any) -> dict[str, Any]:
    figures = event.figures
    return {
        "feedback_id": str(event.originator_id),
        "provider_id": event.provider_id,
        "period_from": event.period_from,
        "period_to": event.period_to,
        "clients_served": figures["clients_served"],
        "deliveries": figures["deliveries"],
        "units_delivered": figures["units_delivered"],
        "outcomes": figures["outcomes"],
    }


# Internal changes, on the audit trail from format 2 (AuditRecorded).
PUBLICATIONS.audit_only(ResourceLink.Requested, "ResourceLink",  # type: ignore[attr-defined]
                        "request_id", "case_id", "kind", "service_codes", "quantity",
                        "needed_by")
PUBLICATIONS.audit_only(Referral.Made, "Referral",  # type: ignore[attr-defined]
                        "referral_id", "case_id", "agency_kind", "reason_code", "referred_on")
PUBLICATIONS.audit_only(Resource.Held, "Resource",  # type: ignore[attr-defined]
                        "link_id", "quantity")
PUBLICATIONS.audit_only(Resource.Released, "Resource", "link_id")  # type: ignore[attr-defined]
PUBLICATIONS.audit_only(Resource.HoldUsed, "Resource",  # type: ignore[attr-defined]
                        "link_id", "quantity")
