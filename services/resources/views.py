"""What queries return: each record as plain JSON types, personal fields only for the roles
that may read them (DESIGN.md "Actors, access, privacy")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.resources.domain import (
    SECTOR_LABELS,
    Donation,
    JointActivity,
    Provider,
    Resource,
)
from services.resources.links import Referral, ResourceLink
from services.resources.volunteers import Volunteer
from services.runtime.clock import clock
from services.runtime.context import Actor
from services.runtime.plain import plain
from services.runtime.vault import Vault

# Who may read names and contacts of providers and volunteers: the school's own team.
PERSONAL_READERS = ("social_worker", "supervisor", "school_admin")


def provider_view(vault: Vault, actor: Actor, provider: Provider) -> dict[str, Any]:
    view: dict[str, Any] = {
        "provider_id": str(provider.id),
        "version": provider.version,
        "school_id": provider.school_id,
        "provider_kind": provider.provider_kind,
        "sector": provider.sector,
        "name": provider.display_name,
        "registered_on": provider.registered_on,
    }
    if actor.role in PERSONAL_READERS:
        details = vault.open(provider.sealed_details)
        view["details"] = details
        if isinstance(details, dict):
            view["name"] = details["name"]
    return plain(view)


def volunteer_view(vault: Vault, actor: Actor, volunteer: Volunteer) -> dict[str, Any]:
    today = clock.today()
    view: dict[str, Any] = {
        "volunteer_id": str(volunteer.id),
        "version": volunteer.version,
        "school_id": volunteer.school_id,
        "skills": volunteer.skills,
        "registered_on": volunteer.registered_on,
        "latest_check": volunteer.latest_check,
        "may_work_with_students": volunteer.clearance_problem(today) is None,
        "assignments": list(volunteer.assignments.values()),
        "hours": volunteer.hours,
        "total_hours": volunteer.total_hours,
    }
    if actor.role in PERSONAL_READERS:
        view["details"] = vault.open(volunteer.sealed_details)
    return plain(view)


def resource_view(resource: Resource) -> dict[str, Any]:
    return plain({
        "resource_id": str(resource.id),
        "version": resource.version,
        "provider_id": resource.provider_id,
        "kind": resource.kind,
        "title": resource.title,
        "capacity": resource.capacity,
        "unit": resource.unit,
        "held": sum(resource.held.values()),
        "delivered": resource.delivered_units,
        "remaining": resource.remaining,
        "school_ids": resource.school_ids,
        "eligible_service_codes": resource.eligible_service_codes,
        "max_per_request": resource.max_per_request,
        "eligibility_note": resource.eligibility_note,
        "valid_from": resource.valid_from,
        "valid_until": resource.valid_until,
    })


def donation_view(donation: Donation) -> dict[str, Any]:
    return {
        "donation_id": str(donation.id),
        "provider_id": donation.provider_id,
        "school_id": donation.school_id,
        "kind": donation.kind,
        "amount_cents": donation.amount_cents,
        "currency": donation.currency,
        "description": donation.description,
        "restricted": donation.restricted,
        "restricted_to_service_codes": donation.restricted_to_service_codes,
        "restricted_to_school_ids": donation.restricted_to_school_ids,
        "restriction_note": donation.restriction_note,
        "received_on": donation.received_on,
    }


def link_view(link: ResourceLink) -> dict[str, Any]:
    return plain({
        "link_id": str(link.id),
        "version": link.version,
        "request_id": link.request_id,
        "case_id": link.case_id,
        "school_id": link.school_id,
        "kind": link.kind,
        "service_codes": link.service_codes,
        "quantity": link.quantity,
        "needed_by": link.needed_by,
        "state": link.state,
        "offer": link.offer,
        "declined": link.declined,
        "accepted_on": link.accepted_on,
        "delivery": link.delivery,
        "usage": link.usage,
    })


def referral_view(referral: Referral) -> dict[str, Any]:
    return plain({
        "referral_id": referral.referral_id,
        "version": referral.version,
        "case_id": referral.case_id,
        "school_id": referral.school_id,
        "agency_kind": referral.agency_kind,
        "agency_id": referral.agency_id,
        "reason_code": referral.reason_code,
        "referred_on": referral.referred_on,
        "status": referral.status,
        "accepted_on": referral.accepted_on,
        "outcome": referral.outcome,
        "completed_on": referral.completed_on,
    })


def activity_view(activity: JointActivity) -> dict[str, Any]:
    return {
        "activity_id": str(activity.id),
        "school_id": activity.school_id,
        "partner_ids": activity.partner_ids,
        "theme": activity.theme,
        "service_codes": activity.service_codes,
        "held_on": activity.held_on,
        "participant_count": activity.participant_count,
    }


def community_network(
    school_id: str | None, providers: Iterable[Provider], activities: list[JointActivity]
) -> dict[str, Any]:
    """Partners by sector (7.3a, 7.5), each with the joint activities held with it."""
    sectors: dict[str, dict[str, Any]] = {}
    for provider in providers:
        entry = sectors.setdefault(provider.sector, {
            "sector": provider.sector, **SECTOR_LABELS[provider.sector],
            "partners": [], "joint_activities": 0,
        })
        held = sum(1 for a in activities if str(provider.id) in a.partner_ids)
        entry["partners"].append({
            "provider_id": str(provider.id),
            "provider_kind": provider.provider_kind,
            "name": provider.display_name,
            "joint_activities": held,
        })
        entry["joint_activities"] += held
    return plain({
        "school_id": school_id,
        "sectors": [sectors[key] for key in sorted(sectors)],
        "joint_activities": [activity_view(a) for a in activities],
    })
