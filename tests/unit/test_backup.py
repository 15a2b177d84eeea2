"""`casebook backup take` and `check` on real SQLite stores: what a backup holds, what it
refuses (naming the argument and the rule, copying nothing), and what its check finds. The
backup taken while services work, and restored: tests/integration/deploy/test_backup_drill.py."""

from __future__ import annotations

import errno
import importlib
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from services.archive.service import ArchiveService
from services.cases.service import CasesService
from services.runtime.cli import main
from services.runtime.cli.backup import MANIFEST, consistency_problems

# The module, not the `backup` command the package names after it.
backup = importlib.import_module("services.runtime.cli.backup")


def cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """The stores of cases and the archive as their services make them, with what a running
    Casebook leaves beside them."""
    directory = tmp_path / "var"
    directory.mkdir()
    for service in (CasesService, ArchiveService):
        service.app.app_class(
            env={"SQLITE_DBNAME": str(directory / f"{service.name}.sqlite")}).close()
    (directory / "archive-ledger-signing.key").write_text("key\n", encoding="utf-8")
    (directory / "archive.relay.lock").touch()
    (directory / "cases.log").write_text("a log line\n", encoding="utf-8")
    (directory / "up.json").write_text("{}", encoding="utf-8")
    monkeypatch.setenv("CASEBOOK_DATA_DIR", str(directory))
    monkeypatch.delenv("POSTGRES_DBNAME", raising=False)
    return directory


def contents(directory: Path) -> dict[str, bytes]:
    """Every file directly in `directory`, by name, with its bytes."""
    return {path.name: path.read_bytes() for path in directory.iterdir() if path.is_file()}


def full_disk_after(files: int, monkeypatch) -> None:
    """shutil.copy2 copies `files` files, then finds the disk full."""
    copied, copy2 = [], shutil.copy2

    def copy_until_full(source: Path, target: Path) -> Path:
        if len(copied) == files:
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        copied.append(source)
        return Path(copy2(source, target))

    monkeypatch.setattr(shutil, "copy2", copy_until_full)


def published(store: Path, position: int, hash_: str) -> None:
    with sqlite3.connect(store) as connection:
        connection.execute("INSERT INTO casebook_published VALUES (?, ?, '{}')",
                           (position, hash_))
    connection.close()


def processed(store: Path, source: str, position: int, hash_: str) -> None:
    with sqlite3.connect(store) as connection:
        connection.execute("INSERT INTO casebook_cursor VALUES (?, ?, ?)",
                           (source, position, hash_))
    connection.close()


