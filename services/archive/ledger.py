"""Checking the audit ledger: each source's chain as recorded, against the source's own store,
and the signed checkpoints. Pure functions over what the application reads."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from contracts.chain import ChainWalk, Problem, compare_with_store
from contracts.envelope import GENESIS_HASH, GENESIS_POSITION
from services.archive import signing

# Recompute(source, after_position, prev_hash, limit) → envelopes rebuilt from the source's store.
Recompute = Callable[[str, int, str, int], list[dict[str, Any]]]
# Where each source's chain walk starts: (position, hash) of a signed head.
Start = dict[str, tuple[int, str]]

PAGE = 500


@dataclass(frozen=True)
class Recorded:
    """One ledger entry: the archive's notification id, when it was recorded (the timestamp as
    stored: the application's `decode_value` makes it a datetime, which a verification, reading
    every entry, has no use for), the envelope."""

    notification_id: int
    timestamp: Any
    envelope: dict[str, Any]


def verify_sources(
    entries: Iterable[Recorded], recompute: Recompute | None, start: Start | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[int, str]]]:
    """Per source: the chain recomputed from the ledger and, with `recompute`, compared with
    the source's own store; every problem at its exact position. Each source's walk starts at
    its genesis, or at `start` (a signed head: the entries given are those after it). Also
    returns each source's hash at each position, for the checkpoints."""
    start = start or {}
    hashes: dict[str, dict[int, str]] = {}
    recorded: dict[str, dict[int, dict[str, Any]]] = {}
    walks: dict[str, ChainWalk] = {}
    problems: dict[str, list[Problem]] = {}
    for entry in entries:
        envelope = entry.envelope
        source = envelope["source"]
        if source not in walks:
            walks[source] = ChainWalk("ledger")
            walks[source].position, walks[source].hash = start.get(
                source, (GENESIS_POSITION, GENESIS_HASH))
        problems.setdefault(source, []).extend(walks[source].step(envelope))
        hashes.setdefault(source, {})[envelope["position"]] = envelope["hash"]
        if recompute is not None:
            recorded.setdefault(source, {})[envelope["position"]] = envelope
    if recompute is not None:
        for source, recorded_here in recorded.items():
            after = start.get(source, (GENESIS_POSITION, GENESIS_HASH))
            problems[source].extend(
                compare_with_store(recorded_here, _rebuilt(source, recompute, *after))
            )
    report = {
        source: {
            "entries": walk.count,
            "head": {"position": walk.position, "hash": walk.hash},
            "store_checked": recompute is not None,
            "problems": [p.as_dict() for p in sorted(
                problems[source], key=lambda p: (p.position, p.where))],
            "ok": not problems[source],
        }
        for source, walk in walks.items()
    }
    return report, hashes


def _rebuilt(
    source: str, recompute: Recompute, position: int, prev_hash: str
) -> Iterator[dict[str, Any]]:
    while True:
        batch = recompute(source, position, prev_hash, PAGE)
        yield from batch
        if len(batch) < PAGE:
            return
        position, prev_hash = batch[-1]["position"], batch[-1]["hash"]


def verify_checkpoints(
    checkpoints: Iterable[Any],
    arrivals: Sequence[int],
    hashes: dict[str, dict[int, str]],
    trusted_keys: set[str],
) -> dict[str, Any]:
    """Every checkpoint's signature, key, entry count and heads against the ledger as it is.
    `arrivals` are the ledger entries' notification ids, in order."""
    problems: list[dict[str, Any]] = []
    count = 0
    for checkpoint in checkpoints:
        count += 1
        problems += verify_signature(checkpoint, trusted_keys)
        recorded = bisect_right(arrivals, checkpoint.through)
        if recorded != checkpoint.entry_count:
            problems.append({"sequence": checkpoint.sequence, "problem": (
                f"signed {checkpoint.entry_count} entries, the ledger holds {recorded} "
                "up to that point")})
        problems += verify_checkpoint_heads(
            checkpoint, lambda source, position: _hashed(hashes, source, position))
    return {"count": count, "problems": problems, "ok": not problems}


def verify_signature(checkpoint: Any, trusted_keys: set[str]) -> list[dict[str, Any]]:
    """A checkpoint's signature over what it states, by a trusted ledger key."""
    problems = []
    message = signing.statement(checkpoint.sequence, checkpoint.entry_count,
                                checkpoint.heads, checkpoint.signed_at)
    if not signing.verify(checkpoint.public_key, message, checkpoint.signature):
        problems.append({"sequence": checkpoint.sequence,
                         "problem": "signature does not verify"})
    if checkpoint.public_key not in trusted_keys:
        problems.append({"sequence": checkpoint.sequence, "problem": (
            f"signed by key {checkpoint.key_id}, which is not a trusted ledger key")})
    return problems


def verify_checkpoint_heads(
    checkpoint: Any, entry_at: Callable[[str, int], dict[str, Any] | None]
) -> list[dict[str, Any]]:
    """Each signed head is the ledger's entry at that position, with that hash."""
    problems = []
    for head in checkpoint.heads:
        envelope = entry_at(head["source"], head["position"])
        where = f"{head['source']}:{head['position']}"
        if envelope is None:
            problems.append({"sequence": checkpoint.sequence,
                             "problem": f"signed head {where} is not in the ledger"})
        elif envelope["hash"] != head["hash"]:
            problems.append({"sequence": checkpoint.sequence,
                             "problem": f"signed head {where} has another hash in the ledger"})
    return problems


def _hashed(hashes: dict[str, dict[int, str]], source: str, position: int) -> dict[str, Any] | None:
    value = hashes.get(source, {}).get(position)
    return None if value is None else {"hash": value}
