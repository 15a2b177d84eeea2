"""The operators', integrators' and auditors' commands, against running services."""

import json
import re
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from amqp.exceptions import NotFound
from click.testing import CliRunner
from kombu import Connection, Exchange

from services.archive.service import ArchiveService
from services.cases.service import CasesService
from services.runtime.cli import main
from services.runtime.queues import QUORUM
from services.runtime.subscription import dead_letter_queue_name, queue_name
from tests.support.broker import Broker, private_broker
from tests.support.scenarios import client_id, drive_case, events_per_case
from tests.support.services import AUDITOR, WORKER, ledgered, rpc, running
from tests.support.waiting import wait_for


@pytest.fixture
def system(amqp_uri, monkeypatch):
    """Cases and archive running, two cases driven, the ledger caught up."""
    monkeypatch.setenv("AMQP_URI", amqp_uri)
    with running(amqp_uri, CasesService, ArchiveService):
        with rpc(amqp_uri, WORKER) as proxy:
            case_ids = [drive_case(proxy, f"client-{n}") for n in range(2)]
        with rpc(amqp_uri, AUDITOR) as proxy:
            head = proxy.cases.status()["published_position"]
            wait_for(lambda: ledgered(proxy, "cases") == head)
        yield {"uri": amqp_uri, "case_ids": case_ids, "head": head}


def cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def only_publishers(monkeypatch):
    """The running system has cases and archive; verify the sources that run."""
    from services.runtime.cli import audit

    monkeypatch.setattr(audit, "PUBLISHERS", ["cases", "archive"])


def test_verify_passes_on_an_intact_system_and_names_an_edited_position(
    system, tmp_path, monkeypatch
):
    only_publishers(monkeypatch)
    result = cli("verify")
    assert result.exit_code == 0, result.output
    assert "verified" in result.output
    [kept] = re.findall(r"report is kept as verification ([0-9a-f-]{36}) ", result.output)
    with rpc(system["uri"], AUDITOR) as proxy:
        report = proxy.archive.get_verification({"verification_id": kept})
        assert report["ok"] and report["verified_by"] == "casebook-cli"
    since = cli("verify", "--since-checkpoint")  # none signed yet: it says it checked everything
    assert since.exit_code == 0, since.output
    # Every entry again; the archive's own have grown meanwhile (the first verification's
    # among them).
    assert [re.sub(r"archive: \d+", "archive: n", line)
            for line in since.output.splitlines()[-2:]] == [
        "no checkpoint is signed yet: every entry was checked",
        re.sub(r"archive: \d+", "archive: n", result.output.splitlines()[-1])]

    with rpc(system["uri"], AUDITOR) as proxy:
        target = proxy.cases.events_since(0, 100)[1]
    database = tmp_path / "var" / "cases.sqlite"
    with sqlite3.connect(database) as connection:
        (state,) = connection.execute(
            "SELECT state FROM stored_events WHERE rowid=?", (target["position"],)
        ).fetchone()
        connection.execute(
            "UPDATE stored_events SET state=? WHERE rowid=?",
            (state.replace(b'"2026-', b'"2024-', 1), target["position"]),
        )
    result = CliRunner().invoke(main, ["verify"])
    assert result.exit_code != 0
    assert f"cases position {target['position']} (store)" in result.output
    assert f"ledger cases position {target['position']} (store)" in result.output


