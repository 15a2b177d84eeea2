"""A ledger walked in ranges and stitched together is verified as one walk over it all:
checked against `contracts.chain.ChainWalk` (the walk `casebook verify` makes of a source's
own stream) on ledgers of several sources, tampered with at random, cut at random."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.chain import ChainWalk
from contracts.envelope import GENESIS_HASH, HASH_RULE, seal
from services.archive.ledger import Recorded, source_report, stitch, walk_range
from services.archive.verifier import in_memory, ranges
from tests.support.examples import scaled

SOURCES = ("cases", "resources", "supervision")
TAMPERING = ("edit", "drop", "duplicate", "reseal", "unknown rule", "position")


def chains(lengths: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
    made: dict[str, list[dict[str, Any]]] = {}
    for source, length in lengths.items():
        prev_hash = GENESIS_HASH
        made[source] = []
        for position in range(1, length + 1):
            envelope = seal({"source": source, "position": position,
                             "prev_position": position - 1, "prev_hash": prev_hash,
                             "hash_rule": HASH_RULE, "payload": {"n": position}})
            made[source].append(envelope)
            prev_hash = envelope["hash"]
    return made


def tamper(entries: list[dict[str, Any]], how: str, at: int) -> None:
    at %= len(entries)
    envelope = entries[at]
    if how == "edit":
        entries[at] = {**envelope, "payload": {"n": -1}}
    elif how == "drop":
        del entries[at]
    elif how == "duplicate":
        entries.insert(min(at + 3, len(entries)), dict(envelope))
    elif how == "reseal":
        entries[at] = seal({**envelope, "hash_rule": HASH_RULE, "payload": {"n": -1}})
    elif how == "unknown rule":
        entries[at] = {**envelope, "hash_rule": "md5-of-something"}
    else:
        entries[at] = {**envelope, "position": envelope["position"] + 7}


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[list[Recorded], list[int], list[int], dict[str, set[int]]]:
    lengths = {source: draw(st.integers(0, 12)) for source in SOURCES}
    streams = chains(lengths)
    # Interleaved as deliveries from several sources arrive: each source in its own order.
    order = draw(st.permutations([s for s, n in lengths.items() for _ in range(n)]))
    taken = dict.fromkeys(SOURCES, 0)
    entries = []
    for source in order:
        entries.append(streams[source][taken[source]])
        taken[source] += 1
    if entries:
        for how, at in draw(st.lists(st.tuples(st.sampled_from(TAMPERING), st.integers(0, 99)),
                                     max_size=4)):
            if entries:
                tamper(entries, how, at)
    # Notification ids with gaps: the archive's store holds other events between entries.
    ids = sorted(draw(st.sets(st.integers(1, 400), min_size=len(entries),
                              max_size=len(entries))))
    recorded = [Recorded(n, None, envelope) for n, envelope in zip(ids, entries, strict=True)]
    cuts = sorted(draw(st.lists(st.integers(0, len(recorded)), max_size=4)))
    throughs = sorted(draw(st.sets(st.integers(0, 401), max_size=4)))
    wanted = {source: set(draw(st.lists(st.integers(1, 20), max_size=3))) for source in SOURCES}
    return recorded, cuts, throughs, wanted


@pytest.mark.properties
@settings(max_examples=scaled(300), deadline=None)
@given(ledgers())
def test_walks_over_ranges_stitched_find_what_one_walk_finds(ledger):
    recorded, cuts, throughs, wanted = ledger
    edges = [0, *cuts, len(recorded)]
    parts = [recorded[a:b] for a, b in itertools.pairwise(edges)]
    walked = stitch([walk_range(part, wanted, throughs) for part in parts])

    expected: dict[str, Any] = {}
    hashes: dict[str, dict[int, str]] = {}
    for entry in recorded:
        envelope = entry.envelope
        source = envelope["source"]
        walk, problems = expected.setdefault(source, (ChainWalk("ledger"), []))
        problems += [p.as_dict() for p in walk.step(envelope)]
        if envelope["position"] in wanted[source]:
            hashes.setdefault(source, {})[envelope["position"]] = envelope["hash"]
    report = source_report(walked.chains, store_checked=False)
    assert list(report) == list(expected)  # sources in the order they first arrived
    for source, (walk, problems) in expected.items():
        assert report[source] == {
            "entries": walk.count, "head": {"position": walk.position, "hash": walk.hash},
            "store_checked": False, "ok": not problems,
            "problems": sorted(problems, key=lambda p: (p["position"], p["where"]))}
    assert walked.hashes == hashes
    assert walked.arrived_through == [
        sum(1 for entry in recorded if entry.notification_id <= through) for through in throughs]


@pytest.mark.properties
@settings(max_examples=scaled(100))
@given(st.integers(0, 10**7), st.integers(0, 10**7), st.integers(1, 16), st.integers(1, 10**6))
def test_ranges_cover_the_store_once_in_order_each_long_enough(after, length, processes, least):
    through = after + length
    cuts = ranges(after, through, processes, least)
    assert cuts[0][0] == after and cuts[-1][1] == through
    assert all(a[1] == b[0] for a, b in itertools.pairwise(cuts))
    assert 1 <= len(cuts) <= processes
    if len(cuts) > 1:
        assert all(b - a >= least for a, b in cuts)


def test_only_a_store_in_memory_is_walked_in_the_archives_own_process() -> None:
    sqlite = {"PERSISTENCE_MODULE": "eventsourcing.sqlite"}
    assert in_memory({**sqlite, "SQLITE_DBNAME": ":memory:"})
    assert in_memory({**sqlite, "SQLITE_DBNAME": "file:archive?mode=memory&cache=shared"})
    assert not in_memory({**sqlite, "SQLITE_DBNAME": "/var/lib/casebook/archive.sqlite"})
    assert not in_memory({"PERSISTENCE_MODULE": "eventsourcing.postgres",
                          "POSTGRES_DBNAME": "casebook"})
