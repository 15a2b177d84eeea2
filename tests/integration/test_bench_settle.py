"""`make bench` times each phase from a still pipe (`tests/bench/__main__.py`, `settle`): it
waits for every event stored to be published, confirmed and in the archive's ledger, and says
what is behind when that does not come."""

from __future__ import annotations

from typing import Any

import pytest

from services.archive.app import ArchiveApplication
from services.archive.service import ArchiveService
from services.cases.service import CasesService
from tests.bench.__main__ import pipe_behind, settle
from tests.support.scenarios import register_student
from tests.support.services import AUDITOR, WORKER, ledgered, rpc, running


def test_settle_returns_once_every_event_is_in_the_archive_ledger(amqp_uri) -> None:
    with running(amqp_uri, CasesService, ArchiveService):
        with rpc(amqp_uri, WORKER) as worker:
            for number in range(5):
                register_student(worker, f"settle-{number}")
        settle(amqp_uri, timeout=60)

        assert pipe_behind(amqp_uri) == []
        with rpc(amqp_uri, AUDITOR) as auditor:
            published = auditor.cases.status()["published_position"]
            assert published >= 5
            assert ledgered(auditor, "cases") == published
            archive = auditor.archive.status()
            assert archive["sent_position"] == archive["published_position"]
            assert (ledgered(auditor, "archive")
                    == archive["published_position"])


def test_settle_names_what_is_behind_when_the_pipe_does_not_come_still(
        amqp_uri, monkeypatch) -> None:
    with running(amqp_uri, CasesService, ArchiveService):
        settle(amqp_uri, timeout=60)

        def unavailable(*args: Any, **kwargs: Any) -> None:
            raise ConnectionError("the archive's store is unavailable")

        # The archive can ledger nothing more: what the cases service publishes now is never
        # ledgered, and the pipe never comes still.
        monkeypatch.setattr(ArchiveApplication, "record_envelopes", unavailable)
        with rpc(amqp_uri, WORKER) as worker:
            register_student(worker, "settle-never")
        with pytest.raises(TimeoutError, match=r"the pipe was not still after 2 s: .*"
                                               r"cases: ledgered \d+ of \d+ published"):
            settle(amqp_uri, timeout=2)
