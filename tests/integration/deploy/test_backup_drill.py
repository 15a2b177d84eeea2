"""The backup and restore drill of docs/operators.md: `casebook backup take` while the services
run and work, `casebook backup check`, the services started on a copy of it, and everything
carries on from there: the ledger verifies, nothing halts, and what comes after is processed.

And why a backup is not the files copied one by one: a service copied after its source may
have processed what the source's copy does not hold. Restored, the subscriber halts its
subscription to that source rather than take the source's new events for processed."""

from __future__ import annotations

import importlib
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from services.archive.service import ArchiveService
from services.cases.service import CasesService
from services.runtime.cli import main
from services.runtime.cli.backup import MANIFEST, consistency_problems
from services.runtime.cli.keygen import fresh_secrets
from tests.support.scenarios import drive_case
from tests.support.services import AUDITOR, WORKER, processes, rpc, running
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def signed(monkeypatch):
    """As in Compose: the signing key comes from the environment, not from the data directory,
    and checkpoints are signed often enough that a copy holds some to verify."""
    monkeypatch.setenv("CASEBOOK_LEDGER_SIGNING_KEY",
                       fresh_secrets()["CASEBOOK_LEDGER_SIGNING_KEY"])
    monkeypatch.setenv("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", "5")


def cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def settled(proxy) -> bool:
    """The archive has ledgered all cases published, and cases has heard all the archive
    published."""
    cases, archive = proxy.cases.status(), proxy.archive.status()
    return (proxy.archive.ledger_head("cases")["position"] == cases["published_position"]
            and cases["cursors"].get("archive", {}).get("position")
            == archive["published_position"])


def test_a_backup_taken_while_the_services_work_restores_and_carries_on(
        amqp_uri, broker, tmp_path, monkeypatch, signed):
    data_dir, backup_dir, restored = tmp_path / "var", tmp_path / "backup", tmp_path / "restored"
    monkeypatch.setenv("CASEBOOK_DATA_DIR", str(data_dir))
    with processes(amqp_uri, data_dir, "cases", "archive"):
        with rpc(amqp_uri, WORKER) as proxy:
            drive_case(proxy, "client-before")
        with rpc(amqp_uri, AUDITOR) as proxy:
            wait_for(lambda: proxy.archive.list_checkpoints()["items"], what="a signed checkpoint")
        with rpc(amqp_uri, WORKER) as proxy:
            # Then the backup while the archive still ledgers these and files each entry,
            # and cases hears of every filing: each service writes as the other is copied.
            for number in range(4):
                drive_case(proxy, f"client-{number}")
        taken = cli("backup", "take", str(backup_dir))
        assert taken.exit_code == 0, taken.output
        assert "Backed up 2 stores" in taken.output
        with rpc(amqp_uri, AUDITOR) as proxy:
            wait_for(lambda: settled(proxy), what="cases and the archive to settle")
    checked = cli("backup", "check", str(backup_dir))
    assert checked.exit_code == 0, checked.output
    assert "consistent" in checked.output
    assert (backup_dir / MANIFEST).is_file()
    assert {path.name for path in backup_dir.iterdir()} == {
        "archive.sqlite", "cases.sqlite", MANIFEST}

    # Restore: a copy of the backup on a new machine, with a broker that never saw Casebook.
    shutil.copytree(backup_dir, restored)
    monkeypatch.setenv("CASEBOOK_DATA_DIR", str(restored))
    with broker.vhost() as restored_uri, \
            running(restored_uri, CasesService, ArchiveService):
        with rpc(restored_uri, WORKER) as proxy:
            drive_case(proxy, "client-after")
        with rpc(restored_uri, AUDITOR) as proxy:
            wait_for(lambda: settled(proxy), what="the restored services to carry on")
            assert proxy.cases.status()["halted"] == {}
            assert proxy.archive.status()["halted"] == {}
            report = proxy.archive.verify_ledger({"against_stores": True})
            assert report["ok"], report
            assert report["sources"]["cases"]["store_checked"] is True
            assert proxy.archive.list_checkpoints()["items"]


def copy_store(data_dir: Path, backup_dir: Path, name: str) -> None:
    """One store copied with SQLite's online backup, as a file-by-file backup does."""
    backup_dir.mkdir(exist_ok=True)
    with sqlite3.connect(data_dir / name) as source, \
            sqlite3.connect(backup_dir / name) as copy:
        source.backup(copy)
    source.close()
    copy.close()


def test_a_source_restored_older_than_its_subscriber_halts_the_subscription(
        amqp_uri, broker, tmp_path, monkeypatch, signed):
    data_dir, backup_dir = tmp_path / "var", tmp_path / "backup"
    monkeypatch.setenv("CASEBOOK_DATA_DIR", str(data_dir))
    with running(amqp_uri, CasesService, ArchiveService):
        with rpc(amqp_uri, WORKER) as proxy:
            drive_case(proxy, "client-0")
        with rpc(amqp_uri, AUDITOR) as proxy:
            wait_for(lambda: settled(proxy), what="cases and the archive to settle")
            copy_store(data_dir, backup_dir, "archive.sqlite")
            archive_copied = proxy.archive.status()["published_position"]
        with rpc(amqp_uri, WORKER) as proxy:
            drive_case(proxy, "client-1")
        with rpc(amqp_uri, AUDITOR) as proxy:
            wait_for(lambda: settled(proxy), what="cases to hear of the archive's new filings")
            heard = proxy.cases.status()["cursors"]["archive"]
            assert heard["position"] > archive_copied
            copy_store(data_dir, backup_dir, "cases.sqlite")
    assert consistency_problems(backup_dir) == [
        f"cases has processed archive up to position {heard['position']}, past what "
        "archive.sqlite holds"]

    monkeypatch.setenv("CASEBOOK_DATA_DIR", str(backup_dir))
    with broker.vhost() as restored_uri, \
            running(restored_uri, CasesService, ArchiveService):
        with rpc(restored_uri, AUDITOR) as proxy:
            # The archive ledgers client-1 again, from the cases store, and files each entry
            # anew: new events at positions cases took for processed before the restore.
            wait_for(lambda: proxy.archive.status()["published_position"] > heard["position"],
                     what="the restored archive to publish past what cases heard of")
            wait_for(lambda: proxy.cases.status()["halted"], what="cases to halt")
            halted = proxy.cases.status()["halted"]
            assert list(halted) == ["archive"]
            assert (f"cases has processed archive up to position {heard['position']}, but "
                    in halted["archive"])
            # Nothing of the archive's is taken for processed: the cursor stands.
            assert proxy.cases.status()["cursors"]["archive"] == heard
            assert proxy.archive.status()["halted"] == {}
            with rpc(restored_uri, WORKER) as worker:
                drive_case(worker, "client-2")  # cases itself goes on
        monkeypatch.setenv("AMQP_URI", restored_uri)
        monkeypatch.setattr(importlib.import_module("services.runtime.cli.status"),
                            "PUBLISHERS", ["cases", "archive"])
        status = cli("status")
        assert status.exit_code == 1, status.output
        assert "cases halted its subscription to archive" in status.output
