"""The supervision service's RPC entrypoints: each names the roles that may call it, and a caller
in another role is refused before its payload is even read; a caller in the role with a bad
payload is told which field breaks which rule, and nothing changes."""

from __future__ import annotations

import inspect
from datetime import date
from typing import Any

import pytest

from contracts.envelope import ROLES
from contracts.errors import InvalidInput, NotAllowed
from services.runtime.context import Actor, acting_as
from services.runtime.service import load
from services.supervision import schemas
from services.supervision.service import SupervisionService
from tests.unit.supervision.support import ADMIN, SCHOOL, new_app, seed_school, seed_worker

ENTRYPOINTS = sorted(
    (name, member) for name, member in inspect.getmembers(SupervisionService, inspect.isfunction)
    if hasattr(member, "command_schema")
)
# Bad in every way a payload can be: an unknown field, a list where an object goes.
GARBAGE: dict[str, Any] = {"no_such_field": ["x"], "limit": "many", "after": 7}
# The CSV is text, not an object a schema dumps.
UNSCHEMED_ANSWERS = {"compliance_report_csv"}


def actor_in(role: str) -> Actor:
    return Actor(f"{role}-1", role, None if role in ("auditor", "integrator", "operator",
                                                    "system") else SCHOOL)


def test_every_entrypoint_names_its_roles_payload_and_answer() -> None:
    own = {name for name, member in vars(SupervisionService).items()
           if inspect.isfunction(member) and name not in ("on_cases_event", "check_deadlines")}
    assert own == {name for name, _ in ENTRYPOINTS}
    for name, member in ENTRYPOINTS:
        assert member.command_roles, f"{name} names no roles"
        assert (member.command_returns is not None) == (name not in UNSCHEMED_ANSWERS), name


@pytest.mark.parametrize(("name", "role"), [
    (name, role) for name, member in ENTRYPOINTS for role in ROLES
    if role not in member.command_roles
])
def test_a_role_that_may_not_call_is_refused_before_its_payload_is_read(name, role) -> None:
    with acting_as(actor_in(role)), pytest.raises(NotAllowed):
        getattr(SupervisionService, name)(object(), GARBAGE)


@pytest.mark.parametrize("name", [name for name, _ in ENTRYPOINTS])
def test_a_role_that_may_call_gets_the_payloads_errors(name) -> None:
    member = dict(ENTRYPOINTS)[name]
    with acting_as(actor_in(member.command_roles[0])), pytest.raises(InvalidInput) as refused:
        getattr(SupervisionService, name)(object(), GARBAGE)
    assert "no_such_field" in refused.value.errors


@pytest.mark.parametrize(
    ("schema", "payload", "field", "rule"),
    [
        (schemas.RecordTraining, {"hours": 2}, "hours", "Unknown field."),
        (schemas.RecordTraining, {"minutes": 90.5}, "minutes", "Not a valid integer."),
        (schemas.RecordTraining, {"minutes": 10}, "minutes",
         "Must be greater than or equal to 30"),
        (schemas.RecordSatisfactionSurvey, {"mean_score": 4.2}, "mean_score", "Unknown field."),
        (schemas.RecordSatisfactionSurvey, {"mean_score_permille": 4.2}, "mean_score_permille",
         "Not a valid integer."),
        (schemas.RecordSatisfactionSurvey, {"mean_score_permille": 5001},
         "mean_score_permille", "less than or equal to 5000"),
        (schemas.ListEscalations, {"status": "lost"}, "status", "Must be one of"),
        (schemas.ListEscalations, {"level": "extreme"}, "level", "Must be one of"),
        (schemas.ListEscalations, {"overdue": "maybe"}, "overdue", "Not a valid boolean."),
        (schemas.ListEscalations, {"waiting_for": "nobody"}, "waiting_for", "Must be one of"),
        (schemas.ListEveryEscalation, {"waiting_for": "auditor"}, "waiting_for",
         "Must be one of"),
        (schemas.ListEveryEscalation, {"school_id": "JD001"}, "school_id", "Unknown field."),
        (schemas.ListEscalations, {"case_id": ""}, "case_id", "Length must be between"),
        (schemas.CountEscalationsBySchool, {}, "school_id", "Missing data for required field."),
        (schemas.CountEscalationsBySchool, {"school_id": [f"S{n}" for n in range(101)]},
         "school_id", "Give from 1 to 100 ids."),
        (schemas.ListFindings, {"control_point": "late"}, "control_point", "Must be one of"),
        (schemas.ListSocialWorkers, {"limit": 0}, "limit", "Must be greater than or equal to 1"),
        (schemas.ListSocialWorkers, {"limit": 201}, "limit", "less than or equal to 200"),
        (schemas.ListComplaints, {"received_from": "3 Sept"}, "received_from",
         "Not a valid date."),
        (schemas.ListTrainings, {"year": 1999}, "year", "greater than or equal to 2000"),
        (schemas.ListSupervisionSessions, {"held_to": "soon"}, "held_to",
         "Not a valid date."),
    ],
)
def test_bad_input_names_the_field_and_the_rule(schema, payload, field, rule) -> None:
    with pytest.raises(InvalidInput) as refused:
        load(schema, payload)
    assert field in refused.value.errors
    assert rule in " ".join(refused.value.errors[field])


def test_a_cursor_not_of_the_list_is_refused_naming_after_and_changes_nothing() -> None:
    app = new_app()
    seed_school(app)
    seed_worker(app)
    before = app.max_position()
    with acting_as(ADMIN), pytest.raises(InvalidInput) as refused:
        app.list_social_workers(SCHOOL, after="not-a-cursor")
    assert "after" in refused.value.errors
    with acting_as(ADMIN), pytest.raises(InvalidInput) as refused:
        app.record_training(social_worker_id="worker-1", kind="continuing", minutes=60,
                            topics=["ethics"], completed_on=date(2999, 1, 1))
    assert refused.value.errors == {"completed_on": ["Must not be in the future (2999-01-01)."]}
    assert app.max_position() == before
