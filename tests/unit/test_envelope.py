"""The envelope's hash rule, exactly as DESIGN.md states it, so any language can recompute it."""

import hashlib
import json
import re

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

import contracts
from contracts.envelope import (
    GENESIS_HASH,
    HASH_RULE,
    Unhashable,
    canonical_json,
    chain_problems,
    envelope_hash,
    envelope_id,
    seal,
)
from tests.support.examples import scaled


def make_envelope(position=1, prev_position=0, prev_hash=GENESIS_HASH, **payload_overrides):
    payload = {
        "client_id": "client-1",
        "client_type": "student",
        "social_worker_id": "worker-1",
        "service_codes": ["7.1.3a"],
        "opened_on": "2026-09-01",
        **payload_overrides,
    }
    return seal(
        {
            "id": envelope_id("cases", position),
            "type": "CaseOpened",
            "version": 1,
            "source": "cases",
            "position": position,
            "prev_position": prev_position,
            "aggregate_id": "0f7f3b1e-0000-4000-8000-000000000001",
            "aggregate_version": 1,
            "occurred_at": "2026-09-01T08:00:00+00:00",
            "actor": {"id": "worker-1", "role": "social_worker"},
            "school_id": "JD001",
            "correlation_id": "c-1",
            "causation_id": None,
            "payload": payload,
            "prev_hash": prev_hash,
        }
    )


def test_hash_is_sha256_of_canonical_json_without_the_hash_key():
    envelope = make_envelope(note_zh="学生")
    body = {k: v for k, v in envelope.items() if k != "hash"}
    expected = hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    ).hexdigest()
    assert envelope["hash"] == expected == envelope_hash(envelope)


def test_a_chain_links_by_previous_position_and_hash():
    first = make_envelope(position=1)
    second = make_envelope(position=5, prev_position=1, prev_hash=first["hash"])
    assert chain_problems(first, 0, GENESIS_HASH) == []
    assert chain_problems(second, 1, first["hash"]) == []
    # A missed predecessor and a changed payload are both named.
    assert chain_problems(second, 3, first["hash"]) == ["prev_position is 1, expected 3"]
    tampered = {**second, "payload": {**second["payload"], "client_id": "other"}}
    assert chain_problems(tampered, 1, first["hash"]) == [
        "hash does not match the envelope's content"
    ]


def test_envelope_ids_are_a_function_of_source_and_position():
    assert envelope_id("cases", 7) == envelope_id("cases", 7)
    assert envelope_id("cases", 7) != envelope_id("archive", 7)


def test_a_valid_envelope_validates_and_a_bad_payload_names_the_field():
    contracts.validate_envelope(make_envelope())
    with pytest.raises(ValidationError) as error:
        contracts.validate_envelope(make_envelope(service_codes=["9.9"]))
    assert "service_codes" in error.value.messages["payload"]


_TEXT = st.text(st.characters(exclude_categories=()))  # lone surrogates too
# ASCII, control characters included, as most keys and much text are: the fast path's ground.
_ASCII = st.text(st.characters(max_codepoint=127), max_size=8)
# Where a double stops holding integers exactly, and where orjson's 64 bits end.
_EDGES = st.sampled_from([2**53 - 1, 2**53, -(2**53 - 1), -(2**53), 2**63, -(2**63) - 1, 2**64])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**60), max_value=2**60) | _EDGES
    | st.floats(allow_nan=False, allow_infinity=False) | _TEXT | _ASCII,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(_ASCII | st.text(st.characters(exclude_categories=()), max_size=6),
                      children, max_size=4),
    max_leaves=12,
)


@pytest.mark.properties
@settings(max_examples=scaled(1000))
@given(_JSON)
def test_the_current_rule_writes_what_rfc8785_writes_or_refuses_alike(value):
    """The fast path (orjson where it writes the same bytes) never differs from the RFC 8785
    implementation: floats, integers beyond a double, non-ASCII and astral keys, lone
    surrogates and control characters included. What RFC 8785 refuses, the rule refuses as
    `Unhashable`, in RFC 8785's words."""
    try:
        expected = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError) as error:
        with pytest.raises(Unhashable, match=re.escape(str(error))):
            canonical_json(value, HASH_RULE)
    else:
        assert canonical_json(value, HASH_RULE) == expected


@pytest.mark.parametrize(
    "rule, value, why",
    [
        (HASH_RULE, float("nan"), "cannot write: nan is not representable in JCS"),
        (HASH_RULE, float("-inf"), "cannot write: -inf is not representable in JCS"),
        (HASH_RULE, 2**53 + 1, "cannot write: 9007199254740993 exceeds safe integer domain"),
        (HASH_RULE, "\ud800", "cannot write: input contains non-UTF-8 codepoints"),
        (None, "\ud800", "holds a lone surrogate, which UTF-8 cannot encode"),
    ],
    ids=["nan", "infinity", "beyond-2^53", "lone-surrogate", "legacy-lone-surrogate"],
)
def test_a_value_the_rule_cannot_write_is_a_hash_problem_never_an_exception(rule, value, why):
    """What an intruder can write into a stored or sent envelope, which no rule hashes: a
    check names it (and so a verification goes on), where sealing one refuses."""
    envelope = {**make_envelope(), "payload": {"duration_minutes": value}}  # legacy: no rule
    if rule is not None:
        envelope["hash_rule"] = rule
    (problem,) = chain_problems(envelope, 0, GENESIS_HASH)
    assert problem.startswith("the envelope holds") and why in problem
    with pytest.raises(Unhashable):
        seal(envelope)
