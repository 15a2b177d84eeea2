"""Bad input is refused before anything happens, with a message naming the field and the rule."""

import pytest

from contracts.errors import InvalidInput
from services.cases import query_schemas, schemas
from services.runtime.service import load

GOOD_OPEN = {"client_id": "c", "social_worker_id": "w", "service_codes": ["7.1.3a"],
             "opened_on": "2026-09-01"}


@pytest.mark.parametrize(
    ("schema", "good", "change", "field", "rule"),
    [
        (schemas.OpenCase, GOOD_OPEN, {"client_id": None}, "client_id", "Field may not be null."),
        (schemas.OpenCase, GOOD_OPEN, {"opened_on": 20260901}, "opened_on", "Not a valid date."),
        (schemas.OpenCase, GOOD_OPEN, {"service_codes": ["9.9"]}, "service_codes",
         "Unknown service code '9.9'"),
        (schemas.OpenCase, GOOD_OPEN, {"client_type": "pupil"}, "client_type", "Must be one of"),
        (schemas.OpenCase, GOOD_OPEN, {"intake": {"emergency": {"risk_type": "bullying"}}},
         "intake.emergency.risk_type", "Must be one of"),
        (schemas.RegisterClient, {"client_type": "student", "name": "x"}, {"grade": 13},
         "grade", "Must be greater than or equal to 1 and less than or equal to 12."),
        (schemas.RecordEvaluation, {"case_id": "6f0d7c1e-2b8a-4c55-9a43-0c9a7f3e5b21",
                                    "kind": "outcome", "evaluated_on": "2026-10-01"},
         {"goals": [{"goal_number": 1, "attainment": 3}]}, "goals.0.attainment",
         "less than or equal to 2"),
        (query_schemas.ListFollowUpsDue, {}, {"due_within_days": -1}, "due_within_days",
         "greater than or equal to 0 and less than or equal to 366"),
        (query_schemas.ListFollowUpsDue, {}, {"due_within_days": 367}, "due_within_days",
         "less than or equal to 366"),
        (query_schemas.ListFollowUpsDue, {}, {"due_within_days": "soon"}, "due_within_days",
         "Not a valid integer."),
    ],
)
def test_bad_input_names_the_field_and_rule(schema, good, change, field, rule):
    with pytest.raises(InvalidInput) as refused:
        load(schema, {**good, **change})
    assert field in refused.value.detail and rule in refused.value.detail


def test_a_missing_required_field_is_named():
    with pytest.raises(InvalidInput) as refused:
        load(schemas.OpenCase, {k: v for k, v in GOOD_OPEN.items() if k != "client_id"})
    assert "client_id" in refused.value.errors
    assert "Missing data for required field." in refused.value.detail
