"""The resources service's RPC entrypoints: each names the roles that may call it, and a caller
in another role is refused before its payload is even read (issue 13.6); a caller in the role
with a bad payload is told which field breaks which rule, and nothing changes."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from contracts.envelope import ROLES
from contracts.errors import InvalidInput, NotAllowed
from services.resources import schemas
from services.resources.service import ResourcesService
from services.runtime.context import Actor, acting_as
from services.runtime.service import load
from tests.unit.resources.support import SCHOOL, SUPERVISOR, register_provider

ENTRYPOINTS = sorted(
    (name, member) for name, member in inspect.getmembers(ResourcesService, inspect.isfunction)
    if hasattr(member, "command_schema")
)
# Bad in every way a payload can be: an unknown field, a list where an object goes.
GARBAGE: dict[str, Any] = {"no_such_field": ["x"], "limit": "many", "after": 7}


def actor_in(role: str) -> Actor:
    return Actor(f"{role}-1", role, None if role in ("auditor", "integrator", "operator")
                 else SCHOOL)


def test_every_entrypoint_names_its_roles_payload_and_answer() -> None:
    own = {name for name, member in vars(ResourcesService).items()
           if inspect.isfunction(member) and name != "on_cases_event"}
    assert own == {name for name, _ in ENTRYPOINTS}
    for name, member in ENTRYPOINTS:
        assert member.command_roles, f"{name} names no roles"
        assert member.command_returns is not None, f"{name} describes no answer"


@pytest.mark.parametrize(("name", "role"), [
    (name, role) for name, member in ENTRYPOINTS for role in ROLES
    if role not in member.command_roles
])
def test_a_role_that_may_not_call_is_refused_before_its_payload_is_read(name, role) -> None:
    with acting_as(actor_in(role)), pytest.raises(NotAllowed):
        getattr(ResourcesService, name)(object(), GARBAGE)


@pytest.mark.parametrize("name", [name for name, _ in ENTRYPOINTS])
def test_a_role_that_may_call_gets_the_payloads_errors(name) -> None:
    member = dict(ENTRYPOINTS)[name]
    with acting_as(actor_in(member.command_roles[0])), pytest.raises(InvalidInput) as refused:
        getattr(ResourcesService, name)(object(), GARBAGE)
    assert "no_such_field" in refused.value.errors


@pytest.mark.parametrize(
    ("schema", "payload", "field", "rule"),
    [
        (schemas.LogVolunteerHours, {"hours": 2}, "hours", "Unknown field."),
        (schemas.LogVolunteerHours, {"minutes": 2.5}, "minutes", "Not a valid integer."),
        (schemas.LogVolunteerHours, {"minutes": 10}, "minutes",
         "Must be greater than or equal to 15"),
        (schemas.ListResourceLinks, {"state": "lost"}, "state", "Must be one of"),
        (schemas.ListVolunteers, {"check_state": "green"}, "check_state", "Must be one of"),
        (schemas.ListResources, {"limit": 0}, "limit", "Must be greater than or equal to 1"),
        (schemas.ListResources, {"limit": 201}, "limit", "less than or equal to 200"),
        (schemas.ListResources, {"service_code": "9.9"}, "service_code",
         "Unknown service code"),
        (schemas.ListDonations, {"currency": "yuan"}, "currency", "ISO 4217"),
        (schemas.ListDonations, {"received_from": "3 Sept"}, "received_from",
         "Not a valid date."),
        (schemas.GetProvider, {"provider_id": "Sunrise"}, "provider_id", "Not a valid UUID."),
        (schemas.ListJointActivities, {"partner_id": "clinic"}, "partner_id",
         "Not a valid UUID."),
    ],
)
def test_bad_input_names_the_field_and_the_rule(schema, payload, field, rule) -> None:
    with pytest.raises(InvalidInput) as refused:
        load(schema, payload)
    assert field in refused.value.errors
    assert rule in " ".join(refused.value.errors[field])


def test_a_cursor_not_of_the_list_is_refused_naming_after_and_changes_nothing(app) -> None:
    register_provider(app)
    before = app.max_position()
    with acting_as(SUPERVISOR), pytest.raises(InvalidInput) as refused:
        app.list_providers(after="not-a-cursor")
    assert "after" in refused.value.errors
    assert app.max_position() == before