def test_verify_names_a_stored_event_its_source_cannot_read_back(system, tmp_path, monkeypatch):
    """An event edited past reading back (its first date made a word) is one problem at its
    position, from the published stream and from the ledger alike, not an error that stops
    the whole verification."""
    only_publishers(monkeypatch)
    with rpc(system["uri"], AUDITOR) as proxy:
        target = proxy.cases.events_since(0, 100)[1]["position"]
    with sqlite3.connect(tmp_path / "var" / "cases.sqlite") as connection:
        (state,) = connection.execute(
            "SELECT state FROM stored_events WHERE rowid=?", (target,)).fetchone()
        connection.execute("UPDATE stored_events SET state=? WHERE rowid=?",
                           (state.replace(b'"2026-', b'"not a date ', 1), target))
    result = CliRunner().invoke(main, ["verify"])
    assert result.exit_code != 0
    unreadable = "(store): the stored event cannot be read back into its envelope: "
    for stream in ("cases", "ledger cases"):
        line = next(line for line in result.output.splitlines()
                    if line.startswith(f"{stream} position {target} "))
        assert line.startswith(f"{stream} position {target} {unreadable}"), line
        assert "Invalid isoformat string: 'not a date " in line, line
    assert "no longer in the source's store" not in result.output


def test_verify_content_proves_sealed_values_and_names_an_edited_one(
    system, tmp_path, monkeypatch
):
    only_publishers(monkeypatch)
    result = cli("verify", "--content")
    assert result.exit_code == 0, result.output
    proved = re.search(r"\((\d+) proved; 0 no longer provable", result.output)
    assert proved and int(proved.group(1)) > 0, result.output

    # One byte of one sealed value changed in the store: the hash chains still hold (envelopes
    # carry only the commitment), and the content check names the position and the field.
    database = tmp_path / "var" / "cases.sqlite"
    with sqlite3.connect(database) as connection:
        position, state, field = next(
            (rowid, state, name) for rowid, state in
            connection.execute("SELECT rowid, state FROM stored_events ORDER BY rowid")
            for name, value in json.loads(state).items()
            if str(value).startswith("sealed:v2:"))
        token = json.loads(state)[field].encode()
        # A character inside the ciphertext (each of its six bits counts there): still base64,
        # no longer what was sealed.
        at = state.index(token) + len(token) - 10
        edited = state[:at] + (b"A" if state[at:at + 1] != b"A" else b"B") + state[at + 1:]
        connection.execute("UPDATE stored_events SET state=? WHERE rowid=?", (edited, position))
    assert cli("verify").exit_code == 0
    result = CliRunner().invoke(main, ["verify", "--content"])
    assert result.exit_code != 0
    assert (f"cases position {position} (content): {field}: the sealed value is not what its "
            "commitment was made to") in result.output


def test_replay_shows_a_case_as_it_was(system):
    case_id = system["case_ids"][0]
    first = json.loads(
        cli("replay", "--service", "cases", "--aggregate", case_id, "--version", "1").output
    )
    assert first["version"] == 1
    with rpc(system["uri"], AUDITOR) as proxy:
        opened_at = next(e["occurred_at"] for e in proxy.cases.events_since(0, 100)
                         if e["aggregate_id"] == case_id)
    at_opening = json.loads(
        cli("replay", "--service", "cases", "--aggregate", case_id, "--at", opened_at).output
    )
    assert at_opening == first
    latest = json.loads(cli("replay", "--service", "cases", "--aggregate", case_id).output)
    assert latest["version"] > 1


def test_a_refusal_is_one_line_that_names_the_field_and_the_rule(system):
    case_id = system["case_ids"][0]
    for args, said in (
        (["--aggregate", "not-a-case"], "Error: No aggregate not-a-case in the cases store. "
                                        "(not_found)"),
        (["--aggregate", case_id, "--at", "yesterday"],
         "Error: Invalid input. at: Not a valid datetime. (invalid_input)"),
    ):
        result = CliRunner().invoke(main, ["replay", "--service", "cases", *args])
        assert result.exit_code == 1, result.output
        assert result.output.strip() == said


def test_rebuild_reports_views_equal_to_the_log(system):
    result = cli("rebuild", "--service", "cases")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["equal"] is True
    assert report["differences"] == []
    assert report["position"] == system["head"]
    assert {"case_row", "client_row", "risk_row"} <= set(report["tables"])


