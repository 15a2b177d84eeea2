"""Cases domain events → contract events. Payloads carry identifiers, codes, dates and counts;
notes and summaries stay in the store."""

from __future__ import annotations

from typing import Any

from services.cases.domain import Case
from services.runtime.publishing import Publications

PUBLICATIONS = Publications("cases")


@PUBLICATIONS.maps(Case.Opened, "CaseOpened", 1)
def case_opened(event: Any) -> dict[str, Any]:
    return {
        "client_id": event.client_id,
        "client_type": event.client_type,
        "social_worker_id": event.social_worker_id,
        "service_codes": event.service_codes,
        "opened_on": event.opened_on,
    }


@PUBLICATIONS.maps(Case.InterventionLogged, "InterventionLogged", 1)
def intervention_logged(event: Any) -> dict[str, Any]:
    return {
        "intervention_id": event.intervention_id,
        "form": event.form,
        "method": event.method,
        "service_codes": event.service_codes,
        "delivered_on": event.delivered_on,
        "duration_minutes": event.duration_minutes,
        "participant_count": event.participant_count,
    }


@PUBLICATIONS.maps(Case.Closed, "CaseClosed", 1)
def case_closed(event: Any) -> dict[str, Any]:
    return {
        "reason": event.reason,
        "closed_on": event.closed_on,
        "intervention_count": event.intervention_count,
    }
