"""The compliance report as the school admin's downloads hold it: a table in the person's
language, CSV that Excel in zh-CN opens as UTF-8 (byte-order mark), and XLSX with the same rows,
read back with a reader of its own (openpyxl) rather than the writer."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from services.console.i18n import Localized
from services.console.school_admin import as_csv, as_xlsx, gap_detail, report_rows

REPORT = {
    "school_id": "JD001",
    "period_from": "2026-01-01",
    "period_to": "2026-12-02",
    "generated_at": "2026-12-02T10:00:00+00:00",
    "compliant": False,
    "checks": [
        {"clause": "6.1.1", "check": "service_space", "met": True},
        {"clause": "9.1b", "check": "continuing_education_hours", "met": False},
        {"clause": "7", "check": "shall_services_delivered", "met": False},
        {"clause": "9.6b", "check": "escalations_acknowledged_in_time", "met": False},
    ],
    "gaps": [
        {"clause": "9.1b", "check": "continuing_education_hours", "subject_id": "worker-1",
         "detail": "2026: 600 of 2160 minutes, 1560 missing."},
        {"clause": "7", "check": "shall_services_delivered", "subject_id": "7.1.3a",
         "detail": "Not delivered: 科学 / Science"},
        {"clause": "9.6b", "check": "escalations_acknowledged_in_time",
         "subject_id": "=HYPERLINK(\"http://example.invalid\")",
         "detail": "Not acknowledged; now waiting for school_admin."},
    ],
    "figures": {},
}
HEADERS = ["条款", "检查项", "是否达标", "涉及对象", "差距说明"]


def test_the_table_is_in_chinese_a_row_per_check_met_and_per_gap():
    rows = report_rows(REPORT, Localized("zh_CN"))
    assert list(rows[0]) == HEADERS
    assert rows[1] == ("6.1.1", "服务场所", "是", "", "")
    assert rows[2] == ("9.1b", "每年不少于 36 学时的继续教育", "否", "worker-1",
                       "2026 年：已完成 600 分钟，应为 2160 分钟，尚缺 1560 分钟。")
    assert rows[3][3].startswith("7.1.3a 科学") and rows[3][4] == "本期间未提供。"
    assert rows[4][4] == "尚未确认，正等待学校管理员确认。"
    assert len(rows) == 5


def test_in_english_the_table_keeps_the_source_words():
    rows = report_rows(REPORT, Localized("en"))
    assert rows[0] == ("Clause", "Check", "Met", "Concerns", "What is missing")
    assert rows[2][4] == "2026: 600 of 2160 minutes, 1560 missing."


def test_a_detail_the_console_does_not_know_stays_as_the_service_said_it():
    assert gap_detail("Something new.", Localized("zh_CN")) == "Something new."
    assert gap_detail("Not answered; due 2026-10-08.", Localized("zh_CN")) == (
        "尚未答复，答复期限为 2026年10月8日。")


def test_the_csv_starts_with_a_byte_order_mark_and_reads_back_as_the_table():
    rows = report_rows(REPORT, Localized("zh_CN"))
    content = as_csv(rows)
    assert content.startswith(b"\xef\xbb\xbf")  # Excel in zh-CN reads UTF-8 only with it
    assert b"\r\n" in content
    read = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert read[0] == HEADERS
    assert read[2] == list(rows[2])
    assert len(read) == len(rows)


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_made_inert_in_the_csv():
    content = as_csv(report_rows(REPORT, Localized("zh_CN"))).decode("utf-8-sig")
    read = list(csv.reader(io.StringIO(content, newline="")))
    assert read[4][3] == "'=HYPERLINK(\"http://example.invalid\")"


def test_the_xlsx_opens_and_holds_the_same_rows_as_text():
    rows = report_rows(REPORT, Localized("zh_CN"))
    book = load_workbook(io.BytesIO(as_xlsx(rows, "合规报告")))
    sheet = book["合规报告"]
    read = [tuple("" if cell is None else cell for cell in row)
            for row in sheet.iter_rows(values_only=True)]
    assert read == rows
    assert sheet["A1"].font.bold
    assert sheet.freeze_panes == "A2"
    # Written as a string, a formula-looking cell is text, never run.
    assert sheet["D5"].data_type == "s"
