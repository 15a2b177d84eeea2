"""Provider feedback (9.3c): how a provider's resources were used in a period, for how many
clients and with what outcomes, from the resource links' own records.

Clients are counted (distinct cases), never listed: the figures and the CSV hold resource ids,
kinds, counts and outcome codes only, so they can go to the provider as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from typing import Any

from contracts.events.resources import USAGE_OUTCOMES
from services.resources.domain import Resource
from services.resources.links import ResourceLink

OUTCOME_KEYS = (*USAGE_OUTCOMES, "not_recorded")
CSV_COLUMNS = (
    "provider_id", "school_id", "period_from", "period_to", "resource_id", "kind",
    "clients_served", "deliveries", "units_delivered", "units_used", *OUTCOME_KEYS,
)
ALL_RESOURCES = "all"


def _tally(links: list[ResourceLink]) -> dict[str, Any]:
    outcomes = dict.fromkeys(OUTCOME_KEYS, 0)
    for link in links:
        outcomes[link.usage["outcome"] if link.usage else "not_recorded"] += 1
    return {
        "clients_served": len({link.case_id for link in links}),
        "deliveries": len(links),
        "units_delivered": sum(link.delivery["quantity"] for link in links if link.delivery),
        "units_used": sum(link.usage["units_used"] for link in links if link.usage),
        "outcomes": outcomes,
    }


def feedback_figures(
    provider_id: str,
    school_id: str | None,
    period_from: date,
    period_to: date,
    resources: Iterable[Resource],
    delivered_links: Iterable[ResourceLink],
) -> dict[str, Any]:
    """Deliveries of the provider's resources made within [period_from, period_to] (and, with a
    school, to that school's cases), per resource and in total."""
    own = {str(resource.id): resource for resource in resources}
    links = [
        link for link in delivered_links
        if link.offer is not None and link.delivery is not None
        and link.offer["resource_id"] in own
        and period_from <= link.delivery["delivered_on"] <= period_to
        and (school_id is None or link.school_id == school_id)
    ]
    per_resource = []
    for resource_id in sorted(own):
        used = [link for link in links if link.offer and link.offer["resource_id"] == resource_id]
        per_resource.append(
            {"resource_id": resource_id, "kind": own[resource_id].kind, **_tally(used)}
        )
    return {
        "provider_id": provider_id,
        "school_id": school_id,
        "period_from": period_from.isoformat(),
        "period_to": period_to.isoformat(),
        **_tally(links),
        "resources": per_resource,
    }


def feedback_csv(figures: dict[str, Any]) -> str:
    """One row per resource and a last row for all of them together."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    total = {"resource_id": ALL_RESOURCES, "kind": "", **figures}
    for row in [*figures["resources"], total]:
        writer.writerow([
            figures["provider_id"], figures["school_id"] or "", figures["period_from"],
            figures["period_to"], row["resource_id"], row["kind"], row["clients_served"],
            row["deliveries"], row["units_delivered"], row["units_used"],
            *(row["outcomes"][key] for key in OUTCOME_KEYS),
        ])
    return out.getvalue()
