"""The runtime's store additions, as one abstract test case run on SQLite and on PostgreSQL."""

import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from contracts.envelope import GENESIS_HASH
from services.archive.app import ArchiveApplication
from services.runtime.context import Actor, acting_as
from services.runtime.persistence import (
    ChainHead,
    Cursor,
    RelayMoved,
    RelayState,
    derived_transaction,
)
from services.runtime.store import CasebookApplication
from services.runtime.vault import SHREDDED
from tests.support.stores import Examples, Note

WORKER = Actor("worker-1", "social_worker", "JD001")


class StoreTestApplication(CasebookApplication):
    service = "storetest"


def _table(app: CasebookApplication, name: str) -> str:
    schema = app.store_env.get("POSTGRES_SCHEMA")
    return f"{schema}.{name}" if schema else name


def new_note() -> Note:
    with acting_as(WORKER):
        return Note(school_id="JD001", client_id="client-1")


def test_a_cursor_moves_with_the_handlers_events_and_only_from_where_it_was(store):
    app = StoreTestApplication(env=store)
    assert app.cursor("archive").position == 0

    # A handler's events and its cursor are stored together.
    note = new_note()
    app.save_processed(note, cursor=Cursor("archive", 3, "a" * 64, expected_position=0))
    assert app.cursor("archive").position == 3
    assert app.repository.get(note.id).client_id == "client-1"

    # A second worker that started from position 0 too loses, and stores nothing.
    late = new_note()
    with pytest.raises(IntegrityError):
        app.save_processed(late, cursor=Cursor("archive", 3, "b" * 64, expected_position=0))
    assert app.cursor("archive").hash == "a" * 64
    assert app.max_position() == 1

    # If the handler's events cannot be stored, the cursor does not move either.
    first, second = app.repository.get(note.id), app.repository.get(note.id)
    with acting_as(WORKER):
        first.amend("client-2")
        second.amend("client-3")
    app.save(first)
    with pytest.raises(IntegrityError):
        app.save_processed(second, cursor=Cursor("archive", 4, "c" * 64, expected_position=3))
    assert app.cursor("archive").position == 3


def test_published_envelopes_are_returned_exactly_and_the_head_follows(store):
    app = StoreTestApplication(env=store)
    assert app.outbox.relay_state() == RelayState(0, ChainHead(0, GENESIS_HASH), 0)
    envelopes = [
        {"position": 2, "hash": "1" * 64, "payload": {"note": "学生"}},
        {"position": 5, "hash": "2" * 64, "payload": {}},
    ]
    app.outbox.stage_published(envelopes, read_through=6, read_from=0)
    assert app.outbox.published_since(0, 10) == envelopes
    assert app.outbox.published_since(2, 10) == envelopes[1:]
    # Stored, not yet confirmed by the broker: on the broker up to nothing.
    stored = app.outbox.relay_state()
    assert stored == RelayState(6, ChainHead(5, "2" * 64), 0)
    assert stored.unsent and stored.on_the_broker == 0
    # Then confirmed, and never moved back: everything read is on the broker.
    app.outbox.record_sent(5)
    app.outbox.record_sent(2)
    confirmed = app.outbox.relay_state()
    assert confirmed.sent == 5 and not confirmed.unsent and confirmed.on_the_broker == 6


def test_a_relay_that_read_from_an_outdated_position_stores_nothing(store):
    app = StoreTestApplication(env=store)
    app.outbox.stage_published([{"position": 2, "hash": "1" * 64}], read_through=3, read_from=0)
    # A second relay, which read from 0 too, made its own envelope at 4 and at 2.
    with pytest.raises(RelayMoved):
        app.outbox.stage_published([{"position": 4, "hash": "2" * 64}], read_through=4,
                                   read_from=0)
    with pytest.raises(IntegrityError):
        app.outbox.stage_published([{"position": 2, "hash": "3" * 64}], read_through=4,
                                   read_from=3)
    assert app.outbox.published_since(0, 10) == [{"position": 2, "hash": "1" * 64}]
    assert app.outbox.relay_state().read_through == 3


