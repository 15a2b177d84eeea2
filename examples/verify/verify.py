#!/usr/bin/env python3
"""Verify one Casebook event stream, as `casebook export` writes it (one envelope a line),
without Casebook: Python 3.11+ and its standard library only.

    python3 verify.py cases.jsonl        (or `-` for standard input)

Every envelope's `hash` is the SHA-256 (lowercase hex) of the envelope without `hash`, written
by the rule it names in `hash_rule`:

- "rfc8785-sha256": the JSON Canonicalization Scheme, RFC 8785, implemented here (below) rather
  than taken from the `rfc8785` package Casebook itself hashes with, so that this check does
  not share the code it checks;
- no `hash_rule`: the rule of the first envelopes, Python's
  `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)` in UTF-8.

and names its predecessor by `prev_position` and `prev_hash` (position 0 and 64 zeros before
the first). Prints one line and exits 0 if every hash and link holds; otherwise names the first
bad position and why, and exits 1. Exit 2: the file cannot be read.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from decimal import Decimal
from typing import IO, Any

RFC8785 = "rfc8785-sha256"
GENESIS_HASH = "0" * 64
GENESIS_POSITION = 0
MAX_SAFE = 2**53 - 1

# RFC 8785 section 3.2.2.2 (ES JSON.stringify): `"`, `\`, the five short escapes, every other
# character below U+0020 as \u00xx in lowercase hex; everything else as itself.
SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
                 "\t": "\\t"}


class Problem(ValueError):
    """Why an envelope cannot be hashed or does not link."""


def quote(text: str) -> str:
    out = []
    for character in text:
        if character in SHORT_ESCAPES:
            out.append(SHORT_ESCAPES[character])
        elif character < " ":
            out.append(f"\\u{ord(character):04x}")
        elif "\ud800" <= character <= "\udfff":
            raise Problem(f"a string holds a lone surrogate U+{ord(character):04x}")
        else:
            out.append(character)
    return '"' + "".join(out) + '"'


def es_number(value: float) -> str:
    """ES Number::toString (RFC 8785 section 3.2.2.3): the shortest digits that read back as
    the same double (Python's repr finds the same ones), positional for exponents -7 < e < 21."""
    if not math.isfinite(value):
        raise Problem(f"a number is not finite ({value})")
    if value == 0:
        return "0"
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + exponent  # the value is 0.<digits> × 10^point
    digits = digits.rstrip("0")
    count = len(digits)
    minus = "-" if sign else ""
    if count <= point <= 21:
        return minus + digits + "0" * (point - count)
    if 0 < point <= 21:
        return minus + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return minus + "0." + "0" * -point + digits
    shown = point - 1
    fraction = "." + digits[1:] if count > 1 else ""
    return f"{minus}{digits[0]}{fraction}e{'+' if shown >= 0 else '-'}{abs(shown)}"


def rfc8785(value: Any) -> str:
    """The JSON Canonicalization Scheme (RFC 8785) of a value json.loads gave."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int) and abs(value) <= MAX_SAFE:
        return str(value)
    if isinstance(value, (int, float)):
        # RFC 8785 numbers are IEEE 754 doubles: one beyond 2^53 is read as the nearest double
        # (a float written as 1e20 is spelled 100000000000000000000, and read back as an int).
        try:
            return es_number(float(value))
        except OverflowError:
            raise Problem(f"the number {value} is beyond the range of a double") from None
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, list):
        return "[" + ",".join(rfc8785(item) for item in value) + "]"
    # Section 3.2.3: keys sorted by their UTF-16 code units (big-endian bytes sort the same).
    keys = sorted(value, key=lambda key: key.encode("utf-16-be", "surrogatepass"))
    return "{" + ",".join(f"{quote(key)}:{rfc8785(value[key])}" for key in keys) + "}"


def legacy(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def envelope_hash(envelope: dict[str, Any]) -> str:
    body = {key: value for key, value in envelope.items() if key != "hash"}
    rule = body.get("hash_rule")
    if rule == RFC8785:
        text = rfc8785(body)
    elif "hash_rule" not in body:
        text = legacy(body)
    else:
        raise Problem(f"unknown hash rule {json.dumps(rule)}")
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise Problem("a string holds a lone surrogate, which UTF-8 cannot encode") from None
    return hashlib.sha256(data).hexdigest()


def problems_of(envelope: dict[str, Any], previous: dict[str, Any] | None) -> list[str]:
    """What is wrong with `envelope` as the successor of `previous`; empty if nothing."""
    problems = []
    try:
        if envelope.get("hash") != envelope_hash(envelope):
            problems.append("hash does not match the envelope's content")
    except Problem as problem:
        problems.append(str(problem))
    prev_position = envelope.get("prev_position")
    if previous is None:
        if prev_position == GENESIS_POSITION and envelope.get("prev_hash") != GENESIS_HASH:
            problems.append("prev_hash of the first envelope is not the genesis hash")
    else:
        if prev_position != previous["position"]:
            problems.append(f"prev_position is {prev_position}, expected {previous['position']}")
        if envelope.get("prev_hash") != previous["hash"]:
            problems.append("prev_hash does not match the previous envelope's hash")
        if envelope.get("source") != previous["source"]:
            problems.append(f"source is {envelope.get('source')}, expected {previous['source']}")
    if isinstance(prev_position, int) and not envelope["position"] > prev_position:
        problems.append(f"position {envelope['position']} does not follow prev_position "
                        f"{prev_position}")
    return problems


def refuse_constant(name: str) -> None:
    raise Problem(f"{name} is not JSON")


def verify(lines: IO[str]) -> tuple[int, str]:
    """(exit status, the line to print) for one stream."""
    previous: dict[str, Any] | None = None
    first: dict[str, Any] | None = None
    count = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        after = "the start" if previous is None else f"position {previous['position']}"
        try:
            envelope = json.loads(line, parse_constant=refuse_constant)
        except (ValueError, Problem) as error:
            return 1, f"FAILED: line {number} (after {after}): not valid JSON: {error}"
        position = envelope.get("position") if isinstance(envelope, dict) else None
        if not isinstance(position, int) or isinstance(position, bool):
            return 1, f"FAILED: line {number} (after {after}): not an envelope with a position"
        problems = problems_of(envelope, previous)
        if problems:
            return 1, f"FAILED: position {position}: {'; '.join(problems)}"
        previous = {"position": position, "hash": envelope["hash"], "source": envelope["source"]}
        first = first or envelope
        count += 1
    if previous is None or first is None:
        return 0, "verified 0 envelopes: the stream is empty"
    start = ("from genesis" if first["prev_position"] == GENESIS_POSITION
             else f"after position {first['prev_position']} (its hash taken as given)")
    return 0, (f"verified {count} envelopes of {previous['source']}: positions "
               f"{first['position']}..{previous['position']} chain {start}, "
               f"head hash {previous['hash']}")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python3 verify.py STREAM.jsonl   (- reads standard input)", file=sys.stderr)
        return 2
    try:
        stream = sys.stdin if argv[0] == "-" else open(argv[0], encoding="utf-8")  # noqa: SIM115
    except OSError as error:
        print(f"cannot read {argv[0]}: {error}", file=sys.stderr)
        return 2
    with stream:
        status, summary = verify(stream)
    print(summary)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
