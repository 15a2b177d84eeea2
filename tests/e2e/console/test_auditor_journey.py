"""An auditor in a real browser (journeys_auditor.py): a social worker's case is worked from
intake to closing over RPC, the archive's ledger records it and signs a checkpoint; the auditor
sees the chains, verifies them, reads the cases ledger, opens the case as it was when it was
opened and downloads an export. What the browser saw is checked against the ledger as the
archive answers it over RPC."""

from __future__ import annotations

from typing import Any

import pytest

from services.runtime.cli.demo import SCHOOL, WORKER
from services.runtime.cli.journeys import case_journey
from tests.e2e.console.conftest import ARTEFACTS, console, console_address, run_journey
from tests.support.services import rpc
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
            wait_for(lambda: proxy.archive.ledger_head("cases")["position"]
                     == published[-1]["position"], timeout=60, what="the ledger to catch up")
            wait_for(lambda: _signed_through(proxy, published[-1]["position"]), timeout=60,
                     what="a checkpoint over the case's events")
            seen = run_journey("auditor", url)
            ledger = proxy.archive.list_ledger({"source": "cases", "limit": 200})
            now = proxy.archive.get_record({"source": "cases", "aggregate_id": case_id})
            then = proxy.archive.get_record({
                "source": "cases", "aggregate_id": case_id, "ledger_source": "cases",
                "ledger_position": seen["record"]["position"]})

    # The chains and the checkpoint, as the status page showed them.
    assert seen["status"] == "自最近的检查点以来，每条哈希链均通过核验。"
    assert seen["checkpoint"].isdigit() and int(seen["checkpoint"]) >= 1
    assert f"位置 {published[-1]['position']}" in seen["status_cases"]
    # The full verification passed, for the cases chain from its first position to its head.
    assert seen["verification"] == "已通过核验：每条哈希链和每个检查点均完好。"
    assert "并将每条哈希链与其来源服务的存储比对" in seen["scope"]
    assert f"1 至 {published[-1]['position']}" in seen["verified_sources"]["cases"]
    assert "已通过核验" in seen["verified_sources"]["cases"]
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
    assert seen["refused"] == "至少为 1。"  # position 0, beside its field
    assert seen["refused_alert"].startswith("有些栏目未填或不符合规则")
    assert seen["refused_source"] == "请从选项中选择。"
    # The export is the ledger's entries from position 2 to 5, as the archive lists them.
    assert seen["export_refused"] == "不能早于起始位置（2）。"
    assert seen["export_name"] == "ledger-cases-2-5.jsonl"
    assert seen["export"] == [item for item in items if 2 <= item["position"] <= 5]
    for name in ("auditor-01-status", "auditor-02-verification", "auditor-03-ledger-cases",
                 "auditor-05-record-then"):
        assert (ARTEFACTS / f"{name}.png").stat().st_size > 0


def _signed_through(proxy: Any, position: int) -> bool:
    newest = proxy.archive.list_checkpoints({"limit": 1})["items"]
    heads = {head["source"]: head["position"] for head in newest[0]["heads"]} if newest else {}
    return heads.get("cases", 0) >= position
