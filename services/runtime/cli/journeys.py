"""Realistic journeys through the public RPC: a school's staff set up, then cases walked
through the whole process of 8.3. The demo, the benchmark and the tests all drive Casebook
with these, so when the process grows a step it grows here once."""

from __future__ import annotations

import random
import time
import uuid
from datetime import date, timedelta
from typing import Any

from contracts.errors import Conflict, NotAllowed

OPENED_ON = date(2026, 9, 1)
QUALIFIED = {  # 6.2.1.2: a certificate, a social-work degree, a led project, the ethics pledge
    "certificate_level": "assistant",
    "diploma_level": "bachelor",
    "diploma_in_social_work": True,
    "projects_led": 2,
    "ethics_commitment": True,
}
PLAN = {  # 8.3.3b: all seven parts
    "goals": [
        {"goal": "Manage anger in class without leaving the room.", "baseline": 4},
        {"goal": "Talk with the class teacher once a week."},
    ],
    "content": "Weekly individual sessions; two meetings with the guardian.",
    "methods": ["case work", "family contact"],
    "action_steps": ["Build rapport", "Practise calming skills", "Review with the teacher"],
    "schedule": "Eight weeks from mid-September.",
    "evaluation_participants": ["client", "guardian", "class teacher"],
    "evaluation_methods": ["goal attainment scaling", "satisfaction survey"],
}
# Journeys name their clients by labels ("client-1"); the id each label stands for is a UUID
# made from it, since a client's id travels on the bus and so is never a name or a number.
CLIENT_LABELS = uuid.UUID("3b8f5c2a-6d1e-4f7a-9c0b-2e4d6a8f1c35")
DEMO_PROVIDER = "阳光公益基金会"  # a provider of the resource register (9.3a)
SERVICE_CODES = ["7.1.1a", "7.1.2a", "7.1.3a", "7.1.3b", "7.1.3c", "7.1.4c", "7.4a"]
METHODS = ["case_work", "crisis_intervention", "family_therapy", "outreach"]


def staff_school(admin: Any, school_id: str, worker_id: str,
                 supervisor_id: str | None = None) -> None:
    """Register a school and a qualified full-time worker with pre-job training (9.1a), as a
    school administrator would, and with `supervisor_id` a supervisor of the school (6.2.2.1)
    assigned to the worker (6.2.2); what already exists is left as it is."""
    steps = [
        (
            "register_school",
            {
                "school_id": school_id,
                "name": f"School {school_id}",
                "district": "JD",
                "service_mode": "resident",
                "facility_kinds": ["office", "case_room"],
            },
        ),
        (
            "register_social_worker",
            {
                "social_worker_id": worker_id,
                "employment": "full_time",
                "school_ids": [school_id],
                **QUALIFIED,
            },
        ),
        (
            "record_training",
            {
                "social_worker_id": worker_id,
                "kind": "pre_job",
                "minutes": 40 * 60,
                "topics": ["social_work_methods", "child_development"],
                "completed_on": "2026-08-20",
            },
        ),
    ]
    if supervisor_id is not None:
        steps += [
            (
                "register_supervisor",
                {
                    "supervisor_id": supervisor_id,
                    "employment": "full_time",
                    "certificate_level": "intermediate",
                    "years_of_practice": 6,
                    "school_id": school_id,
                },
            ),
            ("assign_supervisor", {"social_worker_id": worker_id, "supervisor_id": supervisor_id}),
        ]
    for command, payload in steps:
        try:
            getattr(admin.supervision, command)(payload)
        except Conflict:
            continue  # registered by an earlier run


def stock_register(proxy: Any, school_id: str) -> str | None:
    """A provider of the school's resource register and the tutoring it offers (9.3a), as a
    social worker registers them, so that a resource request can be offered something; None,
    and nothing registered, where the school's register has that provider already."""
    listed = proxy.resources.list_providers({"school_id": school_id, "limit": 200})["items"]
    if any(item["name"] == DEMO_PROVIDER for item in listed):
        return None
    provider: str = proxy.resources.register_provider({
        "school_id": school_id, "provider_kind": "organisation", "sector": "social_organisation",
        "name": DEMO_PROVIDER, "contact": {"person": "周老师", "phone": "0571-8888-0000"},
        "registered_on": OPENED_ON.isoformat()})["provider_id"]
    proxy.resources.register_resource({
        "provider_id": provider, "kind": "tutoring", "title": "周末数学辅导", "capacity": 20,
        "unit": "次", "school_ids": [school_id], "eligible_service_codes": ["7.1.1a"],
        "valid_from": OPENED_ON.isoformat()})
    return provider


def client_id(label: str) -> str:
    """The client id a journey's client label stands for."""
    return str(uuid.uuid5(CLIENT_LABELS, label))


def register_student(proxy: Any, label: str) -> str:
    """A minor student with a guardian on record (4.2); returns the client's id."""
    registered: str = proxy.cases.register_client(
        {
            "client_id": client_id(label),
            "client_type": "student",
            "name": "王小明",
            "date_of_birth": "2014-03-02",
            "grade": 6,
            "guardians": [{"name": "王芳", "relation": "mother", "contact": "138-0000-0000"}],
            "related_parties": [{"kind": "teacher", "name": "李老师", "relation": "class teacher"}],
        }
    )["client_id"]
    return registered


