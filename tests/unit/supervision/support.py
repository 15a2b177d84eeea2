"""Scenario helpers for the supervision unit tests: actors, a seeded school and staff, and a
cases stream that feeds the application as the subscription would."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from contracts.envelope import GENESIS_HASH, envelope_id, seal
from contracts.registry import get as get_contract
from services.runtime.clock import clock
from services.runtime.context import SYSTEM, Actor, acting_as
from services.runtime.persistence import Cursor
from services.supervision.app import SupervisionApplication
from services.supervision.publish import PUBLICATIONS

SCHOOL = "JD001"
ADMIN = Actor("admin-1", "school_admin", SCHOOL)
SUPERVISOR = Actor("supervisor-1", "supervisor", SCHOOL)
OTHER_SUPERVISOR = Actor("supervisor-2", "supervisor", SCHOOL)
WORKER = Actor("worker-1", "social_worker", SCHOOL)
OTHER_WORKER = Actor("worker-2", "social_worker", SCHOOL)
AUDITOR = Actor("auditor-1", "auditor", None)
OPERATOR = Actor("operator-1", "operator", None)
OUTSIDER = Actor("admin-9", "school_admin", "JD009")

QUALIFIED = {"certificate_level": "assistant", "diploma_level": "bachelor",
             "diploma_in_social_work": True, "projects_led": 2, "ethics_commitment": True}


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def new_app() -> SupervisionApplication:
    return SupervisionApplication(env={"SQLITE_DBNAME": ":memory:"})


def seed_school(app: SupervisionApplication, school_id: str = SCHOOL,
                facilities: tuple[str, ...] = ("office", "case_room")) -> None:
    with acting_as(OPERATOR):
        app.register_school(school_id=school_id, name="静安区第一中学", district="jingan",
                            service_mode="resident", facility_kinds=list(facilities),
                            registered_on=date(2026, 1, 5))


def seed_worker(app: SupervisionApplication, worker_id: str = "worker-1",
                employment: str = "full_time", trained: bool = True,
                registered_on: date = date(2026, 1, 10), **qualification: Any) -> None:
    with acting_as(ADMIN):
        app.register_social_worker(social_worker_id=worker_id, employment=employment,
                                   school_ids=[SCHOOL], registered_on=registered_on,
                                   **{**QUALIFIED, **qualification})
        if trained:
            app.record_training(social_worker_id=worker_id, kind="pre_job", minutes=2400,
                                topics=["social_work_methods", "ethics"],
                                completed_on=registered_on)


def seed_supervisor(app: SupervisionApplication, supervisor_id: str = "supervisor-1") -> None:
    with acting_as(ADMIN):
        app.register_supervisor(supervisor_id=supervisor_id, employment="part_time",
                                setting="external", certificate_level="intermediate",
                                years_of_practice=8, school_id=SCHOOL,
                                registered_on=date(2026, 1, 5))


def supervise(app: SupervisionApplication, worker_id: str = "worker-1",
              supervisor_id: str = "supervisor-1") -> None:
    """The school admin makes `supervisor_id` the supervisor of `worker_id` (6.2.2.1)."""
    with acting_as(ADMIN):
        app.assign_supervisor(social_worker_id=worker_id, supervisor_id=supervisor_id,
                              assigned_on=date(2026, 1, 12))


def published(app: SupervisionApplication) -> list[dict[str, Any]]:
    """Every envelope the relay would publish from the store, in order."""
    return list(PUBLICATIONS.envelopes(app.mapper, app.notifications_after(0, 10_000), 0,
                                       GENESIS_HASH))


def published_types(app: SupervisionApplication) -> list[str]:
    return [e["type"] for e in published(app)]


class CasesStream:
    """The cases service's stream as supervision receives it: a hash chain of envelopes."""

    def __init__(self, app: SupervisionApplication, school_id: str = SCHOOL) -> None:
        self.app = app
        self.school_id = school_id
        self.position = 0
        self.hash = GENESIS_HASH
        self.versions: dict[str, int] = {}
        self.sent: list[dict[str, Any]] = []

    def emit(self, type_: str, aggregate_id: str, school_id: str | None = None,
             **payload: Any) -> dict[str, Any]:
        """Make the next envelope (of `school_id`, the stream's school by default) and deliver
        it; return it."""
        self.versions[aggregate_id] = self.versions.get(aggregate_id, 0) + 1
        schema = get_contract(type_, 1).schema()
        position = self.position + 1
        envelope = seal({
            "id": envelope_id("cases", position), "type": type_, "version": 1,
            "source": "cases", "position": position, "prev_position": self.position,
            "aggregate_id": aggregate_id, "aggregate_version": self.versions[aggregate_id],
            "occurred_at": clock.now().isoformat(),
            "actor": {"id": "worker-1", "role": "social_worker"},
            "school_id": school_id or self.school_id, "correlation_id": str(uuid.uuid4()),
            "causation_id": None, "payload": schema.dump(schema.load(payload)),
            "prev_hash": self.hash,
        })
        self.position, self.hash = position, envelope["hash"]
        self.sent.append(envelope)
        self.deliver(envelope)
        return envelope

    def deliver(self, envelope: dict[str, Any]) -> None:
        """What the subscription does: skip what the cursor has, else handle and move it."""
        head = self.app.cursor("cases")
        if envelope["position"] <= head.position:
            return
        cursor = Cursor("cases", envelope["position"], envelope["hash"], head.position)
        with acting_as(SYSTEM):
            self.app.handle_cases_event(envelope, cursor)
        if self.app.cursor("cases").position < envelope["position"]:
            self.app.save_processed(cursor=cursor)

    def open_case(self, case_id: str, opened_on: date, worker_id: str = "worker-1") -> None:
        self.emit("CaseOpened", case_id, client_id=f"client-{case_id}", client_type="student",
                  social_worker_id=worker_id, service_codes=["7.1.3a"], opened_on=opened_on)

    def intervention(self, case_id: str, delivered_on: date,
                     codes: tuple[str, ...] = ("7.1.3a",)) -> None:
        self.emit("InterventionLogged", case_id, intervention_id=str(uuid.uuid4()),
                  form="direct", method="case_work", service_codes=list(codes),
                  delivered_on=delivered_on, duration_minutes=45, participant_count=1)

    def risk(self, case_id: str, risk_id: str, risk_type: str, level: str,
             previous_level: str | None = None, life_safety: bool = False,
             worker_id: str = "worker-1") -> dict[str, Any]:
        return self.emit("RiskEscalated", case_id, risk_id=risk_id, case_id=case_id,
                         risk_type=risk_type, level=level, previous_level=previous_level,
                         life_safety=life_safety, social_worker_id=worker_id,
                         raised_on=clock.today())