def test_a_store_from_before_envelopes_were_stored_first_counts_them_all_as_sent(store):
    app = StoreTestApplication(env=store)
    app.outbox.stage_published([{"position": 2, "hash": "1" * 64}], read_through=3, read_from=0)
    app.outbox.record_sent(2)
    # What such a store holds: published envelopes and no confirmed position.
    with app.recorder.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
        cursor.execute(f"DELETE FROM {_table(app, 'casebook_sent')}")
    assert app.outbox.relay_state().sent == 2
    app.outbox.stage_published([{"position": 5, "hash": "2" * 64}], read_through=5, read_from=3)
    assert app.outbox.relay_state().sent == 2


def test_a_scan_reads_one_kind_of_event_after_a_position_in_store_order(store):
    app = StoreTestApplication(env=store)
    notes = [new_note() for _ in range(4)]
    with acting_as(WORKER):
        for number, note in enumerate(notes):
            note.amend(f"client-{number}")  # events of another kind, between them in the store
    app.save(*notes)
    scanned = list(app.plain_states(Note.Amended, batch=3))
    assert [state["client_id"] for _, state in scanned] == [f"client-{n}" for n in range(4)]
    positions = [position for position, _ in scanned]
    assert positions == sorted(positions) and len(set(positions)) == 4
    assert all(app.outbox.states_after(get_topic(Note.Amended), 0, 10)[i][0] == position
               for i, position in enumerate(positions))
    later = list(app.plain_states(Note.Amended, after=positions[1], batch=3))
    assert [state["client_id"] for _, state in later] == ["client-2", "client-3"]


class SnapshottingApplication(CasebookApplication):
    service = "storetest"
    name = StoreTestApplication.name  # the same tables (PostgreSQL names them by it)
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Note: 3}


def test_an_aggregate_is_read_from_its_newest_snapshot_exactly(store):
    app = SnapshottingApplication(env=store)
    note = new_note()
    with acting_as(WORKER):
        for number in range(4):
            note.amend(f"client-{number}")
    app.save(note)
    assert [s.originator_version for s in app.snapshots.get(note.id)] == [3]
    read = app.repository.get(note.id)
    assert read.version == 5 and read.client_id == "client-3"
    # A store without snapshots reads the same aggregate from its events alone.
    assert vars(StoreTestApplication(env=store).repository.get(note.id)) == vars(read)


def test_shredding_a_subject_destroys_their_sealed_content_only(store):
    app = StoreTestApplication(env=store)
    kept = app.vault.seal("client-1", {"name": "王小明"})
    other = app.vault.seal("client-2", "李华")
    assert app.vault.open(kept) == {"name": "王小明"}

    assert app.vault.shred("client-1") is True
    assert app.vault.open(kept) == SHREDDED
    assert app.vault.open(other) == "李华"
    assert app.vault.shred("client-1") is False  # nothing left to destroy


def test_destroyed_keys_are_counted_once_each(store):
    app = StoreTestApplication(env=store)
    app.vault.seal("client-1", "王小明")
    app.vault.seal("client-2", "李华")
    assert app.outbox.shredded_key_count() == 0
    app.vault.shred("client-1")
    app.vault.shred("client-1")
    assert app.outbox.shredded_key_count() == 1
    app.vault.shred("client-3")  # a subject with nothing sealed yet is shredded for good too
    assert app.outbox.shredded_key_count() == 2


def test_stored_state_is_unreadable_without_the_cipher_key(store):
    from eventsourcing.cryptography import AESCipher

    key = AESCipher.create_key(32)
    app = StoreTestApplication(env={**store, "CIPHER_KEY": key})
    note = new_note()
    app.save(note)
    raw = app.recorder.select_notifications(start=1, limit=1)[0].state
    assert b"client-1" not in raw
    assert app.repository.get(note.id).client_id == "client-1"

    wrong = StoreTestApplication(env={**store, "CIPHER_KEY": AESCipher.create_key(32)})
    with pytest.raises(ValueError):
        wrong.repository.get(note.id)


