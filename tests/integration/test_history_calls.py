"""The history calls every publishing service answers (events_since, recompute_since,
verify_content, replay, rebuild: what integrators and auditors may call on the broker) refuse
bad input naming the field and the rule, whatever a caller sends, and change nothing."""

from __future__ import annotations

import pytest

from contracts.errors import InvalidInput
from services.cases.service import CasesService
from services.runtime.service import MAX_POSITION
from tests.support.scenarios import drive_case
from tests.support.services import AUDITOR, OPERATOR, WORKER, rpc, running

POSITION = f"Must be an integer from 0 to {MAX_POSITION}."
LIMIT = "Must be an integer from 1 to 1000."


BAD = [
    ("events_since", ("abc", 5), {"position": [POSITION]}),
    ("events_since", (-1, 5), {"position": [POSITION]}),
    ("events_since", (1.5, 5), {"position": [POSITION]}),
    ("events_since", (True, 5), {"position": [POSITION]}),
    ("events_since", (MAX_POSITION + 1, 5), {"position": [POSITION]}),
    ("events_since", (0, 0), {"limit": [LIMIT]}),
    ("events_since", (0, 1001), {"limit": [LIMIT]}),
    ("events_since", (0, "5"), {"limit": [LIMIT]}),
    ("events_since", (None, None), {"position": [POSITION], "limit": [LIMIT]}),
    ("recompute_since", (10**30, 5), {"position": [POSITION]}),
    ("verify_content", ({"position": 0},), {"position": [POSITION]}),
    ("replay", ({"aggregate_id": "x"},), {"aggregate_id": ["Not a valid string."]}),
    ("replay", ("x", "yesterday"), {"at": ["Not a valid datetime."]}),
    ("replay", ("x", None, "3"), {"version": ["Not a valid integer."]}),
    ("rebuild", ("yes",), {"swap": ["Must be true or false."]}),
]


def test_bad_input_is_refused_naming_the_field_and_the_rule_and_changes_nothing(amqp_uri):
    with running(amqp_uri, CasesService):
        with rpc(amqp_uri, WORKER) as proxy:
            drive_case(proxy, "client-1")
        with rpc(amqp_uri, AUDITOR) as proxy:
            before = proxy.cases.events_since(0, 1000)
            refused = {}
            for call, args, _ in BAD:
                with pytest.raises(InvalidInput) as error:
                    getattr(proxy.cases, call)(*args)
                refused[(call, repr(args))] = error.value.errors
            after = proxy.cases.events_since(0, 1000)
            # The largest position is a position: nothing comes after it.
            assert proxy.cases.events_since(MAX_POSITION, 1000) == []
            assert proxy.cases.rebuild(False)["equal"]
        with rpc(amqp_uri, OPERATOR) as proxy:
            assert proxy.cases.rebuild(True)["swapped"]
    assert refused == {(call, repr(args)): errors for call, args, errors in BAD}
    assert before and after == before
