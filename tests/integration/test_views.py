"""The views machinery (services/runtime/views.py) on SQLite and PostgreSQL: each event applied
once and in order, also across a crash between a command and its view update and with two
instances catching up at once; a caller reads its own writes; a rebuild finds a row changed by
hand, exactly, and a swap puts the rebuilt tables in place."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.domain import event
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import resolve_topic

from services.runtime.context import SYSTEM, Actor, acting_as
from services.runtime.domain import CasebookAggregate
from services.runtime.persistence import Cursor, CursorMoved
from services.runtime.store import CasebookApplication
from services.runtime.views import (
    REBUILD_SUFFIX,
    Table,
    Transaction,
    Views,
    ViewStore,
    compare,
    projects,
    swap,
)
from tests.support.stores import PG
from tests.support.views import full_scans, statements_of

WORKER = Actor("worker-1", "social_worker", "JD001")


class Tally(CasebookAggregate):
    @event("Started")
    def __init__(self, school_id: str, label: str) -> None:
        self.school_id = school_id
        self.label = label
        self.count = 0

    @event("Counted")
    def count_one(self) -> None:
        self.count += 1


class TallyViews(Views):
    tables = (Table("tally", "tally_id TEXT NOT NULL, school_id TEXT NOT NULL, "
                             "label TEXT NOT NULL, counted BIGINT NOT NULL",
                    key=("tally_id",), indexes=(("school_id", "label"),)),)
    learned = (Table("heard", "position BIGINT NOT NULL, said TEXT NOT NULL",
                     key=("position",)),)

    @projects(Tally.Started)  # type: ignore[attr-defined]
    def started(self, tx: Transaction, event: Any) -> None:
        tx.insert("tally", tally_id=str(event.originator_id), school_id=event.meta["school_id"],
                  label=event.label, counted=0)

    @projects(Tally.Counted)  # type: ignore[attr-defined]
    def counted(self, tx: Transaction, event: Any) -> None:
        tx.execute("UPDATE {tally} SET counted = counted + 1 WHERE tally_id = :tally_id",
                   tally_id=str(event.originator_id))


class Tallies(CasebookApplication):
    service = "tallies"
    views_class = TallyViews

    def start(self, label: str) -> str:
        tally = Tally(school_id="JD001", label=label)
        self.save(tally)
        return str(tally.id)

    def count(self, tally_id: str) -> None:
        tally = self.get_aggregate(Tally, tally_id, "tally")
        tally.count_one()
        self.save(tally)

    def counted(self, tally_id: str) -> int:
        assert self.views is not None
        row = self.views.store.one("SELECT counted FROM {tally} WHERE tally_id = :tally_id",
                             tally_id=tally_id)
        return -1 if row is None else int(row["counted"])


class HeldTallyViews(Views):
    """The tallies' views, counted through the rows a batch holds (`get`, `update`)."""

    tables = TallyViews.tables
    started = TallyViews.started

    @projects(Tally.Counted)  # type: ignore[attr-defined]
    def counted(self, tx: Transaction, event: Any) -> None:
        row = tx.get("tally", tally_id=str(event.originator_id))
        assert row is not None
        tx.update("tally", {"tally_id": row["tally_id"]}, counted=row["counted"] + 1)


class HeldTallies(Tallies):
    views_class = HeldTallyViews


def tallies(store: dict[str, str]) -> Tallies:
    return Tallies(env=store)


def test_a_caller_reads_its_own_writes_and_each_event_is_applied_once(store) -> None:
    app = tallies(store)
    with acting_as(WORKER):
        tally = app.start("visits")
        for _ in range(3):
            app.count(tally)
    assert app.counted(tally) == 3
    assert app.views is not None
    assert app.views.store.position() == app.max_position()
    # Catching up again applies nothing twice.
    assert app.views.store.catch_up() == 0
    assert app.counted(tally) == 3


def test_views_killed_between_a_command_and_their_update_catch_up_once(store, monkeypatch):
    crashed = tallies(store)
    # The process dies after each command committed, before its views were updated.
    monkeypatch.setattr(crashed, "follow", lambda *_: None)
    with acting_as(WORKER):
        tally = crashed.start("visits")
        crashed.count(tally)
        crashed.count(tally)
    assert crashed.counted(tally) == -1
    # On restart the views catch up: every event once.
    restarted = tallies(store)
    restarted.follow()
    assert restarted.counted(tally) == 2
    restarted.follow()
    assert restarted.counted(tally) == 2


