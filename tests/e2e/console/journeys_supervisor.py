"""The supervisor's journey through the console: a risk escalation of a supervisee's case
taken in charge with a refusal on the way (9.6b), then the supervisees' cases by worker and
step, an improvement action for a key control point found unmet (9.5c, 10.3), supervision
per worker (9.1c), and a case handed to another supervisee (6.2.2)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from browser import Person, follow
from playwright.sync_api import Browser


def supervisor_journey(browser: Browser, console_url: str, artefacts: Path) -> dict[str, Any]:
    me = Person(browser, console_url, artefacts).sign_in_as("demo-supervisor")
    page, field, save, shot = me.page, me.field, me.save, me.shot

    # The supervisor lands on the escalations of their supervisees' cases: the one nobody
    # acknowledged in time is marked overdue.
    page.wait_for_url(re.compile("/escalations$"))
    assert page.get_by_role("heading", name=re.compile("^风险上报")).is_visible()
    listed = page.locator("table.escalations tbody tr").count()
    late = page.locator("table.escalations tr.overdue")
    late_rows = [late.nth(n).inner_text() for n in range(late.count())]
    shot("sup-01-escalations")
    follow(page.get_by_role("link", name="已超时"))
    overdue_only = page.locator("table.escalations tbody tr").count()
    # Unacknowledged for two days, it climbed past the supervisor's step: not theirs to take.
    follow(page.get_by_role("link", name=re.compile("^欺凌")))
    passed = page.locator(".note").inner_text()
    acknowledge_offered = page.get_by_role("button", name="确认接手").count()
    follow(page.get_by_role("link", name="返回风险上报列表"))

    # The self-harm risk rated high threatens life (4.1): its ladder starts with the
    # supervisor, who takes charge of it.
    follow(page.get_by_role("link", name=re.compile("^自伤")))
    escalation_id = page.url.rsplit("/", 1)[-1]
    waiting = page.locator("#state").inner_text()
    life_safety = page.get_by_text("涉及生命安全（4.1）").count()
    shot("sup-02-escalation-awaiting")
    save("确认接手")
    acknowledged = page.locator("#state").inner_text()

    # An action without saying which: refused beside the field, and nothing recorded.
    trail_before = page.locator("#trail li").count()
    save("保存措施", 400)
    refused = page.locator("#error-action-action").inner_text()
    assert field("采取的措施").get_attribute("aria-invalid") == "true"
    trail_after_refusal = page.locator("#trail li").count()
    shot("sup-03-action-refused")
    field("采取的措施").select_option("contacted_guardian")
    save("保存措施")
    field("处置结果").select_option("handled")
    save("结束风险上报")
    resolved = page.locator("#state").inner_text()
    trail = [line.strip() for line in page.locator("#trail li").all_inner_texts()]
    shot("sup-04-escalation-resolved")

    # The supervisees' cases, by worker and step.
    follow(page.get_by_role("link", name="被督导者的个案"))
    field("社会工作者").select_option("demo-worker-1")
    field("步骤").select_option("intake")
    page.get_by_role("button", name="显示").click()
    page.wait_for_url(re.compile("worker=demo-worker-1"))
    cases = page.locator("table.cards tbody tr").all_inner_texts()
    shot("sup-05-supervisees-cases")

    # Quality: the case's assessment is overdue (9.5c); an improvement action for it (10.3),
    # carried out.
    follow(page.get_by_role("link", name="质量管理"))
    finding = page.locator("li.finding").first
    found = finding.inner_text()
    finding.get_by_text("制定改进措施").click()
    for label, value in (("负责人", "demo-worker-1"), ("改进内容", "每周检查个案的预估进度。"),
                         ("完成期限", "2027-01-31")):
        finding.get_by_label(re.compile(f"^{label}")).fill(value)
    save("确认制定")
    under_way = page.locator("ul.actions li").all_inner_texts()
    page.get_by_text("完成改进").click()
    field("改进结果").fill("已完成预估，并纳入每周检查。")
    save("确认完成")
    addressed = page.locator("li.finding").first.inner_text()
    shot("sup-06-quality")

    # Supervision per worker and the sessions held (6.2.2.2, 9.1c).
    follow(page.get_by_role("link", name="督导与培训"))
    supervision = page.locator("table.supervision tbody tr").all_inner_texts()
    sessions = page.locator("table.sessions tbody tr").all_inner_texts()
    shot("sup-07-supervision")

    # The case handed to the supervisor's other supervisee (6.2.2): without a date, refused
    # beside it; then reassigned, and the case page says whose it is.
    follow(page.get_by_role("link", name="被督导者的个案"))
    page.locator("table.cards tbody a").first.click()
    page.wait_for_url(re.compile(r"/cases/[0-9a-f-]+$"))
    reassign_case = page.url.rsplit("/", 1)[-1]
    page.locator("summary", has_text="改派给另一位受督导社工").click()
    reassign_offered = field("改派给").locator("option").all_inner_texts()
    field("改派给").select_option("demo-worker-2")
    today = field("改派日期").input_value()
    field("改派日期").fill("")
    field("改派原因").fill("原社工休产假。")
    save("改派个案", 400)
    reassign_refused = me.said_beside("改派日期")
    reassign_kept = field("改派原因").input_value()
    field("改派日期").fill(today)
    save("改派个案")
    reassigned = page.locator("#worker").inner_text()
    shot("sup-08-case-reassigned")
    me.context.close()
    return {"listed": listed, "late_rows": late_rows, "overdue_only": overdue_only,
            "passed": passed, "acknowledge_offered": acknowledge_offered,
            "escalation_id": escalation_id, "waiting": waiting, "life_safety": life_safety,
            "acknowledged": acknowledged, "refused": refused, "trail_before": trail_before,
            "trail_after_refusal": trail_after_refusal, "resolved": resolved, "trail": trail,
            "cases": cases, "finding": found, "under_way": under_way, "addressed": addressed,
            "supervision": supervision, "sessions": sessions, "reassign_case": reassign_case,
            "reassign_offered": reassign_offered, "reassign_refused": reassign_refused,
            "reassign_kept": reassign_kept, "reassigned": reassigned, "today": today}


JOURNEYS = {"supervisor": supervisor_journey}
