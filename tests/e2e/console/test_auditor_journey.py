"""An auditor in a real browser (journeys_auditor.py): a social worker's case is worked from
intake to closing over RPC, the archive's ledger records it and signs a checkpoint; the auditor
sees the chains, verifies them, reads the cases ledger, opens the case as it was when it was
opened, downloads an export and checks an entry's envelope by hand; then a forged envelope of
the resources service reaches the ledger and the auditor finds its alarm. What the browser saw
is checked against the ledger as the archive answers it over RPC."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from typing import Any

import pytest
from kombu import Connection

from contracts.envelope import GENESIS_HASH, HASH_RULE, envelope_bytes, envelope_id, seal
from services.runtime.cli.demo import SCHOOL, WORKER
from services.runtime.cli.journeys import case_journey
from services.runtime.relay import events_exchange
from tests.e2e.console.conftest import ARTEFACTS, ROOT, console, console_address, run_journey
from tests.support.services import ledgered, rpc
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

AUDITOR = {"id": "demo-auditor", "role": "auditor"}


def test_an_auditor_verifies_the_ledger_and_sees_a_record_as_it_was(amqp_uri, tmp_path):
    settings = {"CASEBOOK_CONSOLE_DEV_SIGN_IN": "true",
                # A checkpoint within seconds of the case's last event, so one covers it all.
                "CASEBOOK_CHECKPOINT_EVERY_MINUTES": "0.05",
                "CASEBOOK_CHECKPOINT_TICK_SECONDS": "1"}
    with console(amqp_uri, tmp_path, console_address(), services=("cases", "archive"),
                 **settings) as url:
        worker = {"id": WORKER, "role": "social_worker", "school_id": SCHOOL}
        with rpc(amqp_uri, worker) as proxy:
            case_id = case_journey(proxy, "audited-1", WORKER)
        with rpc(amqp_uri, AUDITOR) as proxy:
            published = proxy.cases.events_since(0, 1000)
            wait_for(lambda: ledgered(proxy, "cases") == published[-1]["position"], timeout=60,
                     what="the ledger to catch up")
            wait_for(lambda: _signed_through(proxy, published[-1]["position"]), timeout=60,
                     what="a checkpoint over the case's events")
            seen = run_journey("auditor", url)
            verifications = proxy.archive.list_verifications({})
            ledger = proxy.archive.list_ledger({"source": "cases", "limit": 200})
            now = proxy.archive.get_record({"source": "cases", "aggregate_id": case_id})
            then = proxy.archive.get_record({
                "source": "cases", "aggregate_id": case_id, "ledger_source": "cases",
                "ledger_position": seen["record"]["position"]})
            # Then an envelope of the resources service, changed after it was hashed, reaches
            # the ledger (the service itself is not running: nobody but the forger speaks).
            forged = forge_envelope(amqp_uri)
            wait_for(lambda: proxy.archive.list_chain_alarms({"source": "resources"})["total"],
                     timeout=60, what="the ledger to raise an alarm on the forged envelope")
            alarmed = run_journey("auditor_alarms", url)
            [alarm] = proxy.archive.list_chain_alarms({})["items"]

    # The chains and the checkpoint, as the status page showed them: nothing verified until
    # the auditor asked, then what follows the checkpoint, kept and shown as the last.
    assert seen["status_before"] == "尚无留存的核验：请核验台账，以确认每条哈希链是否完好。"
    assert seen["daily"] == "已通过核验：每条哈希链和每个检查点均完好。"
    # The checkpoint verified from is the last one then; the archive may sign another before
    # the status page is read (the kept verification is itself a ledger entry).
    since = re.fullmatch(r"检查点 (\d+) 之后.*", seen["daily_scope"])
    assert since, seen["daily_scope"]
    assert seen["status"] == f"自检查点 {since.group(1)} 起，每条哈希链均通过核验。"
    assert "由 demo-auditor 发起" in seen["last_verification"]
    assert seen["checkpoint"].isdigit() and 1 <= int(since.group(1)) <= int(seen["checkpoint"])
    assert f"位置 {published[-1]['position']}" in seen["status_cases"]
    # The full verification passed, for the cases chain from its first position to its head.
    assert seen["verification"] == "已通过核验：每条哈希链和每个检查点均完好。"
    assert "并将每条哈希链与其来源服务的存储比对" in seen["scope"]
    assert f"1 至 {published[-1]['position']}" in seen["verified_sources"]["cases"]
    assert "已通过核验" in seen["verified_sources"]["cases"]
    # Both verifications are kept, as the archive answers them, the full one read again.
    assert seen["kept"] == [row["verification_id"] for row in verifications["items"]]
    assert len(seen["kept"]) == 2 and seen["kept_as"] == seen["kept"][0]  # the full one
    assert seen["kept_report"] == {"result": seen["verification"], "scope": seen["scope"],
                                   "by": "demo-auditor"}
    # The ledger page is the ledger, each previous hash the hash of the entry before.
    items = ledger["items"]
    assert [(row["position"], row["type"], row["hash"]) for row in seen["ledger"]] == [
        (item["position"], item["type"], item["hash"]) for item in items[:50]]
    assert seen["ledger"][0]["prev_hash"] == "0" * 64
    assert all(row["prev_hash"] == before["hash"]
               for before, row in zip(seen["ledger"], seen["ledger"][1:], strict=False))
    assert seen["ledger_marks"] == 0
    # The case then (just opened) is not the case now (closed), as the archive says both.
    record = seen["record"]
    assert record["record_id"] == case_id
    assert record["count_then"] == then["event_count"] == 1 < now["event_count"]
    assert record["types_then"] == ["CaseOpened"]
    assert then["status"] == "open" != now["status"] == "closed"
    assert record["status_then"] == "开案：服务中"
    assert f"共 {now['event_count']} 个事件" in record["now"]
    assert "JD001-2026-GA-0001" in record["file"]  # its archive file, as it was then
    assert "基本信息" in record["file"] and "basic_information" not in record["file"]
    assert seen["refused"] == "至少为 1。"  # position 0, beside its field
    assert seen["refused_alert"].startswith("有些栏目未填或不符合规则")
    assert seen["refused_source"] == "请从选项中选择。"
    # The export is the ledger's entries from position 2 to 5, as the archive lists them.
    assert seen["export_refused"] == "不能早于起始位置（2）。"
    assert seen["export_name"] == "ledger-cases-2-5.jsonl"
    assert seen["export"] == [item for item in items if 2 <= item["position"] <= 5]
    # The envelopes as published: the stand-alone verifier finds every hash and link holds.
    assert seen["envelopes_name"] == "envelopes-cases-1-head.jsonl"
    verified = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "verify" / "verify.py"),
         str(ARTEFACTS / "auditor-envelopes-cases.jsonl")], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith(f"verified {len(published)} envelopes of cases")
    # The second entry as stored: its hash holds and links it to the first, and the text the
    # page gave to check it by hand hashes, here, to the hash the ledger lists.
    entry, second = seen["entry"], items[1]
    assert entry["envelope"]["position"] == 2 and entry["envelope"]["type"] == second["type"]
    assert entry["hash"] == second["hash"] and entry["before_hash"] == items[0]["hash"]
    assert entry["prev_hash"] == items[0]["hash"] and entry["alarms"] == 0
    assert entry["hash_check"] == "一致：内容与计算哈希时相同。"
    assert entry["link_check"] == "已衔接：其前一哈希即前一条目的哈希。"
    assert seen["hashed_name"] == "cases-2-hashed.json"
    hashed = (ARTEFACTS / "auditor-cases-2-hashed.json").read_bytes()
    assert hashlib.sha256(hashed).hexdigest() == second["hash"]
    assert seen["no_alarms"] == "没有告警：每个信封到达时都接续了其哈希链。"
    # The forged envelope: one alarm, counted on the status page and said in Chinese where.
    assert (alarm["source"], alarm["position"], alarm["problems"]) == (
        "resources", 1, ["hash does not match the envelope's content"])
    assert alarmed["status"] == "1 条告警"
    assert alarmed["alarms"] == [{"position": 1, "problems": ["其哈希不是其内容的哈希。"]}]
    assert "其哈希不是其内容的哈希。" in alarmed["entry"]["alarm"]
    assert alarmed["entry"]["hash_check"] == "不一致：内容已不是当初计算哈希时的内容。"
    assert alarmed["entry"]["link_check"] == "已衔接：其前一哈希即前一条目的哈希。"
    assert alarmed["entry"]["envelope"] == forged  # kept as it came
    assert alarmed["verification"] == "未通过核验：问题按其位置列于下方。"
    assert alarmed["verification_problems"] == ["位置 1（台账中）： 其哈希不是其内容的哈希。"]
    assert alarmed["status_after"] == "有哈希链或检查点未通过核验：问题位置见核验报告。"
    assert len(alarmed["failed"]) == 1 and "发现 1 个问题" in alarmed["failed"][0]
    for name in ("auditor-01-status", "auditor-02-verification",
                 "auditor-02b-verification-kept", "auditor-03-ledger-cases",
                 "auditor-05-record-then", "auditor-07-entry", "auditor-08-alarms",
                 "auditor-09-alarmed-entry", "auditor-10-verification-failed"):
        assert (ARTEFACTS / f"{name}.png").stat().st_size > 0


def forge_envelope(amqp_uri: str) -> dict[str, Any]:
    """The first envelope of the resources service's stream, its payload changed after it was
    sealed, published where the service's relay publishes."""
    sealed = seal({
        "id": envelope_id("resources", 1), "type": "ProviderRegistered", "version": 1,
        "source": "resources", "position": 1, "prev_position": 0, "aggregate_id": "provider-1",
        "aggregate_version": 1, "occurred_at": "2026-09-01T00:00:00+00:00",
        "actor": {"id": "demo-admin", "role": "school_admin"}, "school_id": SCHOOL,
        "correlation_id": "forged", "causation_id": None, "payload": {"kind": "enterprise"},
        "prev_hash": GENESIS_HASH, "hash_rule": HASH_RULE})
    forged = {**sealed, "payload": {"kind": "government"}}
    exchange = events_exchange("resources")
    with Connection(amqp_uri) as connection:
        connection.Producer().publish(
            envelope_bytes(forged), exchange=exchange, routing_key=forged["type"],
            declare=[exchange], content_type="application/json", content_encoding="utf-8")
    return forged


def _signed_through(proxy: Any, position: int) -> bool:
    newest = proxy.archive.list_checkpoints({"limit": 1})["items"]
    heads = {head["source"]: head["position"] for head in newest[0]["heads"]} if newest else {}
    return heads.get("cases", 0) >= position
