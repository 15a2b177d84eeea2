"""A long-lived record's archive file is read from its newest snapshot and the events after it,
and reads exactly as it does from all its events, whether its envelopes came one at a time or in
runs."""

from uuid import UUID

from eventsourcing.application import project_aggregate

from services.archive.app import ArchiveApplication
from services.archive.files import ArchiveFile, file_id
from services.runtime.domain import ShapedSnapshot
from tests.unit.archive.streams import CasesStream, feed, feed_runs

EVERY = ArchiveApplication.snapshotting_intervals[ArchiveFile]


def _replayed(app: ArchiveApplication, key: UUID, version: int | None = None) -> ArchiveFile:
    """The file from its events (up to `version`), no snapshot."""
    file = project_aggregate(None, app.events.get(key, lte=version))
    assert file is not None
    return file


def _case(app: ArchiveApplication) -> tuple[CasesStream, str, UUID]:
    cases = CasesStream()
    opened = cases.open_case("client-1")
    feed(app, opened)
    return cases, opened["aggregate_id"], file_id("cases", opened["aggregate_id"])


def test_a_file_past_its_snapshot_interval_reads_as_its_events_say():
    app = ArchiveApplication(env={"SQLITE_DBNAME": ":memory:"})
    cases, case_id, key = _case(app)
    feed(app, *(cases.intervene(case_id) for _ in range(EVERY + 7)))

    snapshots = list(app.snapshots.get(key))
    assert [s.originator_version for s in snapshots] == [EVERY]
    assert isinstance(snapshots[0], ShapedSnapshot) and snapshots[0].current()
    read = app.repository.get(key)
    assert read.version == _replayed(app, key).version > EVERY
    assert vars(read) == vars(_replayed(app, key))
    assert len(read.entries) == read.version - 1  # every event but the opening indexes one


def test_a_run_that_crosses_the_interval_snapshots_the_file_at_each_multiple_of_it():
    app = ArchiveApplication(env={"SQLITE_DBNAME": ":memory:"})
    cases, case_id, key = _case(app)
    envelopes = [cases.intervene(case_id) for _ in range(2 * EVERY + 3)]
    feed_runs(app, envelopes[:EVERY - 5])
    assert list(app.snapshots.get(key)) == []  # the first run ended below the interval

    feed_runs(app, envelopes[EVERY - 5:])
    assert [s.originator_version for s in app.snapshots.get(key)] == [EVERY, 2 * EVERY]
    assert vars(app.repository.get(key)) == vars(_replayed(app, key))
    # Each snapshot is the file as it was at its version, not as the run left it.
    for version in (EVERY, 2 * EVERY):
        assert vars(app.repository.get(key, version=version)) == vars(
            _replayed(app, key, version))