def test_two_instances_catching_up_at_once_apply_each_event_once(store) -> None:
    first, second = tallies(store), tallies(store)
    with acting_as(WORKER):
        tally = first.start("visits")
    for _ in range(20):
        with acting_as(WORKER):
            (first if _ % 2 else second).count(tally)
    first.follow()
    second.follow()
    assert first.counted(tally) == second.counted(tally) == 20


def test_a_save_is_applied_from_its_own_notifications_when_the_views_stand_right_before_it(
        store, monkeypatch) -> None:
    app = tallies(store)
    assert app.views is not None
    reads: list[int] = []
    read = app.views.store.read
    monkeypatch.setattr(app.views.store, "read",
                        lambda position, limit: reads.append(position) or read(position, limit))
    with acting_as(WORKER):
        tally = app.start("visits")
        app.count(tally)
    assert app.counted(tally) == 1 and reads == []  # nothing read back from the log

    # Views behind (their update lost in a crash): the next save catches up all of it.
    monkeypatch.setattr(app, "follow", lambda *_: None)
    with acting_as(WORKER):
        app.count(tally)
    monkeypatch.undo()
    with acting_as(WORKER):
        app.count(tally)
    assert app.counted(tally) == 3
    assert app.views.store.position() == app.max_position()


def test_a_batch_another_instance_applied_part_of_meanwhile_is_read_again(store) -> None:
    first, second = tallies(store), tallies(store)
    assert first.views is not None and second.views is not None
    with acting_as(WORKER):
        tally = first.start("visits")
    first.follow = second.follow = lambda *_: None  # type: ignore[method-assign]
    for _ in range(5):
        with acting_as(WORKER):
            first.count(tally)
    position = first.views.store.position()
    read = second.views.store.read

    def read_then_lose_the_race(after: int, limit: int) -> Any:
        notifications = read(after, limit)
        if after == position:
            # Between the second's reading and its applying, the first applies part of it.
            assert first.views is not None
            first.views.store.catch_up(upto=position + 3)
        return notifications

    second.views.store.read = read_then_lose_the_race  # type: ignore[method-assign]
    assert second.views.store.catch_up() == 2  # all five were read; only the last two applied
    assert first.counted(tally) == second.counted(tally) == 5


def test_a_handler_that_fails_leaves_the_views_behind_and_the_next_catch_up_applies_it(
        store, monkeypatch, caplog) -> None:
    app = tallies(store)
    assert app.views is not None
    with acting_as(WORKER):
        tally = app.start("visits")

    def broken(self: TallyViews, tx: Transaction, event: Any) -> None:
        raise IntegrityError("a view's own constraint")  # not another instance: no retry
    monkeypatch.setattr(TallyViews, "counted", broken)
    with acting_as(WORKER):
        app.count(tally)  # the command stands; its view update is logged, not retried
    assert "could not follow the log" in caplog.text
    assert app.counted(tally) == 0 and app.views.store.position() < app.max_position()

    monkeypatch.undo()
    app.follow()
    assert app.counted(tally) == 1


def test_a_rebuild_finds_a_row_changed_by_hand_and_a_swap_replaces_it(store, tmp_path):
    app = tallies(store)
    with acting_as(WORKER):
        tallies_ = [app.start(f"t{n}") for n in range(3)]
        for tally in tallies_:
            app.count(tally)
    assert app.views is not None
    position, found = compare(app.views.store, app.views.store.fresh())
    assert found == [] and position == app.max_position()
    # Someone edits a row of the live view by hand.
    edit(store, tmp_path, tallies_[1], counted=7)
    _, found = compare(app.views.store, fresh := app.views.store.fresh())
    assert found == [{"table": "tally", "key": [tallies_[1]], "column": "counted",
                      "live": 7, "rebuilt": 1}]
    # Swapped in, the rebuilt tables serve, and keep following the log.
    swap(app.views.store, fresh)
    assert app.counted(tallies_[1]) == 1
    with acting_as(WORKER):
        app.count(tallies_[1])
    assert app.counted(tallies_[1]) == 2
    assert compare(app.views.store, app.views.store.fresh())[1] == []


