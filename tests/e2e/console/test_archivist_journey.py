"""The archivist's day in a real browser (Debian's Chromium, driven by Playwright): a social
worker's closed case is archived, a supervisor asks to read it, and the archivist approves
(after a refusal beside the field), sees the two-person rule on their own request, places a legal
hold and prints the file (journeys_archivist.py); a file's reads, granted and refused, and the
file as it was. Screenshots under tmp/artefacts/console/."""

from __future__ import annotations

from typing import Any

import pytest
from pypdf import PdfReader

from contracts.errors import CasebookError
from services.runtime.cli.demo import SCHOOL, WORKER
from services.runtime.cli.journeys import OPENED_ON, case_journey
from tests.e2e.console.conftest import ARTEFACTS, console, console_address, run_journey
from tests.support.services import rpc
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

PURPOSE = "Review before the follow-up visit in October."
AUDITOR = {"id": "demo-auditor", "role": "auditor"}


def actor(person_id: str, role: str) -> dict[str, Any]:
    return {"id": person_id, "role": role, "school_id": SCHOOL}


def test_an_archivist_approves_an_access_request_made_by_someone_else(amqp_uri, tmp_path):
    # The archive files what the cases service publishes; it subscribes to the others too, which
    # have nothing to say here.
    with console(amqp_uri, tmp_path, console_address(), services=("cases", "archive"),
                 CASEBOOK_CONSOLE_DEV_SIGN_IN="true") as url:
        _, file = closed_case_file(amqp_uri, "archived-1")
        with rpc(amqp_uri, actor("demo-supervisor", "supervisor")) as proxy:
            request_id = proxy.archive.request_access(
                {"file_id": file["file_id"], "purpose": PURPOSE, "duration_hours": 4})["request_id"]
        seen = run_journey("archivist", url)
        with rpc(amqp_uri, actor("demo-supervisor", "supervisor")) as proxy:
            grants = proxy.archive.list_access_requests({"status": "approved"})["items"]
            report = proxy.archive.get_access_report({"file_id": file["file_id"]})
            held = proxy.archive.get_file({"file_id": file["file_id"]})["legal_holds"]

    assert seen["code"] == file["file_code"]
    assert seen["filter_refused"].endswith("不是整数。")
    assert seen["refused"].endswith("不得超过申请的 4 小时。")
    assert seen["granted"] == {"state": "已批准", "decided_by": "demo-archivist"}
    assert [(g["request_id"], g["requester_id"], g["decided_by"]) for g in grants] == [
        (request_id, "demo-supervisor", "demo-archivist")]
    # The archivist's own request, made in the browser, is still pending: nobody else has
    # decided on it.
    assert sorted((r["requester_id"], r["status"]) for r in report["requests"]) == [
        ("demo-archivist", "pending"), ("demo-supervisor", "approved")]
    assert [(h["authority"], h["reference"]) for h in held] == [("court", "(2026)沪0101民初1号")]
    assert "保管期限尚未届满" in seen["disposal"] and seen["no_disposals"]
    assert seen["pdf_type"] == "application/pdf"
    printed = PdfReader(ARTEFACTS / "archivist-file.pdf")
    text = "".join(page.extract_text() for page in printed.pages)
    assert f"档案 {file['file_code']}" in text and "卷内目录（9.4b）" in text
    for page in ("01-files", "02-own-request", "03-access-requests", "04-approval-refused",
                 "05-approved", "06-file", "07-disposals"):
        assert (ARTEFACTS / f"archivist-{page}.png").stat().st_size > 0


