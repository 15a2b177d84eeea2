"""The school admin's journey through the console: the staff and whether each may take cases,
the compliance report with a refusal on the way, downloaded as CSV and XLSX."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from browser import Person, follow
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page


def school_admin_journey(browser: Browser, console_url: str, artefacts: Path) -> dict[str, Any]:
    me = Person(browser, console_url, artefacts).sign_in_as("demo-admin")
    page, field, shot = me.page, me.field, me.shot

    # The school admin lands on the staff and whether each may take cases.
    page.wait_for_url(re.compile("/staff$"))
    staff = page.locator("table.staff tbody tr").all_inner_texts()
    follow(page.get_by_role("link", name="不可承接个案"))
    ineligible = page.locator("table.staff tbody tr").all_inner_texts()
    shot("admin-01-staff-ineligible")

    # A period that ends before it starts: refused beside the field.
    follow(page.get_by_role("link", name="合规报告"))
    field("起始日期").fill("2026-12-01")
    field("截止日期").fill("2026-11-01")
    refusal = _sent(page, "生成报告")
    refused = page.locator("#error-period_to").inner_text()
    shot("admin-02-compliance-refused")

    # Up to today in the schools' time zone, so that the staff registered today count.
    until = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    field("起始日期").fill("2026-01-01")
    field("截止日期").fill(until)
    shown = _sent(page, "生成报告")
    table = [[cell.strip() for cell in row.locator("th, td").all_text_contents()]
             for row in page.locator("#report tr").all()]
    shot("admin-03-compliance")

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="下载 CSV").click()
    csv_bytes = Path(csv_download.value.path()).read_bytes()
    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="下载 XLSX").click()
    book = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
    sheet = book.worksheets[0]

    # English on request: the same report, its table in English.
    page.get_by_role("button", name="English").click()
    english = page.locator("#report thead th").all_text_contents()
    me.context.close()
    return {
        "staff": staff, "ineligible": ineligible, "refusal_status": refusal,
        "refused": refused, "shown_status": shown, "until": until, "table": table,
        "csv_name": csv_download.value.suggested_filename,
        "csv_bom": csv_bytes.startswith(b"\xef\xbb\xbf"),
        "csv": list(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig"), newline=""))),
        "xlsx_name": xlsx_download.value.suggested_filename,
        "xlsx_sheet": sheet.title, "english": english,
        "xlsx": [["" if cell is None else str(cell) for cell in row]
                 for row in sheet.iter_rows(values_only=True)],
    }


def _sent(page: Page, button: str) -> int:
    """Send a GET form with `button`; the answer's status."""
    with page.expect_response(lambda r: "/compliance?" in r.url) as answer:
        page.get_by_role("button", name=button).click()
    page.wait_for_load_state()
    return answer.value.status


JOURNEYS = {"school_admin": school_admin_journey}
