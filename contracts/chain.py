"""Checking hash chains: one implementation for the archive's verification, `casebook verify`
and anyone else who holds envelopes. Pure functions over envelopes; no I/O."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from contracts.envelope import GENESIS_HASH, GENESIS_POSITION, chain_problems

LINK_KEYS = ("prev_hash", "hash")
# The key of what a source's recomputed chain ends with where it could not read a stored event
# back into its envelope: {"position": id, UNREBUILDABLE: why}. Nothing follows it.
UNREBUILDABLE = "unrebuildable"


@dataclass(frozen=True)
class Problem:
    position: int
    where: str  # "ledger": the recorded stream itself; "store": the source's store disagrees
    problem: str

    def as_dict(self) -> dict[str, Any]:
        return {"position": self.position, "where": self.where, "problem": self.problem}


class ChainWalk:
    """Walk one source's envelopes in order, reporting every broken link."""

    def __init__(self, where: str = "ledger") -> None:
        self.where = where
        self.position = GENESIS_POSITION
        self.hash = GENESIS_HASH
        self.count = 0

    def step(self, envelope: dict[str, Any]) -> list[Problem]:
        problems = [
            Problem(envelope["position"], self.where, p)
            for p in chain_problems(envelope, self.position, self.hash)
        ]
        self.position, self.hash = envelope["position"], envelope["hash"]
        self.count += 1
        return problems


def content(envelope: dict[str, Any]) -> dict[str, Any]:
    """An envelope without its chain links: what a stored event determines by itself."""
    return {k: v for k, v in envelope.items() if k not in LINK_KEYS}


def recomputed(
    recompute: Callable[[int, str, int], list[dict[str, Any]]], position: int, prev_hash: str,
    page: int,
) -> Iterator[dict[str, Any]]:
    """Every envelope a source recomputes from its own store after `position` (whose hash is
    `prev_hash`), a page at a time, each page chained on from the last: `recompute(position,
    prev_hash, limit)` is the source's `recompute_since`. Read as it is used, never kept."""
    while page_ := recompute(position, prev_hash, page):
        yield from page_
        if UNREBUILDABLE in page_[-1]:
            return
        position, prev_hash = page_[-1]["position"], page_[-1]["hash"]


def reaches(position: int, hash_: str, rebuilt: Iterable[dict[str, Any]]) -> bool:
    """Whether a chain rebuilt from a source's store has `hash_` at `position`. For a chain
    walked to that head without a problem, this shows it is the store's chain up to there,
    entry for entry, without keeping one: each hash covers the one before it. Events stored
    after the head are on their way, not a difference. Where this is false, `compare_with_store`
    says at which positions the two differ."""
    for envelope in rebuilt:
        if envelope["position"] >= position:
            return envelope["position"] == position and envelope.get("hash") == hash_
    return False


def compare_with_store(
    recorded: dict[int, dict[str, Any]], rebuilt: Iterable[dict[str, Any]]
) -> Iterator[Problem]:
    """Positions where envelopes rebuilt from the source's store disagree with those recorded.

    An edited event differs in content at its own position; every later hash then differs only
    as a consequence, so beyond content changes only the first chain divergence is reported.
    Events stored after the last recorded position are on their way (the relay or the
    subscriber is behind), not a problem: a live system is verified up to what it recorded.
    A stored event the source could not read back is reported at its position, and nothing
    after it is compared: the source's chain cannot be rebuilt past it."""
    seen: set[int] = set()
    diverged = False
    head = max(recorded, default=0)
    for envelope in rebuilt:
        position = envelope["position"]
        if position > head:
            break
        seen.add(position)
        if UNREBUILDABLE in envelope:
            yield Problem(position, "store", "the stored event cannot be read back into its "
                                             f"envelope: {envelope[UNREBUILDABLE]}")
            head = position - 1  # what follows it is not compared, so not called missing
            break
        kept = recorded.get(position)
        if kept is None:
            yield Problem(position, "store", "in the source's store but not recorded")
        elif content(kept) != content(envelope):
            changed = sorted(
                k
                for k in set(kept) | set(envelope)
                if k not in LINK_KEYS and kept.get(k) != envelope.get(k)
            )
            yield Problem(
                position,
                "store",
                "stored event differs from what was published: " + ", ".join(changed),
            )
            diverged = True
        elif kept["hash"] != envelope["hash"] and not diverged:
            yield Problem(position, "store", "recomputed hash differs from the recorded one")
            diverged = True
    for missing in sorted(set(recorded) - seen):
        if missing <= head:
            yield Problem(missing, "store", "recorded but no longer in the source's store")
