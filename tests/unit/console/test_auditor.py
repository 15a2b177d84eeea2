"""The auditor's pages where they hold logic of their own: the export's range and encodings
(read a page at a time, CSV with a byte-order mark), the as-of form's point in time, the
positions a verification report covers; and the pages the browser journey sees only when all is
well, shown with problems and before any checkpoint; the chain alarms and a ledger entry's
envelope, whole and broken."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from werkzeug.datastructures import MultiDict

from contracts.chain import UNREBUILDABLE, compare_with_store
from contracts.envelope import envelope_bytes, hash_problems, link_problems
from services.archive.ledger import verify_checkpoint_heads, verify_checkpoints, verify_signature
from services.console.auditor import (
    LEDGER_COLUMNS,
    alarms,
    as_csv,
    as_json_lines,
    as_of_query,
    chain_problem,
    entries_in,
    export,
    export_range,
    ledger,
    ledger_entry,
    point_query,
    ranges,
    status,
    verification,
    verifications,
    verify,
)
from services.console.i18n import Localized
from services.console.web import Refused, Visit
from services.runtime.context import Actor
from tests.unit.console import visits
from tests.unit.test_envelope import make_envelope

ROOT = Path(__file__).resolve().parents[3]

AUDITOR = Actor(id="a-1", role="auditor")


def entry(position: int) -> dict[str, Any]:
    return {"source": "cases", "position": position, "type": "CaseOpened",
            "aggregate_id": f"case-{position}", "school_id": None if position % 2 else "JD001",
            "hash": f"{position:064x}", "prev_position": position - 1,
            # Each names the one before, the first the genesis hash (all zeros).
            "prev_hash": f"{position - 1:064x}", "occurred_at": "2026-09-01T00:00:00+00:00",
            "recorded_at": "2026-09-01T00:00:01+00:00"}


def pages(size: int, count: int) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The first page of a ledger of `count` entries, and the later ones by cursor."""
    cut = [[entry(p) for p in range(start, min(start + size, count + 1))]
           for start in range(1, count + 1, size)]
    built = {f"c{n}": {"items": items, "next": f"c{n + 1}" if n + 1 < len(cut) else None}
             for n, items in enumerate(cut)}
    return built["c0"], built


def test_an_export_reads_the_next_page_only_when_the_one_before_is_sent():
    first, later = pages(3, 10)
    asked: list[str] = []

    def read(cursor: str) -> dict[str, Any]:
        asked.append(cursor)
        return later[cursor]

    rows = entries_in(first, read, None, None)
    assert [next(rows)["position"] for _ in range(3)] == [1, 2, 3] and asked == []
    assert next(rows)["position"] == 4 and asked == ["c1"]
    assert [row["position"] for row in rows] == list(range(5, 11))
    assert asked == ["c1", "c2", "c3"]


def test_an_export_keeps_to_its_range_and_stops_reading_past_its_end():
    first, later = pages(3, 10)
    asked: list[str] = []

    def read(cursor: str) -> dict[str, Any]:
        asked.append(cursor)
        return later[cursor]

    assert [row["position"] for row in entries_in(first, read, 2, 5)] == [2, 3, 4, 5]
    assert asked == ["c1"]  # positions 7 and on are never read
    assert [row["position"] for row in entries_in(first, later.__getitem__, 9, None)] == [9, 10]


def test_json_lines_are_one_entry_a_line_with_every_column():
    lines = b"".join(as_json_lines(iter([entry(1), entry(2)]))).decode().splitlines()
    assert [json.loads(line) for line in lines] == [entry(1), entry(2)]
    assert list(json.loads(lines[0])) == list(LEDGER_COLUMNS)


def test_csv_starts_with_a_byte_order_mark_for_excel():
    body = b"".join(as_csv(iter([entry(1), entry(2)])))
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == list(LEDGER_COLUMNS)
    assert rows[1][:3] == ["cases", "1", "CaseOpened"] and rows[1][4] == ""  # no school
    assert rows[2][4] == "JD001" and len(rows) == 3


