"""The social worker's journeys through the console: a case from intake to closing with
refusals on the way, sign-in at the organisation's provider, a caseload longer than a page."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from browser import PHONE, Person, accessible, follow
from playwright.sync_api import Browser, Page
from playwright.sync_api import Error as PlaywrightError


def social_worker_journey(browser: Browser, console_url: str, artefacts: Path) -> None:
    me = Person(browser, console_url, artefacts)
    page, field, fill, save, shot = me.page, me.field, me.fill, me.save, me.shot

    def intervention() -> None:
        """The form of an intervention (8.3.4): 45 minutes of case work."""
        field("服务形式").select_option("direct")
        field("方法").select_option("case_work")
        page.get_by_label(re.compile(r"7\.1\.3a ")).check()
        field("时长（分钟）").fill("45")

    # Sign in with the development sign-in: the page is Chinese by default.
    page.goto(f"{console_url}/")
    assert page.title().startswith("登录")
    shot("01-sign-in")
    # By keyboard: the first Tab reaches the skip link, and the form is sent with Enter.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "跳到正文"
    page.get_by_label(re.compile("demo-worker-1")).focus()
    page.keyboard.press("Space")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.keyboard.press("Enter")
    assert posted.value.status == 302
    page.wait_for_url(re.compile("/caseload$"))
    assert page.get_by_role("heading", name="我的个案").is_visible()
    shot("02-caseload-empty")

    # Register a student; a grade out of range is refused beside its field, nothing is saved.
    follow(page.get_by_role("link", name="登记服务对象"))
    field("姓名").fill("李小红")
    field("出生日期").fill("2013-05-04")
    field("年级").fill("13")
    field("监护人姓名").fill("李强")
    field("与服务对象的关系").fill("父亲")
    save("登记", 400)
    assert page.locator("#error-grade").inner_text().endswith("须在 1 到 12 之间。")
    assert field("年级").get_attribute("aria-invalid") == "true"
    shot("03-register-refused")
    field("年级").fill("7")
    save("登记")

    # Open the case with the intake items of 8.3.1a–c.
    assert page.get_by_role("heading", name="开案").is_visible()
    assert "服务对象：李小红" in page.content()
    page.get_by_label(re.compile(r"7\.1\.3a ")).check()
    page.get_by_label(re.compile("8.3.1a")).check()
    page.get_by_label(re.compile("8.3.1b")).check()
    page.get_by_label(re.compile("8.3.1c")).fill("祖母去世后在课堂上哭泣。")
    # Opened three weeks ago: the assessment's two weeks are over, so the case is overdue.
    field("开案日期").fill((date.today() - timedelta(days=21)).isoformat())
    save("开案")
    assert page.get_by_role("heading", name="李小红").is_visible()
    assert page.locator(".steps .next").inner_text().startswith("接案")
    shot("04-case-intake")
    case_url = page.url

    # On the caseload, by its step, and marked overdue (9.5c).
    follow(page.get_by_role("link", name="我的个案"))
    row = page.locator("tr.overdue")
    assert row.count() == 1 and "李小红" in row.inner_text()
    assert "已逾期：预估" in row.inner_text()
    follow(page.get_by_role("link", name=re.compile("^接案")))
    assert page.locator("tr.overdue").count() == 1
    shot("04b-caseload-overdue")
    page.goto(case_url)

    # An intervention before the intake is accepted: refused (409), naming the missing step.
    follow(page.get_by_role("link", name="记录服务介入"))
    intervention()
    save("保存", 409)
    alert = page.get_by_role("alert")
    assert "服务流程中尚有步骤未完成" in alert.inner_text()
    assert "接案" in alert.inner_text()
    shot("05-intervention-refused")

    # The steps of 8.3 in order, each from the form of the next step.
    page.goto(page.url.rsplit("/steps/", 1)[0])
    save("保存")  # accept the intake
    for party in ("client", "guardian"):
        field("同意人").select_option(party)
        save("保存")
    assert page.locator(".steps .next").inner_text().startswith("记录预估")

    # An assessment without its problems: refused beside the field (400).
    field("服务对象的环境").fill("与父亲和祖父同住。")
    for name, text in (("成因", "祖母去世"), ("优先次序", "先处理哀伤"), ("优势", "喜欢画画")):
        field(name).fill(text)
    save("保存", 400)
    assert page.locator("#error-problems").inner_text().endswith("至少填写 1 项。")
    shot("06-assessment-refused")
    field("问题").fill("课堂上哭泣\n睡眠不好")
    save("保存")

    fill({"服务目标": "能在课堂上平静地学习", "服务内容": "每周一次个案会谈",
          "服务方法": "个案工作", "行动步骤": "建立关系\n哀伤辅导", "时间安排": "九月至十一月",
          "评估参与者": "服务对象\n班主任", "评估方法": "目标达成量表"})
    save("保存")

    intervention()
    save("保存")
    assert page.locator(".steps .done").count() == 5
    shot("07-case-intervention-done")

    # A risk registered (9.6a): listed on the case, open until resolved.
    page.get_by_text("登记风险", exact=True).click()
    field("风险类型").select_option("bullying")
    field("等级").select_option("medium")
    save("确认登记")
    assert "欺凌" in page.locator(".risks").inner_text()
    assert "未解除" in page.locator(".risks").inner_text()

    fill({"进展": "按计划进行", "社会工作者的表现": "会谈如期举行", "反思": "应更早联系班主任"})
    save("保存")
    field("服务对象的改变").fill("能在课堂上平静下来")
    field("1. 能在课堂上平静地学习").select_option("1")
    field("满意度").fill("4")
    save("保存")

    # Closing without agreeing its timing: refused (409), the missing item marked beside it.
    field("原因").select_option("goals_met")
    page.get_by_label(re.compile("8.3.6b")).check()
    page.get_by_label(re.compile("8.3.6c")).check()
    save("保存", 409)
    assert page.locator("#error-timing_agreed").inner_text().endswith("尚未完成。")
    shot("08-closing-refused")
    page.get_by_label(re.compile("8.3.6a")).check()
    # With the risk still open, closing is refused (4.1); the page said so beforehand.
    assert page.locator("#open-risks").is_visible()
    save("保存", 409)
    assert "记录当前的状态不允许此操作" in page.get_by_role("alert").inner_text()
    page.get_by_text("解除此风险", exact=True).click()
    save("解除")
    assert "已解除" in page.locator(".risks").inner_text()
    field("原因").select_option("goals_met")
    for item in ("8.3.6a", "8.3.6b", "8.3.6c"):
        page.get_by_label(re.compile(item)).check()
    save("保存")

    # Closed: off the live caseload. The timeline of every step was on the case page.
    assert page.get_by_role("heading", name="我的个案").is_visible()
    assert "暂无个案" in page.content()
    shot("09-caseload-after-closing")

    # English on request, and signed out at the end.
    page.get_by_role("button", name="English").click()
    assert page.get_by_role("heading", name="My caseload").is_visible()
    with page.expect_response(lambda r: r.request.method == "POST") as signed_out:
        page.get_by_role("button", name="Sign out").click()
    assert signed_out.value.all_headers()["clear-site-data"] == '"cache", "storage"'
    assert page.title().startswith("Sign in")
    # The next person at this computer, going back through the visit (the caseload twice,
    # then the case's pages), is asked to sign in each time: no page comes back from the
    # browser's cache. Back to the closing refused (a page that answered a form itself), the
    # browser has nothing of its own to show and would have to send the form again.
    asked_to_sign_in = 0
    for _ in range(20):
        try:
            page.go_back()
        except PlaywrightError as error:
            assert "ERR_CACHE_MISS" in error.message, error.message
            break
        assert page.title().startswith("Sign in"), page.url
        assert "李小红" not in page.content(), page.url
        asked_to_sign_in += 1
    assert asked_to_sign_in >= 3
    me.context.close()


def at_the_provider(browser: Browser, console_url: str, login: str) -> Page:
    """A browser of its own, signed in at the provider (oidc_provider.mjs) as `login`, and sent
    back to the console."""
    page = browser.new_context(viewport=PHONE, locale="zh-CN", bypass_csp=True).new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{console_url}/sign-in")
    follow(page.get_by_role("link", name="使用所在机构的账号登录"))
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.locator("button[type=submit]").click()
    page.get_by_role("button", name=re.compile("Continue", re.I)).click()
    page.wait_for_url(re.compile(re.escape(console_url)))
    return page


def provider_sign_in(browser: Browser, console_url: str, artefacts: Path) -> dict[str, Any]:
    """Sign-in at the OpenID Connect provider (oidc_provider.mjs): a person it knows without a
    Casebook role is refused; a social worker comes back signed in with role and school."""
    stranger = at_the_provider(browser, console_url, "oidc-stranger")
    assert "登录未成功" in stranger.get_by_role("alert").inner_text()
    stranger.screenshot(path=str(artefacts / "10-provider-sign-in-refused.png"), full_page=True)
    accessible(stranger)

    worker = at_the_provider(browser, console_url, "oidc-worker-1")
    assert worker.get_by_role("heading", name="我的个案").is_visible()
    signed_in_as = worker.locator(".person").inner_text()
    worker.screenshot(path=str(artefacts / "11-provider-signed-in.png"), full_page=True)
    accessible(worker)

    # Signing out ends the session at the provider too: it asks, then sends the person back,
    # and the next sign-in asks for the login again instead of passing straight through.
    worker.get_by_role("button", name="退出登录").click()
    worker.wait_for_url(re.compile("/session/end"))
    worker.get_by_role("button", name=re.compile("Yes, sign me out", re.I)).click()
    worker.wait_for_url(re.compile(re.escape(console_url) + "/sign-in$"))
    back_at = worker.title()
    follow(worker.get_by_role("link", name="使用所在机构的账号登录"))
    worker.locator("input[name=login]").wait_for()
    return {"refused": stranger.get_by_role("alert").inner_text(),
            "signed_in_as": signed_in_as, "after_sign_out": back_at,
            "asked_to_log_in_again": worker.locator("input[name=login]").is_visible()}


def caseload_pages(browser: Browser, console_url: str, artefacts: Path) -> dict[str, Any]:
    """A caseload longer than a page: the first page, then "more" brings the next one into the
    same table (htmx), each case once."""
    page = browser.new_context(viewport=PHONE, locale="zh-CN", bypass_csp=True).new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{console_url}/sign-in")
    page.get_by_label(re.compile("demo-worker-1")).check()
    page.get_by_role("button", name="登录").click()
    cases = page.locator("#rows a[href^='/cases/']")
    first_page = cases.count()
    assert first_page == 20
    assert "共 25 个个案" in page.content()
    with page.expect_response(lambda r: "after=" in r.url) as more:
        page.get_by_role("link", name="更多个案").click()
    assert more.value.request.headers.get("hx-request") == "true"  # swapped in, not a new page
    page.wait_for_function("document.querySelectorAll('#rows a[href^=\"/cases/\"]').length > 20")
    links = [cases.nth(n).get_attribute("href") for n in range(cases.count())]
    assert len(links) == 25 == len(set(links))
    assert page.get_by_role("link", name="更多个案").count() == 0
    page.screenshot(path=str(artefacts / "12-caseload-second-page.png"), full_page=True)
    accessible(page)
    return {"first_page": first_page, "after_more": links}


def idle_sign_out(browser: Browser, console_url: str, artefacts: Path) -> dict[str, Any]:
    """A social worker at a shared computer, with a sign-in that ends after half a minute
    unused (CASEBOOK_CONSOLE_IDLE_MINUTES=0.5): warned before it ends, stays; typing a long
    record keeps it; then leaves the computer, and the page takes itself off the screen. A
    page left in a background tab, whose timers did not run, goes as soon as it is shown."""
    # A second computer, whose tab goes to the background: its timers are held back (here
    # stopped, on the page's own clock) while the time passes.
    behind = Person(browser, console_url, artefacts)
    behind.page.clock.install()
    behind.sign_in_as("demo-worker-1")
    behind.page.goto(f"{console_url}/clients/new")
    behind.page.clock.pause_at(datetime.now() + timedelta(seconds=1))
    me = Person(browser, console_url, artefacts)
    page = me.page
    me.sign_in_as("demo-worker-1")
    page.goto(f"{console_url}/clients/new")
    warning = page.locator("#idle-warning")
    warning.wait_for(state="visible", timeout=60_000)
    warned = warning.inner_text()
    me.shot("13-idle-warning")
    page.get_by_role("button", name="继续使用").click()
    warning.wait_for(state="hidden")
    # Typing for longer than the sign-in lasts unused: no warning, nothing lost.
    name = page.get_by_label(re.compile("^姓名"))
    for letter in "王小明同学" + "很长" * 15:
        name.press_sequentially(letter)
        page.wait_for_timeout(1000)
    typed = name.input_value()
    warned_while_typing = warning.is_visible()
    # Left alone: the page goes, the sign-in page comes, and the sign-in has ended.
    page.wait_for_url(re.compile("/sign-in$"), timeout=90_000)
    left = page.title()
    gone = "王小明" not in page.content()
    page.goto(f"{console_url}/caseload")
    # The background tab, back on the screen long after its sign-in ended, no timer having run:
    # it goes at once.
    behind.page.clock.set_system_time(datetime.now())
    still_there = behind.page.url.endswith("/clients/new")
    behind.page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    behind.page.wait_for_url(re.compile("/sign-in$"), timeout=5_000)
    return {"warned": warned, "typed": typed, "warned_while_typing": warned_while_typing,
            "left": left, "gone": gone, "after": page.url,
            "background_still_there": still_there, "background_gone": behind.page.title()}


def provider_sign_in_after_idle(browser: Browser, console_url: str,
                                artefacts: Path) -> dict[str, Any]:
    """A social worker signed in at the provider leaves the computer, and the sign-in ends
    unused (CASEBOOK_CONSOLE_IDLE_MINUTES=0.25): nobody is there to be sent to the provider's
    end-session page, so its session is still open. The next person to sign in at the
    provider from this browser is asked for a login, not let in as the last person."""
    page = at_the_provider(browser, console_url, "oidc-worker-1")
    signed_in = page.get_by_role("heading", name="我的个案").is_visible()
    page.wait_for_url(re.compile("/sign-in$"), timeout=90_000)
    follow(page.get_by_role("link", name="使用所在机构的账号登录"))
    page.wait_for_load_state("networkidle")
    return {"signed_in": signed_in, "asked_to_log_in": page.locator("input[name=login]").count(),
            "after": page.url}


JOURNEYS = {"social_worker": social_worker_journey, "provider_sign_in": provider_sign_in,
            "caseload_pages": caseload_pages, "idle_sign_out": idle_sign_out,
            "provider_sign_in_after_idle": provider_sign_in_after_idle}
