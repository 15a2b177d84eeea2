"""The backup and restore drill of docs/operators.md: copy the stores of a running Casebook with
SQLite's online backup API, start the services on the copy, and the ledger verifies with the
same head as the original (what `casebook verify` checks, through the same RPC)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from services.archive.service import ArchiveService
from services.cases.service import CasesService
from services.runtime.cli.keygen import fresh_secrets
from tests.support.scenarios import drive_case
from tests.support.services import AUDITOR, WORKER, rpc, running
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


def back_up(data_dir: Path, backup_dir: Path) -> list[str]:
    """Each store copied page by page while the services keep running, as an operator would."""
    backup_dir.mkdir(parents=True)
    copied = []
    for store in sorted(data_dir.glob("*.sqlite")):
        with sqlite3.connect(store) as source, sqlite3.connect(backup_dir / store.name) as copy:
            source.backup(copy)
        copied.append(store.name)
    return copied


def test_a_restored_copy_of_the_stores_verifies_with_the_same_ledger_head(
    amqp_uri, broker, tmp_path, monkeypatch
):
    data_dir, backup_dir = tmp_path / "var", tmp_path / "backup"
    monkeypatch.setenv("CASEBOOK_DATA_DIR", str(data_dir))
    # As in Compose: the signing key comes from the environment, not from the data directory,
    # and checkpoints are signed often enough that the copy holds some to verify.
    signing_key = fresh_secrets()["CASEBOOK_LEDGER_SIGNING_KEY"]
    monkeypatch.setenv("CASEBOOK_LEDGER_SIGNING_KEY", signing_key)
    monkeypatch.setenv("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", "5")
    with running(amqp_uri, CasesService, ArchiveService):
        with rpc(amqp_uri, WORKER) as proxy:
            for number in range(3):
                drive_case(proxy, f"client-{number}")
            drive_case(proxy, "client-open", close=False)
            published = proxy.cases.status()["stored_position"]
        with rpc(amqp_uri, AUDITOR) as proxy:
            wait_for(lambda: proxy.archive.ledger_head("cases")["position"] == published,
                     what="the ledger to record every event of cases")
            wait_for(lambda: proxy.archive.list_checkpoints()["items"], what="a signed checkpoint")
            original = proxy.archive.ledger_head("cases")
            assert back_up(data_dir, backup_dir) == ["archive.sqlite", "cases.sqlite"]

    # Restore: the copy on a new machine, with a broker that has never seen these services.
    monkeypatch.setenv("CASEBOOK_DATA_DIR", str(backup_dir))
    with broker.vhost() as restored_uri, \
            running(restored_uri, CasesService, ArchiveService), \
            rpc(restored_uri, AUDITOR) as proxy:
        assert proxy.archive.ledger_head("cases") == original
        report = proxy.archive.verify_ledger({"against_stores": True})
        assert report["ok"], report
        assert proxy.archive.list_checkpoints()["items"]
        assert report["sources"]["cases"]["store_checked"] is True
        assert proxy.cases.status()["stored_position"] == published