def test_an_export_range_is_refused_beside_the_field_that_breaks_it():
    chosen, problem = export_range(MultiDict({"source": "cases", "from_position": "3",
                                              "to_position": "", "format": "csv"}))
    assert problem is None and (chosen.start, chosen.end, chosen.format) == (3, None, "csv")
    _, problem = export_range(MultiDict({"source": "cases", "from_position": "5",
                                         "to_position": "2", "format": "jsonl"}))
    assert problem is not None and list(problem.beside) == ["to_position"]
    _, problem = export_range(MultiDict({"source": "nowhere", "from_position": "x",
                                         "to_position": "0", "format": "xlsx"}))
    assert problem is not None
    assert sorted(problem.beside) == ["format", "from_position", "source", "to_position"]


def test_a_time_typed_without_a_zone_is_beijing_time():
    query, problem = as_of_query(MultiDict({"source": "cases", "record_id": "c-1",
                                            "at": "2026-09-01 08:30"}))
    assert problem is None
    assert query == {"source": "cases", "record_id": "c-1", "at": "2026-09-01T08:30:00+08:00"}
    query, _ = as_of_query(MultiDict({"source": "cases", "record_id": "c-1", "position": "7"}))
    assert query["ledger_source"] == "cases" and query["ledger_position"] == "7"


def test_an_as_of_form_without_a_record_or_with_a_bad_time_is_refused_beside_them():
    _, problem = as_of_query(MultiDict({"source": "cases", "record_id": "", "at": "yesterday"}))
    assert problem is not None and sorted(problem.beside) == ["at", "record_id"]
    _, problem = as_of_query(MultiDict({"source": "cases", "record_id": "../files"}))
    assert problem is not None and list(problem.beside) == ["record_id"]


def test_a_report_covers_each_source_from_its_signed_head_or_its_start():
    head = {"position": 12, "hash": "h"}
    report = {"checkpoint_heads": [{"source": "cases", "position": 9, "hash": "s"}],
              "sources": {"cases": {"head": head}, "archive": {"head": {"position": 4}}}}
    assert ranges(report) == {"cases": (10, 12), "archive": (1, 4)}
    assert ranges({"checkpoint_heads": None, "sources": {"cases": {"head": head}}}) == {
        "cases": (1, 12)}


VERIFICATION_ITEM = ("verification_id", "checked_at", "verified_by", "ok", "since_checkpoint",
                     "against_stores")


class Archive:
    """The archive's answers as the console's pages read them, without a service."""

    def __init__(self, report: dict[str, Any], checkpoints: list[dict[str, Any]],
                 alarms: list[dict[str, Any]] | None = None,
                 entries: dict[str, Any] | None = None) -> None:
        self.report, self.checkpoints = report, checkpoints
        self.alarms, self.entries = alarms or [], entries or {}
        self.asked: list[tuple[str, dict[str, Any]]] = []
        self.posted: list[dict[str, Any]] = []

    def get(self, path: str, **query: Any) -> Any:
        self.asked.append((path, query))
        if path == "/ledger/verifications":  # the report, kept: the only one
            report = self.report
            kept = [] if report is None or query.get("ok") not in (None, report["ok"]) else [{
                **{key: report[key] for key in VERIFICATION_ITEM}, "entry_count": 12,
                "problem_count": 2}]
            return {"items": kept, "total": len(kept), "next": None}
        if path.startswith("/ledger/verifications/"):
            return self.report
        if path == "/ledger/checkpoints":
            return {"items": self.checkpoints[:1], "total": len(self.checkpoints)}
        if path == "/ledger/alarms":
            found = [a for a in self.alarms if query.get("source") in (None, a["source"])]
            return {"items": found[:query["limit"]], "total": len(found), "next": None}
        if path in self.entries:
            return self.entries[path]
        source = path.split("/")[2]
        position = {"cases": 12, "archive": 3}.get(source, 0)
        return {"source": source, "position": position, "hash": f"{position:064x}"}

    def post(self, path: str, body: dict[str, Any], key: str | None) -> Any:
        assert path == "/ledger/verifications"
        self.posted.append(body)
        return self.report


