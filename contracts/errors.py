"""The errors every service raises and every caller understands, with stable codes.

Services raise these (with a code from `CODES`) and nameko carries them over RPC as the same type
(they are registered with `deserialize_to_instance`); the gateway maps `status` to HTTP as
application/problem+json. A refused command changes nothing: raise before any event is triggered.
"""

from __future__ import annotations

from typing import Any

from nameko.exceptions import deserialize_to_instance

# code → what it means. Codes are stable: integrators and the gateway's clients switch on them.
CODES: dict[str, str] = {
    "invalid_input": "A field is missing, of the wrong type, or breaks a rule; see `errors`.",
    "not_allowed": "The actor's role or assignment does not permit this.",
    "not_found": "No such record.",
    "wrong_state": "The record is not in a state that allows this; `detail` names the step.",
    "conflict": "The command conflicts with existing data (a duplicate, or a concurrent change).",
    "missing_step": "A step of the service process (8.2.1.1) has not been done yet.",
    "consent_required": "Informed consent (and a guardian's for a minor) is missing (4.2).",
    "guardian_required": "A minor client needs a guardian on record before intake (4.2).",
    "plan_incomplete": "A service plan lacks one of the seven parts of 8.3.3b.",
    "evaluations_required": "Closing needs both process and outcome evaluation (8.3.5).",
    "two_person_rule": "The requester cannot approve their own request.",
    "grant_required": "Reading archived personal content needs an approved, live grant (9.4d).",
    "retention_not_expired": "Disposal is refused before the retention end date (9.4e).",
    "legal_hold": "A legal hold blocks disposal.",
    "not_qualified": "The worker does not meet 6.2.1.2 or lacks pre-job training (9.1a).",
    "check_required": "A volunteer needs a valid background check to work with students.",
    "capacity_exceeded": "The resource has no capacity left.",
    "not_eligible": "The resource does not fit the request (kind, schools, validity, eligibility).",
    "unavailable": "A service or the broker is not reachable now; retry after `Retry-After`.",
    "outcome_unknown": "The service could not say yet whether it carried the command out; "
    "retry with the same Idempotency-Key to learn the outcome (it is never carried out late).",
    "deadline_exceeded": "The caller's deadline passed before the command ran: it was not "
    "carried out and is safe to retry.",
    # Transport errors of the HTTP gateway (services/gateway/problems.py).
    "unauthenticated": "No bearer token, or one that is expired, forged or lacks a claim.",
    "malformed_request": "The request body is not valid JSON, or a query parameter is malformed.",
    "route_not_found": "No such route in the HTTP API; see /openapi.json.",
    "method_not_allowed": "The route exists but not for this HTTP method; see `Allow`.",
    "payload_too_large": "The request body is larger than the gateway accepts.",
    "unsupported_media_type": "The request body must be application/json.",
    "idempotency_key_reused": "This Idempotency-Key was used before with a different request.",
    "request_in_progress": "A request with this Idempotency-Key is still being processed.",
    "bad_gateway": "A service failed to handle the call; the error is logged with its id.",
    "gateway_timeout": "A service did not answer by the request's deadline; the command was "
    "not carried out and is safe to retry.",
    "request_too_deep": "The JSON body nests arrays and objects deeper than the gateway accepts.",
    "uri_too_long": "The request line is longer than the gateway accepts.",
    "headers_too_large": "A request header, or all of them together, is larger than accepted.",
}


class CasebookError(Exception):
    """Base of every refused command. `errors` maps field names to the rules they broke."""

    status = 400
    default_code = "invalid_input"

    def __init__(
        self, detail: str, code: str | None = None, errors: dict[str, Any] | None = None
    ) -> None:
        code = code or self.default_code
        if code not in CODES:
            raise ValueError(f"unknown error code {code!r}; add it to contracts.errors.CODES")
        super().__init__(detail, code, errors or {})
        self.detail = detail
        self.code = code
        self.errors = errors or {}

    def __str__(self) -> str:
        return self.detail

    def as_problem(self) -> dict[str, Any]:
        problem: dict[str, Any] = {
            "type": f"urn:casebook:error:{self.code}",
            "title": CODES[self.code],
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        if self.errors:
            problem["errors"] = self.errors
        return problem


@deserialize_to_instance
class InvalidInput(CasebookError):
    status = 400
    default_code = "invalid_input"

    @classmethod
    def from_messages(cls, messages: dict[str, Any]) -> InvalidInput:
        """From marshmallow's {field: [rule, ...]} messages, with a detail naming each field."""
        parts = []
        for field, rules in sorted(_flatten(messages).items()):
            parts.append(f"{field}: {' '.join(rules)}")
        return cls("Invalid input. " + "; ".join(parts), errors=messages)


@deserialize_to_instance
class NotAllowed(CasebookError):
    status = 403
    default_code = "not_allowed"


@deserialize_to_instance
class NotFound(CasebookError):
    status = 404
    default_code = "not_found"


@deserialize_to_instance
class Conflict(CasebookError):
    """The record's state does not allow the command (409)."""

    status = 409
    default_code = "wrong_state"


@deserialize_to_instance
class Unavailable(CasebookError):
    status = 503
    default_code = "unavailable"


@deserialize_to_instance
class DeadlineExceeded(CasebookError):
    """The caller's deadline passed before the command could run or commit: nothing was done
    (DESIGN.md "Delivery" 0), so a retry is safe."""

    status = 504
    default_code = "deadline_exceeded"


_BY_NAME: dict[str, type[CasebookError]] = {
    cls.__name__: cls
    for cls in (InvalidInput, NotAllowed, NotFound, Conflict, Unavailable, DeadlineExceeded)
}


def refusal_record(error: CasebookError) -> dict[str, Any]:
    """A refusal as plain data: how a command's stored outcome, or a settled one, keeps it."""
    return {"error": type(error).__name__, "detail": error.detail, "code": error.code,
            "errors": error.errors}


def refusal_from(record: dict[str, Any]) -> CasebookError:
    """The refusal `refusal_record` kept, as the same type again."""
    return _BY_NAME[record["error"]](record["detail"], record["code"], record["errors"])


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": list(messages)}
    flat: dict[str, list[str]] = {}
    items = messages.items() if isinstance(messages, dict) else enumerate(messages)
    for key, value in items:
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat
