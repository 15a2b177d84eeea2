"""Exactly once (services.runtime.commands) where two runs of one command meet in the cases
application: the interleavings a second instance or a redelivery makes."""

import uuid

import pytest

from contracts.errors import Conflict
from services.runtime.commands import carry_out
from services.runtime.context import acting_as
from tests.unit.cases.conftest import WORKER


def test_a_twin_stored_while_a_command_runs_gives_its_outcome_not_the_refusal_it_causes(app):
    """Two deliveries of one command (a request redelivered to a second instance as a broker
    node went away): the second looks for the command id before the first is stored, and is
    then refused by the state the first left ("already registered"). Its caller is owed the
    first outcome, as a retry after the first is stored gets it (found by make cluster-test)."""
    command_id, client_id = str(uuid.uuid4()), str(uuid.uuid4())

    def register() -> str:
        return app.register_client(client_type="teacher", name="李老师", client_id=client_id)

    def twin_stored_first() -> str:
        with acting_as(WORKER, command_id=command_id):
            first.append(carry_out(app, "register_client", register))
        return register()  # refused: the client is registered now

    first: list[str] = []
    with acting_as(WORKER, command_id=command_id):
        outcome = carry_out(app, "register_client", twin_stored_first)
    assert outcome == first[0] == client_id
    with acting_as(WORKER, command_id=str(uuid.uuid4())), pytest.raises(Conflict) as refused:
        carry_out(app, "register_client", register)  # another command: refused as ever
    assert "already registered" in refused.value.detail
