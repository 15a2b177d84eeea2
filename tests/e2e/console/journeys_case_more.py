"""More of the social worker's case page: a risk's level changed, a disclosure despite
confidentiality once the risk threatens life (refused first beside a field), and another case's
intake declined with a referral; the plan revised, a consent withdrawn and a teacher added to
the client's ecosystem (refused first without a name); a closed case's
follow-up past its date recorded, another scheduled, and the case reopened."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from browser import Person, follow
from playwright.sync_api import Browser

# The two clients test_case_more_journey.py seeds over RPC.
PLANNED = "王小明"  # a case up to its adopted plan, with a self-harm risk at level medium
NEW = "赵小雨"  # a case at intake


def case_more_journey(browser: Browser, console_url: str, artefacts: Path) -> dict[str, Any]:
    me = Person(browser, console_url, artefacts).sign_in_as("demo-worker-1")
    page, field, save, shot = me.page, me.field, me.save, me.shot
    # The next follow-up a fortnight after the schools' today (Asia/Shanghai).
    schools_today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    seen: dict[str, Any] = {"next_due_on": (schools_today + timedelta(days=14)).isoformat()}

    def open_case(name: str) -> str:
        page.goto(f"{console_url}/caseload")
        follow(page.get_by_role("link", name=name))
        page.wait_for_url(re.compile(r"/cases/[0-9a-f-]+$"))
        return page.url.rsplit("/", 1)[-1]

    seen["planned_case"] = open_case(PLANNED)
    risks = page.locator("ul.risks > li")

    def opened(summary: str) -> None:
        """One of a risk's forms, folded under its summary until asked for."""
        risks.locator("summary", has_text=summary).click()

    # At level medium, self-harm does not threaten life (the risk policy): no disclosure yet.
    seen["disclosable_before"] = risks.locator("summary", has_text="记录保密例外披露").count()

    # Raised to high (9.6b): now a threat to life or safety, so confidentiality may yield (4.1).
    opened("调整风险等级")
    field("新的风险等级").select_option("high")
    field("调整理由").fill("本周两次提到不想活了。")
    save("调整风险等级")
    seen["risk_after_change"] = risks.first.inner_text().split("\n")[0]
    shot("case-more-01-level-changed")

    # The disclosure without its reason: refused beside the field, nothing recorded.
    opened("记录保密例外披露（4.1）")
    field("告知对象").select_option("guardian")
    field("告知对象姓名").fill("王芳")
    field("披露内容").fill("孩子有自伤风险，需要今晚陪伴。")
    field("披露时间").fill("2026-11-30T18:30")
    save("记录披露", 400)
    seen["refused_why"] = me.said_beside("披露理由")
    seen["refused_invalid"] = field("披露理由").get_attribute("aria-invalid")
    seen["refused_kept"] = [field("告知对象姓名").input_value(), field("披露时间").input_value()]
    seen["disclosures_after_refusal"] = page.locator("ul.disclosures").inner_text()
    shot("case-more-02-disclosure-refused")
    field("披露理由").fill("生命安全优先于保密（4.1）。")
    save("记录披露")
    seen["disclosures"] = page.locator("ul.disclosures").inner_text()
    seen["timeline"] = page.locator("ol.timeline").inner_text()

    # The plan revised: a new version, its form filled with the current one's parts (8.3.3).
    page.locator("summary", has_text="修订服务计划（新版本）").click()
    seen["plan_shown"] = field("服务目标").input_value()
    field("服务目标").fill(seen["plan_shown"] + "\n每周写一次情绪日记。")
    field("修订理由").fill("风险升高，加入情绪记录。")
    save("保存新版本")
    seen["plan_version"] = page.locator("section[aria-labelledby=changes-heading]").inner_text()

    # The guardian's consent withdrawn (4.2).
    page.locator("summary", has_text="记录撤回知情同意").click()
    field("撤回谁的同意").select_option("guardian")
    field("撤回理由").fill("家长要求暂停服务。")
    save("记录撤回")
    seen["consents_after"] = page.locator(
        "section[aria-labelledby=changes-heading] > p").first.inner_text()
    shot("case-more-03b-consent-withdrawn")

    # The client's ecosystem (4.6): a related party without a name refused beside it, then the
    # class teacher, listed with the guardian.
    page.locator("summary", has_text="添加相关人员").click()
    field("身份").select_option("teacher")
    seen["party_kinds"] = field("身份").locator("option").all_inner_texts()
    field("与服务对象的关系").last.fill("班主任")
    save("添加相关人员", 400)
    seen["refused_party"] = me.said_beside("姓名")
    field("姓名").fill("李老师")
    save("添加相关人员")
    seen["ecosystem"] = page.locator("ul.ecosystem").inner_text()
    shot("case-more-03-disclosed")

    # Another client's intake declined: beyond the service's scope, referred to mental health.
    seen["declined_case"] = open_case(NEW)
    page.locator("summary", has_text="不予接案并转介服务对象").click()
    field("原因").select_option("beyond_scope")
    field("向服务对象的说明").fill("需要专业的精神科评估。")
    field("转介至").select_option("mental_health")
    field("给转介机构的说明").fill("已与家长沟通，同意转介。")
    save("不予接案")
    seen["declined"] = page.locator("section.declined").inner_text()
    seen["steps_left"] = page.get_by_text("本个案没有后续步骤。").count()
    shot("case-more-04-declined")

    # A closed case's follow-up past its date (9.2b), reached from the caseload without opening
    # the case (read only under an archive grant, 9.4d): another scheduled, then this one done.
    page.goto(f"{console_url}/caseload")
    follow(page.get_by_role("link", name="已逾期的回访"))
    seen["follow_ups"] = page.locator("tbody").inner_text()
    shot("case-more-05-follow-ups")
    follow_up = page.locator("tbody a")
    seen["follow_up_href"] = follow_up.get_attribute("href")
    follow_up.click()
    field("计划回访日期（9.2b）").fill(seen["next_due_on"])
    save("安排回访")
    page.locator("tbody a").click()
    field("结果").select_option("needs_support")
    field("备注").fill("成绩下滑，约下周面谈。")
    save("记录回访")
    seen["follow_ups_after"] = page.locator("tbody").inner_text()
    # The one scheduled is coming due in two weeks: within a month, not within a week.
    follow(page.get_by_role("link", name="即将到期的回访"))
    seen["coming"] = [page.locator("#coming-count").inner_text(),
                      page.locator("#coming tbody").inner_text()]
    shot("case-more-05b-coming")
    follow(page.get_by_role("link", name="7 天内"))
    seen["coming_in_a_week"] = page.locator("#coming tbody").inner_text()

    # The follow-up found the client needing support again: the case reopened, live again.
    page.goto(f"{console_url}{seen['follow_up_href']}")
    field("重新开案的理由").fill("回访发现需要继续支持。")
    save("重新开案")
    seen["reopened"] = [page.url.rsplit("/", 1)[-1], page.locator(".steps").inner_text()]
    shot("case-more-06-reopened")
    me.context.close()
    return seen


JOURNEYS = {"case_more": case_more_journey}
