"""The resource register (9.3) in the console: a social worker registers a provider (refused first
without a name and for an email that is none, beside each field), a resource it offers (refused
first for no capacity) and a donation typed in yuan; finds the donation in the register's
totals; records an activity held with the provider (refused first without the number who took
part) and finds it in the school's community network; registers a volunteer, is refused
assigning them to work with students before any background check (said above the form), assigns
them to other work and logs their time. The school administrator then records a background check
(refused first for an end before its start) that clears the volunteer, and issues the provider
its feedback on how its resources were used (9.3c)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from browser import Person, follow
from playwright.sync_api import Browser

PROVIDER = "阳光公益基金会"
VOLUNTEER = "陈志愿"
GROUP = "成长小组"  # the group test_register_journey.py forms for the worker


def register_journey(browser: Browser, console_url: str, artefacts: Path) -> dict[str, Any]:
    me = Person(browser, console_url, artefacts).sign_in_as("demo-worker-1")
    page, field, save, shot = me.page, me.field, me.save, me.shot
    seen: dict[str, Any] = {"nav": page.locator("header nav a").all_inner_texts()}

    # A provider: without a name and with an email that is none, refused beside both fields,
    # what was typed kept.
    follow(page.get_by_role("link", name="资源登记"))
    follow(page.get_by_role("link", name="登记资源提供方"))
    field("提供方类别").select_option("organisation")
    field("类别（7.3a）").select_option("social_organisation")
    seen["sectors_offered"] = field("类别（7.3a）").locator("option").all_inner_texts()
    field("联系人").fill("周老师")
    field("电话").fill("0571-8888 0000")
    field("电子邮箱").fill("not an address")
    save("登记提供方", 400)
    seen["refused_name"] = me.said_beside("名称")
    seen["refused_email"] = me.said_beside("电子邮箱")
    seen["refused_kept"] = field("联系人").input_value()
    shot("register-01-provider-refused")
    field("名称").fill(PROVIDER)
    field("电子邮箱").fill("help@sunshine.example")
    save("登记提供方")
    seen["provider_id"] = page.url.rsplit("/", 1)[-1]
    seen["provider_heading"] = page.locator("h1").inner_text()
    seen["provider_record"] = page.locator("dl.record").inner_text()
    seen["provider_title"] = page.title()

    # A resource it offers: no capacity refused beside the field, then six sessions.
    page.locator("summary", has_text="登记资源").click()
    field("资源类别").select_option("tutoring")
    field("名称").fill("周末数学辅导")
    field("总量").fill("0")
    field("单位").fill("次")
    page.locator("#resources-form").get_by_label(re.compile(r"7\.1\.1a ")).check()
    save("登记资源", 400)
    seen["refused_capacity"] = me.said_beside("总量")
    field("总量").fill("6")
    save("登记资源")
    seen["resources"] = page.locator("table.resources tbody").inner_text()

    # A donation of funds typed in yuan, with a thousands separator and fen.
    page.locator("summary", has_text="记录捐赠").click()
    field("捐赠类别").select_option("funds")
    field("金额或价值（元）").fill("1,500.50")
    field("捐赠内容").fill("困难学生助学金")
    save("记录捐赠")
    seen["donations"] = page.locator("table.donations tbody").inner_text()
    shot("register-02-provider")
    follow(page.get_by_role("link", name="返回资源登记"))
    seen["providers"] = page.locator("table.providers tbody").inner_text()
    seen["totals"] = page.locator("ul.totals").inner_text()
    shot("register-03-providers")

    # An activity held with the provider as partner (7.5): without participants refused beside
    # the field; then in the school's community network (7.3a).
    follow(page.get_by_role("link", name="联合活动"))
    page.locator("summary", has_text="记录联合活动").click()
    page.get_by_label(PROVIDER).check()
    field("主题").fill("家长课堂：亲子沟通")
    page.get_by_label(re.compile(r"7\.1\.4a ")).check()
    save("记录活动", 400)
    seen["refused_participants"] = me.said_beside("参加人数")
    field("参加人数").fill("30")
    save("记录活动")
    seen["joint"] = page.locator("table.joint tbody").inner_text()
    seen["network"] = page.locator("table.network tbody").inner_text()
    shot("register-07-joint-activity")

    # A volunteer, not yet checked: refused working with students (9.3b), above the form.
    follow(page.get_by_role("link", name="志愿者").first)
    follow(page.get_by_role("link", name="登记志愿者"))
    field("姓名").fill(VOLUNTEER)
    field("电话").fill("138-0000-0009")
    field("技能").fill("数学辅导\n摄影")
    save("登记志愿者")
    seen["volunteer_id"] = page.url.rsplit("/", 1)[-1]
    seen["volunteer_heading"] = page.locator("h1").inner_text()
    seen["may_work_before"] = page.locator("#may-work").inner_text()
    seen["worker_offered_check"] = page.locator("summary", has_text="记录背景审查").count()
    page.locator("summary", has_text="安排参与活动").click()
    seen["activities_offered"] = field("活动").locator("option").all_inner_texts()
    field("活动").select_option(index=1)
    field("与学生接触").check()
    save("安排志愿者", 403)
    seen["refused_with_students"] = page.locator("#assignments-form .problem").inner_text()
    shot("register-04-volunteer-refused")
    field("与学生接触").uncheck()
    save("安排志愿者")
    seen["assignments"] = page.locator("ul.assignments").inner_text()
    page.locator("summary", has_text="记录服务时长").click()
    field("所属服务安排").select_option(index=1)
    field("分钟数").fill("90")
    save("记录服务时长")
    seen["served"] = page.locator("ol.served").inner_text()
    seen["volunteers"] = _volunteers_row(me, console_url)

    # The school administrator clears the volunteer: a check ending before it began refused.
    admin = Person(browser, console_url, artefacts).sign_in_as("demo-admin")
    page, field, save = admin.page, admin.field, admin.save
    seen["admin_nav"] = page.locator("header nav a").all_inner_texts()
    page.goto(f"{console_url}/volunteers/{seen['volunteer_id']}")
    page.locator("summary", has_text="记录背景审查").click()
    today = date.fromisoformat(field("审查日期").input_value())
    field("背景审查结果").select_option("passed")
    field("有效期至").fill((today - timedelta(days=1)).isoformat())
    save("记录审查", 400)
    seen["refused_expiry"] = admin.said_beside("有效期至")
    field("有效期至").fill((today + timedelta(days=365)).isoformat())
    save("记录审查")
    seen["cleared_heading"] = page.locator("h1").inner_text()
    seen["may_work_after"] = page.locator("#may-work").inner_text()
    admin.shot("register-05-volunteer-cleared")

    # The provider's feedback on how its resources were used (9.3c), issued.
    page.goto(f"{console_url}/providers/{seen['provider_id']}")
    follow(page.get_by_role("link", name="资源使用情况反馈（9.3c）"))
    seen["feedback"] = page.locator("table.feedback tbody").inner_text()
    save("向资源提供方出具此反馈")
    seen["issued"] = page.locator("#issued").inner_text()
    admin.shot("register-06-feedback-issued")
    follow(page.get_by_role("link", name=PROVIDER))
    seen["issued_on_provider"] = page.locator("ul.issued").inner_text()
    seen["today"] = today.isoformat()
    return seen


def _volunteers_row(me: Person, console_url: str) -> str:
    me.page.goto(f"{console_url}/volunteers")
    return me.page.locator("table.volunteers tbody tr", has_text=VOLUNTEER).inner_text()


JOURNEYS = {"register": register_journey}
