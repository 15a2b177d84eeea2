"""The archivist's journeys through the console: a closed case's archive file, an access request
made by someone else approved (after a refusal beside its field), the two-person rule on the
archivist's own request, a legal hold, and the file printed as PDF (9.4); a class file's legal
hold lifted, a grant revoked, and its disposal asked for by the archivist and decided by a
supervisor (9.4e); a file's reads, granted and refused, and the file as it was (9.4b, 9.4d)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from browser import Person, follow
from playwright.sync_api import Browser

ARCHIVIST = "demo-archivist"
REQUESTER = "demo-supervisor"


def archivist_journey(browser: Browser, console_url: str, artefacts: Path) -> dict[str, Any]:
    me = Person(browser, console_url, artefacts)
    page, field, save = me.page, me.field, me.save

    def shot(name: str) -> None:
        me.shot(f"archivist-{name}")

    # Signed in, the archivist lands on the archive files; the closed case is filed (9.4a).
    me.sign_in_as(ARCHIVIST)
    page.wait_for_url(re.compile("/archive/files$"))
    assert page.get_by_role("heading", name=re.compile("^档案")).is_visible()
    code = page.locator("table.cards tbody a").first.inner_text()
    assert re.fullmatch(r"JD001-\d{4}-GA-\d{4}", code), code
    # Filtered by category and by retention due: a case file ends its retention years away.
    field("类别（9.4a）").select_option("GA")
    field("保管期限在多少天内届满").fill("soon")
    page.get_by_role("button", name="显示档案").click()
    page.wait_for_load_state()
    filter_refused = page.locator("#error-due_within_days").inner_text()
    assert field("保管期限在多少天内届满").get_attribute("aria-invalid") == "true"
    field("保管期限在多少天内届满").fill("30")
    page.get_by_role("button", name="显示档案").click()
    page.wait_for_load_state()
    assert page.locator("#problem").count() == 0 and "此处没有档案。" in page.content()
    field("保管期限在多少天内届满").fill("")
    page.get_by_role("button", name="显示档案").click()
    page.wait_for_load_state()
    shot("01-files")

    # The archivist asks to read the file too: their own request, which they cannot decide
    # (9.4d): the page says why rather than offer the decision.
    follow(page.get_by_role("link", name=code))
    page.get_by_text("申请查阅本档案", exact=True).click()
    field("用途").fill("Checking the index against the paper file.")
    field("查阅时长（小时）").fill("4")
    save("提交申请")
    assert page.locator("#two-person-rule").is_visible()
    assert page.get_by_role("button", name="批准").count() == 0
    shot("02-own-request")

    # Access requests, pending first: the supervisor's and the archivist's own.
    follow(page.get_by_role("link", name="返回查阅申请"))
    page.wait_for_url(re.compile("/archive/access-requests$"))
    rows = page.locator("table.cards tbody tr")
    assert rows.count() == 2, page.content()[-3000:]
    assert "你本人的申请：由另一人决定。" in rows.filter(has_text=ARCHIVIST).inner_text()
    shot("03-access-requests")

    # The supervisor's request: more hours than were asked for are refused beside the field.
    page.locator("table.cards tbody tr").filter(has_text=REQUESTER).get_by_role("link").click()
    assert REQUESTER in page.locator(".facts").inner_text()
    field("有效时长（小时）").fill("9")
    save("批准", 400)
    refused = page.locator("#error-approve-valid_hours").inner_text()
    assert field("有效时长（小时）").get_attribute("aria-invalid") == "true"
    assert page.locator("#request-state").inner_text() == "待决定"
    shot("04-approval-refused")
    field("有效时长（小时）").fill("2")
    save("批准")
    granted = {"state": page.locator("#request-state").inner_text(),
               "decided_by": page.locator("#decided-by").inner_text()}
    shot("05-approved")

    # The grant is listed under the grants.
    page.goto(f"{console_url}/archive/access-requests?status=approved")
    assert REQUESTER in page.locator("table.cards tbody").inner_text()

    # The file: contents index, retention, a legal hold placed, disposal refused before the
    # retention period ends (9.4e), and the access report.
    follow(page.get_by_role("link", name="档案", exact=True))
    follow(page.get_by_role("link", name=code))
    assert page.get_by_role("heading", name=f"档案 {code}").is_visible()
    contents = page.locator("section[aria-labelledby=contents-heading]").inner_text()
    assert "开案（8.3.1）" in contents and "记录服务介入（8.3.4）" in contents
    page.get_by_text("设置法律保全", exact=True).click()
    field("机关").select_option("court")
    field("机关文号").fill("(2026)沪0101民初1号")
    save("设置保全")
    holds = page.locator("section[aria-labelledby=holds-heading]").inner_text()
    assert "法院" in holds and "(2026)沪0101民初1号" in holds
    save("申请销毁", 409)
    disposal = page.locator("section[aria-labelledby=disposal-heading]").get_by_role(
        "alert").inner_text()
    shot("06-file")

    # The printable file (9.4), kept beside the screenshots for the test to read back.
    href = page.get_by_role("link", name="打印档案（PDF）").get_attribute("href")
    answer = page.request.get(f"{console_url}{href}")
    (artefacts / "archivist-file.pdf").write_bytes(answer.body())

    # Nothing was asked for disposal: the refused request left no trace (9.4e).
    follow(page.get_by_role("link", name="档案销毁"))
    no_disposals = "此处没有销毁申请。" in page.content()
    shot("07-disposals")
    me.context.close()
    return {"code": code, "filter_refused": filter_refused, "refused": refused,
            "granted": granted, "disposal": disposal, "no_disposals": no_disposals,
            "pdf_type": answer.headers["content-type"]}


def disposal_journey(browser: Browser, console_url: str, artefacts: Path) -> dict[str, Any]:
    """A class file past its retention period (9.4e): the archivist lifts its legal hold,
    revokes their own grant (a reason missing first) and asks for disposal, which they cannot
    decide; a supervisor rejects without a reason (refused beside the field), then approves."""
    archivist = Person(browser, console_url, artefacts).sign_in_as(ARCHIVIST)
    page, field, save = archivist.page, archivist.field, archivist.save

    def shot(person: Person, name: str) -> None:
        person.shot(f"archivist-{name}")

    page.goto(f"{console_url}/archive/files?category=KT")
    code = page.locator("table.cards tbody a").first.inner_text()
    follow(page.get_by_role("link", name=code))
    page.get_by_role("button", name=re.compile("^解除保全")).click()
    page.wait_for_load_state()
    assert "没有法律保全。" in page.locator("section[aria-labelledby=holds-heading]").inner_text()
    save("申请销毁")
    own_disposal = page.locator("section[aria-labelledby=disposal-heading]").inner_text()
    assert page.get_by_role("button", name="批准销毁").count() == 0
    shot(archivist, "08-disposal-requested")

    # The archivist's own grant on the file, revoked: a reason is needed (9.4d).
    page.goto(f"{console_url}/archive/access-requests?status=approved")
    page.locator("table.cards tbody a").first.click()
    save("撤销", 400)
    revoke_refused = page.locator("#error-revoke-reason_code").inner_text()
    assert page.locator("#request-state").inner_text() == "已批准"
    shot(archivist, "09-revocation-refused")
    field("原因").select_option("purpose_fulfilled")
    save("撤销")
    revoked = page.locator("#request-state").inner_text()
    archivist.context.close()

    # A second person, a supervisor, decides on the disposal.
    supervisor = Person(browser, console_url, artefacts).sign_in_as(REQUESTER)
    page, field, save = supervisor.page, supervisor.field, supervisor.save
    page.goto(f"{console_url}/archive/disposals")
    rule = page.locator("table.cards tbody tr").first.inner_text()
    follow(page.get_by_role("link", name=code))
    save("驳回销毁", 400)
    reject_refused = page.locator("#error-reject-reason_code").inner_text()
    shot(supervisor, "10-rejection-refused")
    save("批准销毁")
    disposed = page.locator("section[aria-labelledby=disposal-heading]").inner_text()
    page.goto(f"{console_url}/archive/disposals?status=approved")
    met = page.locator("table.cards tbody tr").first.inner_text()
    shot(supervisor, "11-disposal-approved")
    supervisor.context.close()
    return {"code": code, "own_disposal": own_disposal, "revoke_refused": revoke_refused,
            "revoked": revoked, "rule": rule, "reject_refused": reject_refused,
            "disposed": disposed, "met": met}


def history_journey(browser: Browser, console_url: str, artefacts: Path) -> dict[str, Any]:
    """A closed case's file read under a grant and refused to someone without one: the
    archivist lists its reads, only the refused ones, and opens the grant of the one read; every
    file's reads, by reader (a reader id too long refused beside its field), back to the file; then
    the file as it was, a position that is none refused beside its field first, and then the
    file when the case was opened, from its contents index (9.4b, 9.4d)."""
    me = Person(browser, console_url, artefacts).sign_in_as(ARCHIVIST)
    page, field = me.page, me.field

    def shot(name: str) -> None:
        me.shot(f"archivist-{name}")

    page.wait_for_url(re.compile("/archive/files$"))
    code = page.locator("table.cards tbody a").first.inner_text()
    follow(page.get_by_role("link", name=code))
    file_url = page.url
    reads = page.locator("#reads tbody tr")
    seen: dict[str, Any] = {"code": code, "reads_count": page.locator("#reads-count").inner_text(),
                            "reads": reads.all_inner_texts()}
    shot("12-reads")
    follow(page.get_by_role("link", name="被拒绝的查阅"))
    page.wait_for_url(re.compile(r"\?reads=refused#reads-heading$"))
    seen["refused_reads"] = reads.all_inner_texts()
    follow(page.get_by_role("link", name="全部查阅"))
    page.locator("#reads tbody tr[data-outcome='viewed']").get_by_role("link",
                                                                        name="授权").click()
    page.wait_for_url(re.compile("/access-requests/"))
    seen["grant"] = {"url": page.url, "state": page.locator("#request-state").inner_text()}

    # Every file's reads, from the menu: by reader, each row linked to its file (4.5, 9.4d).
    follow(page.get_by_role("link", name="档案查阅记录"))
    page.wait_for_url(re.compile("/archive/reads$"))
    seen["all_reads"] = reads.all_inner_texts()
    field("查阅人").fill("demo-auditor")
    page.get_by_role("button", name="显示查阅记录").click()
    page.wait_for_url(re.compile(r"/archive/reads\?reader_id=demo-auditor$"))
    seen["auditors_reads"] = reads.all_inner_texts()
    shot("12b-reads-across-files")
    field("查阅人").fill("x" * 65)
    page.get_by_role("button", name="显示查阅记录").click()
    page.wait_for_load_state()
    seen["reader_refused"] = page.locator("#error-reader_id").inner_text()
    follow(page.get_by_role("link", name="清除筛选"))
    page.wait_for_url(re.compile("/archive/reads$"))
    follow(page.locator("#reads").get_by_role("link", name=code).first)
    page.wait_for_url(re.compile("#reads-heading$"))
    seen["reads_file_url"] = page.url.split("#")[0]

    # The file as it was: position 0 is no position of the ledger, said beside the field.
    page.goto(file_url)
    field("台账位置").fill("0")
    page.get_by_role("button", name="显示当时的档案").click()
    page.wait_for_load_state()
    seen["then_refused"] = page.locator("#error-then-position").inner_text()
    seen["then_invalid"] = field("台账位置").get_attribute("aria-invalid")
    shot("13-then-refused")
    # From the contents index: the file as it was when the case was opened.
    opened = page.locator("section[aria-labelledby=contents-heading] li").first
    position = int((opened.locator(".as-of").get_attribute("href") or "").split("position=")[1]
                   .split("#")[0])
    follow(opened.get_by_role("link", name="当时的档案"))
    page.wait_for_url(re.compile(rf"\?position={position}#then-heading$"))
    seen["then"] = {"position": position,
                    "heading": page.locator("#then-point").inner_text(),
                    "version": int(page.locator("#then-version").inner_text()),
                    "status": page.locator("#then-status").inner_text(),
                    "entries": [int(item.get_attribute("data-position") or 0) for item in
                                page.locator("#then-entries li").all()]}
    shot("14-then")
    me.context.close()
    return seen


JOURNEYS = {"archivist": archivist_journey, "archivist_disposal": disposal_journey,
            "archivist_history": history_journey}
