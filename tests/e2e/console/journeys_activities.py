"""The social worker's work beside the caseload, in the console: the mailbox (8.2.2), a group
(8.2.1.3) and a class (8.2.3), with a refusal on the way."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from browser import Person, follow
from playwright.sync_api import Browser

# The student the test registers over RPC before the journey: a client of demo-worker-1.
MEMBER = "张小华"


def _long(day: date) -> str:
    """A date as the console shows it in Chinese (Babel's long form)."""
    return f"{day.year}年{day.month}月{day.day}日"


def activities_journey(browser: Browser, console_url: str, artefacts: Path) -> dict[str, Any]:
    me = Person(browser, console_url, artefacts).sign_in_as("demo-worker-1")
    page, field, save, shot = me.page, me.field, me.save, me.shot
    seen: dict[str, Any] = {"landed_on": page.url.removeprefix(console_url),
                            "nav": page.locator("header nav a").all_inner_texts()}
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the schools' day, as the console's

    def header(link: str) -> None:
        follow(page.locator("header nav").get_by_role("link", name=link, exact=True))

    # A letter received ten days ago: its week to be answered (8.2.2) is over by three days.
    received = today - timedelta(days=10)
    header("社工信箱")
    follow(page.get_by_role("link", name="登记来信"))
    field("收信日期").fill(received.isoformat())
    page.get_by_label("匿名来信").check()
    field("年级").fill("8")
    page.get_by_label(re.compile(r"7\.1\.3a ")).check()
    field("来信内容").fill("最近总是睡不着，很担心期中考试。")
    save("保存来信")
    letter_url = page.url
    assert "最近总是睡不着" in page.locator("blockquote").inner_text()
    shot("activities-01-letter")

    header("社工信箱")
    follow(page.get_by_role("link", name="待回信"))
    row = page.locator("tr.overdue")
    assert row.count() == 1
    seen["unanswered"] = row.inner_text()
    seen["deadline_shown"] = _long(received + timedelta(days=7)) in seen["unanswered"]
    shot("activities-02-mailbox-unanswered")

    # A reply left empty: refused beside the field (400), nothing saved.
    page.goto(letter_url)
    save("保存回信", 400)
    seen["empty_reply"] = page.locator("#error-reply").inner_text()
    assert field("回信内容").get_attribute("aria-invalid") == "true"
    shot("activities-03-reply-refused")
    field("回信内容").fill("谢谢你的来信。下周二午休时来社工室聊聊好吗？")
    save("保存回信")
    seen["replied"] = page.locator("#replied").inner_text()

    header("社工信箱")
    seen["answered"] = page.locator("tbody tr").first.inner_text()
    follow(page.get_by_role("link", name="待回信"))
    seen["unanswered_after"] = page.locator("tbody").inner_text()

    # A group formed a week ago, its member added (a student of the worker's, registered by
    # the test), a session held with attendance.
    header("小组工作")
    follow(page.get_by_role("link", name="成立小组"))
    field("小组类型").select_option("support")
    field("小组目标").fill("帮助新生适应初中生活")
    page.get_by_label(re.compile(r"7\.1\.3a ")).check()
    field("计划节数").fill("6")
    field("成立日期").fill((today - timedelta(days=7)).isoformat())
    save("成立小组")
    group_url = page.url
    shot("activities-04-group-formed")

    page.locator("#members-form summary").click()
    page.get_by_label(re.compile(MEMBER)).check()
    save("确认添加")
    seen["members"] = page.locator(".members").inner_text()

    # Evaluated before it has met: refused (409), naming the session as the step not yet done.
    page.locator("#evaluation-form summary").click()
    field("目标达成程度，−2 至 +2（10.2.2）").fill("1")
    save("保存评估", 409)
    seen["evaluated_too_early"] = page.get_by_role("alert").inner_text()

    page.locator("#sessions-form summary").click()
    field("开展日期").fill((today - timedelta(days=1)).isoformat())
    page.get_by_label(re.compile(MEMBER)).check()
    page.locator("#f-sessions-notes").fill("破冰游戏，组员互相介绍。")
    save("保存活动记录")
    seen["sessions"] = page.locator(".sessions").inner_text()
    shot("activities-05-group-session")

    # Evaluated, with a score for each of its two goals (10.2.2), and ended.
    page.locator("#evaluation-form summary").click()
    field("评估日期").fill(today.isoformat())
    field("目标达成程度，−2 至 +2（10.2.2）").fill("1\n+2")
    page.locator("#f-evaluation-notes").fill("组员能说出适应新环境的方法。")
    save("保存评估")
    page.locator("#closing-form summary").click()
    field("结束日期").fill(today.isoformat())
    save("结束小组")
    seen["ended"] = page.locator("h1").inner_text()

    header("小组工作")
    seen["groups"] = page.locator("tbody tr").first.inner_text()

    # A class on life education; the classes in English on request.
    header("社工课堂")
    follow(page.get_by_role("link", name="记录社工课堂"))
    field("主题").select_option("life_education")
    field("课题").fill("珍爱生命")
    page.get_by_label(re.compile(r"7\.1\.3a ")).check()
    field("开展日期").fill(today.isoformat())
    field("出席人数").fill("42")
    field("年级").fill("7")
    save("保存课堂记录")
    class_url = page.url
    seen["class"] = page.locator("main").inner_text()
    header("社工课堂")
    seen["classes"] = page.locator("tbody tr").first.inner_text()
    shot("activities-06-classes")
    page.get_by_role("button", name="English").click()
    seen["in_english"] = [page.locator("h1").inner_text(),
                          page.locator("tbody tr").first.inner_text()]
    me.context.close()
    seen.update(letter_id=letter_url.rsplit("/", 1)[-1], group_id=group_url.rsplit("/", 1)[-1],
                class_id=class_url.rsplit("/", 1)[-1])
    return seen


def client_choices(browser: Browser, console_url: str, artefacts: Path) -> dict[str, Any]:
    """Picking a letter's writer from more clients than a page: the first 20, then "more
    clients" brings the next ones into the same list (htmx), each client once."""
    me = Person(browser, console_url, artefacts).sign_in_as("demo-worker-1")
    page = me.page
    page.goto(f"{console_url}/letters/new")
    writers = page.locator("input[name=client_id]:not([value=''])")
    first_page = writers.count()
    more = page.get_by_role("link", name="更多服务对象")
    fallback = more.get_attribute("href")  # without JavaScript: the form with the next page
    with page.expect_response(lambda r: "clients_after=" in r.url) as answer:
        more.click()
    swapped_in = answer.value.request.headers.get("hx-request") == "true"
    page.wait_for_function(
        "document.querySelectorAll('input[name=client_id]:not([value=\"\"])').length > 20")
    chosen = [writers.nth(n).get_attribute("value") for n in range(writers.count())]
    me.shot("activities-07-more-clients")
    more_left = page.get_by_role("link", name="更多服务对象").count()
    me.context.close()
    return {"first_page": first_page, "after_more": chosen, "swapped_in": swapped_in,
            "fallback": fallback, "more_left": more_left}


JOURNEYS = {"activities": activities_journey, "client_choices": client_choices}