def test_rebuild_names_the_row_and_column_a_hand_edit_changed_and_swap_repairs_it(
    system, tmp_path
):
    edited = system["case_ids"][0]
    with sqlite3.connect(tmp_path / "var" / "cases.sqlite") as connection:
        (before,) = connection.execute(
            "SELECT stage FROM case_row WHERE case_id=?", (edited,)).fetchone()
        connection.execute("UPDATE case_row SET stage='intake' WHERE case_id=?", (edited,))

    result = CliRunner().invoke(main, ["rebuild", "--service", "cases"])
    assert result.exit_code != 0
    report = json.loads(result.output[:result.output.rindex("}") + 1])
    assert report["differences"] == [{"table": "case_row", "key": [edited], "column": "stage",
                                      "live": "intake", "rebuilt": before}]
    assert "1 difference(s)" in result.output

    swapped = cli("rebuild", "--service", "cases", "--swap")
    assert json.loads(swapped.output)["swapped"] is True
    again = cli("rebuild", "--service", "cases")
    assert again.exit_code == 0, again.output
    with sqlite3.connect(tmp_path / "var" / "cases.sqlite") as connection:
        assert connection.execute(
            "SELECT stage FROM case_row WHERE case_id=?", (edited,)).fetchone() == (before,)


def test_export_writes_every_envelope_exactly_as_published(system, tmp_path):
    out = tmp_path / "cases.jsonl"
    result = cli("export", "--source", "cases", "--from", "0", "--out", str(out))
    assert result.exit_code == 0, result.output
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    with rpc(system["uri"], AUDITOR) as proxy:
        assert exported == proxy.cases.events_since(0, 1000)
    assert len(exported) == 2 * events_per_case()
    later = tmp_path / "later.jsonl"
    cli("export", "--source", "cases", "--from", str(exported[0]["position"]), "--out", str(later))
    assert len(later.read_text().splitlines()) == len(exported) - 1


def test_events_tail_follows_live_events(system):
    tail = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "casebook"),
            "events",
            "tail",
            "--source",
            "cases",
            "--type",
            "CaseOpened",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "following cases" in tail.stderr.readline()
        with rpc(system["uri"], WORKER) as proxy:
            drive_case(proxy, "live")
        line = tail.stdout.readline()
    finally:
        tail.terminate()
        tail.wait(timeout=30)
    envelope = json.loads(line)
    assert envelope["type"] == "CaseOpened"
    assert envelope["payload"]["client_id"] == client_id("live")


def test_dead_letters_are_listed_and_replayed_to_their_queue(system):
    uri = system["uri"]
    dead, live = dead_letter_queue_name("archive", "cases"), queue_name("archive", "cases")
    with rpc(uri, AUDITOR) as proxy:
        envelope = proxy.cases.events_since(0, 1)[0]
    with Connection(uri) as connection:
        connection.SimpleQueue(dead, queue_args=QUORUM).put(
            envelope,
            serializer="json",
            headers={
                "casebook_position": 1,
                "casebook_attempts": 3,
                "casebook_error": "RuntimeError: disk full",
            },
        )


    def parked() -> int:
        rows = json.loads(cli("status", "--json").output)["subscriptions"]
        return next(row["dead_letters"] for row in rows
                    if (row["subscriber"], row["source"]) == ("archive", "cases"))

    # `casebook status` counts it, as the archive's own status does.
    wait_for(lambda: parked() == 1, what="the dead letter counted by casebook status")
    listed = cli("dlq", "list", "--subscriber", "archive", "--source", "cases")
    assert "position 1 ClientRegistered: 3 attempts, RuntimeError: disk full" in listed.output
    # Listing leaves them in place: each is rejected back to the queue, which a quorum queue
    # applies after the listing's connection is gone (not yet ready the moment it closes).
    wait_for(lambda: Broker.queue_depth(uri, dead) == 1, what="the listed letter back in place")

    replayed = cli("dlq", "replay", "--subscriber", "archive", "--source", "cases")
    assert "replayed 1 dead letter(s)" in replayed.output
    assert Broker.queue_depth(uri, dead) == 0
    # The archive takes it from its queue and, having processed position 1, ignores it.
    wait_for(lambda: Broker.queue_depth(uri, live) == 0)
    with rpc(uri, AUDITOR) as proxy:
        assert proxy.archive.verify_ledger()["sources"]["cases"]["entries"] == system["head"]


