"""Realistic journeys through the public RPC, for the demo and the benchmark."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

SERVICE_CODES = ["7.1.1a", "7.1.2a", "7.1.3a", "7.1.3b", "7.1.3c", "7.1.4c", "7.4a"]
METHODS = ["case_work", "home_visit", "consultation", "family_therapy", "crisis_intervention"]


def case_journey(
    proxy: Any, rng: random.Random, worker_id: str, label: str, start: date = date(2026, 9, 1)
) -> str:
    """One case: opened, two to five interventions, closed. Returns the case id."""
    codes = rng.sample(SERVICE_CODES, k=rng.randint(1, 2))
    case_id: str = proxy.cases.open_case(
        {
            "client_id": f"client-{label}",
            "client_type": "student",
            "social_worker_id": worker_id,
            "service_codes": codes,
            "opened_on": start.isoformat(),
        }
    )["case_id"]
    day = start
    for _ in range(rng.randint(2, 5)):
        day += timedelta(days=rng.randint(3, 10))
        proxy.cases.log_intervention(
            {
                "case_id": case_id,
                "form": "direct",
                "method": rng.choice(METHODS),
                "service_codes": codes,
                "delivered_on": day.isoformat(),
                "duration_minutes": rng.choice([30, 45, 60, 90]),
            }
        )
    proxy.cases.close_case(
        {
            "case_id": case_id,
            "reason": "goals_met",
            "closed_on": (day + timedelta(days=7)).isoformat(),
        }
    )
    return case_id
