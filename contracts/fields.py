"""Field types that several contract events, command schemas and answers share."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

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


UUID_TEXT = validate.Regexp(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    error="Must be a UUID in lowercase hex: an id that travels on the event bus is made by a "
    "system, never from a name or a student number.",
)


def system_identifier(**kwargs: Any) -> fields.String:
    """An id a caller may choose for a new record of a person: only a UUID, which cannot hold a
    name (it travels on the bus, to integrators and the ledger)."""
    return fields.String(validate=UUID_TEXT, **kwargs)


# Rows picked by id at once: 100 ids of the longest (64) still fit in a request line (8 KiB).
MAX_IDS = 100


def some_ids(**kwargs: Any) -> fields.List:
    """Rows picked by id (the rows a page elsewhere shows), as a repeated query parameter;
    optional unless `required=True` is given."""
    if not kwargs.get("required"):
        kwargs.setdefault("load_default", None)
    return fields.List(identifier(), validate=validate.Length(
        min=1, max=MAX_IDS, error=f"Give from 1 to {MAX_IDS} ids."), **kwargs)


def one_of(choices: tuple[str, ...], **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.OneOf(choices), **kwargs)


# Answers: what a service's queries and commands give back, described for the OpenAPI document.


def out(field: type[fields.Field], description: str, **kwargs: Any) -> fields.Field:
    """A field of an answer: always there (null where `allow_none`), and described."""
    return field(required=True, metadata={"description": description}, **kwargs)


def day(description: str, **kwargs: Any) -> fields.Field:
    return fields.String(required=True, metadata={"description": description, "format": "date"},
                         **kwargs)


def answer(name: str, description: str) -> type[Schema]:
    """The answer of a command: the id of the record it made or changed."""
    title = "".join(part.title() for part in name.split("_"))
    return Schema.from_dict({name: out(fields.String, description)}, name=f"{title}Answer")