def test_dead_letters_of_a_subscription_that_does_not_exist_are_refused_and_nothing_made(system):
    uri = system["uri"]
    # Supervision subscribes to cases, but has never run on this broker.
    for verb in ("list", "replay"):
        result = CliRunner().invoke(
            main, ["dlq", verb, "--subscriber", "supervision", "--source", "cases"])
        assert result.exit_code == 1, result.output
        assert ("Error: supervision has no subscription to cases on this broker (no queue "
                "supervision.from.cases)") in result.output
    with Connection(uri) as connection:
        for name in (queue_name("supervision", "cases"),
                     dead_letter_queue_name("supervision", "cases")):
            # A channel each: the broker closes the one a passive declaration fails on.
            with connection.channel() as channel, pytest.raises(NotFound):
                channel.queue_declare(name, passive=True)
    front_end = CliRunner().invoke(main, ["dlq", "list", "--subscriber", "gateway",
                                          "--source", "cases"])
    assert front_end.exit_code == 2
    assert "'gateway' is not one of 'archive', 'cases', 'resources', 'supervision'" in (
        front_end.output)


def test_rebuild_of_the_archive_names_an_edited_file_row_and_swap_repairs_it(system, tmp_path):
    result = cli("rebuild", "--service", "archive")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["equal"] is True and report["position"] > 0
    assert {"archive_file", "ledger_entry", "access_request"} <= set(report["tables"])

    database = tmp_path / "var" / "archive.sqlite"
    with sqlite3.connect(database) as connection:
        file_id, before = connection.execute(
            "SELECT file_id, legal_holds FROM archive_file LIMIT 1").fetchone()
        connection.execute("UPDATE archive_file SET legal_holds = 7 WHERE file_id=?", (file_id,))
    result = CliRunner().invoke(main, ["rebuild", "--service", "archive"])
    assert result.exit_code != 0
    report = json.loads(result.output[:result.output.rindex("}") + 1])
    assert report["differences"] == [{"table": "archive_file", "key": [file_id],
                                      "column": "legal_holds", "live": 7, "rebuilt": before}]
    assert json.loads(cli("rebuild", "--service", "archive", "--swap").output)["swapped"]
    assert cli("rebuild", "--service", "archive").exit_code == 0


def edit_ledger_entry(database: Path, source: str, position: int) -> None:
    """What an intruder with the archive's database does: rewrite one ledger entry."""
    with sqlite3.connect(database) as connection:
        for rowid, state in connection.execute(
                "SELECT rowid, state FROM stored_events WHERE topic LIKE '%LedgerEntry.Recorded'"):
            entry = json.loads(state)
            if (entry["source"], entry["position"]) == (source, position):
                entry["envelope"]["occurred_at"] = "2024-01-01T00:00:00+00:00"
                connection.execute("UPDATE stored_events SET state=? WHERE rowid=?",
                                   (json.dumps(entry).encode(), rowid))
                return
    raise AssertionError(f"no ledger entry {source}:{position}")