def test_a_disposal_is_asked_for_by_the_archivist_and_decided_by_a_supervisor(amqp_uri, tmp_path):
    # Classes close the day they are held: with no retention years their files may go at once.
    with console(amqp_uri, tmp_path, console_address(), services=("cases", "archive"),
                 CASEBOOK_CONSOLE_DEV_SIGN_IN="true", CASEBOOK_RETENTION_YEARS="KT=0") as url:
        with rpc(amqp_uri, actor(WORKER, "social_worker")) as proxy:
            class_id = proxy.cases.hold_class({
                "theme": "life_education", "topic": "Staying safe online.",
                "service_codes": ["7.1.1a"], "held_on": OPENED_ON.isoformat(),
                "attendance": 38, "grade": 6})["class_id"]
        with rpc(amqp_uri, actor("demo-admin", "school_admin")) as proxy:
            file = wait_for(lambda: _answer(lambda: proxy.archive.find_file(
                {"source": "cases", "record_id": class_id})), timeout=60,
                what="the archive to file the class")
            proxy.archive.place_legal_hold({"file_id": file["file_id"], "hold_id": "LH-1",
                                            "authority": "education_bureau",
                                            "reference": "JD-2026-17"})
        with rpc(amqp_uri, actor("demo-archivist", "archivist")) as proxy:
            grant = proxy.archive.request_access({"file_id": file["file_id"], "purpose": PURPOSE,
                                                  "duration_hours": 4})["request_id"]
        with rpc(amqp_uri, actor("demo-supervisor", "supervisor")) as proxy:
            proxy.archive.approve_access({"request_id": grant})
        seen = run_journey("archivist_disposal", url)
        with rpc(amqp_uri, actor("demo-supervisor", "supervisor")) as proxy:
            kept = proxy.archive.get_file({"file_id": file["file_id"]})
            [decided] = proxy.archive.list_disposals({"file_id": file["file_id"]})["items"]
            [revoked] = proxy.archive.list_access_requests({"file_id": file["file_id"]})["items"]

    assert seen["code"] == file["file_code"]
    assert "此销毁由你申请，你不能对其作出决定。" in seen["own_disposal"]
    assert seen["revoke_refused"].endswith("必填。") and seen["revoked"] == "已撤销"
    assert "由 demo-archivist 以外的督导决定。" in seen["rule"]
    assert seen["reject_refused"].endswith("必填。")
    assert "demo-archivist 申请，demo-supervisor 批准" in seen["disposed"]
    assert "已遵守：由第二人决定" in seen["met"]
    assert kept["status"] == "disposed" and kept["legal_holds"] == []
    assert (decided["status"], decided["requested_by"], decided["decided_by"],
            decided["two_person_rule_met"]) == ("approved", "demo-archivist", "demo-supervisor",
                                                True)
    assert (revoked["status"], revoked["revoked_by"]) == ("revoked", "demo-archivist")
    for page in ("08-disposal-requested", "09-revocation-refused", "10-rejection-refused",
                 "11-disposal-approved"):
        assert (ARTEFACTS / f"archivist-{page}.png").stat().st_size > 0


