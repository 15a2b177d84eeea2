"""Checking the audit ledger: each source's chain as recorded, against the source's own store,
and the signed checkpoints. Pure functions over what the application reads."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from contracts.chain import Problem, compare_with_store, reaches, recomputed
from contracts.envelope import (
    GENESIS_HASH,
    GENESIS_POSITION,
    Unhashable,
    envelope_hash,
    hash_problems,
    link_problems,
)
from services.archive import signing

# Recompute(source, after_position, prev_hash, limit) → envelopes rebuilt from the source's store.
Recompute = Callable[[str, int, str, int], list[dict[str, Any]]]
# Where each source's chain walk starts: (position, hash) of a signed head.
Start = dict[str, tuple[int, str]]

PAGE = 500


class Recorded(NamedTuple):
    """One ledger entry: the archive's notification id, when it was recorded (the timestamp as
    stored: the application's `decode_value` makes it a datetime, which a verification, reading
    every entry, has no use for), the envelope. A tuple: a verification makes one per entry, at
    half a frozen dataclass's cost."""

    notification_id: int
    timestamp: Any
    envelope: dict[str, Any]


@dataclass
class SourceRun:
    """One source's entries within one range of the ledger, walked from the first of them: what
    the range can tell alone (each entry's hash, the links between its own entries), and the
    first entry's links, which only the range before can check."""

    first_position: int
    first_prev_position: Any  # as recorded: a tampered entry may hold anything
    first_prev_hash: Any
    first_problems: list[str]  # the first entry's own (hash) problems
    problems: list[tuple[int, str]] = field(default_factory=list)  # the later entries'
    count: int = 1
    last_position: int = 0
    last_hash: str = ""


@dataclass
class RangeWalk:
    """What one walk over a range of the ledger found: each source's run, the hashes at the
    positions asked for (the checkpoints' heads), and how many of its entries arrived up to
    each point asked for (the checkpoints' `through`). A verification process sends it back as
    JSON (`as_json`, `from_json`)."""

    sources: dict[str, SourceRun]
    hashes: dict[str, dict[int, str]]
    arrived_through: list[int]

    def as_json(self) -> dict[str, Any]:
        return {"sources": {source: asdict(run) for source, run in self.sources.items()},
                "hashes": {source: list(at.items()) for source, at in self.hashes.items()},
                "arrived_through": self.arrived_through}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RangeWalk:
        return cls(
            sources={source: SourceRun(**{**run, "problems": [tuple(p) for p in run["problems"]]})
                     for source, run in data["sources"].items()},
            hashes={source: dict(at) for source, at in data["hashes"].items()},
            arrived_through=data["arrived_through"],
        )


@dataclass
class Chain:
    """One source's chain as verified: how many entries, its head, every problem."""

    entries: int = 0
    position: int = GENESIS_POSITION
    hash: str = GENESIS_HASH
    problems: list[Problem] = field(default_factory=list)


@dataclass
class RangeChains:
    """Walks over consecutive ranges, put together: each source's chain, the hashes at the
    positions asked for, and the entries that arrived up to each point asked for."""

    chains: dict[str, Chain]
    hashes: dict[str, dict[int, str]]
    arrived_through: list[int]


def walk_range(
    entries: Iterable[Recorded], wanted: Mapping[str, Collection[int]] | None = None,
    throughs: Sequence[int] = (),
) -> RangeWalk:
    """Walk ledger entries (in arrival order) once: every entry's hash, and each entry's links
    to the one before it from its source within these entries. Keeps the hashes at `wanted`
    positions only (a whole ledger's would not fit in memory), and counts the entries that
    arrived up to each of the ascending `throughs`."""
    wanted = wanted or {}
    runs: dict[str, SourceRun] = {}
    hashes: dict[str, dict[int, str]] = {}
    arrived = [0] * len(throughs)
    count = passed = 0
    for entry in entries:
        while passed < len(throughs) and throughs[passed] < entry.notification_id:
            arrived[passed] = count
            passed += 1
        count += 1
        envelope = entry.envelope
        source, position = envelope["source"], envelope["position"]
        # The usual case, an entry that is in order, costs one hash and two comparisons;
        # only an entry found wrong is looked at again, to say what is wrong.
        try:
            hashed = envelope.get("hash") == envelope_hash(envelope)
        except Unhashable:
            hashed = False
        run = runs.get(source)
        if run is None:
            runs[source] = SourceRun(position, envelope.get("prev_position"),
                                     envelope.get("prev_hash"),
                                     [] if hashed else hash_problems(envelope),
                                     last_position=position, last_hash=envelope["hash"])
        else:
            if not (hashed and envelope.get("prev_position") == run.last_position
                    and envelope.get("prev_hash") == run.last_hash):
                run.problems += [(position, problem) for problem in hash_problems(envelope)
                                 + link_problems(envelope, run.last_position, run.last_hash)]
            run.count += 1
            run.last_position, run.last_hash = position, envelope["hash"]
        if position in wanted.get(source, ()):
            hashes.setdefault(source, {})[position] = envelope["hash"]
    arrived[passed:] = [count] * (len(throughs) - passed)
    return RangeWalk(runs, hashes, arrived)