def visit_of(archive: Archive, locale: str, method: str = "GET", form: Any = None,
             query: str = "") -> Visit:
    return visits.visit_of(archive, locale, AUDITOR, method, form, query)


BROKEN = {
    "verification_id": "5f0c2b1e-0000-4000-8000-000000000001", "verified_by": "auditor-1",
    "ok": False, "checked_at": "2026-09-01T00:00:00+00:00", "since_checkpoint": None,
    "against_stores": True,
    "checkpoint_heads": None,
    "sources": {"cases": {"entries": 12, "head": {"position": 12, "hash": "ab" * 32},
                          "store_checked": True, "ok": False, "problems": [
                              {"position": 7, "where": "store", "problem":
                               "stored event differs from what was published: payload"}]}},
    "checkpoints": {"count": 1, "ok": False, "problems": [
        {"sequence": 1, "problem": "signature does not verify"}]},
}


def test_a_report_with_problems_names_each_at_its_position_and_where():
    cases = BROKEN["sources"]["cases"]
    report = {**BROKEN, "sources": {"cases": {**cases, "problems": [
        *cases["problems"], {"position": 8, "where": "ledger", "problem": "a new kind"}]}}}
    answer = verify(visit_of(Archive(report, []), "zh_CN", "POST",
                             {"against_stores": "1", "idempotency_key": "k"}))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "未通过核验：问题按其位置列于下方。" in page and 'role="alert"' in page
    assert "位置 7（与来源服务的存储比对）：" in page
    assert "<span>所存储的事件与发布时不同，差异在：payload。</span>" in page
    # One the console does not know is shown as the archive said it, marked as English.
    assert '<span lang="en">a new kind</span>' in page
    assert "1 至 12" in page and "发现 2 个问题" in page
    assert "检查点 1： <span>签名验证不通过。</span>" in page


def test_the_status_before_any_checkpoint_in_english():
    report = {**BROKEN, "ok": True, "checkpoints": {"count": 0, "ok": True, "problems": []},
              "sources": {"cases": {**BROKEN["sources"]["cases"], "ok": True, "problems": []}}}
    page = status(visit_of(Archive(report, []), "en")).get_data(as_text=True)
    assert "Every chain verified from its start." in page
    assert "No checkpoint has been signed yet" in page
    assert page.count("No entries yet.") == 2  # resources and supervision
    assert "12 entries checked, to position 12" in page


def test_the_status_says_when_a_chain_does_not_verify_since_the_checkpoint():
    signed = {"sequence": 4, "entry_count": 10, "signed_at": "2026-09-01T00:00:00+00:00",
              "key_id": "k1", "heads": [{"source": "cases", "position": 9, "hash": "c" * 64}]}
    report = {**BROKEN, "since_checkpoint": 4, "checkpoint_heads": signed["heads"]}
    page = status(visit_of(Archive(report, [signed]), "zh_CN")).get_data(as_text=True)
    assert "有哈希链或检查点未通过核验" in page and 'role="alert"' in page
    assert "（其后又有 3 个位置）" in page and "发现 1 个问题" in page
    assert "检查点的签名或链头未通过核验。" in page


def test_the_status_verifies_nothing_and_says_when_no_verification_is_kept():
    archive = Archive(None, [])
    page = status(visit_of(archive, "zh_CN")).get_data(as_text=True)
    assert archive.posted == []  # showing the page keeps no verification
    assert "尚无留存的核验：请核验台账，以确认每条哈希链是否完好。" in page
    assert page.count("尚未核验") == 4  # every source
    assert '<input type="hidden" name="since_checkpoint" value="1">' in page


def test_the_status_shows_the_last_verification_kept_and_who_asked_for_it():
    archive = Archive(BROKEN, [])
    page = status(visit_of(archive, "zh_CN")).get_data(as_text=True)
    assert archive.posted == []
    assert "由 auditor-1 发起" in page
    assert f'<a href="/audit/verifications/{BROKEN["verification_id"]}">查看其报告</a>' in page


