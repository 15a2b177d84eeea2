"""A hand-written stand-in for the cases service: it publishes `ResourceRequested` and
`ReferralMade` through the real runtime (store, relay, `events_since`) and nothing else, so the
resources service can be tested on a real broker without walking a whole case."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from eventsourcing.domain import event

from services.runtime.context import require_role
from services.runtime.domain import CasebookAggregate
from services.runtime.entrypoints import rpc
from services.runtime.publishing import Publications
from services.runtime.service import ApplicationDependency, PublishingService
from services.runtime.store import CasebookApplication

PUBLICATIONS = Publications("cases")


class Request(CasebookAggregate):
    @event("ResourceRequested")
    def __init__(self, school_id: str, case_id: str, kind: str, quantity: int) -> None:
        self.school_id = school_id
        self.case_id = case_id
        self.kind = kind
        self.quantity = quantity


class Referral(CasebookAggregate):
    @event("ReferralMade")
    def __init__(self, school_id: str, case_id: str, agency_kind: str) -> None:
        self.school_id = school_id
        self.case_id = case_id
        self.agency_kind = agency_kind


@PUBLICATIONS.maps(Request.ResourceRequested, "ResourceRequested", 1)  # type: ignore[attr-defined]
def resource_requested(event: Any) -> dict[str, Any]:
    return {
        "request_id": str(event.originator_id), "case_id": event.case_id, "kind": event.kind,
        "service_codes": ["7.1.1a"], "quantity": event.quantity, "needed_by": None,
    }


@PUBLICATIONS.maps(Referral.ReferralMade, "ReferralMade", 1)  # type: ignore[attr-defined]
def referral_made(event: Any) -> dict[str, Any]:
    return {
        "referral_id": str(event.originator_id), "case_id": event.case_id,
        "agency_kind": event.agency_kind, "agency_id": None, "reason_code": "specialist_need",
        "referred_on": date(2026, 9, 10),
    }


class FakeCasesApplication(CasebookApplication):
    service = "cases"
    publications = PUBLICATIONS

    def request_resource(self, case_id: str, kind: str, quantity: int) -> str:
        actor = require_role("social_worker")
        request = Request(school_id=actor.school_id, case_id=case_id, kind=kind,
                          quantity=quantity)
        self.save(request)
        return str(request.id)

    def make_referral(self, case_id: str, agency_kind: str) -> str:
        actor = require_role("social_worker")
        referral = Referral(school_id=actor.school_id, case_id=case_id, agency_kind=agency_kind)
        self.save(referral)
        return str(referral.id)


class FakeCasesService(PublishingService):
    name = "cases"
    app = ApplicationDependency(FakeCasesApplication)

    @rpc
    def request_resource(self, kind: str = "tutoring", quantity: int = 1,
                         case_id: str | None = None) -> str:
        return self.app.request_resource(case_id or str(uuid.uuid4()), kind, quantity)

    @rpc
    def make_referral(self, agency_kind: str = "mental_health") -> str:
        return self.app.make_referral(str(uuid.uuid4()), agency_kind)
