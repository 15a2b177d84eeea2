"""The archive's read models for `casebook rebuild`: what the live store shows equals what a
fresh copy fed with the archive's own log rebuilds, and it holds no personal content."""

import json
from datetime import date

import pytest

from services.archive.app import ArchiveApplication
from services.runtime.clock import clock
from services.runtime.context import Actor, acting_as
from tests.unit.archive.streams import CasesStream, at, feed

ARCHIVIST = Actor("archivist-1", "archivist", "JD001")
WORKER = Actor("worker-1", "social_worker", "JD001")
PURPOSE = "王小明的监护人投诉复核"


@pytest.fixture
def app():
    return ArchiveApplication(env={"SQLITE_DBNAME": ":memory:"})


def test_files_ledger_checkpoints_and_alarms_rebuild_equal_and_impersonal(app, monkeypatch):
    monkeypatch.setenv("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", "3")
    clock.set(at(2026, 9, 1))
    cases = CasesStream()
    # A case carried through to its close, a second one still open.
    feed(app, cases.register_client("client-1"))
    opened = cases.open_case("client-1")
    case_id = opened["aggregate_id"]
    feed(app, opened, cases.accept_intake(case_id),
         cases.intervene(case_id), cases.evaluate(case_id),
         cases.close_case(case_id, closed_on=date(2026, 10, 30)))
    feed(app, cases.register_client("client-2"), cases.open_case("client-2"))
    assert app.checkpoint_if_due() is not None
    # An envelope that skips one position raises a chain alarm.
    cases.open_case("client-3")
    feed(app, cases.open_case("client-4"))
    with acting_as(ARCHIVIST):
        file = app.find_file("cases", case_id)
        app.place_legal_hold(file["file_id"], "hold-1", "court", "(2027) 京0105民初1号")
    with acting_as(WORKER):
        app.request_access(file["file_id"], PURPOSE, 24)

    live = app.read_models()

    assert live == app.rebuilt_read_models()
    closed = live["files_by_code"][file["file_code"]]
    assert closed["missing_sections"] == []
    assert closed["closed_on"] == "2026-10-30"
    assert closed["retention_end_on"] == file["retention"]["end_on"]
    assert closed["legal_hold_ids"] == ["hold-1"]
    assert len(live["files_by_code"]) == 2
    assert live["ledger_by_source"]["cases"]["head_position"] == 10
    assert live["checkpoints"]["count"] == 1
    assert [(a["source"], a["position"]) for a in live["chain_alarms"]] == [("cases", 10)]
    text = json.dumps(live, ensure_ascii=False)
    assert "sealed:v1:" not in text
    assert PURPOSE not in text and "京0105" not in text
