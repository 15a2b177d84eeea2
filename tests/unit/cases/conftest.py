"""The cases application on an in-memory store, the people who use it, and the steps of a case
as the standard names them, so each test reads as the scenario it checks."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from contracts.envelope import GENESIS_HASH
from services.cases.app import CasesApplication
from services.cases.publish import PUBLICATIONS
from services.runtime.context import SYSTEM, Actor, acting_as
from services.runtime.persistence import Cursor

WORKER = Actor("worker-1", "social_worker", "JD001")
OTHER_WORKER = Actor("worker-2", "social_worker", "JD001")
SUPERVISOR = Actor("supervisor-1", "supervisor", "JD001")
AUDITOR = Actor("auditor-1", "auditor", None)
OPENED_ON = date(2026, 9, 1)

INTAKE = {
    "worker_introduced": True,
    "respect_and_empathy": True,
    "initial_information": "Fights in class since the family moved.",
}
ASSESSMENT = {
    "environment": "Lives with mother; new school this term.",
    "problems": ["anger in class"],
    "causes": ["family move"],
    "priorities": ["anger first"],
    "strengths": ["likes football", "close to his mother"],
}
PLAN = {
    "goals": [{"goal": "Stay in class when angry.", "baseline": 4.0},
              {"goal": "Weekly talk with the teacher."}],
    "content": "Weekly sessions.",
    "methods": ["case work"],
    "action_steps": ["rapport", "calming skills"],
    "schedule": "Eight weeks.",
    "evaluation_participants": ["client", "guardian"],
    "evaluation_methods": ["goal attainment scaling"],
}
INTERVENTION = {
    "form": "direct",
    "method": "case_work",
    "service_codes": ["7.1.3a"],
    "delivered_on": date(2026, 9, 10),
    "duration_minutes": 45,
}
PROCESS = {"progress": "On schedule.", "worker_performance": "As planned.",
           "reflection": "Involve the teacher earlier."}
OUTCOME = {"client_change": "Calmer.", "satisfaction": 4,
           "goals": [{"goal_number": 1, "attainment": 1}, {"goal_number": 2, "attainment": 0}]}
CLOSING_ITEMS = {"timing_agreed": True, "service_reviewed": True, "relationship_ended": True}


@pytest.fixture
def app() -> CasesApplication:
    return CasesApplication(env={"SQLITE_DBNAME": ":memory:"})


@pytest.fixture
def as_worker():
    with acting_as(WORKER):
        yield WORKER


def supervise(app: CasesApplication, worker: str = "worker-1",
              supervisor: str = "supervisor-1") -> None:
    """Supervision makes `supervisor` the worker's supervisor (6.2.2.1) and cases learns it, as
    its subscription would, at supervision's next position."""
    position = app.cursor("supervision").position + 1
    with acting_as(SYSTEM):
        app.learn_from_supervision(
            {"type": "SupervisorAssigned", "source": "supervision", "position": position,
             "school_id": "JD001",
             "payload": {"social_worker_id": worker, "supervisor_id": supervisor,
                         "previous_supervisor_id": None, "assigned_on": "2026-08-25"}},
            Cursor("supervision", position, f"{position:064x}", position - 1),
        )


def register_student(app: CasesApplication, client_id: str = "client-1",
                     born: date = date(2014, 3, 2), guardians: bool = True) -> str:
    return app.register_client(
        client_type="student", name="王小明", client_id=client_id, date_of_birth=born, grade=6,
        contact="138-0000-0000",
        guardians=[{"name": "王芳", "relation": "mother", "contact": None}] if guardians else [],
        related_parties=[{"kind": "teacher", "name": "李老师", "relation": "class teacher",
                          "contact": None}],
    )


def open_case(app: CasesApplication, client_id: str = "client-1", intake: Any = INTAKE,
              worker: str = "worker-1") -> str:
    return app.open_case(client_id=client_id, social_worker_id=worker,
                         service_codes=["7.1.3a"], opened_on=OPENED_ON, intake=intake)


def consent(app: CasesApplication, case_id: str, *parties: str) -> None:
    for party in parties or ("client", "guardian"):
        app.record_consent(case_id, party, OPENED_ON, ["rights", "service_plan"], "王芳")


def assess(app: CasesApplication, case_id: str, on: date = date(2026, 9, 3)) -> int:
    return app.record_assessment(case_id, on, **ASSESSMENT)


def adopt(app: CasesApplication, case_id: str, **parts: Any) -> int:
    return app.adopt_plan(case_id, date(2026, 9, 5), **{**PLAN, **parts})


def case_at(app: CasesApplication, stage: str, client_id: str = "client-1") -> str:
    """A registered minor's case walked up to (not through) `stage`."""
    register_student(app, client_id)
    case_id = open_case(app, client_id)
    steps = ["accept", "consent", "assessment", "plan", "intervention", "evaluations", "closed"]
    for step in steps[: steps.index(stage)]:
        if step == "accept":
            app.accept_intake(case_id, OPENED_ON)
        elif step == "consent":
            consent(app, case_id)
        elif step == "assessment":
            assess(app, case_id)
        elif step == "plan":
            adopt(app, case_id)
        elif step == "intervention":
            app.log_intervention(case_id, **INTERVENTION)
        elif step == "evaluations":
            app.record_evaluation(case_id, "process", date(2026, 10, 1), **PROCESS)
            app.record_evaluation(case_id, "outcome", date(2026, 10, 1), **OUTCOME)
    return case_id


def close(app: CasesApplication, case_id: str, **overrides: Any) -> str | None:
    return app.close_case(case_id, **{"reason": "goals_met", "closed_on": date(2026, 10, 2),
                                      **CLOSING_ITEMS, **overrides})


def published(app: CasesApplication) -> list[dict[str, Any]]:
    return list(PUBLICATIONS.envelopes(app.mapper, app.notifications_after(0, 10_000), 0,
                                       GENESIS_HASH))


def published_types(app: CasesApplication) -> list[str]:
    return [envelope["type"] for envelope in published(app)]


def envelope(type_: str, position: int, payload: dict[str, Any],
             source: str = "supervision") -> dict[str, Any]:
    """What another service published, as a subscription hands it to the application."""
    return {"type": type_, "source": source, "position": position, "school_id": "JD001",
            "payload": payload}


def cursor(source: str, position: int) -> Cursor:
    return Cursor(source, position, f"{position:064x}", position - 1)
