"""Realistic journeys through the public RPC, shared by integration, e2e, fault tests and the
benchmark. When the case process grows a step, it grows here once."""

from __future__ import annotations

from typing import Any


def drive_case(
    proxy: Any,
    client_id: str,
    worker_id: str = "worker-1",
    interventions: int = 2,
    close: bool = True,
) -> str:
    """Open a case, deliver interventions, close it; return the case id."""
    case_id: str = proxy.cases.open_case(
        {
            "client_id": client_id,
            "client_type": "student",
            "social_worker_id": worker_id,
            "service_codes": ["7.1.3a"],
            "opened_on": "2026-09-01",
        }
    )["case_id"]
    for number in range(interventions):
        proxy.cases.log_intervention(
            {
                "case_id": case_id,
                "form": "direct",
                "method": "case_work",
                "service_codes": ["7.1.3a", "7.1.4c"],
                "delivered_on": f"2026-09-{2 + number:02d}",
                "duration_minutes": 45,
                "notes": f"Session {number + 1}.",
            }
        )
    if close:
        proxy.cases.close_case(
            {"case_id": case_id, "reason": "goals_met", "closed_on": "2026-10-30"}
        )
    return case_id


def events_per_case(interventions: int = 2, close: bool = True) -> int:
    """How many published events `drive_case` makes, for tests that count ledger entries."""
    return 1 + interventions + (1 if close else 0)
