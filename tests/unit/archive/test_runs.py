"""The ledger takes its sources in runs (one transaction each, as the subscription delivers
them): whatever the runs, the archive must end exactly as if each envelope had come alone."""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.envelope import GENESIS_HASH
from services.archive.app import ArchiveApplication
from services.archive.files import ArchiveFile, file_id
from services.archive.publish import PUBLICATIONS
from services.runtime.clock import clock
from services.runtime.context import SYSTEM, Actor, acting_as
from services.runtime.persistence import Cursor, CursorMoved
from services.runtime.store import CasebookApplication
from tests.support.examples import scaled
from tests.unit.archive.streams import CasesStream, at, feed, feed_runs

AUDITOR = Actor("auditor-1", "auditor")
SCHOOLS = ("JD001", "JD002")

# One step of a school's work, as a cases stream says it.
steps = st.lists(st.tuples(
    st.sampled_from(["register", "register_adult", "open", "intervene", "close", "letter",
                     "evaluate"]),
    st.integers(min_value=0, max_value=3),  # which client / case
    st.sampled_from(SCHOOLS),
), min_size=1, max_size=30)


def _stream(plan: list[tuple[str, int, str]]) -> list[dict[str, Any]]:
    cases = CasesStream()
    cases_by_client: dict[int, str] = {}
    envelopes = []
    for number, (step, client, school) in enumerate(plan):
        cases.school_id = school
        client_id = f"client-{school}-{client}"
        case_id = cases_by_client.get(client)
        if step == "register":
            envelopes.append(cases.register_client(client_id, grade=client + 1))
        elif step == "register_adult":
            envelopes.append(cases.register_client(client_id, grade=None, is_minor=False,
                                                   client_type="family"))
        elif step == "open" or case_id is None:
            opened = cases.open_case(client_id, opened_on=date(2026 + client % 2, 9, 1))
            cases_by_client[client] = opened["aggregate_id"]
            envelopes.append(opened)
        elif step == "intervene":
            envelopes.append(cases.intervene(case_id))
        elif step == "close":
            envelopes.append(cases.close_case(case_id))
        elif step == "evaluate":
            envelopes.append(cases.evaluate(case_id))
        else:
            envelopes.append(cases.emit("LetterReceived", {
                "letter_id": f"letter-{number}", "anonymous": True,
                "received_on": "2026-09-04", "service_codes": []}))
    return envelopes


def _runs(envelopes: list[dict[str, Any]], cuts: list[int]) -> list[list[dict[str, Any]]]:
    edges = sorted({0, len(envelopes), *(cut % (len(envelopes) + 1) for cut in cuts)})
    return [envelopes[start:end] for start, end in pairwise(edges)]


def _what_the_archive_holds(app: ArchiveApplication) -> dict[str, Any]:
    with acting_as(AUDITOR):
        ledger = app.list_ledger("cases", limit=500)["items"]
        report = app.verify_ledger()
    files = {}
    for school in SCHOOLS:
        with acting_as(Actor("archivist-1", "archivist", school)):
            files[school] = app.list_files(limit=500)["items"]
    # What the archive publishes of it: every event in order, each naming the envelope that
    # caused it; times and the archive's own ids aside (the clock is not the same twice).
    published = [
        (e["type"], e["aggregate_version"], e["causation_id"],
         {k: v for k, v in e["payload"].items() if not k.endswith("_at")})
        for e in PUBLICATIONS.envelopes(app.mapper, app.notifications_after(0, 10_000), 0,
                                        GENESIS_HASH)
    ]
    return {"ledger": [(e["position"], e["hash"]) for e in ledger], "ok": report["ok"],
            "files": {school: [{k: v for k, v in f.items() if not k.endswith("_at")}
                               for f in items] for school, items in files.items()},
            "published": published, "cursor": app.cursor("cases")}


@pytest.mark.properties
@settings(max_examples=scaled(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=steps, cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=8))
def test_runs_of_any_length_leave_the_archive_as_one_envelope_at_a_time_does(plan, cuts):
    clock.set(at(2026, 9, 1))
    envelopes = _stream(plan)
    alone = ArchiveApplication(env={"SQLITE_DBNAME": ":memory:"})
    in_runs = ArchiveApplication(env={"SQLITE_DBNAME": ":memory:"})
    feed(alone, *envelopes)
    feed_runs(in_runs, *_runs(envelopes, cuts))
    assert _what_the_archive_holds(in_runs) == _what_the_archive_holds(alone)


def test_two_files_opened_in_one_run_get_consecutive_numbers_and_the_adult_no_majority():
    clock.set(at(2026, 9, 1))
    cases = CasesStream()
    run = [cases.register_client("parent-1", grade=None, is_minor=False, client_type="family"),
           cases.open_case("parent-1"), cases.register_client("pupil-1", grade=3),
           cases.open_case("pupil-1")]
    app = ArchiveApplication(env={"SQLITE_DBNAME": ":memory:"})
    feed_runs(app, run)
    with acting_as(Actor("archivist-1", "archivist", "JD001")):
        files = {f["file_code"]: f for f in app.list_files()["items"]}
    assert sorted(files) == ["JD001-2026-GA-0001", "JD001-2026-GA-0002"]
    # Learned in the same run, before the views held it: the adult's file has no majority
    # date, the pupil's (grade 3 in 2026) one in the future.
    assert files["JD001-2026-GA-0001"]["majority_on"] is None
    assert files["JD001-2026-GA-0002"]["majority_on"] > "2030-01-01"
    # Each opening names the envelope that caused it, not the run's last one.
    published = PUBLICATIONS.envelopes(app.mapper, app.notifications_after(0, 100), 0,
                                       GENESIS_HASH)
    assert [(e["causation_id"], e["correlation_id"]) for e in published
            if e["type"] == "ArchiveFileOpened"] == [
        (run[1]["id"], run[1]["correlation_id"]), (run[3]["id"], run[3]["correlation_id"])]