def test_a_backup_holds_every_store_and_the_files_a_restore_needs_and_checks(
        data_dir, tmp_path):
    published(data_dir / "archive.sqlite", 1, "a1")
    processed(data_dir / "cases.sqlite", "archive", 1, "a1")
    taken = cli("backup", "take", str(tmp_path / "backup"))
    assert taken.exit_code == 0, taken.output
    assert "archive.sqlite: " in taken.output and "published up to position 1" in taken.output
    assert {path.name for path in (tmp_path / "backup").iterdir()} == {
        "archive.sqlite", "cases.sqlite", "archive-ledger-signing.key", MANIFEST}
    manifest = json.loads((tmp_path / "backup" / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["stores"]["archive.sqlite"]["published_position"] == 1
    assert manifest["files"] == ["archive-ledger-signing.key"]
    checked = cli("backup", "check", str(tmp_path / "backup"))
    assert checked.exit_code == 0, checked.output
    assert "2 stores" in checked.output and "consistent" in checked.output


def test_a_destination_that_holds_files_is_refused_and_nothing_is_copied(data_dir, tmp_path):
    destination = tmp_path / "backup"
    destination.mkdir()
    (destination / "other").write_text("kept", encoding="utf-8")
    taken = cli("backup", "take", str(destination))
    assert taken.exit_code == 1
    assert f"DESTINATION {destination}: must be a new or empty directory" in taken.output
    assert [path.name for path in destination.iterdir()] == ["other"]


def test_a_disk_that_fills_while_taking_leaves_no_part_of_a_backup(
        data_dir, tmp_path, monkeypatch):
    full_disk_after(0, monkeypatch)  # the stores are copied; the signing key beside them is not
    destination = tmp_path / "backup"
    taken = cli("backup", "take", str(destination))
    assert taken.exit_code == 1
    assert (f"DESTINATION {destination}: could not write the backup ([Errno 28] No space left "
            "on device") in taken.output
    assert "what was copied is removed." in taken.output
    assert list(destination.iterdir()) == []


def test_postgresql_stores_are_referred_to_pg_dump(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("POSTGRES_DBNAME", "casebook")
    taken = cli("backup", "take", str(tmp_path / "backup"))
    assert taken.exit_code == 1
    assert "POSTGRES_DBNAME is set" in taken.output and "pg_dump" in taken.output
    assert not (tmp_path / "backup").exists()


def test_a_data_directory_without_stores_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEBOOK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("POSTGRES_DBNAME", raising=False)
    taken = cli("backup", "take", str(tmp_path / "backup"))
    assert taken.exit_code == 1
    assert f"CASEBOOK_DATA_DIR={tmp_path}: no store" in taken.output
    assert not (tmp_path / "backup").exists()


def test_a_store_whose_write_lock_stays_taken_is_waited_for_then_refused(
        data_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(backup, "LOCK_SECONDS", 0.2)
    writer = sqlite3.connect(data_dir / "cases.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        taken = cli("backup", "take", str(tmp_path / "backup"))
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert taken.exit_code == 1
    assert "cases.sqlite: its write lock was not free" in taken.output
    assert list((tmp_path / "backup").iterdir()) == []


def test_the_check_finds_a_changed_store_a_missing_one_and_a_directory_not_backed_up(
        data_dir, tmp_path):
    assert cli("backup", "take", str(tmp_path / "backup")).exit_code == 0
    published(tmp_path / "backup" / "archive.sqlite", 1, "a1")
    (tmp_path / "backup" / "cases.sqlite").unlink()
    checked = cli("backup", "check", str(tmp_path / "backup"))
    assert checked.exit_code == 1
    assert "archive.sqlite: not the bytes backed up" in checked.output
    assert "cases.sqlite: missing" in checked.output
    unfinished = cli("backup", "check", str(data_dir))
    assert unfinished.exit_code == 1
    assert f"DIRECTORY {data_dir}: no {MANIFEST}" in unfinished.output


def test_a_subscriber_past_its_source_is_each_way_it_can_be(data_dir):
    published(data_dir / "archive.sqlite", 1, "a1")
    published(data_dir / "archive.sqlite", 2, "a2")
    assert consistency_problems(data_dir) == []
    processed(data_dir / "cases.sqlite", "archive", 2, "another")
    processed(data_dir / "cases.sqlite", "supervision", 4, "s4")
    processed(data_dir / "archive.sqlite", "cases", 3, "c3")
    assert consistency_problems(data_dir) == [
        "archive has processed cases up to position 3, past what cases.sqlite holds",
        "cases has processed archive up to position 2, and archive.sqlite holds another "
        "envelope there",
        "cases has processed supervision up to position 4, and the backup holds no "
        "supervision.sqlite",
    ]


def test_a_restore_is_refused_while_casebook_runs_and_for_a_backup_that_fails_its_check(
        data_dir, tmp_path):
    assert cli("backup", "take", str(tmp_path / "backup")).exit_code == 0
    before = sorted(path.name for path in data_dir.iterdir())
    (data_dir / "up.json").write_text(json.dumps({"pid": os.getpid()}), encoding="utf-8")
    running = cli("backup", "restore", str(tmp_path / "backup"))
    assert running.exit_code == 1
    assert f"Casebook is running from {data_dir} (casebook up, pid {os.getpid()}): stop it " \
           "first. Nothing was changed." in running.output
    (data_dir / "up.json").write_text("{}", encoding="utf-8")
    (tmp_path / "backup" / "cases.sqlite").unlink()
    failing = cli("backup", "restore", str(tmp_path / "backup"))
    assert failing.exit_code == 1
    assert "fails its check: Nothing was changed.\n  cases.sqlite: missing" in failing.output
    assert sorted(path.name for path in data_dir.iterdir()) == before


def test_a_restore_whose_copy_fills_the_disk_changes_nothing(
        data_dir, tmp_path, amqp_uri, monkeypatch):
    monkeypatch.setenv("AMQP_URI", amqp_uri)
    assert cli("backup", "take", str(tmp_path / "backup")).exit_code == 0
    published(data_dir / "archive.sqlite", 1, "a1")  # written after the backup: not in it
    before = contents(data_dir)
    full_disk_after(1, monkeypatch)
    failing = cli("backup", "restore", str(tmp_path / "backup"))
    assert failing.exit_code == 1
    assert (f"Could not copy the backup into {data_dir} ([Errno 28] No space left on device"
            in failing.output and "Nothing was changed." in failing.output)
    assert contents(data_dir) == before
    assert [path.name for path in data_dir.iterdir() if path.is_dir()] == []


def test_a_restore_whose_move_fails_puts_back_every_file_it_moved(
        data_dir, tmp_path, amqp_uri, monkeypatch):
    monkeypatch.setenv("AMQP_URI", amqp_uri)
    assert cli("backup", "take", str(tmp_path / "backup")).exit_code == 0
    published(data_dir / "archive.sqlite", 1, "a1")
    before = contents(data_dir)
    moves, rename = [], Path.rename

    def rename_then_fail(path: Path, target: Path) -> Path:
        moves.append(path)
        # Once: after the three files it replaces went aside and the backup's first came in.
        if len(moves) == 5:
            raise OSError(errno.EACCES, "Permission denied", str(target))
        return rename(path, target)

    monkeypatch.setattr(Path, "rename", rename_then_fail)
    failing = cli("backup", "restore", str(tmp_path / "backup"))
    assert failing.exit_code == 1
    assert "every file moved was put back. Nothing was changed." in failing.output
    assert [path.parent.name.split("-")[0] for path in moves[:5]] == [
        "var", "var", "var", "restoring", "restoring"]
    assert contents(data_dir) == before
    assert [path.name for path in data_dir.iterdir() if path.is_dir()] == []

    monkeypatch.setattr(Path, "rename", rename)
    restored = cli("backup", "restore", str(tmp_path / "backup"))
    assert restored.exit_code == 0, restored.output
    backed_up = contents(tmp_path / "backup")
    assert {name: contents(data_dir)[name] for name in backed_up if name != MANIFEST} == {
        name: data for name, data in backed_up.items() if name != MANIFEST}
    [aside] = [path for path in data_dir.iterdir() if path.is_dir()]
    assert aside.name.startswith("replaced-")
    assert contents(aside)["archive.sqlite"] == before["archive.sqlite"]


def test_a_restore_removes_the_partial_copy_of_one_that_did_not_finish(
        data_dir, tmp_path, amqp_uri, monkeypatch):
    monkeypatch.setenv("AMQP_URI", amqp_uri)
    assert cli("backup", "take", str(tmp_path / "backup")).exit_code == 0
    unfinished = data_dir / "restoring-20260901T020000Z"  # the machine lost while it copied
    unfinished.mkdir()
    (unfinished / "archive.sqlite").write_bytes(b"the first pages of a store")
    restored = cli("backup", "restore", str(tmp_path / "backup"))
    assert restored.exit_code == 0, restored.output
    assert ("Removed restoring-20260901T020000Z, the partial copy of a restore that did not "
            "finish.") in restored.output
    assert [path.name.split("-")[0] for path in data_dir.iterdir() if path.is_dir()] == [
        "replaced"]
