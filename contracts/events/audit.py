"""The audit-only event any source publishes for a domain event that integrators do not act on
(a guardian added, a group member joined, a key destroyed), so that the audit trail holds every
stored event. It names the event and the kind of record; the fields a service declares for it
are identifiers, codes, dates and counts only; its sealed values travel as commitments in the
envelope, never as content."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from contracts.registry import ANY_SOURCE, contract

NAME = validate.Regexp(r"^[A-Z][A-Za-z0-9]{0,63}$", error="must be a CamelCase name")
FIELD_NAME = validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$", error="must be a snake_case name")
# A short token (an id, a code, an ISO date) fits; a sentence of free text does not.
TEXT = validate.Regexp(r"^[A-Za-z0-9._:@+\-]{0,64}$",
                       error="must be an identifier, code or ISO date, not free text")


def _scalar(value: Any) -> None:
    """No floats (every language writes them differently) and no free text."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        return
    if isinstance(value, str):
        TEXT(value)
        return
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        for item in value:
            TEXT(item)
        return
    raise ValidationError("must be an identifier, code, date, count, flag or a list of codes")


@contract("AuditRecorded", 1, source=ANY_SOURCE)
class AuditRecordedV1(Schema):
    """A change to a record that integrators need not act on, published so the audit trail holds
    every stored event: the domain event's name, the kind of record, and the non-personal fields
    the source declares for it. Sealed content travels only as keyed commitments."""

    event = fields.String(required=True, validate=NAME)
    record = fields.String(required=True, validate=NAME)
    details = fields.Dict(keys=fields.String(validate=FIELD_NAME),
                          values=fields.Raw(validate=_scalar, allow_none=True),
                          load_default=dict)