class TallyBySchoolViews(TallyViews):
    """Counting also stamps the school's every tally, found by the (school_id, label) index."""

    @projects(Tally.Counted)  # type: ignore[attr-defined]
    def counted(self, tx: Transaction, event: Any) -> None:
        tx.execute("UPDATE {tally} SET counted = counted + 1 WHERE tally_id = :tally_id",
                   tally_id=str(event.originator_id))
        tx.execute("UPDATE {tally} SET label = label WHERE school_id = :school_id",
                   school_id=event.meta["school_id"])


def test_tables_filled_afresh_have_only_their_lookups_until_the_whole_log_is_applied(tmp_path):
    """A rebuild's fresh tables, and live ones an upgrade changed, carry the indexes their
    projection finds rows by, and the others once a catch-up has read the whole log (`swap`
    makes them under the live names); a new store's empty log makes them at once. A statement
    of a handler that finds rows by an index not declared a lookup is a scan of the table in a
    rebuild, and the check that every service's views are held to reports it."""

    def indexes_of(home: Path, table: str) -> set[str]:
        with sqlite3.connect(home / "tallies.sqlite") as conn:
            return {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL", (table,))}

    def made(views: type[Views], home: Path) -> Tallies:
        class Tallies_(Tallies):
            views_class = views
        return Tallies_(env={"CASEBOOK_DATA_DIR": str(home)})

    for lookups, scans in (((), 1), ((("school_id", "label"),), 0)):
        class Views_(TallyBySchoolViews):
            tables = (replace(TallyViews.tables[0], lookups=lookups),)

        home = tmp_path / f"declared-{len(lookups)}"
        app = made(Views_, home)
        assert indexes_of(home, "tally") == {"tally_0"}  # an empty log: made at once
        with acting_as(WORKER):
            for label in ("a", "b"):
                app.count(app.start(label))
        assert app.views is not None
        for _ in range(2):  # the second rebuild finds the first's record of its tables gone
            fresh = app.views.store.fresh()
            assert indexes_of(home, "tally__rebuilt") == (
                {"tally__rebuilt_0"} if lookups else set())
            with statements_of(fresh) as ran:
                assert compare(app.views.store, fresh)[1] == []
            assert len(full_scans(fresh, ran)) == scans, full_scans(fresh, ran)
            fresh.catch_up()
            assert indexes_of(home, "tally__rebuilt") == {"tally__rebuilt_0"}
        swap(app.views.store, fresh)
        assert indexes_of(home, "tally") == {"tally_0"}
        app.close()

    # An upgrade adds an index: the live tables are made afresh and filled from the log.
    class Upgraded(TallyViews):
        tables = (replace(TallyViews.tables[0], indexes=(("school_id", "label"), ("label",)),
                          lookups=(("label",),)),)

    upgraded = made(Upgraded, tmp_path / "declared-1")
    assert indexes_of(tmp_path / "declared-1", "tally") == {"tally_1"}
    assert upgraded.views is not None
    upgraded.views.store.catch_up()
    assert indexes_of(tmp_path / "declared-1", "tally") == {"tally_0", "tally_1"}
    assert upgraded.views.store.select("SELECT label, counted FROM {tally} ORDER BY label") == [
        {"label": "a", "counted": 1}, {"label": "b", "counted": 1}]


def edit(store: dict[str, str], tmp_path: Path, tally_id: str, counted: int) -> None:
    """Change a view row behind the service's back."""
    if "POSTGRES_SCHEMA" in store:
        with psycopg.connect(dbname=PG["POSTGRES_DBNAME"], host=PG["POSTGRES_HOST"],
                             port=PG["POSTGRES_PORT"], user=PG["POSTGRES_USER"],
                             password=PG["POSTGRES_PASSWORD"], autocommit=True) as conn:
            conn.execute(f'UPDATE "{store["POSTGRES_SCHEMA"]}"."tally" SET counted = %s '
                         "WHERE tally_id = %s", (counted, tally_id))
        return
    with sqlite3.connect(tmp_path / "var" / "tallies.sqlite") as conn:
        conn.execute("UPDATE tally SET counted = ? WHERE tally_id = ?", (counted, tally_id))


def test_what_is_learned_from_another_service_is_kept_with_the_cursor(store) -> None:
    app = tallies(store)

    def hear(position: int, said: str, expected: int) -> None:
        with acting_as(SYSTEM):
            app.save_processed(
                cursor=Cursor("cases", position, f"{position:064x}", expected),
                learn=lambda tx: tx.insert("heard", position=position, said=said))

    hear(1, "opened", 0)
    hear(2, "closed", 1)
    # A second instance racing on the same envelope: its cursor has moved, nothing is learned.
    with pytest.raises(CursorMoved):
        hear(2, "closed again", 1)
    assert app.views is not None
    assert app.views.store.select("SELECT said FROM {heard} ORDER BY position") == [
        {"said": "opened"}, {"said": "closed"}]
    assert app.cursor("cases").position == 2
    # Learned rows are not the service's own log: a rebuild neither makes nor compares them.
    with acting_as(WORKER):
        app.start("visits")
    assert compare(app.views.store, app.views.store.fresh())[1] == []


@pytest.mark.parametrize("application", [
    "services.cases.app:CasesApplication", "services.archive.app:ArchiveApplication",
    "services.resources.app:ResourcesApplication",
    "services.supervision.app:SupervisionApplication"])
def test_every_column_of_every_view_table_is_known_by_name(store, application) -> None:
    """A batch answers a row it holds to insert only when it holds every column: the names
    read from each table's declaration are the columns the store made."""
    app = resolve_topic(application)(env=store)
    view_store = app.views.store
    with view_store.datastore.transaction(commit=False) as cursor:
        for name, declared in view_store.column_names.items():
            cursor.execute(f"SELECT * FROM {view_store.qualified(name)} LIMIT 0")
            made = getattr(cursor, "sqlite_cursor", cursor).description  # eventsourcing wraps
            assert declared == {column[0] for column in made}, name


class StepViews(Views):
    tables = (Table("step", "kind TEXT NOT NULL, item_id TEXT NOT NULL, since TEXT NOT NULL",
                    key=("kind", "item_id")),)


class Steps(CasebookApplication):
    service = "steps"
    views_class = StepViews


class CountingCursor:
    """A database cursor that counts the statements run through it."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.statements = 0

    def execute(self, *args: Any) -> Any:
        self.statements += 1
        return self.cursor.execute(*args)

    def executemany(self, *args: Any) -> Any:
        self.statements += 1
        return self.cursor.executemany(*args)

    def fetchone(self) -> Any:
        return self.cursor.fetchone()

    def fetchall(self) -> Any:
        return self.cursor.fetchall()


def test_a_batch_holds_deletions_by_key_and_writes_them_before_its_inserts(store) -> None:
    app = Steps(env=store)
    assert app.views is not None
    views = app.views.store
    with views.datastore.transaction(commit=True) as cursor:
        plain = Transaction(views, cursor)
        for kind, item_id in (("a", "1"), ("b", "1"), ("a", "2")):
            plain.insert("step", kind=kind, item_id=item_id, since="old")
    with views.datastore.transaction(commit=True) as cursor:
        counting = CountingCursor(cursor)
        tx = Transaction(views, counting, batch=True)
        assert tx.get("step", kind="a", item_id="1") == {"kind": "a", "item_id": "1",
                                                         "since": "old"}
        read = counting.statements
        # Deleted and inserted again at its key, then changed: held, in that order.
        tx.delete("step", kind="a", item_id="1")
        assert tx.get("step", kind="a", item_id="1") is None
        tx.insert("step", kind="a", item_id="1", since="new")
        tx.update("step", {"kind": "a", "item_id": "1"}, since="newer")
        # Inserted and deleted in the batch: never written.
        tx.insert("step", kind="c", item_id="3", since="new")
        tx.delete("step", kind="c", item_id="3")
        assert tx.get("step", kind="c", item_id="3") is None
        tx.delete("step", kind="b", item_id="1")
        assert tx.get("step", kind="b", item_id="1") is None
        assert counting.statements == read  # all of it held until the flush
        tx.flush()
    assert views.select("SELECT * FROM {step} ORDER BY kind, item_id") == [
        {"kind": "a", "item_id": "1", "since": "newer"},
        {"kind": "a", "item_id": "2", "since": "old"},
    ]


def test_a_row_a_batch_inserts_and_then_changes_is_written_once_as_changed(store) -> None:
    app = Steps(env=store)
    assert app.views is not None
    views = app.views.store
    with views.datastore.transaction(commit=True) as cursor:
        counting = CountingCursor(cursor)
        tx = Transaction(views, counting, batch=True)
        tx.insert("step", kind="a", item_id="1", since="new")
        tx.update("step", {"kind": "a", "item_id": "1"}, since="newer")
        tx.update("step", {"kind": "a", "item_id": "1"}, since="newest")
        assert tx.get("step", kind="a", item_id="1")["since"] == "newest"
        tx.flush()
        assert counting.statements == 1  # the insert, as the row last stood: no update
    assert views.select("SELECT * FROM {step}") == [
        {"kind": "a", "item_id": "1", "since": "newest"}]


def counted_tallies(store: dict[str, str]) -> tuple[HeldTallies, list[str]]:
    """Three tallies, each counted three times, one save each: 12 events."""
    app = HeldTallies(env=store)
    with acting_as(WORKER):
        started = [app.start(f"tally {n}") for n in range(3)]
        for _ in range(3):
            for tally in started:
                app.count(tally)
    return app, started


def test_a_filling_catch_up_reads_back_no_row_an_earlier_batch_wrote(store, monkeypatch):
    app, _ = counted_tallies(store)
    assert app.views is not None
    monkeypatch.setattr("services.runtime.views.FILLING_BATCH", 2)
    fresh = app.views.store.fresh()
    try:
        with statements_of(fresh) as ran:
            assert fresh.catch_up() == 12  # in six batches
        # Each tally was counted in later batches than the one it started in: no row was
        # read by key (`Transaction.get`, `prefetch`).
        assert [sql for sql in ran if sql.startswith("SELECT * FROM")] == []
        assert compare(app.views.store, fresh) == (app.max_position(), [])
    finally:
        fresh.drop()


def test_rows_kept_for_the_next_batch_are_dropped_when_another_applier_wrote(store,
                                                                            monkeypatch):
    app, started = counted_tallies(store)
    assert app.views is not None
    monkeypatch.setattr("services.runtime.views.FILLING_BATCH", 2)
    fresh = app.views.store.fresh()
    try:
        fresh.catch_up(upto=6)  # keeps its rows at position 6
        # Another instance applies the next four (the same tables, following the log).
        other = ViewStore(fresh.name, HeldTallyViews(), fresh.datastore, fresh.read,
                          fresh.mapper, REBUILD_SUFFIX)
        assert other.catch_up(upto=10) == 4
        fresh.catch_up()
        assert compare(app.views.store, fresh) == (app.max_position(), [])
        assert [fresh.one("SELECT counted FROM {tally} WHERE tally_id = :tally_id",
                          tally_id=tally) for tally in started] == [{"counted": 3}] * 3
    finally:
        fresh.drop()


def test_a_batch_keeps_no_row_changed_to_a_value_the_store_gives_back_otherwise(store) -> None:
    app = tallies(store)
    assert app.views is not None
    views = app.views.store
    with views.datastore.transaction(commit=True) as cursor:
        for tally_id in ("plain", "float"):
            Transaction(views, cursor).insert("tally", tally_id=tally_id, school_id="JD001",
                                              label="visits", counted=0)
    with views.datastore.transaction(commit=True) as cursor:
        tx = Transaction(views, cursor, batch=True)
        tx.prefetch("tally", ["plain", "float"])
        tx.update("tally", {"tally_id": "plain"}, counted=2)
        tx.update("tally", {"tally_id": "float"}, counted=2.0)  # stored as 2, read back so
        tx.flush()
        kept = tx.kept()
    assert kept is not None
    assert kept["tally"] == {("plain",): {"tally_id": "plain", "school_id": "JD001",
                                          "label": "visits", "counted": 2}}
    assert views.one("SELECT counted FROM {tally} WHERE tally_id = 'float'") == {"counted": 2}


def test_a_service_stops_following_its_log_itself_so_nameko_kills_no_thread(amqp_uri, caplog):
    """A container that stops kills (and warns of) each managed thread still running: the views'
    follower ends with its service's stop, after the catch-up it is in."""
    from services.cases.service import CasesService
    from tests.support.services import running

    with caplog.at_level(logging.WARNING, logger="nameko.containers"), running(
            amqp_uri, CasesService) as runner:
        (container,) = runner.containers
        assert len(container._managed_threads) >= 2  # the relay and the views' follower
    assert [record.getMessage() for record in caplog.records
            if record.name == "nameko.containers"] == []
