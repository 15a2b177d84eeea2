"""The stand-alone verifiers (examples/verify/) hash exactly as `contracts.envelope` does, for
every kind of value an envelope can hold, by both rules; and refuse what it cannot hash."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.envelope import (
    GENESIS_HASH,
    HASH_RULE,
    envelope_bytes,
    envelope_hash,
    envelope_id,
    seal,
)

VERIFY = Path(__file__).resolve().parents[2] / "examples" / "verify"


def verifiers() -> Iterator[Any]:
    yield pytest.param([sys.executable, str(VERIFY / "verify.py")], id="python")
    node = shutil.which("node")
    yield pytest.param(
        [node, str(VERIFY / "verify.js")], id="node",
        marks=pytest.mark.skipif(
            node is None, reason="node is not on PATH: THE JAVASCRIPT VERIFIER IS NOT CHECKED "
                                 "(deploy/local.sh test installs it)"),
    )


@pytest.fixture(params=list(verifiers()))
def verifier(request: pytest.FixtureRequest) -> list[str]:
    return list(request.param)


def chain(payloads: list[dict[str, Any]], rule: str | None = HASH_RULE) -> list[dict[str, Any]]:
    """Sealed envelopes carrying `payloads`, linked from genesis, by `rule` (None: legacy)."""
    envelopes = []
    prev_position, prev_hash = 0, GENESIS_HASH
    for position, payload in enumerate(payloads, start=1):
        envelope = {
            "id": envelope_id("cases", position),
            "type": "CaseNoted",
            "version": 1,
            "source": "cases",
            "position": position,
            "prev_position": prev_position,
            "aggregate_id": "case-1",
            "aggregate_version": position,
            "occurred_at": "2026-09-01T08:00:00+00:00",
            "actor": {"id": "worker-1", "role": "social_worker"},
            "school_id": "JD001",
            "correlation_id": "req-1",
            "causation_id": None,
            "payload": payload,
            "prev_hash": prev_hash,
        }
        if rule is not None:
            envelope["hash_rule"] = rule
        sealed = seal(envelope)
        envelopes.append(sealed)
        prev_position, prev_hash = position, sealed["hash"]
    return envelopes


def write(path: Path, envelopes: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(envelope_bytes(envelope) + b"\n" for envelope in envelopes))
    return path


def run(verifier: list[str], path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*verifier, str(path)], capture_output=True, text=True, timeout=60)


ASTRAL_AND_BMP_KEYS = {"\U0001f600": 1, "\uff01": 2, "a": 3, "\u00e9": 4, "": 5, "A": 6}

TRICKY = [
    {"name": "李小红", "note": "naïve café ß 𝄞 😀", "rtl": "שלום"},
    {"controls": "".join(chr(c) for c in range(0x20)), "quote": '"\\/', "del": "\x7f",
     "separators": "\u2028\u2029", "bom": "\ufeff", "escapes": "\\u0041 \\n"},
    {"big": 2**53 - 1, "small": -(2**53 - 1), "zero": 0, "negative": -42},
    {"nested": [[[], [{}]], [1, [2, [3, ["x"]]]], [None, True, False]]},
    {"empty_object": {}, "empty_array": [], "empty_string": ""},
    ASTRAL_AND_BMP_KEYS,
    {"z": {"b": {"d": 1, "c": 2}, "a": [{"y": 1, "x": 2}]}, "a": None},
]

FLOATS = [0.1, 1.0, -0.0, 0.0, 1e21, 1e20, 123456789012345680.0, 1e-6, 1e-7, 5e-324,
          1.7976931348623157e308, 0.0001, 0.00001, 1e15, 1e16, 1.5e16, 2.5, -3.75, 100.0,
          4.35, 0.3, 2 / 3]


def random_floats(count: int) -> list[float]:
    rng = random.Random(8785)
    numbers = [struct.unpack("<d", rng.randbytes(8))[0] for _ in range(count)]
    return [number for number in numbers if number == number and abs(number) != float("inf")]


@pytest.mark.parametrize("rule", [HASH_RULE, None], ids=["rfc8785", "legacy"])
def test_tricky_payloads_verify_as_the_oracle_hashed_them(verifier, rule, tmp_path):
    envelopes = chain(TRICKY, rule)
    result = run(verifier, write(tmp_path / "stream.jsonl", envelopes))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"verified {len(TRICKY)} envelopes of cases: positions 1..")
    assert envelopes[-1]["hash"] in result.stdout


@pytest.mark.parametrize("rule", [HASH_RULE, None], ids=["rfc8785", "legacy"])
def test_floats_are_spelled_as_each_rule_spells_them(verifier, rule, tmp_path):
    payloads = [{"value": number} for number in FLOATS + random_floats(300)]
    result = run(verifier, write(tmp_path / "stream.jsonl", chain(payloads, rule)))
    assert result.returncode == 0, result.stdout + result.stderr


def test_legacy_envelopes_hold_integers_of_any_size_and_sort_keys_by_code_point(
    verifier, tmp_path
):
    payloads = [{"huge": 2**64 + 1, "negative": -(10**30)}, ASTRAL_AND_BMP_KEYS]
    result = run(verifier, write(tmp_path / "stream.jsonl", chain(payloads, None)))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_key_orders_of_the_two_rules_differ_where_the_verifiers_must_tell_them_apart():
    legacy_keys = json.loads(envelope_bytes(chain([ASTRAL_AND_BMP_KEYS], None)[0]))["payload"]
    rfc_keys = json.loads(envelope_bytes(chain([ASTRAL_AND_BMP_KEYS])[0]))["payload"]
    assert list(legacy_keys) != list(rfc_keys)


def test_a_chain_mixing_legacy_and_rfc8785_envelopes_verifies(verifier, tmp_path):
    legacy = chain(TRICKY[:3], None)
    later = chain(TRICKY, HASH_RULE)[3:]
    # Relink the later envelopes onto the legacy ones, as a source that changed rules does.
    prev_position, prev_hash = legacy[-1]["position"], legacy[-1]["hash"]
    for envelope in later:
        envelope.update(prev_position=prev_position, prev_hash=prev_hash)
        envelope.update(seal(envelope))
        prev_position, prev_hash = envelope["position"], envelope["hash"]
    result = run(verifier, write(tmp_path / "stream.jsonl", legacy + later))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rfc8785_reads_an_integer_beyond_2_53_as_a_double_as_the_rfc_says(verifier, tmp_path):
    envelopes = chain([{"n": 1}, {"n": 2}])
    with pytest.raises(ValueError):  # the oracle will not hash such an integer at all
        envelope_hash({**envelopes[1], "payload": {"n": 2**53 + 1}})
    # A writer that hashed its digits as written made a hash RFC 8785 does not give.
    forged = {key: value for key, value in envelopes[1].items() if key != "hash"}
    forged["payload"] = {"n": 2**53 + 1}
    forged["hash"] = hashlib.sha256(
        json.dumps(forged, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    path = tmp_path / "stream.jsonl"
    path.write_bytes(envelope_bytes(envelopes[0]) + b"\n" + json.dumps(forged).encode() + b"\n")
    result = run(verifier, path)
    assert result.returncode == 1
    assert result.stdout.startswith("FAILED: position 2: hash does not match")


@pytest.mark.parametrize("rule", [HASH_RULE, None], ids=["rfc8785", "legacy"])
@pytest.mark.parametrize(
    "edit, why",
    [
        (lambda e: e["payload"].update(big=e["payload"]["big"] - 1), "hash does not match"),
        (lambda e: e.update(prev_hash="f" * 64), "prev_hash does not match"),
        (lambda e: e.update(prev_position=1), "prev_position is 1, expected 2"),
        (lambda e: e.update(hash_rule="sha1"), 'unknown hash rule "sha1"'),
    ],
    ids=["payload", "prev_hash", "prev_position", "rule"],
)
def test_an_edit_is_named_by_position_and_why(verifier, rule, edit, why, tmp_path):
    envelopes = chain(TRICKY, rule)
    edit(envelopes[2])
    path = tmp_path / "stream.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in envelopes))
    result = run(verifier, path)
    assert result.returncode == 1, result.stdout
    assert result.stdout.startswith("FAILED: position 3:")
    assert why in result.stdout


def test_a_stream_exported_after_a_position_verifies_from_there(verifier, tmp_path):
    envelopes = chain(TRICKY)
    result = run(verifier, write(tmp_path / "stream.jsonl", envelopes[2:]))
    assert result.returncode == 0, result.stdout
    assert "after position 2 (its hash taken as given)" in result.stdout


def test_a_missing_envelope_breaks_the_chain_at_the_next_one(verifier, tmp_path):
    envelopes = chain(TRICKY)
    result = run(verifier, write(tmp_path / "stream.jsonl", envelopes[:2] + envelopes[3:]))
    assert result.returncode == 1
    assert result.stdout.startswith("FAILED: position 4: prev_position is 3, expected 2")


def test_a_line_that_is_not_json_is_named(verifier, tmp_path):
    path = write(tmp_path / "stream.jsonl", chain(TRICKY[:2]))
    path.write_text(path.read_text() + '{"position": 3,\n')
    result = run(verifier, path)
    assert result.returncode == 1
    assert result.stdout.startswith("FAILED: line 3 (after position 2): not valid JSON")


def test_an_unreadable_file_is_exit_2(verifier, tmp_path):
    result = run(verifier, tmp_path / "absent.jsonl")
    assert result.returncode == 2
    assert "cannot read" in result.stderr