def test_an_archivist_sees_who_read_a_file_and_the_file_as_it_was(amqp_uri, tmp_path):
    with console(amqp_uri, tmp_path, console_address(), services=("cases", "archive"),
                 CASEBOOK_CONSOLE_DEV_SIGN_IN="true") as url:
        case_id, file = closed_case_file(amqp_uri, "archived-2")
        with rpc(amqp_uri, actor("demo-admin", "school_admin")) as proxy:
            request_id = proxy.archive.request_access(
                {"file_id": file["file_id"], "purpose": PURPOSE, "duration_hours": 4})["request_id"]
        with rpc(amqp_uri, actor("demo-supervisor", "supervisor")) as proxy:
            proxy.archive.approve_access({"request_id": request_id})
        # An auditor without a grant: their read is refused, and recorded (9.4d, 4.5).
        with rpc(amqp_uri, AUDITOR) as proxy, pytest.raises(CasebookError):
            proxy.cases.get_case({"case_id": case_id, "purpose": "Curious about it."})
        with rpc(amqp_uri, actor("demo-admin", "school_admin")) as proxy:
            proxy.cases.get_case({"case_id": case_id, "purpose": PURPOSE})
        seen = run_journey("archivist_history", url)
        with rpc(amqp_uri, actor("demo-archivist", "archivist")) as proxy:
            reads = proxy.archive.list_reads({"file_id": file["file_id"]})["items"]
            then = proxy.archive.get_file_as_of({
                "file_id": file["file_id"], "ledger_source": "cases",
                "ledger_position": seen["then"]["position"]})
            now = proxy.archive.get_file({"file_id": file["file_id"]})

    assert seen["code"] == file["file_code"]
    # Both reads, in order, as the archive recorded them; the refused one alone when filtered.
    assert [(r["reader_id"], r["outcome"]) for r in reads] == [
        ("demo-auditor", "refused"), ("demo-admin", "viewed")]
    assert seen["reads_count"] == "查阅 2 次" and len(seen["reads"]) == 2
    assert "demo-auditor" in seen["reads"][0] and "被拒绝：没有获批的授权" in seen["reads"][0]
    assert "Curious about it." in seen["reads"][0]
    assert "demo-admin" in seen["reads"][1] and "经授权查阅" in seen["reads"][1]
    assert PURPOSE in seen["reads"][1]
    assert len(seen["refused_reads"]) == 1 and "demo-auditor" in seen["refused_reads"][0]
    assert seen["grant"]["url"].endswith(f"/access-requests/{request_id}")
    assert seen["grant"]["state"] == "已批准" and reads[1]["grant_id"] == request_id
    # Across the files: the same two reads in order (the only file read), then the auditor's.
    assert [(row.split()[0], row.split()[1]) for row in seen["all_reads"]] == [
        (file["file_code"], "demo-auditor"), (file["file_code"], "demo-admin")]
    (auditors,) = seen["auditors_reads"]
    assert "demo-auditor" in auditors and "被拒绝：没有获批的授权" in auditors
    assert seen["reader_refused"] == "长度须在 1 到 64 之间。"
    assert seen["reads_file_url"].endswith(f"/archive/files/{file['file_id']}")
    # The file as it was when the case was opened: as the archive answers it, not as it is now.
    assert seen["then_refused"] == "至少为 1。" and seen["then_invalid"] == "true"
    assert seen["then"]["heading"] == f"位置 {seen['then']['position']} 时的状态"
    assert seen["then"]["version"] == then["version"] < now["version"]
    assert (then["status"], seen["then"]["status"]) == ("active", "服务中")
    assert sorted(seen["then"]["entries"]) == sorted(
        entry["position"] for section in then["contents"].values() for entry in section)
    assert max(seen["then"]["entries"]) == seen["then"]["position"]
    for page in ("12-reads", "12b-reads-across-files", "13-then-refused", "14-then"):
        assert (ARTEFACTS / f"archivist-{page}.png").stat().st_size > 0


def closed_case_file(amqp_uri: str, label: str) -> tuple[str, dict[str, Any]]:
    """A case worked from intake to closing, and its archive file once the archive has filed
    it and learned it was closed."""
    with rpc(amqp_uri, actor(WORKER, "social_worker")) as proxy:
        case_id = case_journey(proxy, label, worker_id=WORKER)
    with rpc(amqp_uri, actor("demo-supervisor", "supervisor")) as proxy:
        file = wait_for(lambda: _answer(lambda: proxy.archive.find_file(
            {"source": "cases", "record_id": case_id})), timeout=60,
            what="the archive to file the closed case")
        wait_for(lambda: file_closed(proxy, file["file_id"]), timeout=60,
                 what="the archive to learn the case was closed")
    return case_id, file


def file_closed(proxy: Any, file_id: str) -> bool:
    return proxy.archive.get_file({"file_id": file_id})["status"] == "closed"


def _answer(call: Any) -> Any:
    """The call's answer, or None while the archive has not filed it yet."""
    try:
        return call()
    except CasebookError:
        return None
