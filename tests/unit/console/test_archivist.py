"""The archivist's pages' own logic: the printed file (9.4), the list's filters, and the
archive's refusals as the forms show them (9.4d, 9.4e)."""

from __future__ import annotations

import io

from pypdf import PdfReader
from werkzeug.datastructures import MultiDict

from services.console.archivist import _file_query, _problem, file_pdf
from services.console.forms import Field
from services.console.i18n import Localized
from services.console.web import Refused

FILE = {
    "file_id": "5d0c1c4e-2f7b-5a57-9d0e-1b2c3d4e5f60", "file_code": "JD001-2026-GA-0007",
    "version": 9, "category": "GA", "category_label": {"zh": "个案", "en": "case"},
    "school_id": "JD001", "record_source": "cases", "record_id": "case-1",
    "subject_ids": ["client-1"], "opened_on": "2026-09-01", "closed_on": "2026-10-20",
    "status": "closed",
    "contents": {
        "basic_information": [{"type": "CaseOpened", "sections": ["basic_information"],
                               "source": "cases", "position": 2,
                               "occurred_at": "2026-09-01T01:00:00+00:00"}],
        "service_records": [{"type": "InterventionLogged", "sections": ["service_records"],
                             "source": "cases", "position": 8,
                             "occurred_at": "2026-09-10T01:00:00+00:00"}],
        "evaluation_reports": [], "other": []},
    "completeness": {"complete": False, "missing": ["evaluation_reports"]},
    "retention": {"years": 10, "majority_estimated_on": "2031-09-01",
                  "end_on": "2041-09-01", "reason": "..."},
    "legal_holds": [{"hold_id": "LH-1", "authority": "court", "reference": "(2026)沪0101民初1号",
                     "placed_by": "archivist-1"}],
    "disposal": None, "disposed_on": None,
}


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_printed_file_has_its_unified_code_and_contents_index_in_chinese():
    pdf = file_pdf(FILE, Localized("zh_CN"))
    assert pdf.startswith(b"%PDF-")
    printed = text_of(pdf)
    assert "档案 JD001-2026-GA-0007" in printed
    assert "统一编号（9.4a）" in printed and "卷内目录（9.4b）" in printed
    assert "开案（8.3.1）" in printed and "记录服务介入（8.3.4）" in printed
    assert "缺少：评估报告" in printed
    assert "(2026)沪0101民初1号" in printed
    assert PdfReader(io.BytesIO(pdf)).metadata.title == "JD001-2026-GA-0007"


def test_the_printed_file_names_the_cid_font_and_embeds_no_font_file():
    pdf = file_pdf(FILE, Localized("zh_CN"))
    assert b"STSong-Light" in pdf
    assert b"/FontFile" not in pdf


def test_the_printed_file_in_english():
    printed = text_of(file_pdf(FILE, Localized("en")))
    assert "Archive file JD001-2026-GA-0007" in printed and "Contents index (9.4b)" in printed
    assert "Intervention logged (8.3.4)" in printed


def test_a_box_left_unticked_filters_nothing():
    assert _file_query(MultiDict({"category": "GA", "due_within_days": " 365 ",
                                  "status": ""})) == {"category": "GA",
                                                      "due_within_days": "365"}
    assert _file_query(MultiDict({"legal_hold": "1"})) == {"legal_hold": "true"}


def test_the_archives_refusals_are_said_in_chinese_beside_their_fields():
    zh = Localized("zh_CN")
    fields = (Field("valid_hours", "Valid for (hours)", "int"),)
    over = _problem(Refused(400, {"code": "invalid_input", "errors": {
        "valid_hours": ["Must not exceed the 4 hours requested."]}}), fields)
    assert [zh.message(m) for m in over.beside["valid_hours"]] == ["不得超过申请的 4 小时。"]
    own = _problem(Refused(403, {"code": "two_person_rule", "detail": "..."}), fields)
    assert zh.message(own.summary).startswith("申请人不能自行决定")
