"""A fake cases stream to feed the resources application, the people who use it, and the
register entries most scenarios start from."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from contracts.envelope import GENESIS_HASH, envelope_id, seal
from contracts.registry import validate_payload
from services.resources.app import ResourcesApplication
from services.resources.publish import PUBLICATIONS
from services.runtime.clock import clock
from services.runtime.context import SYSTEM, Actor, acting_as
from services.runtime.persistence import Cursor

SCHOOL = "JD001"
OTHER_SCHOOL = "JD002"
WORKER = Actor("worker-1", "social_worker", SCHOOL)
OTHER_WORKER = Actor("worker-2", "social_worker", SCHOOL)
SUPERVISOR = Actor("supervisor-1", "supervisor", SCHOOL)
ADMIN = Actor("admin-1", "school_admin", SCHOOL)
AUDITOR = Actor("auditor-1", "auditor", None)
TODAY = date(2026, 9, 15)


def published(app: ResourcesApplication) -> list[dict[str, Any]]:
    """Every envelope the relay would publish from the store, in order."""
    return list(PUBLICATIONS.envelopes(
        app.mapper, app.notifications_after(0, 10_000), 0, GENESIS_HASH
    ))


def published_types(app: ResourcesApplication) -> list[str]:
    return [envelope["type"] for envelope in published(app)]


class CasesFeed:
    """Cases events as the subscription hands them over: sealed, chained envelopes, each
    processed with its cursor, the cursor stored alone when the handler stores nothing."""

    def __init__(self, app: ResourcesApplication) -> None:
        self.app = app
        self.position = 0
        self.hash = GENESIS_HASH

    def envelope(self, type_: str, payload: dict[str, Any], school_id: str = SCHOOL,
                 actor: Actor = WORKER) -> dict[str, Any]:
        validate_payload(type_, 1, payload)
        position = self.position + 1
        return seal({
            "id": envelope_id("cases", position), "type": type_, "version": 1,
            "source": "cases", "position": position, "prev_position": self.position,
            "aggregate_id": payload.get("case_id", str(uuid.uuid4())), "aggregate_version": 1,
            "occurred_at": clock.now().isoformat(), "actor": actor.public(),
            "school_id": school_id, "correlation_id": str(uuid.uuid4()), "causation_id": None,
            "payload": payload, "prev_hash": self.hash,
        })

    def deliver(self, envelope: dict[str, Any]) -> None:
        cursor = Cursor("cases", envelope["position"], envelope["hash"], self.position)
        with acting_as(SYSTEM, envelope["correlation_id"], envelope["id"]):
            self.app.handle_cases_event(envelope, cursor)
            if self.app.cursor("cases").position < envelope["position"]:
                self.app.save_processed(cursor=cursor)
        self.position, self.hash = envelope["position"], envelope["hash"]

    def request(self, kind: str = "tutoring", quantity: int = 1, school_id: str = SCHOOL,
                codes: tuple[str, ...] = ("7.1.1a",), actor: Actor = WORKER,
                case_id: str | None = None) -> str:
        """A case asks for a resource; returns the request id."""
        request_id = str(uuid.uuid4())
        self.deliver(self.envelope("ResourceRequested", {
            "request_id": request_id, "case_id": case_id or str(uuid.uuid4()), "kind": kind,
            "service_codes": list(codes), "quantity": quantity, "needed_by": None,
        }, school_id=school_id, actor=actor))
        return request_id

    def refer(self, agency_kind: str = "mental_health", agency_id: str | None = None,
              referred_on: str = "2026-09-10") -> str:
        referral_id = str(uuid.uuid4())
        self.deliver(self.envelope("ReferralMade", {
            "referral_id": referral_id, "case_id": str(uuid.uuid4()),
            "agency_kind": agency_kind, "agency_id": agency_id,
            "reason_code": "specialist_need", "referred_on": referred_on,
        }))
        return referral_id


def register_provider(app: ResourcesApplication, name: str = "Sunrise Foundation",
                      kind: str = "organisation", sector: str = "social_organisation",
                      actor: Actor = SUPERVISOR) -> str:
    with acting_as(actor):
        return str(app.register_provider(
            provider_kind=kind, sector=sector, name=name,
            contact={"person": "Li Hua", "phone": "13800000000", "email": None,
                     "address": None},
            registered_on=date(2026, 9, 1),
        )["provider_id"])


def register_resource(app: ResourcesApplication, provider_id: str, kind: str = "tutoring",
                      capacity: int = 3, school_ids: tuple[str, ...] = (SCHOOL,),
                      codes: tuple[str, ...] = (), max_per_request: int | None = None,
                      valid_from: date = date(2026, 9, 1),
                      valid_until: date | None = date(2027, 6, 30)) -> str:
    with acting_as(SUPERVISOR):
        return str(app.register_resource(
            provider_id, kind=kind, title=f"{kind} places", capacity=capacity, unit="places",
            school_ids=list(school_ids), eligible_service_codes=list(codes),
            max_per_request=max_per_request, eligibility_note="", valid_from=valid_from,
            valid_until=valid_until,
        )["resource_id"])


def items(page: dict[str, Any], key: str) -> list[Any]:
    """One field of every row of a page."""
    return [row[key] for row in page["items"]]
