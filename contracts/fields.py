"""Field types that several contract events and command schemas share."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from contracts.taxonomy import BY_CODE

SERVICE_CODE = validate.OneOf(
    tuple(BY_CODE),
    error="Unknown service code {input!r}: must be a code of T/JHSX 001—2026 §7 "
    "(for example '7.1.3a').",
)


def service_codes(**kwargs: Any) -> fields.List:
    """One or more §7 service codes, each known to the taxonomy."""
    return fields.List(
        fields.String(validate=SERVICE_CODE),
        validate=validate.Length(min=1, error="Give at least one §7 service code."),
        **kwargs,
    )


def identifier(**kwargs: Any) -> fields.String:
    """An opaque identifier: never a name, never personal content."""
    return fields.String(validate=validate.Length(min=1, max=64), **kwargs)


def one_of(choices: tuple[str, ...], **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.OneOf(choices), **kwargs)
