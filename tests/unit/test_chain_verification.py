"""Verification never cries wolf and misses nothing: over any mix of published and internal
events, any gaps between notification ids and any page sizes, the chain recomputed from a
source's store equals the chain it published, and an edit is reported at its position only."""

from __future__ import annotations

import json
import uuid
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import cycle
from typing import Any

import pytest
from eventsourcing.persistence import Notification
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from contracts.chain import ChainWalk, Problem, compare_with_store, reaches, recomputed
from contracts.envelope import GENESIS_HASH, GENESIS_POSITION
from services.runtime.publishing import RECOMPUTE_PAGE, Publications
from tests.support.examples import scaled

CASE = uuid.UUID("a2f4c6e8-0b1d-4f3a-9c5e-7d9b1f3a5c7e")
START = datetime(2026, 9, 1, tzinfo=UTC)


@dataclass
class Reopened:
    """Stands for a domain event that is published."""

    originator_id: uuid.UUID
    originator_version: int
    timestamp: datetime
    meta: dict[str, Any]
    reopened_on: str


@dataclass
class Noted:
    """Stands for a domain event that is never published (internal)."""

    originator_id: uuid.UUID
    originator_version: int
    timestamp: datetime
    meta: dict[str, Any]
    reopened_on: str


PUBLICATIONS = Publications("cases")


@PUBLICATIONS.maps(Reopened, "CaseReopened", 1)
def reopened(event: Reopened) -> dict[str, Any]:
    return {"case_id": str(event.originator_id), "reopened_on": event.reopened_on}


class Mapper:
    """Stored notification → domain event, as eventsourcing's mapper does."""

    def to_domain_event(self, notification: Notification) -> Any:
        state = json.loads(notification.state)
        kind = Reopened if notification.topic == "Reopened" else Noted
        return kind(originator_id=notification.originator_id,
                    originator_version=notification.originator_version,
                    timestamp=datetime.fromisoformat(state["at"]),
                    meta={"actor": {"id": "worker-1", "role": "social_worker"},
                          "school_id": "JD001", "correlation_id": "c", "causation_id": None},
                    reopened_on=state["on"])


# A store: runs of events, each (published?, how many, gap before each id). Runs of internal
# events may be longer than a page of the notification log.
runs = st.lists(
    st.one_of(
        st.tuples(st.just(True), st.integers(1, 5), st.integers(1, 3)),
        st.tuples(st.just(False), st.one_of(st.integers(1, 5), st.integers(450, 1100)),
                  st.integers(1, 3)),
    ),
    min_size=1, max_size=10,
)


def store_of(segments: list[tuple[bool, int, int]]) -> list[Notification]:
    notifications, position, version = [], 0, 0
    for published, count, gap in segments:
        for _ in range(count):
            position += gap  # notification ids have gaps (database sequences)
            version += 1
            at = START + timedelta(minutes=version)
            notifications.append(Notification(
                id=position, originator_id=CASE, originator_version=version,
                topic="Reopened" if published else "Noted",
                state=json.dumps({"at": at.isoformat(), "on": at.date().isoformat()}).encode(),
            ))
    return notifications


def published_stream(store: list[Notification]) -> list[dict[str, Any]]:
    """What the relay publishes from this store."""
    return list(PUBLICATIONS.envelopes(Mapper(), store, GENESIS_POSITION, GENESIS_HASH))


def rebuilt(store: list[Notification], data: st.DataObject, limit: int) -> list[dict[str, Any]]:
    """The chain recomputed the way `casebook verify` asks for it: `limit` envelopes per call,
    each call reading pages of notifications of whatever sizes the store gives."""
    sizes = cycle(data.draw(st.lists(st.integers(1, RECOMPUTE_PAGE), min_size=1, max_size=5),
                            label="page sizes"))
    ids = [n.id for n in store]

    def read(after: int, page: int) -> list[Notification]:
        start = bisect_right(ids, after)
        return store[start:start + min(page, next(sizes))]

    def recompute(position: int, prev_hash: str, page: int) -> list[dict[str, Any]]:
        return PUBLICATIONS.recompute(read, Mapper(), position, prev_hash, page)

    return list(recomputed(recompute, GENESIS_POSITION, GENESIS_HASH, limit))


def edit(store: list[Notification], target: Notification, **changes: str) -> list[Notification]:
    """The store with `target`'s stored state changed, as an intruder with database access
    changes it."""
    state = {**json.loads(target.state), **changes}
    return [Notification(id=n.id, originator_id=n.originator_id,
                         originator_version=n.originator_version, topic=n.topic,
                         state=json.dumps(state).encode()) if n is target else n
            for n in store]