def test_the_verifications_kept_are_listed_by_result_and_each_links_to_its_report():
    archive = Archive(BROKEN, [])
    page = verifications(visit_of(archive, "zh_CN", query="result=failed")).get_data(
        as_text=True)
    assert ("/ledger/verifications", {"ok": False, "after": None, "limit": 50}) in archive.asked
    assert f'<a href="/audit/verifications/{BROKEN["verification_id"]}">' in page
    assert "共 1 次核验" in page and "发现 2 个问题" in page
    assert '<td data-label="已核验条目">12</td>' in page
    none = verifications(visit_of(archive, "en", query="result=ok")).get_data(as_text=True)
    assert "No verification is kept here yet." in none
    every = verifications(visit_of(archive, "en", query="result=anything"))
    assert ("/ledger/verifications", {"ok": None, "after": None, "limit": 50}) in archive.asked
    assert every.status_code == 200


def test_a_kept_verification_is_shown_as_it_was_answered():
    archive = Archive(BROKEN, [])
    page = verification(visit_of(archive, "zh_CN"), BROKEN["verification_id"]).get_data(
        as_text=True)
    assert (f"/ledger/verifications/{BROKEN['verification_id']}", {}) in archive.asked
    assert "未通过核验：问题按其位置列于下方。" in page
    assert "<code>auditor-1</code>" in page
    assert "每条哈希链从起点开始; 并将每条哈希链与其来源服务的存储比对" in page


ALARM = {"source": "cases", "position": 3, "expected_prev_position": 1,
         "expected_prev_hash": "a" * 64, "raised_at": "2026-09-01T02:00:00+00:00",
         "problems": ["prev_position is 2, expected 1",
                      "prev_hash does not match the previous envelope's hash",
                      "something the console does not know"]}


def test_the_status_counts_each_sources_chain_alarms_and_links_to_them():
    page = status(visit_of(Archive(BROKEN, [], [ALARM]), "zh_CN")).get_data(as_text=True)
    assert '<a href="/audit/alarms?source=cases" class="late">1 条告警</a>' in page
    assert page.count("<td data-label=\"哈希链告警\" class=\"alarms\">无</td>") == 3


def test_the_alarms_say_what_was_wrong_in_chinese_and_link_to_the_envelope():
    archive = Archive(BROKEN, [], [ALARM])
    page = alarms(visit_of(archive, "zh_CN", query="source=cases")).get_data(as_text=True)
    assert ("/ledger/alarms", {"source": "cases", "after": None, "limit": 50}) in archive.asked
    assert "它接在位置 2 之后，而台账当时的链头是位置 1。" in page
    assert "其前一哈希不是前一条目的哈希。" in page
    assert "something the console does not know" in page  # as the archive said it
    assert '<a href="/audit/ledger/cases/3">位置 3</a>' in page
    nothing = alarms(visit_of(Archive(BROKEN, []), "zh_CN", query="source=nowhere"))
    assert "没有告警" in nothing.get_data(as_text=True)


def stored_entry(**changed: Any) -> dict[str, Any]:
    envelope = {"type": "CaseOpened", "aggregate_id": "case-1", "source": "cases",
                "position": 2, "prev_position": 1, "prev_hash": "b" * 64, "hash": "c" * 64,
                "occurred_at": "2026-09-01T01:00:00+00:00", "hash_rule": "rfc8785-sha256",
                "payload": {"note": "开案"}}
    return {"source": "cases", "position": 2, "recorded_at": "2026-09-01T01:00:01+00:00",
            "envelope": envelope, "hash_rule": "rfc8785-sha256",
            "hashed_text": '{"aggregate_id":"case-1","payload":{"note":"开案"}}',
            "computed_hash": "c" * 64,
            "entry_before": {"source": "cases", "position": 1, "hash": "b" * 64},
            "alarm": None, **changed}


def entry_page(entry: dict[str, Any]) -> str:
    archive = Archive(BROKEN, [], entries={"/ledger/cases/entries/2": entry})
    return ledger_entry(visit_of(archive, "zh_CN"), "cases", 2).get_data(as_text=True)