def _durability(app: CasebookApplication, cursor: Any) -> str:
    """How the transaction of `cursor` commits: waiting for the disk or not."""
    if "POSTGRES_SCHEMA" in app.store_env:
        cursor.execute("SHOW synchronous_commit")
        return {"on": "durable", "off": "not waited for"}[cursor.fetchone()["synchronous_commit"]]
    cursor.execute("PRAGMA synchronous")
    return {2: "durable", 1: "not waited for"}[cursor.fetchone()[0]]


def test_a_derived_transaction_commits_without_waiting_for_the_disk_and_only_itself(store):
    app = StoreTestApplication(env=store)
    datastore = app.recorder.datastore
    sent = _table(app, "casebook_sent")
    with derived_transaction(datastore) as cursor:
        assert _durability(app, cursor) == "not waited for"
        cursor.execute(f"INSERT INTO {sent} VALUES (1, 7)")
    with pytest.raises(RuntimeError), derived_transaction(datastore) as cursor:
        cursor.execute(f"UPDATE {sent} SET position = 9")
        raise RuntimeError("a handler failed")
    # Every transaction after it waits for the disk again, whichever connection it takes.
    for _ in range(3):
        with datastore.transaction(commit=True) as cursor:
            assert _durability(app, cursor) == "durable"
    assert app.outbox.relay_state().sent == 7  # committed; the failed one rolled back


def test_a_cursor_moved_with_no_events_is_derived_and_still_moves_only_from_where_it_was(store):
    app = StoreTestApplication(env=store)
    seen: list[str] = []

    def learn(cursor: Any) -> None:
        seen.append(_durability(app, cursor))

    # An envelope the handler only learned from, or ignored: nothing of the record.
    app.save(cursor=Cursor("archive", 3, "a" * 64, expected_position=0), learn=learn)
    with pytest.raises(IntegrityError):
        app.save(cursor=Cursor("archive", 4, "b" * 64, expected_position=0), learn=learn)
    assert app.cursor("archive") == ChainHead(3, "a" * 64)
    # With the handler's events, the cursor waits for the disk with them.
    app.save(new_note(), cursor=Cursor("archive", 5, "c" * 64, expected_position=3),
             learn=learn)
    assert seen == ["not waited for", "durable"]  # the refused move stopped before learning
    assert app.cursor("archive") == ChainHead(5, "c" * 64)
    assert app.max_position() == 1


# What a process does on start: open its service's store, making its schema and tables if new.
OPEN_A_STORE = """
import sys, orjson
from services.archive.app import ArchiveApplication
ArchiveApplication(env=orjson.loads(sys.stdin.buffer.read())).close()
"""


def test_processes_starting_together_on_a_new_store_take_turns_making_it(store):
    # Two instances of a service started at once on a new database, or the processes of
    # `casebook verify`. Before they took turns, PostgreSQL failed some of them ("tuple
    # concurrently updated") in nearly every round, and SQLite in about one round in four.
    stores = Examples(ArchiveApplication, store)
    try:
        for _ in range(4):
            job = orjson.dumps(stores.env())
            opening = [subprocess.Popen([sys.executable, "-c", OPEN_A_STORE],
                                        cwd=Path(__file__).resolve().parents[2],
                                        stdin=subprocess.PIPE, stderr=subprocess.PIPE)
                       for _ in range(4)]
            for process in opening:  # all started before any is handed its store
                process.stdin.write(job)
                process.stdin.close()
            said = [(process.stderr.read().decode(), process.wait()) for process in opening]
            assert [code for _, code in said] == [0] * 4, said
    finally:
        stores.drop()
