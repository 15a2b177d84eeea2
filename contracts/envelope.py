"""The envelope every published event travels in, and its hash chain (DESIGN.md "Events").

Each source's stream is a hash chain: an envelope's `hash` is the SHA-256 of its canonical JSON
without the `hash` key, and it carries its predecessor's `position` and `hash`. Anyone can
recompute it, in any language, from the rule the envelope names in `hash_rule`:

- `rfc8785-sha256`: the JSON Canonicalization Scheme (RFC 8785), which every language has an
  implementation of; payloads carry no floats, so no language's number formatting matters.
- no `hash_rule` key: envelopes written before the key existed, hashed over Python's
  `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)` in UTF-8. For what
  those envelopes hold (no floats, ASCII keys) it gives the same bytes as RFC 8785.

Every envelope is hashed where it is made, stored, received and verified, so the rule's cost is
the audit's: values RFC 8785 writes as a C JSON codec (orjson) does are written by orjson, about
fifteen times faster than the `rfc8785` package; a property test holds the two byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

import orjson
import rfc8785
from marshmallow import Schema, fields, validate

GENESIS_HASH = "0" * 64
GENESIS_POSITION = 0
HASH_RULE = "rfc8785-sha256"

# The namespace that makes an envelope id a pure function of (source, position): a re-sent
# envelope is byte-identical to the first one, so consumers can dedupe on either.
ENVELOPE_NAMESPACE = uuid.UUID("6f0d7c1e-2b8a-4c55-9a43-0c9a7f3e5b21")

ROLES = (
    "social_worker",
    "supervisor",
    "archivist",
    "school_admin",
    "auditor",
    "integrator",
    "operator",
    "system",
)

# Roles whose holder works for one school and sees only its records: an actor in one of them
# without a school is refused, never shown every school's (fail closed). A district-wide view,
# if one is ever wanted, is a role of its own.
SCHOOL_SCOPED_ROLES = ("social_worker", "supervisor", "archivist", "school_admin")

SHA256_HEX = validate.Regexp(r"^[0-9a-f]{64}$", error="must be 64 lowercase hex digits (SHA-256)")


class Unhashable(ValueError):
    """A value its hash rule cannot hash; its text says what it holds."""


class UnknownHashRule(Unhashable):
    """An envelope names a hash rule this code does not know."""


# RFC 8785 admits integers a double holds exactly (its 3.2.2.3 writes numbers as ECMAScript
# does); with this option orjson refuses any other, and the rule's own writer takes over.
_ORJSON_RFC8785 = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER


def canonical_json(value: Any, rule: str | None = HASH_RULE) -> bytes:
    """The bytes hashes are computed over, by `rule` (None: the rule of the first envelopes).

    Raises `Unhashable` for a value the rule cannot write: RFC 8785 writes no NaN, infinity,
    integer beyond 2^53 (3.2.2.3) or lone surrogate (3.2.2.2), and UTF-8 encodes no lone
    surrogate. Casebook never seals one, but an envelope read back from a store or a message
    holds whatever was written there, by an intruder too: a verification reports it at its
    position and goes on."""
    if rule == HASH_RULE:
        if _written_alike(value):
            try:
                return orjson.dumps(value, option=_ORJSON_RFC8785)
            except orjson.JSONEncodeError:
                pass  # an integer a double does not hold, or a lone surrogate: RFC 8785
                # refuses them, in its own words, below
        try:
            return bytes(rfc8785.dumps(value))
        except (rfc8785.CanonicalizationError, UnicodeEncodeError) as error:
            # UnicodeEncodeError: a key with a lone surrogate, met as the keys are sorted
            raise Unhashable(f"a value its hash rule cannot write: {error}") from error
    if rule is None:
        try:
            return json.dumps(
                value, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode("utf-8")
        except UnicodeEncodeError:
            raise Unhashable("a lone surrogate, which UTF-8 cannot encode") from None
    raise UnknownHashRule(f"unknown hash rule {rule!r}")


def _written_alike(value: Any) -> bool:
    """Whether orjson, with `_ORJSON_RFC8785`, writes `value` byte for byte as RFC 8785 does
    (or refuses it): only null, booleans, integers, strings (both escape the same characters
    the same way: RFC 8785 3.2.2.2), lists and objects with ASCII keys (whose order by UTF-16
    code units, 3.2.3, is their order by code point, and by byte). No float: ECMAScript writes
    them otherwise (3.2.2.3), and orjson writes NaN as null. What every current contract holds.
    Every envelope is checked each time it is hashed: the keys are checked joined, and the
    values that need no call of their own (all but objects and lists) in the loop."""
    kind = type(value)
    if kind is dict:
        try:
            if not "".join(value).isascii():
                return False
        except TypeError:
            return False  # a key that is not a string
        children = value.values()
    elif kind is list:
        children = value
    else:
        return kind is str or kind is int or kind is bool or value is None
    for child in children:
        kind = type(child)
        if not (kind is str or kind is int or child is None or kind is bool
                or ((kind is dict or kind is list) and _written_alike(child))):
            return False
    return True


def envelope_bytes(envelope: Mapping[str, Any]) -> bytes:
    """The envelope as its own rule writes it: what is published, stored and exported."""
    return canonical_json(dict(envelope), envelope.get("hash_rule"))


def envelope_hash(envelope: Mapping[str, Any]) -> str:
    """Lowercase hex SHA-256 of the canonical JSON of the envelope without its `hash` key, by
    the rule the envelope names."""
    body = dict(envelope)
    body.pop("hash", None)
    return hashlib.sha256(canonical_json(body, envelope.get("hash_rule"))).hexdigest()


def envelope_id(source: str, position: int) -> str:
    return str(uuid.uuid5(ENVELOPE_NAMESPACE, f"{source}:{position}"))


def seal(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """Return the envelope with its `hash` set."""
    sealed = dict(envelope)
    sealed["hash"] = envelope_hash(sealed)
    return sealed


def chain_problems(envelope: Mapping[str, Any], prev_position: int, prev_hash: str) -> list[str]:
    """What is wrong with `envelope` as the successor of (prev_position, prev_hash); empty if
    nothing. Used by every consumer that checks a chain: the archive ledger, `casebook verify`,
    the example subscriber."""
    return hash_problems(envelope) + link_problems(envelope, prev_position, prev_hash)


def hash_problems(envelope: Mapping[str, Any]) -> list[str]:
    """What is wrong with `envelope` by itself: its hash against its content."""
    try:
        if envelope.get("hash") != envelope_hash(envelope):
            return ["hash does not match the envelope's content"]
    except UnknownHashRule as error:
        return [str(error)]
    except Unhashable as error:  # canonical_json serves commitments too: the envelope is ours
        return [f"the envelope holds {error}"]
    return []


def link_problems(envelope: Mapping[str, Any], prev_position: int, prev_hash: str) -> list[str]:
    """What is wrong with `envelope`'s links to its predecessor (prev_position, prev_hash)."""
    problems = []
    if envelope.get("prev_position") != prev_position:
        problems.append(
            f"prev_position is {envelope.get('prev_position')}, expected {prev_position}"
        )
    if envelope.get("prev_hash") != prev_hash:
        problems.append("prev_hash does not match the previous envelope's hash")
    return problems


class ActorSchema(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class EnvelopeSchema(Schema):
    """Every field of an envelope; `payload` is checked against the event's own schema by
    `contracts.registry.validate_envelope`."""

    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Regexp(r"^[A-Z][A-Za-z]+$"))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    source = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z_]*$"))
    position = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    prev_position = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    aggregate_id = fields.String(required=True)
    aggregate_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    occurred_at = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00$",
            error="must be an ISO 8601 UTC timestamp ending in +00:00",
        ),
    )
    actor = fields.Nested(ActorSchema, required=True)
    school_id = fields.String(required=True, allow_none=True)
    correlation_id = fields.String(required=True)
    causation_id = fields.String(required=True, allow_none=True)
    payload = fields.Dict(required=True)
    prev_hash = fields.String(required=True, validate=SHA256_HEX)
    hash = fields.String(required=True, validate=SHA256_HEX)
    # Absent on envelopes written before it existed (see the module docstring).
    hash_rule = fields.String(validate=validate.Equal(HASH_RULE))
    # Keyed commitments (hex HMAC-SHA256) to the sealed values of the event, by field path.
    commitments = fields.Dict(keys=fields.String(), values=fields.String(validate=SHA256_HEX))