def verify_edited(
    segments: list[Any], limit: int, data: st.DataObject,
    changes: Callable[[Notification], dict[str, str]],
) -> tuple[Notification, list[Problem], list[dict[str, Any]], bool]:
    """Verify a store of `segments` after one event, drawn, has `changes(event)` written into
    its stored state: (that event, the problems reported, the stream published before the
    edit, whether the rebuilt chain still reaches its head)."""
    store = store_of(segments)
    published = published_stream(store)
    recorded = {envelope["position"]: envelope for envelope in published}
    target = data.draw(st.sampled_from(store), label="edited")
    edited = edit(store, target, **changes(target))
    problems = list(compare_with_store(recorded, rebuilt(edited, data, limit)))
    head = published[-1] if published else {"position": GENESIS_POSITION, "hash": GENESIS_HASH}
    reached = reaches(head["position"], head["hash"], rebuilt(edited, data, limit))
    return target, problems, published, reached


@pytest.mark.properties
@settings(max_examples=scaled(40), deadline=None)
@given(segments=runs, limit=st.integers(1, 40), data=st.data())
def test_verification_is_silent_on_an_untouched_store(segments, limit, data) -> None:
    store = store_of(segments)
    published = published_stream(store)
    walk = ChainWalk()
    assert [p for envelope in published for p in walk.step(envelope)] == []
    recorded = {envelope["position"]: envelope for envelope in published}
    assert list(compare_with_store(recorded, rebuilt(store, data, limit))) == []
    # The same, shown without keeping the stream: the store's chain reaches its head.
    assert reaches(walk.position, walk.hash, rebuilt(store, data, limit)) == bool(published)


@pytest.mark.properties
@settings(max_examples=scaled(40), deadline=None)
@given(segments=runs, limit=st.integers(1, 40), data=st.data())
def test_an_edited_event_is_reported_at_its_position_and_nowhere_else(
        segments, limit, data) -> None:
    target, problems, published, reached = verify_edited(segments, limit, data,
                                                         lambda _: {"on": "2024-01-01"})
    if target.topic == "Reopened":
        assert [(p.position, p.problem) for p in problems] == [
            (target.id, "stored event differs from what was published: payload")]
        assert not reached  # the edit changes every hash from it to the head
    else:
        assert problems == []  # an internal event is not on the chain
        assert reached == bool(published)


@pytest.mark.properties
@settings(max_examples=scaled(40), deadline=None)
@given(segments=runs, limit=st.integers(1, 40), data=st.data())
def test_an_event_edited_past_reading_back_is_reported_at_its_position_and_nothing_after_it(
        segments, limit, data) -> None:
    """A published event's date its contract refuses, or an internal event's time that no
    one can read: the source cannot rebuild its chain past it. Verification names it where
    it is, instead of failing with the error, and calls nothing after it missing."""
    def field(target: Notification) -> str:
        return "on" if target.topic == "Reopened" else "at"

    target, problems, published, reached = verify_edited(
        segments, limit, data, lambda target: {field(target): "not a date"})
    if target.id > (published[-1]["position"] if published else GENESIS_POSITION):
        assert problems == []  # stored after the head: on its way, not yet recorded
        assert reached == bool(published)
    else:
        assert [p.position for p in problems] == [target.id]
        assert problems[0].problem.startswith(
            "the stored event cannot be read back into its envelope: ")
        assert ("ValidationError" if field(target) == "on" else "ValueError") in problems[0].problem
        assert not reached


@pytest.mark.properties
@settings(max_examples=scaled(40), deadline=None)
@given(segments=runs, data=st.data())
def test_a_store_that_lost_its_last_events_does_not_reach_the_head(segments, data) -> None:
    store = store_of(segments)
    published = published_stream(store)
    assume(published)
    last = max(i for i, n in enumerate(store) if n.topic == "Reopened")
    kept = data.draw(st.integers(0, last), label="events the store kept (the last one lost)")
    assert not reaches(published[-1]["position"], published[-1]["hash"],
                       rebuilt(store[:kept], data, 40))


def test_a_page_without_a_published_event_does_not_move_the_chain() -> None:
    # The case that cried wolf: more internal events in a row than a page holds.
    store = store_of([(True, 1, 1), (False, RECOMPUTE_PAGE * 2 + 7, 1), (True, 2, 1)])
    published = published_stream(store)
    recomputed = PUBLICATIONS.recompute(
        lambda after, page: [n for n in store if n.id > after][:page], Mapper(),
        published[0]["position"], published[0]["hash"], 10)
    assert recomputed == published[1:]
    assert recomputed[0]["prev_position"] == published[0]["position"]
