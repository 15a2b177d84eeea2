"""The archive's views: what the live tables hold equals what a rebuild from the archive's own
log makes, and neither they nor the stored events hold personal content in clear."""

import json
from datetime import date

import pytest

from services.archive.app import ArchiveApplication
from services.runtime import views as views_module
from services.runtime.clock import clock
from services.runtime.context import Actor, acting_as
from tests.support.views import assert_views_match_the_log
from tests.unit.archive.streams import CasesStream, at, feed

ARCHIVIST = Actor("archivist-1", "archivist", "JD001")
WORKER = Actor("worker-1", "social_worker", "JD001")
PURPOSE = "王小明的监护人投诉复核"


@pytest.fixture
def app():
    return ArchiveApplication(env={"SQLITE_DBNAME": ":memory:"})


def stored_text(app):
    """Every stored event of the archive, as the database holds it."""
    return "".join(n.state.decode() for n in app.recorder.select_notifications(1, 10**6))


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
        # The same hold placed again is still one hold.
        app.place_legal_hold(file["file_id"], "hold-1", "court", "(2027) 京0105民初1号")
    with acting_as(WORKER):
        app.request_access(file["file_id"], PURPOSE, 24)

    assert_views_match_the_log(app)
    with acting_as(ARCHIVIST):
        listed = {f["file_code"]: f for f in app.list_files()["items"]}
    closed = listed[file["file_code"]]
    assert closed["missing_sections"] == []
    assert closed["closed_on"] == "2026-10-30"
    assert closed["retention_end_on"] == file["retention"]["end_on"]
    assert closed["legal_holds"] == 1
    assert len(listed) == 2
    with acting_as(ARCHIVIST):
        # Position 9 never arrived: the alarm stands beside 10.
        assert [e["position"] for e in app.list_ledger("cases")["items"]] == [*range(1, 9), 10]
        assert len(app.list_checkpoints()["items"]) == 1
        assert [(a["source"], a["position"]) for a in app.list_chain_alarms()["items"]] == [
            ("cases", 10)]
    _, tables = app.views.store.snapshot()
    text = json.dumps(tables, ensure_ascii=False) + stored_text(app)
    assert PURPOSE not in text and "京0105" not in text
    with acting_as(ARCHIVIST):
        assert app.get_file(file["file_id"])["legal_holds"][0]["reference"] == \
            "(2027) 京0105民初1号"


def test_a_rebuild_of_the_ledger_views_writes_one_transaction_a_batch(app, monkeypatch):
    monkeypatch.setattr("services.runtime.views.FILLING_BATCH", 4)
    stream = CasesStream()
    feed(app, *(stream.open_case(f"client-{n}") for n in range(5)))
    fresh = app.views.store.fresh()
    written = []
    transaction = views_module.derived_transaction

    def counted(datastore):
        written.append(datastore)
        return transaction(datastore)
    monkeypatch.setattr(views_module, "derived_transaction", counted)
    assert fresh.catch_up() == app.max_position()
    # Every stored event once, four to a transaction: not one transaction each.
    assert len(written) == -(-app.max_position() // 4)
    fresh.drop()