def test_a_run_planned_from_a_cursor_another_worker_moved_is_refused_and_changes_nothing():
    cases = CasesStream()
    first, second, third = cases.open_case("a"), cases.intervene("x"), cases.open_case("b")
    app = ArchiveApplication(env={"SQLITE_DBNAME": ":memory:"})
    feed(app, first, second)  # another instance got these two first
    stored = app.max_position()
    with acting_as(SYSTEM), pytest.raises(CursorMoved):
        app.record_envelopes([first, second, third],
                             Cursor("cases", third["position"], third["hash"], 0))
    assert app.max_position() == stored
    assert app.cursor("cases").position == second["position"]
    # Planned again from where the cursor is, the rest goes in.
    feed_runs(app, [first, second, third])
    assert app.cursor("cases").position == third["position"]


def _files_read(app: ArchiveApplication, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The archive files `app` reads from its store from now on, by id, as it reads them."""
    reads: list[str] = []

    def find_aggregate(kind: type[Any], aggregate_id: Any) -> Any:
        if kind is ArchiveFile:
            reads.append(str(aggregate_id))
        return CasebookApplication.find_aggregate(app, kind, aggregate_id)

    monkeypatch.setattr(app, "find_aggregate", find_aggregate)
    return reads


def _entries(app: ArchiveApplication, case_id: str) -> list[tuple[str, int]]:
    with acting_as(Actor("archivist-1", "archivist", "JD001")):
        file = app.find_file("cases", case_id)
    # Filed by section: an entry of two sections is in both.
    return sorted({(entry["type"], entry["position"])
                   for section in file["contents"].values() for entry in section},
                  key=lambda entry: entry[1])


def test_a_file_is_read_from_the_store_once_while_its_record_goes_on(monkeypatch):
    cases = CasesStream()
    opened = cases.open_case("pupil-1")
    app = ArchiveApplication(env={"SQLITE_DBNAME": ":memory:"})
    reads = _files_read(app, monkeypatch)
    feed(app, opened, cases.accept_intake(opened["aggregate_id"]),
         *(cases.intervene(opened["aggregate_id"]) for _ in range(3)))
    # Looked for once, when the opening found no file; every later run indexes the file the
    # run before it stored.
    assert reads == [str(file_id("cases", opened["aggregate_id"]))]
    assert [position for _, position in _entries(app, opened["aggregate_id"])] == [1, 2, 3, 4, 5]


def test_a_file_changed_by_a_command_between_runs_is_read_again_and_keeps_both(monkeypatch):
    cases = CasesStream()
    opened = cases.open_case("pupil-1")
    case_id = opened["aggregate_id"]
    app = ArchiveApplication(env={"SQLITE_DBNAME": ":memory:"})
    feed(app, opened, cases.intervene(case_id))
    file = str(file_id("cases", case_id))
    with acting_as(Actor("archivist-1", "archivist", "JD001")):
        app.place_legal_hold(file, "hold-1", "court", "(2037) 京0105民初123号")
    reads = _files_read(app, monkeypatch)
    feed(app, cases.intervene(case_id))
    # The run indexed the file as it had stored it, without the hold: that conflicted on the
    # file's version, and the run was made again from the store.
    assert reads == [file]
    with acting_as(Actor("archivist-1", "archivist", "JD001")):
        described = app.get_file(file)
    assert [hold["hold_id"] for hold in described["legal_holds"]] == ["hold-1"]
    assert described["version"] == 5  # opened, indexed twice, held, indexed
    assert [position for _, position in _entries(app, case_id)] == [1, 2, 3]


def test_two_instances_taking_turns_index_a_file_in_order(tmp_path):
    cases = CasesStream()
    opened = cases.open_case("pupil-1")
    case_id = opened["aggregate_id"]
    database = {"SQLITE_DBNAME": str(tmp_path / "archive.sqlite")}
    first, second = ArchiveApplication(env=database), ArchiveApplication(env=database)
    feed(first, opened, cases.intervene(case_id))
    feed(second, cases.intervene(case_id))  # the first's file is stale from here
    feed(first, cases.intervene(case_id), cases.evaluate(case_id))
    feed(second, cases.close_case(case_id))
    for app in (first, second):
        assert _entries(app, case_id) == [
            ("CaseOpened", 1), ("InterventionLogged", 2), ("InterventionLogged", 3),
            ("InterventionLogged", 4), ("EvaluationRecorded", 5), ("CaseClosed", 6)]
        with acting_as(AUDITOR):
            assert app.verify_ledger()["ok"]


def test_a_run_that_fails_leaves_nothing_of_itself_in_the_files_the_next_run_indexes(
        monkeypatch):
    cases = CasesStream()
    opened = cases.open_case("pupil-1")
    case_id = opened["aggregate_id"]
    app = ArchiveApplication(env={"SQLITE_DBNAME": ":memory:"})
    feed(app, opened)
    lost = cases.intervene(case_id)

    def fail(*_: Any, **__: Any) -> None:
        raise OSError("the disk went away")

    with monkeypatch.context() as patched:
        patched.setattr(app, "save_processed", fail)
        with pytest.raises(OSError):
            feed(app, lost)
    feed(app, lost, cases.intervene(case_id))
    assert [position for _, position in _entries(app, case_id)] == [1, 2, 3]
