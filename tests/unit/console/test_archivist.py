"""The archivist's pages' own logic: the printed file (9.4), the list's filters, the
archive's refusals as the forms show them (9.4d, 9.4e), and on a file's page the file as it was
and its reads (9.4b, 9.4d)."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader
from werkzeug.datastructures import MultiDict

from services.console.archivist import _file_query, _problem, archive_file, file_pdf, reads
from services.console.forms import Field
from services.console.i18n import Localized
from services.console.web import Refused
from services.runtime.context import Actor
from tests.unit.console.visits import visit_of

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


class Archive:
    """The archive's answers to the file page, without a service: the file, its access report,
    a page of its reads, and the file as it was (refused at position 0, as the archive does)."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def get(self, path: str, **query: Any) -> Any:
        self.asked.append((path, query))
        file_path = f"/files/{FILE['file_id']}"
        if path == file_path:
            return FILE
        if path == f"{file_path}/access-report":
            return {"file_id": FILE["file_id"], "file_code": FILE["file_code"],
                    "requests": [], "reads": [{**READ, "purpose": "核对纸质档案。"}]}
        if path == "/file-reads":
            return {"items": [READ], "total": 1, "limit": query["limit"], "next": "r1"}
        assert path == f"{file_path}/as-of", path
        if query.get("ledger_position") == "0":
            raise Refused(400, {"code": "invalid_input", "errors": {
                "ledger_position": ["Must be greater than or equal to 1."]}})
        return {**FILE, "version": 2, "status": "active",
                "contents": {**FILE["contents"], "service_records": []}}


READ = {"read_id": "read-1", "file_id": FILE["file_id"], "file_code": FILE["file_code"],
        "school_id": "JD001", "outcome": "refused", "reader_id": "supervisor-1",
        "reader_role": "supervisor", "read_at": "2026-10-21T02:00:00+00:00", "grant_id": None,
        "reason": "grant_expired"}
ARCHIVIST = Actor("archivist-1", "archivist", "JD001")


def file_page(archive: Archive, query: str = "") -> tuple[int, str]:
    answer = archive_file(visit_of(archive, "zh_CN", ARCHIVIST, query=query), FILE["file_id"])
    return answer.status_code, answer.get_data(as_text=True)


def test_the_file_as_it_was_at_a_position_of_its_records_source():
    archive = Archive()
    status, page = file_page(archive, "position=2&at=")
    assert status == 200
    assert (f"/files/{FILE['file_id']}/as-of",
            {"ledger_source": "cases", "ledger_position": "2"}) in archive.asked
    assert '<dd id="then-version">2</dd>' in page and "位置 2 时的状态" in page
    # Then, the intervention of position 8 was not yet in its index.
    then = page.split('id="then-entries"')[1].split("</ol>")[0]
    assert 'data-position="2"' in then and 'data-position="8"' not in then
    # Each entry of the index links to the file as it was at its own position.
    assert f'href="/archive/files/{FILE["file_id"]}?position=8#then-heading"' in page


def test_a_point_the_archive_refuses_is_said_beside_its_field():
    status, page = file_page(Archive(), "position=0&at=")
    assert status == 400
    assert "至少为 1。" in page.split('id="error-then-position"')[1][:200]
    assert 'id="then-facts"' not in page
    status, page = file_page(Archive(), "position=&at=tomorrow")
    assert status == 400 and 'id="error-then-at"' in page


def test_the_reads_are_paged_filtered_by_outcome_with_their_purpose_and_reason():
    archive = Archive()
    _, page = file_page(archive, "reads=refused")
    assert ("/file-reads", {"file_id": FILE["file_id"], "outcome": "refused", "after": None,
                            "limit": 20}) in archive.asked
    reads = page.split('id="reads"')[1].split("</table>")[0]
    assert "supervisor-1" in reads and "核对纸质档案。" in reads
    assert "被拒绝：授权已过期" in reads
    assert "?reads=refused&amp;reads_after=r1#reads-heading" in page
    # An outcome that is none of the archive's filters nothing.
    file_page(archive, "reads=everything")
    [*_, last] = [query for path, query in archive.asked if path == "/file-reads"]
    assert last["outcome"] is None


class Reads:
    """The archive's answer to the reads across files, or its refusal of a reader id."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    def get(self, path: str, **query: Any) -> Any:
        assert path == "/file-reads", path
        self.asked.append(query)
        if len(query["reader_id"] or "") > 64:  # as the archive's schema refuses it
            raise Refused(400, {"code": "invalid_input", "errors": {
                "reader_id": ["Length must be between 1 and 64."]}})
        return {"items": [READ, {**READ, "read_id": "read-2", "outcome": "viewed",
                                 "grant_id": "grant-1", "reason": None}],
                "total": 3, "limit": query["limit"], "next": "read-2"}


def reads_page(archive: Reads, query: str = "") -> tuple[int, str]:
    answer = reads(visit_of(archive, "zh_CN", ARCHIVIST, query=query))
    return answer.status_code, answer.get_data(as_text=True)


def test_the_reads_across_files_are_paged_filtered_by_outcome_and_reader_each_to_its_file():
    archive = Reads()
    status, page = reads_page(archive, "outcome=refused&reader_id=+supervisor-1+")
    assert status == 200
    assert archive.asked == [{"outcome": "refused", "reader_id": "supervisor-1", "after": None,
                              "limit": 20}]
    rows = page.split('id="reads"')[1].split("</table>")[0]
    assert f'href="/archive/files/{FILE["file_id"]}#reads-heading">{FILE["file_code"]}' in rows
    assert "被拒绝：授权已过期" in rows
    assert f'/archive/files/{FILE["file_id"]}/access-requests/grant-1' in rows
    assert "查阅 3 次" in page
    # The next page keeps both filters; the outcomes keep the reader.
    assert "/archive/reads?outcome=refused&amp;reader_id=supervisor-1&amp;after=read-2" in page
    assert 'href="/archive/reads?outcome=viewed&amp;reader_id=supervisor-1"' in page
    # An outcome that is none of the archive's filters nothing.
    reads_page(archive, "outcome=everything")
    assert archive.asked[-1]["outcome"] is None and archive.asked[-1]["reader_id"] is None


def test_a_reader_id_the_archive_refuses_is_said_beside_its_field_and_nothing_is_listed():
    status, page = reads_page(Reads(), "reader_id=" + "s" * 65)
    assert status == 400
    assert "长度须在 1 到 64 之间。" in page.split('id="error-reader_id"')[1].split("</p>")[0]
    assert "此处没有查阅记录。" in page