def stitch(walks: Sequence[RangeWalk], start: Start | None = None) -> RangeChains:
    """Each source's chain from walks over consecutive ranges of the ledger, in order: each
    range's first entry of a source is linked to the same source's last entry in the ranges
    before it (or to `start`, a signed head, or the genesis). What a single walk over the whole
    ledger would find, problem for problem; with the walks' hashes and arrivals put together."""
    start = start or {}
    chains: dict[str, Chain] = {}
    hashes: dict[str, dict[int, str]] = {}
    arrived = [sum(counts) for counts in
               zip(*(walk.arrived_through for walk in walks), strict=True)]
    for walk in walks:
        for source, at in walk.hashes.items():
            hashes.setdefault(source, {}).update(at)
        for source, run in walk.sources.items():
            chain = chains.get(source)
            if chain is None:
                chain = chains[source] = Chain()
                chain.position, chain.hash = start.get(source, (GENESIS_POSITION, GENESIS_HASH))
            links = {"prev_position": run.first_prev_position, "prev_hash": run.first_prev_hash}
            chain.problems += [
                Problem(run.first_position, "ledger", problem) for problem in
                run.first_problems + link_problems(links, chain.position, chain.hash)]
            chain.problems += [Problem(position, "ledger", problem)
                               for position, problem in run.problems]
            chain.entries += run.count
            chain.position, chain.hash = run.last_position, run.last_hash
    return RangeChains(chains, hashes, arrived)


def agrees_with_store(source: str, chain: Chain, recompute: Recompute,
                      start: Start | None = None) -> bool:
    """Whether the source's own store, rebuilt by `recompute` from where the walk started,
    holds what the ledger recorded, shown without keeping an entry (`contracts.chain.reaches`):
    the ledger's chain has no problem and the store's has the same hash at its head."""
    after = (start or {}).get(source, (GENESIS_POSITION, GENESIS_HASH))
    return not chain.problems and reaches(chain.position, chain.hash,
                                          _rebuilt(source, recompute, *after))


def compare_source(chain: Chain, source: str, recorded: dict[int, dict[str, Any]],
                   recompute: Recompute, start: Start | None = None) -> None:
    """Add to the chain each position where the source's own store, rebuilt by `recompute`
    from where the walk started, disagrees with what the ledger recorded there."""
    after = (start or {}).get(source, (GENESIS_POSITION, GENESIS_HASH))
    chain.problems.extend(compare_with_store(recorded, _rebuilt(source, recompute, *after)))


def source_report(chains: dict[str, Chain], store_checked: bool) -> dict[str, dict[str, Any]]:
    """Per source: its entries, head and problems, each at its exact position."""
    return {
        source: {
            "entries": chain.entries,
            "head": {"position": chain.position, "hash": chain.hash},
            "store_checked": store_checked,
            "problems": [p.as_dict() for p in sorted(
                chain.problems, key=lambda p: (p.position, p.where))],
            "ok": not chain.problems,
        }
        for source, chain in chains.items()
    }


def entry_count(report: dict[str, Any]) -> int:
    """The entries a verification report checked, every source's."""
    return sum(section["entries"] for section in report["sources"].values())


def problem_count(report: dict[str, Any]) -> int:
    """The problems a verification report lists: each chain's and the checkpoints'."""
    return (sum(len(section["problems"]) for section in report["sources"].values())
            + len(report["checkpoints"]["problems"]))


def _rebuilt(source: str, recompute: Recompute, position: int,
             prev_hash: str) -> Iterator[dict[str, Any]]:
    return recomputed(lambda *page: recompute(source, *page), position, prev_hash, PAGE)


def checkpoint_heads(checkpoints: Iterable[Any]) -> dict[str, set[int]]:
    """The positions, per source, that the checkpoints' heads name: the ledger's hashes a
    verification keeps to check them."""
    wanted: dict[str, set[int]] = {}
    for checkpoint in checkpoints:
        for head in checkpoint.heads:
            wanted.setdefault(head["source"], set()).add(head["position"])
    return wanted


def verify_checkpoints(
    checkpoints: Sequence[Any],
    arrived_through: Sequence[int],
    hashes: dict[str, dict[int, str]],
    trusted_keys: set[str],
) -> dict[str, Any]:
    """Every checkpoint's signature, key, entry count and heads against the ledger as it is.
    `arrived_through[i]`: the ledger entries that arrived up to `checkpoints[i].through`."""
    problems: list[dict[str, Any]] = []
    for checkpoint, recorded in zip(checkpoints, arrived_through, strict=True):
        problems += verify_signature(checkpoint, trusted_keys)
        if recorded != checkpoint.entry_count:
            problems.append({"sequence": checkpoint.sequence, "problem": (
                f"signed {checkpoint.entry_count} entries, the ledger holds {recorded} "
                "up to that point")})
        problems += verify_checkpoint_heads(
            checkpoint, lambda source, position: _hashed(hashes, source, position))
    return {"count": len(checkpoints), "problems": problems, "ok": not problems}


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