def open_case(
    proxy: Any,
    client: str,
    worker_id: str,
    codes: list[str],
    opened_on: date = OPENED_ON,
    eligibility_wait: float = 0,
) -> str:
    """Open a case with the intake items (8.3.1a–c). With `eligibility_wait`, keep trying for
    that many seconds while the cases service has not yet learned the worker is eligible."""
    payload = {
        "client_id": client,
        "social_worker_id": worker_id,
        "service_codes": codes,
        "opened_on": opened_on.isoformat(),
        "intake": {
            "worker_introduced": True,
            "respect_and_empathy": True,
            "initial_information": "Fights in class; sleeps badly since the move.",
        },
    }
    deadline = time.monotonic() + eligibility_wait
    while True:
        try:
            case_id: str = proxy.cases.open_case(payload)["case_id"]
            return case_id
        except NotAllowed as refusal:
            if refusal.code != "not_qualified" or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def ready_case(
    proxy: Any,
    label: str,
    worker_id: str = "worker-1",
    codes: list[str] | None = None,
    eligibility_wait: float = 0,
) -> tuple[str, date]:
    """A case up to its adopted plan: registered, opened, accepted, consented, assessed,
    planned. Returns the case id and the plan's date."""
    client = register_student(proxy, label)
    case_id = open_case(
        proxy, client, worker_id, codes or ["7.1.3a"], eligibility_wait=eligibility_wait
    )
    day = OPENED_ON
    proxy.cases.accept_intake({"case_id": case_id, "accepted_on": day.isoformat()})
    for party in ("client", "guardian"):
        proxy.cases.record_consent(
            {"case_id": case_id, "party": party, "given_on": day.isoformat()}
        )
    day += timedelta(days=3)
    proxy.cases.record_assessment(
        {
            "case_id": case_id,
            "assessed_on": day.isoformat(),
            "environment": "Lives with mother; new school this term.",
            "problems": ["anger in class"],
            "causes": ["family move", "no friends yet"],
            "priorities": ["anger first, friendships next"],
            "strengths": ["likes football", "close to his mother"],
        }
    )
    day += timedelta(days=2)
    proxy.cases.adopt_plan({"case_id": case_id, "adopted_on": day.isoformat(), **PLAN})
    return case_id, day


def intervention(
    case_id: str,
    delivered_on: date,
    number: int = 1,
    method: str = "case_work",
    codes: list[str] | None = None,
    minutes: int = 45,
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "form": "direct",
        "method": method,
        "service_codes": codes or ["7.1.3a", "7.1.4c"],
        "delivered_on": delivered_on.isoformat(),
        "duration_minutes": minutes,
        "notes": f"Session {number}.",
    }


def close_case(proxy: Any, case_id: str, day: date) -> None:
    """Both evaluations (8.3.5) and the closing (8.3.6)."""
    proxy.cases.record_evaluation(
        {
            "case_id": case_id,
            "kind": "process",
            "evaluated_on": day.isoformat(),
            "progress": "On schedule.",
            "worker_performance": "Sessions held as planned.",
            "reflection": "Involve the teacher earlier next time.",
        }
    )
    proxy.cases.record_evaluation(
        {
            "case_id": case_id,
            "kind": "outcome",
            "evaluated_on": day.isoformat(),
            "client_change": "Stays in class when angry.",
            "goals": [
                {"goal_number": 1, "baseline": 4, "measure": 1, "attainment": 1},
                {"goal_number": 2, "attainment": 0},
            ],
            "satisfaction": 4,
        }
    )
    proxy.cases.close_case(
        {
            "case_id": case_id,
            "reason": "goals_met",
            "closed_on": (day + timedelta(days=1)).isoformat(),
            "timing_agreed": True,
            "service_reviewed": True,
            "relationship_ended": True,
        }
    )


def case_journey(
    proxy: Any,
    label: str,
    worker_id: str = "worker-1",
    interventions: int = 2,
    close: bool = True,
    rng: random.Random | None = None,
    eligibility_wait: float = 0,
) -> str:
    """A whole case; with `rng`, varied codes, methods and durations. Returns the case id.
    Every step publishes exactly one event: see `events_per_case`."""
    codes = rng.sample(SERVICE_CODES, k=rng.randint(1, 2)) if rng else None
    case_id, day = ready_case(proxy, label, worker_id, codes, eligibility_wait)
    for number in range(1, interventions + 1):
        day += timedelta(days=rng.randint(2, 7) if rng else 1)
        proxy.cases.log_intervention(
            intervention(
                case_id,
                day,
                number,
                method=rng.choice(METHODS) if rng else "case_work",
                codes=codes,
                minutes=rng.choice([30, 45, 60, 90]) if rng else 45,
            )
        )
    if close:
        close_case(proxy, case_id, day + timedelta(days=7))
    return case_id


def events_per_case(interventions: int = 2, close: bool = True) -> int:
    """Published events of `case_journey`: ClientRegistered, CaseOpened, IntakeCompleted, two
    ConsentRecorded, AssessmentRecorded, PlanAdopted, the interventions, and with closing two
    EvaluationRecorded and CaseClosed."""
    return 7 + interventions + (3 if close else 0)
