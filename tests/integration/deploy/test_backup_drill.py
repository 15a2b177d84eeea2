"""The backup and restore drill of docs/operators.md: `casebook backup take` while the services
run and work, `casebook backup check`, the services started on a copy of it, and everything
carries on from there: the ledger verifies, nothing halts, and what comes after is processed.

And why a backup is not the files copied one by one: a service copied after its source may
have processed what the source's copy does not hold. Restored, the subscriber halts its
subscription to that source rather than take the source's new events for processed."""

from __future__ import annotations

import importlib
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from kombu import Connection, Consumer, Queue

from services.archive.service import ArchiveService
from services.cases.service import CasesService
from services.runtime.cli import main
from services.runtime.cli.backup import MANIFEST, consistency_problems
from services.runtime.cli.keygen import fresh_secrets
from services.runtime.subscription import dead_letter_queue_name, queue_name
from tests.support.scenarios import drive_case
from tests.support.services import AUDITOR, WORKER, ledgered, processes, rpc, running
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
    return (ledgered(proxy, "cases") == cases["published_position"]
            and cases["cursors"].get("archive", {}).get("position")
            == archive["published_position"])


def carried_on(proxy) -> dict[str, Any]:
    """Neither service halted a subscription, and the ledger verifies against the stores: the
    report."""
    assert proxy.cases.status()["halted"] == {}
    assert proxy.archive.status()["halted"] == {}
    report: dict[str, Any] = proxy.archive.verify_ledger({"against_stores": True})
    assert report["ok"], report
    return report


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
            report = carried_on(proxy)
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


def archive_copied_then_more_heard(
        amqp_uri: str, data_dir: Path, copy_dir: Path) -> tuple[int, dict[str, Any]]:
    """With cases and the archive running: a case, the archive's store copied, another case
    heard of by cases. The archive's published position when copied, and cases' cursor in the
    archive's stream at the end."""
    with rpc(amqp_uri, WORKER) as proxy:
        drive_case(proxy, "client-0")
    with rpc(amqp_uri, AUDITOR) as proxy:
        wait_for(lambda: settled(proxy), what="cases and the archive to settle")
        copy_store(data_dir, copy_dir, "archive.sqlite")
        archive_copied = proxy.archive.status()["published_position"]
    with rpc(amqp_uri, WORKER) as proxy:
        drive_case(proxy, "client-1")
    with rpc(amqp_uri, AUDITOR) as proxy:
        wait_for(lambda: settled(proxy), what="cases to hear of the archive's new filings")
        return archive_copied, proxy.cases.status()["cursors"]["archive"]


def test_a_source_restored_older_than_its_subscriber_halts_the_subscription(
        amqp_uri, broker, tmp_path, monkeypatch, signed):
    data_dir, backup_dir = tmp_path / "var", tmp_path / "backup"
    monkeypatch.setenv("CASEBOOK_DATA_DIR", str(data_dir))
    with running(amqp_uri, CasesService, ArchiveService):
        archive_copied, heard = archive_copied_then_more_heard(amqp_uri, data_dir, backup_dir)
        copy_store(data_dir, backup_dir, "cases.sqlite")
    assert heard["position"] > archive_copied
    assert consistency_problems(backup_dir) == [
        f"cases has processed archive up to position {heard['position']}, past what "
        "archive.sqlite holds"]

    monkeypatch.setenv("CASEBOOK_DATA_DIR", str(backup_dir))
    with broker.vhost() as restored_uri, \
            running(restored_uri, CasesService, ArchiveService):
        with rpc(restored_uri, AUDITOR) as proxy:
            # The archive ledgers client-1 again, from the cases store, and files each entry
            # anew: new events at positions cases took for processed before the restore. (Not
            # necessarily past them: how far the first run went hung on when its checkpoints
            # were signed.)
            wait_for(lambda: proxy.archive.status()["published_position"] > archive_copied,
                     what="the restored archive to publish anew after its copy")
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


def dead_letters(amqp_uri: str, subscriber: str, source: str) -> int:
    with Connection(amqp_uri) as connection:
        _, waiting, _ = connection.channel().queue_declare(
            dead_letter_queue_name(subscriber, source), passive=True)
        return int(waiting)


def messages_in(amqp_uri: str, queue: str) -> int:
    """The messages a queue holds, delivered and not yet acknowledged ones included (which a
    passive declare does not count)."""
    vhost = urlsplit(amqp_uri).path.lstrip("/")
    listed = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", vhost, "--no-table-headers",
                             "name", "messages"], capture_output=True, text=True, check=True,
                            timeout=60).stdout
    return sum(int(count) for name, count in (line.split() for line in listed.splitlines())
               if name == queue)


