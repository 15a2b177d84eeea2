"""A long-lived case is read from its newest snapshot and the events after it, and reads exactly
as it does from all its events."""

import logging
from datetime import date, timedelta
from uuid import UUID

from eventsourcing.application import project_aggregate

from services.cases.app import CasesApplication
from services.cases.domain import Case
from services.runtime.domain import ShapedSnapshot
from tests.unit.cases.conftest import INTERVENTION, case_at

EVERY = CasesApplication.snapshotting_intervals[Case]


def _replayed(app: CasesApplication, case_id: str) -> Case:
    """The case from every one of its events, no snapshot."""
    case = project_aggregate(None, app.events.get(UUID(case_id)))
    assert case is not None
    return case


def _log(app: CasesApplication, case_id: str, count: int) -> None:
    for day in range(count):
        app.log_intervention(case_id, notes=f"第{day}次", **{
            **INTERVENTION, "delivered_on": date(2026, 9, 10) + timedelta(days=day % 30)})


def test_a_case_past_its_snapshot_interval_reads_as_its_events_say(app, as_worker):
    case_id = case_at(app, "intervention")
    _log(app, case_id, EVERY + 7)
    snapshots = list(app.snapshots.get(UUID(case_id)))
    assert [s.originator_version for s in snapshots] == [EVERY]
    assert isinstance(snapshots[0], ShapedSnapshot) and snapshots[0].current()

    read = app.repository.get(UUID(case_id))
    assert read.version == _replayed(app, case_id).version > EVERY
    assert vars(read) == vars(_replayed(app, case_id))
    assert read.stage == _replayed(app, case_id).stage


def test_a_snapshot_taken_by_other_code_is_passed_over(app, as_worker, monkeypatch):
    case_id = case_at(app, "intervention")
    _log(app, case_id, EVERY)
    # What an instance still on the old code, or the code before an upgrade, left behind.
    monkeypatch.setattr(ShapedSnapshot, "current", lambda self: False)
    assert list(app.snapshots.get(UUID(case_id))) == []
    assert vars(app.repository.get(UUID(case_id))) == vars(_replayed(app, case_id))


def test_a_snapshot_that_cannot_be_taken_fails_nothing(app, as_worker, monkeypatch, caplog):
    case_id = case_at(app, "intervention")

    def broken(*_):
        raise OSError("disk full")
    monkeypatch.setattr(app.snapshots, "put", broken)
    with caplog.at_level(logging.ERROR):
        _log(app, case_id, EVERY)
    assert "could not take a snapshot" in caplog.text
    assert list(app.snapshots.get(UUID(case_id))) == []
    assert len(app.repository.get(UUID(case_id)).interventions) == EVERY
