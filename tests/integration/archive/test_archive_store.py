"""The archive's ledger, files and checkpoints on both stores (SQLite and PostgreSQL)."""

import pytest
from eventsourcing.application import project_aggregate

from contracts.errors import Conflict
from services.archive.app import ArchiveApplication
from services.archive.files import ArchiveFile, file_id
from services.runtime.clock import clock
from services.runtime.context import Actor, acting_as
from tests.unit.archive.streams import CasesStream, at, feed

AUDITOR = Actor("auditor-1", "auditor")
ARCHIVIST = Actor("archivist-1", "archivist", "JD001")


def test_files_checkpoints_and_verification_on_each_store(store, monkeypatch):
    monkeypatch.setenv("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", "2")
    clock.set(at(2026, 9, 1))
    app = ArchiveApplication(env=store)
    cases = CasesStream()
    opened = [cases.open_case(f"client-{n}") for n in range(3)]
    feed(app, *opened, cases.close_case(opened[0]["aggregate_id"]))
    assert app.checkpoint_if_due()["entry_count"] == 4

    with acting_as(ARCHIVIST):
        codes = [f["file_code"] for f in app.list_files()["items"]]
        assert codes == [f"JD001-2026-GA-000{n}" for n in (1, 2, 3)]
        file = app.find_file("cases", opened[0]["aggregate_id"])
        # Kept until the client (taken to be six) is 18, plus ten years.
        assert file["retention"]["end_on"] == "2048-09-01"
        with pytest.raises(Conflict) as error:
            app.request_disposal(file["file_id"])
        assert error.value.code == "retention_not_expired"
        assert app.get_file(file["file_id"]) == file
    with acting_as(AUDITOR):
        report = app.verify_ledger()
    assert report["ok"] and report["checkpoints"]["count"] == 1


def test_a_long_file_is_snapshotted_and_reads_as_its_events_say_on_each_store(store):
    app = ArchiveApplication(env=store)
    cases = CasesStream()
    opened = cases.open_case("client-1")
    every = app.snapshotting_intervals[ArchiveFile]
    feed(app, opened, *(cases.intervene(opened["aggregate_id"]) for _ in range(every + 1)))

    key = file_id("cases", opened["aggregate_id"])
    assert [s.originator_version for s in app.snapshots.get(key)] == [every]
    replayed = project_aggregate(None, app.events.get(key))
    assert vars(app.repository.get(key)) == vars(replayed)
