"""The case and its lifecycle (T/JHSX 001—2026 8.2.1.1, 8.3).

Guards run before any event is triggered, so a refused command changes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.domain import event

from contracts.errors import Conflict, InvalidInput
from services.runtime.domain import CasebookAggregate


class Case(CasebookAggregate):
    @event("Opened")
    def __init__(
        self,
        school_id: str,
        client_id: str,
        client_type: str,
        social_worker_id: str,
        service_codes: list[str],
        opened_on: date,
    ) -> None:
        self.school_id = school_id
        self.client_id = client_id
        self.client_type = client_type
        self.social_worker_id = social_worker_id
        self.service_codes = list(service_codes)
        self.opened_on = opened_on
        self.status = "open"
        self.interventions: list[dict[str, Any]] = []
        self.closing: dict[str, Any] | None = None

    def log_intervention(self, **intervention: Any) -> None:
        self._require_open("log an intervention")
        if intervention["delivered_on"] < self.opened_on:
            raise InvalidInput.from_messages(
                {"delivered_on": [f"Must not be before the case was opened ({self.opened_on})."]}
            )
        self._intervention_logged(**intervention)

    @event("InterventionLogged")
    def _intervention_logged(
        self,
        intervention_id: str,
        form: str,
        method: str,
        service_codes: list[str],
        delivered_on: date,
        duration_minutes: int,
        participant_count: int,
        notes: str,
    ) -> None:
        self.interventions.append(
            {
                "intervention_id": intervention_id,
                "form": form,
                "method": method,
                "service_codes": list(service_codes),
                "delivered_on": delivered_on,
                "duration_minutes": duration_minutes,
                "participant_count": participant_count,
                "notes": notes,
            }
        )

    def close(self, reason: str, closed_on: date, summary: str) -> None:
        self._require_open("close it")
        if closed_on < self.opened_on:
            raise InvalidInput.from_messages(
                {"closed_on": [f"Must not be before the case was opened ({self.opened_on})."]}
            )
        self._closed(
            reason=reason,
            closed_on=closed_on,
            summary=summary,
            intervention_count=len(self.interventions),
        )

    @event("Closed")
    def _closed(self, reason: str, closed_on: date, summary: str, intervention_count: int) -> None:
        self.status = "closed"
        self.closing = {
            "reason": reason,
            "closed_on": closed_on,
            "summary": summary,
            "intervention_count": intervention_count,
        }

    def _require_open(self, action: str) -> None:
        if self.status != "open":
            raise Conflict(f"The case is {self.status}: cannot {action}.", code="wrong_state")