def test_verify_since_checkpoint_leaves_what_came_before_to_the_full_check(
    system, tmp_path, monkeypatch
):
    only_publishers(monkeypatch)
    monkeypatch.setenv("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", "1")
    with rpc(system["uri"], AUDITOR) as proxy:
        wait_for(lambda: any(h["source"] == "cases" and h["position"] == system["head"]
                             for c in proxy.archive.list_checkpoints()["items"]
                             for h in c["heads"]), what="a checkpoint over the cases head")
    monkeypatch.setenv("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", "100000")
    edit_ledger_entry(tmp_path / "var" / "archive.sqlite", "cases", 1)

    since = CliRunner().invoke(main, ["verify", "--since-checkpoint"])
    assert since.exit_code == 0, since.output
    assert "since checkpoint #" in since.output
    full = CliRunner().invoke(main, ["verify"])
    assert full.exit_code != 0
    assert "ledger cases position 1 (ledger)" in full.output

    # A case driven after the checkpoint, and its first event edited in the cases store.
    with rpc(system["uri"], WORKER) as proxy:
        drive_case(proxy, "client-after")
    with rpc(system["uri"], AUDITOR) as proxy:
        head = proxy.cases.status()["published_position"]
        wait_for(lambda: ledgered(proxy, "cases") == head)
        target = proxy.cases.events_since(system["head"], 100)[1]["position"]
    with sqlite3.connect(tmp_path / "var" / "cases.sqlite") as connection:
        (state,) = connection.execute(
            "SELECT state FROM stored_events WHERE rowid=?", (target,)).fetchone()
        connection.execute("UPDATE stored_events SET state=? WHERE rowid=?",
                           (state.replace(b'"2026-', b'"2024-', 1), target))
    for args in (["verify", "--since-checkpoint"], ["verify"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code != 0, args
        assert f"ledger cases position {target} (store)" in result.output, args


def test_a_broker_it_cannot_reach_is_one_line_that_names_it_without_its_password(monkeypatch):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    monkeypatch.setenv("AMQP_URI", f"amqp://guest:not-to-be-shown@127.0.0.1:{port}/")
    for command in (["status"], ["verify"], ["demo", "--cases", "1"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 1, (command, result.output)
        assert (f"Error: RabbitMQ does not answer at amqp://guest:********@127.0.0.1:{port}/ "
                in result.output), (command, result.output)
        assert "not-to-be-shown" not in result.output
        assert "Traceback" not in result.output


def test_a_service_that_never_ran_or_does_not_answer_is_one_line(amqp_uri, monkeypatch):
    monkeypatch.setenv("AMQP_URI", amqp_uri)
    # The CLI does not declare the services' RPC exchange (an auditor's user may not).
    nothing_ran = CliRunner().invoke(main, ["verify"])
    assert nothing_ran.exit_code == 1, nothing_ran.output
    assert ("Error: no service has run on this broker yet (NOT_FOUND - no exchange "
            "'nameko-rpc'") in nothing_ran.output

    with running(amqp_uri, CasesService):
        pass  # its exchanges stay on the broker
    never_ran = CliRunner().invoke(main, ["verify"])
    assert never_ran.exit_code == 1, never_ran.output
    assert "Error: Unknown service `archive`: it has never run on this broker" in never_ran.output

    with running(amqp_uri, ArchiveService):
        pass  # its queue stays on the broker, with nobody to answer
    stopped = CliRunner().invoke(main, ["verify", "--timeout", "1"])
    assert stopped.exit_code == 1, stopped.output
    assert "Error: a service did not answer within 1 s" in stopped.output
    assert "Traceback" not in nothing_ran.output + never_ran.output + stopped.output


def test_a_broker_blocking_publishers_is_one_line_by_the_timeout(monkeypatch):
    # RabbitMQ's disk alarm (its disk_free_limit above the room the disk has) blocks every
    # publishing connection: without a bound on the publish, each command waited for as long
    # as the alarm lasted.
    with private_broker() as broker:
        monkeypatch.setenv("AMQP_URI", broker.uri)
        with Connection(broker.uri) as connection:  # as the services would have
            Exchange("nameko-rpc", type="topic", durable=True)(connection.channel()).declare()
        broker.ctl("set_disk_free_limit", "1000000GB")
        try:
            results = [CliRunner().invoke(main, command)
                       for command in (["status", "--timeout", "1"],
                                       ["verify", "--timeout", "1"])]
        finally:
            broker.ctl("set_disk_free_limit", "50MB")
    for result in results:
        assert result.exit_code == 1, result.output
        assert "Error: a service did not answer within 1 s" in result.output
        assert "`rabbitmq-diagnostics alarms` says" in result.output
        assert "Traceback" not in result.output