def test_an_entry_whose_hash_and_link_hold_is_shown_to_check_by_hand():
    page = entry_page(stored_entry())
    assert "一致：内容与计算哈希时相同。" in page and "已衔接：其前一哈希即前一条目的哈希。" in page
    # The text the hash covers, as it is (HTML-escaped, not re-encoded as JSON).
    hashed = '{"aggregate_id":"case-1","payload":{"note":"开案"}}'.replace('"', "&#34;")
    assert f'<pre class="payload" id="hashed-text">{hashed}</pre>' in page
    assert 'href="/audit/ledger/cases/2/hashed.json"' in page
    assert 'href="/audit/ledger/cases/1"' in page and 'role="alert"' not in page


def test_an_entry_that_broke_its_chain_is_marked_where():
    page = entry_page(stored_entry(computed_hash="d" * 64, alarm=ALARM,
                                   entry_before={"source": "cases", "position": 1,
                                                 "hash": "e" * 64}))
    assert "不一致：内容已不是当初计算哈希时的内容。" in page
    assert 'id="before-hash">' + "e" * 64 in page and "未与前一条目衔接。" in page
    assert 'role="alert"' in page and "它接在位置 2 之后，而台账当时的链头是位置 1。" in page


def test_a_point_is_a_position_of_the_source_or_a_time_on_beijing_time():
    assert point_query(MultiDict({"position": "7", "at": ""}), "cases") == (
        {"ledger_source": "cases", "ledger_position": "7"}, None)
    query, problem = point_query(MultiDict({"at": "2026-09-01 08:30"}), "cases")
    assert query == {"at": "2026-09-01T08:30:00+08:00"} and problem is None
    _, problem = point_query(MultiDict({"at": "yesterday"}), "cases")
    assert problem is not None and list(problem.beside) == ["at"]


def test_every_problem_a_verification_can_find_is_said_in_chinese():
    """Each problem as the services' own functions word it: of an envelope and its links, of
    the ledger against the source's store, and of a signed checkpoint."""
    first, second = make_envelope(1), make_envelope(2, 1, "0" * 64)
    forged = {**first, "payload": {**first["payload"], "opened_on": "2026-09-02"}}
    found = [*hash_problems(forged), *hash_problems({**first, "hash_rule": "sha1"}),
             *link_problems(second, 1, first["hash"]), *link_problems(first, 3, first["hash"]),
             *(problem.problem for problem in compare_with_store(
                 {1: first, 3: second}, [forged, {**second, "position": 2}])),
             *(problem.problem for problem in compare_with_store(
                 {1: first}, [{**first, "hash": "f" * 64}])),
             *(problem.problem for problem in compare_with_store(
                 {1: first}, [{"position": 1, UNREBUILDABLE: "no such event class"}]))]
    checkpoint = SimpleNamespace(sequence=3, entry_count=5, signed_at="2026-09-01T00:00:00Z",
                                 heads=[{"source": "cases", "position": 1, "hash": "a" * 64}],
                                 public_key="AAAA", key_id="k-1", signature="AAAA",
                                 through=9)
    found += [problem["problem"] for problem in [
        *verify_signature(checkpoint, set()),
        *verify_checkpoints([checkpoint], [4], {}, set())["problems"],
        *verify_checkpoint_heads(checkpoint, lambda source, position: {"hash": "b" * 64})]]
    zh = Localized("zh_CN")
    said = {problem: chain_problem(zh, problem) for problem in found}
    assert len(said) == 14, sorted(said)
    assert [problem for problem, words in said.items() if words == problem] == []


class Published:
    """A source's published stream as the gateway's event feed pages it (`after`, `limit`)."""

    def __init__(self, envelopes: list[dict[str, Any]]) -> None:
        self.envelopes = envelopes
        self.asked: list[dict[str, Any]] = []

    def get(self, path: str, **query: Any) -> Any:
        assert path == "/events/cases", path
        self.asked.append(query)
        items = [e for e in self.envelopes if e["position"] > query["after"]][:query["limit"]]
        return {"items": items, "next_after": items[-1]["position"] if items else query["after"]}


