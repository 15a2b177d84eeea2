"""The archive service's RPC entrypoints: each names the roles that may call it, and a caller
in another role is refused before its payload is even read; a caller in the role with a bad
payload is told which field breaks which rule, and nothing changes."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from contracts.envelope import ROLES
from contracts.errors import InvalidInput, NotAllowed
from services.archive import schemas
from services.archive.app import ArchiveApplication
from services.archive.service import ArchiveService
from services.runtime.context import Actor, acting_as
from services.runtime.service import load
from tests.unit.archive.streams import CasesStream, feed

ENTRYPOINTS = sorted(
    (name, member) for name, member in inspect.getmembers(ArchiveService, inspect.isfunction)
    if hasattr(member, "command_schema")
)
# Any actor may ask to read: the refusal is itself recorded (9.4d, 4.5).
OPEN_TO_ALL = {"authorize_read"}
# Bad in every way a payload can be: an unknown field, a list where an object goes.
GARBAGE: dict[str, Any] = {"no_such_field": ["x"], "limit": "many", "after": 7}
ARCHIVIST = Actor("archivist-1", "archivist", "JD001")


def actor_in(role: str) -> Actor:
    return Actor(f"{role}-1", role, None if role in ("auditor", "integrator", "operator")
                 else "JD001")


def test_every_entrypoint_names_its_roles_payload_and_answer() -> None:
    own = {name for name, member in vars(ArchiveService).items()
           if inspect.isfunction(member) and not name.startswith(("on_", "_"))
           and name != "sign_checkpoint_if_due"}
    assert own == {name for name, _ in ENTRYPOINTS}
    for name, member in ENTRYPOINTS:
        assert member.command_roles or name in OPEN_TO_ALL, f"{name} names no roles"
        if member.command_kind == "query":
            assert member.command_returns is not None, f"{name} describes no answer"


@pytest.mark.parametrize(("name", "role"), [
    (name, role) for name, member in ENTRYPOINTS for role in ROLES
    if member.command_roles and role not in member.command_roles
])
def test_a_role_that_may_not_call_is_refused_before_its_payload_is_read(name, role) -> None:
    with acting_as(actor_in(role)), pytest.raises(NotAllowed):
        getattr(ArchiveService, name)(object(), GARBAGE)


@pytest.mark.parametrize("name", [name for name, _ in ENTRYPOINTS])
def test_a_role_that_may_call_gets_the_payloads_errors(name) -> None:
    member = dict(ENTRYPOINTS)[name]
    role = member.command_roles[0] if member.command_roles else "auditor"
    with acting_as(actor_in(role)), pytest.raises(InvalidInput) as refused:
        getattr(ArchiveService, name)(object(), GARBAGE)
    assert "no_such_field" in refused.value.errors


@pytest.mark.parametrize(
    ("schema", "payload", "field", "rule"),
    [
        (schemas.ListFiles, {"status": "lost"}, "status", "Must be one of"),
        (schemas.ListFiles, {"category": "ZZ"}, "category", "Must be one of"),
        (schemas.ListFiles, {"due_within_days": -1}, "due_within_days",
         "greater than or equal to 0"),
        (schemas.ListFiles, {"legal_hold": "maybe"}, "legal_hold", "Not a valid boolean."),
        (schemas.ListFiles, {"limit": 0}, "limit", "Must be greater than or equal to 1"),
        (schemas.ListFiles, {"limit": 201}, "limit", "less than or equal to 200"),
        (schemas.ListDisposals, {"status": "done"}, "status", "Must be one of"),
        (schemas.ListDisposals, {"file_id": "GA-0001"}, "file_id", "Not a valid UUID."),
        (schemas.ListAccessRequests, {"status": "granted"}, "status", "Must be one of"),
        (schemas.ListReads, {"outcome": "seen"}, "outcome", "Must be one of"),
        (schemas.ListLedger, {"source": "mail"}, "source", "Must be one of"),
        (schemas.ListLedger, {}, "source", "Missing data for required field."),
        (schemas.VerifyLedger, {"since_checkpoint": "yesterday"}, "since_checkpoint",
         "Not a valid boolean."),
        (schemas.ListVerifications, {"ok": "maybe"}, "ok", "Not a valid boolean."),
        (schemas.VerificationRef, {"verification_id": "yesterday's"}, "verification_id",
         "Not a valid UUID."),
        (schemas.VerificationRef, {}, "verification_id", "Missing data for required field."),
        (schemas.RequestAccess, {"file_id": "00000000-0000-0000-0000-000000000001",
                                 "purpose": "look", "duration_hours": 4}, "purpose",
         "10 to 2000 characters"),
        (schemas.RequestAccess, {"file_id": "00000000-0000-0000-0000-000000000001",
                                 "purpose": "A review of the case file", "duration_hours": 2.5},
         "duration_hours", "Not a valid integer."),
    ],
)
def test_bad_input_names_the_field_and_the_rule(schema, payload, field, rule) -> None:
    with pytest.raises(InvalidInput) as refused:
        load(schema, payload)
    assert field in refused.value.errors
    assert rule in " ".join(refused.value.errors[field])


def test_a_cursor_not_of_the_list_is_refused_naming_after_and_changes_nothing() -> None:
    app = ArchiveApplication(env={"SQLITE_DBNAME": ":memory:"})
    feed(app, CasesStream().open_case("client-1"))
    before = app.max_position()
    with acting_as(ARCHIVIST), pytest.raises(InvalidInput) as refused:
        app.list_files(after="not-a-cursor")
    assert "after" in refused.value.errors
    assert app.max_position() == before