def positions_waiting(amqp_uri: str, queue: str) -> list[int]:
    """The positions of the envelopes in a queue nobody consumes, left in it (unacknowledged,
    they return to it when the connection closes)."""
    positions: list[int] = []
    with Connection(amqp_uri) as connection, Consumer(
            connection, queues=[Queue(queue, no_declare=True)], accept=["json"],
            callbacks=[lambda body, message: positions.append(body["position"])]):
        try:
            while True:
                connection.drain_events(timeout=2)
        except TimeoutError:
            return positions


def test_a_source_restored_alone_while_its_subscriber_runs_halts_it_before_it_ignores_any(
        amqp_uri, tmp_path, monkeypatch, signed):
    data_dir, last_night = tmp_path / "var", tmp_path / "last-night"
    monkeypatch.setenv("CASEBOOK_DATA_DIR", str(data_dir))
    with running(amqp_uri, CasesService):
        with running(amqp_uri, ArchiveService):
            archive_copied, _ = archive_copied_then_more_heard(amqp_uri, data_dir, last_night)
        # Stopped, the archive sends nothing more; once cases has taken in and acknowledged
        # what it sent, cases' cursor is where the restore finds it. (Read while the archive
        # ran, it could still move on: a checkpoint signed after the two had settled.)
        wait_for(lambda: messages_in(amqp_uri, queue_name("cases", "archive")) == 0,
                 interval=0.5, what="cases to take in the last the archive sent")
        with rpc(amqp_uri, AUDITOR) as proxy:
            heard = proxy.cases.status()["cursors"]["archive"]
        assert heard["position"] > archive_copied
        # The archive alone restored in place from last night's copy; cases runs on.
        for suffix in ("", "-wal", "-shm"):
            (data_dir / f"archive.sqlite{suffix}").unlink(missing_ok=True)
        shutil.copy(last_night / "archive.sqlite", data_dir / "archive.sqlite")
        with running(amqp_uri, ArchiveService), rpc(amqp_uri, AUDITOR) as proxy:
            wait_for(lambda: proxy.cases.status()["halted"], what="cases to halt")
            assert (f"cases has processed archive up to position {heard['position']}, but "
                    in proxy.cases.status()["halted"]["archive"])
            assert proxy.cases.status()["cursors"]["archive"] == heard
            new = [envelope["position"] for envelope
                   in proxy.archive.events_since(archive_copied, 1000)]
            assert new
    # Cases stopped: none of the restored archive's new envelopes was taken for processed
    # (acknowledged as a redelivery, or dead-lettered as a broken chain): all wait in the queue.
    assert set(new) <= set(positions_waiting(amqp_uri, queue_name("cases", "archive")))
    assert dead_letters(amqp_uri, "cases", "archive") == 0


def test_a_restore_replaces_the_stores_and_delivers_nothing_of_the_history_it_undid(
        amqp_uri, tmp_path, monkeypatch, signed):
    data_dir, backup_dir = tmp_path / "var", tmp_path / "backup"
    monkeypatch.setenv("CASEBOOK_DATA_DIR", str(data_dir))
    monkeypatch.setenv("AMQP_URI", amqp_uri)
    with running(amqp_uri, CasesService):
        with running(amqp_uri, ArchiveService):
            with rpc(amqp_uri, WORKER) as proxy:
                drive_case(proxy, "client-0")
            with rpc(amqp_uri, AUDITOR) as proxy:
                wait_for(lambda: settled(proxy), what="cases and the archive to settle")
            assert cli("backup", "take", str(backup_dir)).exit_code == 0
            refused = cli("backup", "restore", str(backup_dir))
            assert refused.exit_code == 1
            assert "consumer(s): a service runs. Stop Casebook first. Nothing was changed." \
                in refused.output
        # The history the restore undoes: client-1, which the archive (stopped) has not
        # ledgered yet; its envelopes wait in the archive's queue.
        with rpc(amqp_uri, WORKER) as proxy:
            drive_case(proxy, "client-1")
            undone = proxy.cases.status()["published_position"]
    restored = cli("backup", "restore", str(backup_dir))
    assert restored.exit_code == 0, restored.output
    assert "archive.from.cases: " in restored.output and "dropped" in restored.output
    [aside] = data_dir.glob("replaced-*")
    assert {"cases.sqlite", "archive.sqlite"} <= {path.name for path in aside.iterdir()}
    manifest = json.loads((backup_dir / MANIFEST).read_text(encoding="utf-8"))
    backed_up = manifest["stores"]["cases.sqlite"]["published_position"]
    assert backed_up < undone

    with running(amqp_uri, CasesService, ArchiveService):
        with rpc(amqp_uri, AUDITOR) as proxy:
            wait_for(lambda: settled(proxy), what="the restored services to settle")
            assert ledgered(proxy, "cases") == backed_up
        with rpc(amqp_uri, WORKER) as proxy:
            drive_case(proxy, "client-2")  # a new history from the point restored
        with rpc(amqp_uri, AUDITOR) as proxy:
            wait_for(lambda: settled(proxy), what="the archive to ledger the new history")
            carried_on(proxy)
