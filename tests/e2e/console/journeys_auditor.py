"""The auditor's journey through the console: each source's chain and the last checkpoint, a
verification that passes, the ledger of the cases service, a case as it was at an earlier
position (a position refused first), an export of the ledger as JSON Lines, and a ledger entry's
envelope with the text its hash covers; then, in a journey of its own, a chain alarm found from
the status page."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from browser import Person, follow
from playwright.sync_api import Browser


def auditor_journey(browser: Browser, console_url: str, artefacts: Path) -> dict[str, Any]:
    me = Person(browser, console_url, artefacts)
    page, field, save, shot = me.page, me.field, me.save, me.shot
    seen: dict[str, Any] = {}

    # Signed in, the auditor lands on the chains and the last checkpoint: no verification is
    # kept yet, so the page verifies what follows the checkpoint when asked to.
    me.sign_in_as("demo-auditor")
    page.wait_for_url(re.compile("/audit/status$"))
    assert page.get_by_role("heading", name="哈希链与检查点").is_visible()
    seen["status_before"] = page.locator("#chain-state").inner_text()
    save("立即核验最近检查点之后的内容", 200)
    seen["daily"] = page.locator("#result").inner_text()
    seen["daily_scope"] = page.locator("#scope").inner_text()
    follow(page.get_by_role("link", name="哈希链与检查点"))
    page.wait_for_url(re.compile("/audit/status$"))
    seen["status"] = page.locator("#chain-state").inner_text()
    seen["last_verification"] = page.locator("#last-verification").inner_text()
    seen["checkpoint"] = page.locator("#checkpoint-sequence").inner_text()
    cases_row = page.locator("#sources tr[data-source='cases']")
    seen["status_cases"] = cases_row.inner_text()
    shot("auditor-01-status")

    # A full verification, against the sources' stores too: it passes.
    follow(page.get_by_role("link", name="核验台账").first)
    assert field("同时将每条哈希链与其来源服务自身的存储比对").is_checked()
    save("运行核验", 200)
    seen["verification"] = page.locator("#result").inner_text()
    seen["verified_sources"] = {
        row.get_attribute("data-source"): row.inner_text()
        for row in page.locator("#report-sources tbody tr").all()}
    seen["scope"] = page.locator("#scope").inner_text()
    seen["kept_as"] = page.locator("#kept").inner_text()
    shot("auditor-02-verification")

    # Both verifications are kept, the newest first; the full one reads again as answered.
    follow(page.get_by_role("link", name="已留存的核验"))
    page.wait_for_url(re.compile("/audit/verifications$"))
    seen["kept"] = [row.get_attribute("data-verification")
                    for row in page.locator("#verifications tbody tr").all()]
    page.locator("#verifications tbody tr").first.get_by_role("link").click()
    page.wait_for_url(re.compile("/audit/verifications/[0-9a-f-]+$"))
    seen["kept_report"] = {"result": page.locator("#result").inner_text(),
                           "scope": page.locator("#scope").inner_text(),
                           "by": page.locator("#verified-by").inner_text()}
    shot("auditor-02b-verification-kept")

    # The ledger of the cases service: position, type, time, hash and the previous hash.
    follow(page.get_by_role("link", name="审计台账"))
    page.wait_for_url(re.compile("/audit/ledger/cases$"))
    rows = page.locator("#entries tbody tr")
    seen["ledger"] = [{"position": int(row.get_attribute("data-position") or 0),
                       "type": row.locator(".type").inner_text(),
                       "hash": row.locator(".hash").first.inner_text(),
                       "prev_hash": row.locator(".prev").inner_text()}
                      for row in rows.all()]
    seen["ledger_marks"] = page.locator("#entries .late").count()
    shot("auditor-03-ledger-cases")

    # The case as it was when it was opened: first a position that is no position and a source
    # that is none, each refused beside its field; then the position of the row's own entry.
    opened = page.locator("#entries tbody tr", has=page.locator(".type", has_text="CaseOpened"))
    follow(opened.get_by_role("link", name="当时的记录"))
    record_url = page.url
    page.goto(re.sub(r"position=\d+", "position=0", record_url))
    assert field("台账位置").get_attribute("aria-invalid") == "true"
    seen["refused"] = page.locator("#error-position").inner_text()
    seen["refused_alert"] = page.get_by_role("alert").inner_text()
    shot("auditor-04-record-refused")
    page.goto(record_url.replace("source=cases", "source=nowhere"))
    seen["refused_source"] = page.locator("#error-source").inner_text()
    page.goto(record_url)
    seen["record"] = {
        "record_id": page.locator("#record-id").inner_text(),
        "position": int(field("台账位置").input_value()),
        "status_then": page.locator("#status-then").inner_text(),
        "count_then": int(page.locator("#count-then").inner_text()),
        "types_then": [item.inner_text() for item in page.locator("#events .type").all()],
        "now": page.locator("#now").inner_text(),
        "file": page.locator("#file").inner_text(),
    }
    shot("auditor-05-record-then")

    # The export: the cases ledger from its second position to its fifth, as JSON Lines.
    follow(page.get_by_role("link", name="导出台账"))
    field("来源服务").select_option("cases")
    field("起始位置").fill("2")
    field("截止位置").fill("1")
    page.get_by_role("button", name="下载导出文件").click()
    page.wait_for_load_state()
    seen["export_refused"] = page.locator("#error-to_position").inner_text()
    field("截止位置").fill("5")
    page.get_by_label(re.compile("JSON Lines")).check()
    shot("auditor-06-export")
    with page.expect_download() as download:
        page.get_by_role("button", name="下载导出文件").click()
    saved = artefacts / "auditor-ledger-cases.jsonl"
    download.value.save_as(saved)
    seen["export_name"] = download.value.suggested_filename
    seen["export"] = [json.loads(line) for line in saved.read_text("utf-8").splitlines()]
    # And the whole stream of envelopes the cases service published, for a verifier's own run.
    field("起始位置").fill("")
    field("截止位置").fill("")
    page.get_by_label(re.compile("来源服务发布的原始信封")).check()
    with page.expect_download() as download:
        page.get_by_role("button", name="下载导出文件").click()
    download.value.save_as(artefacts / "auditor-envelopes-cases.jsonl")
    seen["envelopes_name"] = download.value.suggested_filename

    # The ledger's second entry as stored, to check by hand: its hash recomputed, its link to
    # the first, and the very text its hash covers, downloaded for the test to hash itself.
    page.goto(f"{console_url}/audit/ledger/cases")
    page.locator("#entries tbody tr[data-position='2'] .position a").click()
    page.wait_for_url(re.compile("/audit/ledger/cases/2$"))
    seen["entry"] = {"hash": page.locator("#entry-hash").inner_text(),
                     "prev_hash": page.locator("#prev-hash").inner_text(),
                     "before_hash": page.locator("#before-hash").inner_text(),
                     "hash_check": page.locator("#hash-check").inner_text(),
                     "link_check": page.locator("#link-check").inner_text(),
                     "alarms": page.get_by_role("alert").count(),
                     "envelope": json.loads(page.locator("#envelope").inner_text())}
    shot("auditor-07-entry")
    with page.expect_download() as download:
        page.locator("#hashed-download").click()
    saved = artefacts / "auditor-cases-2-hashed.json"
    download.value.save_as(saved)
    seen["hashed_name"] = download.value.suggested_filename
    # No alarm on any chain: the status page says so beside each source.
    follow(page.get_by_role("link", name="哈希链告警"))
    seen["no_alarms"] = page.locator("#alarm-count").inner_text()
    return seen


def alarms_journey(browser: Browser, console_url: str, artefacts: Path) -> dict[str, Any]:
    """After a forged envelope of the resources service reached the ledger: the status page
    counts its alarm, the alarms list says what was wrong, and its envelope page shows where."""
    me = Person(browser, console_url, artefacts).sign_in_as("demo-auditor")
    page, shot = me.page, me.shot
    page.wait_for_url(re.compile("/audit/status$"))
    resources = page.locator("#sources tr[data-source='resources']")
    seen: dict[str, Any] = {"status": resources.locator(".alarms").inner_text()}
    resources.locator(".alarms a").click()
    page.wait_for_url(re.compile(r"/audit/alarms\?source=resources$"))
    rows = page.locator("#alarms tbody tr")
    seen["alarms"] = [{"position": int(row.get_attribute("data-position") or 0),
                       "problems": row.locator(".problems li").all_inner_texts()}
                      for row in rows.all()]
    shot("auditor-08-alarms")
    rows.first.get_by_role("link").click()
    page.wait_for_url(re.compile("/audit/ledger/resources/1$"))
    seen["entry"] = {"alarm": page.locator("#entry-alarm").inner_text(),
                     "hash_check": page.locator("#hash-check").inner_text(),
                     "link_check": page.locator("#link-check").inner_text(),
                     "envelope": json.loads(page.locator("#envelope").inner_text())}
    shot("auditor-09-alarmed-entry")
    # A verification of the ledger alone finds the forged envelope, said in Chinese.
    follow(page.get_by_role("link", name="核验台账").first)
    me.field("同时将每条哈希链与其来源服务自身的存储比对").uncheck()
    me.save("运行核验", 200)
    seen["verification"] = page.locator("#result").inner_text()
    seen["verification_problems"] = page.locator(
        "#report-sources tr[data-source='resources'] .problems li").all_inner_texts()
    shot("auditor-10-verification-failed")
    # The status page shows it now, and the verifications that found problems list it alone.
    follow(page.get_by_role("link", name="哈希链与检查点"))
    page.wait_for_url(re.compile("/audit/status$"))
    seen["status_after"] = page.locator("#chain-state").inner_text()
    follow(page.get_by_role("link", name="已留存的核验"))
    follow(page.get_by_role("link", name="发现问题"))
    page.wait_for_url(re.compile(r"/audit/verifications\?result=failed$"))
    seen["failed"] = page.locator("#verifications tbody tr").all_inner_texts()
    me.context.close()
    return seen


JOURNEYS = {"auditor": auditor_journey, "auditor_alarms": alarms_journey}