def chained(count: int) -> list[dict[str, Any]]:
    envelopes = [make_envelope(1)]
    for position in range(2, count + 1):
        envelopes.append(make_envelope(position, position - 1, envelopes[-1]["hash"]))
    return envelopes


def test_the_published_envelopes_export_as_casebook_export_writes_them_for_a_verifier(
        monkeypatch):
    monkeypatch.setattr("services.console.auditor.EXPORT_PAGE", 2)
    stream = Published(chained(5))
    answer = export(visit_of(stream, "zh_CN", query="source=cases&format=envelopes"))
    assert answer.headers["Content-Disposition"] == (
        'attachment; filename="envelopes-cases-1-head.jsonl"')
    body = b"".join(answer.response)
    assert body == b"".join(envelope_bytes(e) + b"\n" for e in stream.envelopes)
    assert [query["after"] for query in stream.asked] == [0, 2, 4, 5]
    # What the stand-alone verifier reads (as an auditor runs it): every hash and link holds.
    verified = subprocess.run([sys.executable, str(ROOT / "examples" / "verify" / "verify.py"),
                               "-"], input=body, capture_output=True, check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith(b"verified 5 envelopes of cases: positions 1..5")
    # A range: from the position before its start, and no page read past its end.
    ranged = Published(stream.envelopes)
    answer = export(visit_of(ranged, "zh_CN",
                             query="source=cases&format=envelopes&from_position=2&to_position=3"))
    assert [json.loads(line)["position"] for line in b"".join(answer.response).splitlines()] == [
        2, 3]
    assert [query["after"] for query in ranged.asked] == [1, 3]


class LedgerPage:
    """One page of the cases ledger as the archive lists it, and the source's published hashes
    (None: the source does not answer)."""

    def __init__(self, rows: list[dict[str, Any]], published: dict[int, str] | None) -> None:
        self.rows, self.published = rows, published

    def get(self, path: str, **query: Any) -> Any:
        if path == "/ledger/cases/entries":
            return {"items": self.rows, "total": len(self.rows), "limit": 50, "next": None}
        assert path == "/events/cases" and query["after"] == self.rows[0]["position"] - 1
        if self.published is None:
            raise Refused(503, {"status": 503, "code": "service_unavailable",
                                "detail": "cases is not running"})
        return {"items": [{"position": p, "hash": h} for p, h in self.published.items()]}


def test_the_ledger_shows_each_link_as_the_ledger_received_it_and_marks_breaks():
    rows = [entry(position) for position in range(1, 5)]
    rows[2] = {**rows[2], "prev_hash": "e" * 64}  # entry 3 does not name entry 2's hash
    published = {row["position"]: row["hash"] for row in rows}
    published[4] = "f" * 64  # the source published another hash at 4
    del published[1]  # and position 1 is not in its stream
    page = ledger(visit_of(LedgerPage(rows, published), "zh_CN"), "cases").get_data(
        as_text=True)
    assert page.count('<code class="hash prev">') == 4
    assert f'<code class="hash prev">{"e" * 64}</code>' in page
    assert page.count("不是前一条目的哈希") == 1 and page.count("来源服务发布的哈希与此不同") == 1
    assert page.count("不在来源服务的发布流中") == 1
    assert "not-cross-checked" not in page


def test_the_ledger_is_shown_from_its_own_copies_when_the_source_does_not_answer():
    rows = [entry(position) for position in range(1, 4)]
    page = ledger(visit_of(LedgerPage(rows, None), "zh_CN"), "cases").get_data(as_text=True)
    assert 'id="not-cross-checked"' in page and "该服务是否在运行" in page
    assert [f'<code class="hash prev">{row["prev_hash"]}</code>' in page for row in rows] == [
        True] * 3
    assert "不是前一条目的哈希" not in page and "来源服务发布的哈希与此不同" not in page
