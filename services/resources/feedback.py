"""Provider feedback (9.3c): how a provider's resources were used in a period, for how many
clients and with what outcomes, from the resource links' view rows (`ResourcesViews.
feedback_rows`).

Clients are counted (distinct cases), never listed: the figures and the CSV hold resource ids,
kinds, counts and outcome codes only, so they can go to the provider as they are.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from contracts.events.resources import USAGE_OUTCOMES

OUTCOME_KEYS = (*USAGE_OUTCOMES, "not_recorded")
CSV_COLUMNS = (
    "provider_id", "school_id", "period_from", "period_to", "resource_id", "kind",
    "clients_served", "deliveries", "units_delivered", "units_used", *OUTCOME_KEYS,
)
ALL_RESOURCES = "all"
TALLIED = ("deliveries", "units_delivered", "units_used")


def _tally(clients_served: int, tallies: list[dict[str, Any]]) -> dict[str, Any]:
    outcomes = dict.fromkeys(OUTCOME_KEYS, 0)
    for row in tallies:
        outcomes[row["outcome"]] += int(row["deliveries"])
    # SUM comes back as a decimal from PostgreSQL: counts are whole numbers.
    totals = {name: sum(int(row[name] or 0) for row in tallies) for name in TALLIED}
    return {"clients_served": clients_served, **totals, "outcomes": outcomes}


def feedback_figures(
    provider_id: str,
    school_id: str | None,
    period_from: date,
    period_to: date,
    rows: tuple[list[dict[str, Any]], ...],
) -> dict[str, Any]:
    """Deliveries of the provider's resources made within [period_from, period_to] (and, with a
    school, to that school's cases), per resource and in total, from `feedback_rows`."""
    resources, tallies, clients_per_resource, clients = rows
    clients_of = {row["resource_id"]: int(row["clients_served"])
                  for row in clients_per_resource}
    per_resource = [
        {"resource_id": resource["resource_id"], "kind": resource["kind"],
         **_tally(clients_of.get(resource["resource_id"], 0),
                  [row for row in tallies if row["resource_id"] == resource["resource_id"]])}
        for resource in resources
    ]
    return {
        "provider_id": provider_id,
        "school_id": school_id,
        "period_from": period_from.isoformat(),
        "period_to": period_to.isoformat(),
        **_tally(int(clients[0]["clients_served"]), tallies),
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
