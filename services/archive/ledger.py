"""Checking the audit ledger: each source's chain as recorded, against the source's own store,
and the signed checkpoints. Pure functions over what the application reads."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.chain import ChainWalk, Problem, compare_with_store
from contracts.envelope import GENESIS_HASH, GENESIS_POSITION
from services.archive import signing

# Recompute(source, after_position, prev_hash, limit) → envelopes rebuilt from the source's store.
Recompute = Callable[[str, int, str, int], list[dict[str, Any]]]

PAGE = 500


@dataclass(frozen=True)
class Recorded:
    """One ledger entry: the archive's notification id, when it was recorded, the envelope."""

    notification_id: int
    recorded_at: datetime
    envelope: dict[str, Any]


def verify_sources(
    entries: Iterable[Recorded], recompute: Recompute | None
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[int, dict[str, Any]]]]:
    """Per source: the chain recomputed from the ledger and, with `recompute`, compared with
    the source's own store; every problem at its exact position."""
    by_source: dict[str, dict[int, dict[str, Any]]] = {}
    walks: dict[str, ChainWalk] = {}
    problems: dict[str, list[Problem]] = {}
    for recorded in entries:
        envelope = recorded.envelope
        source = envelope["source"]
        walk = walks.setdefault(source, ChainWalk("ledger"))
        problems.setdefault(source, []).extend(walk.step(envelope))
        by_source.setdefault(source, {})[envelope["position"]] = envelope
    if recompute is not None:
        for source, recorded_here in by_source.items():
            problems[source].extend(
                compare_with_store(recorded_here, _rebuilt(source, recompute))
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
    return report, by_source


def _rebuilt(source: str, recompute: Recompute) -> Iterator[dict[str, Any]]:
    position, prev_hash = GENESIS_POSITION, GENESIS_HASH
    while True:
        batch = recompute(source, position, prev_hash, PAGE)
        yield from batch
        if len(batch) < PAGE:
            return
        position, prev_hash = batch[-1]["position"], batch[-1]["hash"]


def verify_checkpoints(
    checkpoints: Iterable[Any],
    entries: list[Recorded],
    by_source: dict[str, dict[int, dict[str, Any]]],
    trusted_keys: set[str],
) -> dict[str, Any]:
    """Every checkpoint's signature, key, entry count and heads against the ledger as it is."""
    problems: list[dict[str, Any]] = []
    count = 0
    for checkpoint in checkpoints:
        count += 1

        def problem(text: str, checkpoint: Any = checkpoint) -> None:
            problems.append({"sequence": checkpoint.sequence, "problem": text})

        message = signing.statement(checkpoint.sequence, checkpoint.entry_count,
                                    checkpoint.heads, checkpoint.signed_at)
        if not signing.verify(checkpoint.public_key, message, checkpoint.signature):
            problem("signature does not verify")
        if checkpoint.public_key not in trusted_keys:
            problem(f"signed by key {checkpoint.key_id}, which is not a trusted ledger key")
        recorded = sum(1 for entry in entries if entry.notification_id <= checkpoint.through)
        if recorded != checkpoint.entry_count:
            problem(f"signed {checkpoint.entry_count} entries, the ledger holds {recorded} "
                    "up to that point")
        for head in checkpoint.heads:
            envelope = by_source.get(head["source"], {}).get(head["position"])
            if envelope is None:
                problem(f"signed head {head['source']}:{head['position']} is not in the ledger")
            elif envelope["hash"] != head["hash"]:
                problem(f"signed head {head['source']}:{head['position']} has another hash in "
                        "the ledger")
    return {"count": count, "problems": problems, "ok": not problems}
