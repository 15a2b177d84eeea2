"""schemathesis against /openapi.json with every service running on real RabbitMQ: no 5xx, every
response matches the document (status, content type, headers, schema), and every request the
document calls valid is accepted (no 400) wherever a service describes the payload."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.core.failures import FailureGroup
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.integration.gateway.conftest import Api
from tests.support.examples import scaled
from tests.support.services import OPERATOR, SUPERVISOR

pytestmark = pytest.mark.integration

EXAMPLES_PER_OPERATION = 3
# Rules the document cannot state (across fields, or a cursor): valid data may break them.
UNDESCRIBABLE_RULES = {
    # A period or validity: one date not before another (resources).
    "Must not be before valid_from.",
    "Must not be before period_from.",
    # A point in time of an archive file or record: a time or a ledger position (archive).
    "Give a time (at) or a ledger position.",
    "Give both ledger_source and ledger_position.",
    "Give either a time or a ledger position, not both.",
    # 5, 9.2a: a student client has a grade and a date of birth, others no grade (cases).
    "A student client has a grade.",
    "A student client has a date of birth.",
    "Only a student client has a grade.",
    # A page cursor is opaque: only the `next` of an earlier page is one, which no document
    # can describe (every paged list).
    "Not a cursor of this list: give the `next` of the page before.",
}


def accepts_valid_data(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """Data valid to the document is accepted, unless the only rules it breaks are across
    fields or an opaque cursor, which no document states: then the 400 must name those only."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        errors = response.json().get("errors", {}) if response.status_code == 400 else {}
        broken = {message for messages in errors.values() for message in messages}
        if not broken or not broken <= UNDESCRIBABLE_RULES:
            raise
        return None


def check(operation: Any, token: str) -> None:
    """A few generated requests to one operation, each validated against the document."""
    # Data the document leaves open (the service has not described its payload) is "valid"
    # only to the document: there the service's 400 is right, not a failure.
    described = operation.definition.raw.get("x-casebook-payload-described", True)
    additional = [accepts_valid_data] if described else []

    @settings(max_examples=scaled(EXAMPLES_PER_OPERATION), deadline=None, database=None,
              derandomize=True, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def requests_match_the_document(case: schemathesis.Case) -> None:
        case.call_and_validate(headers={"Authorization": token}, timeout=30,
                               additional_checks=additional,
                               excluded_checks=[positive_data_acceptance])

    requests_match_the_document()


@pytest.mark.properties
def test_every_operation_answers_as_documented(api: Api) -> None:
    schema = schemathesis.openapi.from_url(api.base_url + "/openapi.json")
    token = str(api.as_(SUPERVISOR).session.headers["Authorization"])
    failures, undescribed = [], set()
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.definition.raw.get("x-casebook-payload-described", True):
            undescribed.add(operation.label)
        try:
            check(operation, token)
        except (AssertionError, FailureGroup) as error:
            failures.append(f"{operation.label}: {str(error)[:600]}")
    assert not failures, "\n\n".join(failures)
    # Every payload is the service's own schema, so the positive-data check above ran on it,
    # and a service that stops describing a command shows up here.
    assert undescribed == set()


def test_every_answer_is_typed(api: Api) -> None:
    """With every service up, no operation falls back to "any object or null": each query and
    command names its answer's schema (null for a command with none), so integrators and the
    schemathesis check above know each field."""
    document = api.get("/openapi.json").json()
    untyped = [f"{method.upper()} {path} {status}"
               for path, operations in document["paths"].items()
               for method, operation in operations.items()
               for status, response in operation["responses"].items()
               if status.startswith("2")
               for content in response.get("content", {}).values()
               if content["schema"] == {"type": ["object", "null"]}]
    assert untyped == []


def test_a_services_status_answers_as_documented(api: Api) -> None:
    """Operators' status route, which the supervisor above is refused: each service's answer
    matches ServiceStatus."""
    schema = schemathesis.openapi.from_url(api.base_url + "/openapi.json")
    operation = schema["/services/{service}/status"]["GET"]
    check(operation, str(api.as_(OPERATOR).session.headers["Authorization"]))
