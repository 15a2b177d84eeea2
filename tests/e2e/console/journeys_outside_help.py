"""The social worker's help from outside: a letter to the mailbox that needs casework opens a
case for the student it is about (refused first without the student, beside the picker); the
letter then shows its case. Another case's client referred to an agency of the resource
register, and the agency's acceptance recorded once the resources service has taken the referral
up (refused first for a day before the referral, beside the date); a resource asked for (refused
first for its quantity, beside the field), then found among the worker's own requests in the
state the resources service carried it to; and a resource offered for the case accepted and its
delivery recorded."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from browser import Person, follow
from playwright.sync_api import Browser

# What test_outside_help_journey.py seeds over RPC.
PLANNED = "王小明"  # a case up to its adopted plan
STUDENT = "李小红"  # a registered student, no case yet: the letter is about her
PROVIDER = "区精神卫生中心"  # a provider of the resource register
OFFERED = "物资 · 3 份"  # a request of the planned case, offered as asked
# How long the resources service may take to take a request up from the cases service's event.
CARRIED_ON_SECONDS = 30


def outside_help_journey(browser: Browser, console_url: str, artefacts: Path) -> dict[str, Any]:
    me = Person(browser, console_url, artefacts).sign_in_as("demo-worker-1")
    page, field, save, shot = me.page, me.field, me.save, me.shot
    seen: dict[str, Any] = {}

    # The letter: a classmate writes that 李小红 is bullied. Its case form offers the letter's
    # services; sent without the student, refused beside the picker.
    page.goto(f"{console_url}/letters")
    page.locator("tbody a").first.click()
    seen["letter_id"] = page.url.rsplit("/", 1)[-1]
    page.locator("summary", has_text="根据此信开案").click()
    seen["codes_offered"] = [box.get_attribute("value") for box in page.locator(
        "section.letter-case input[name=service_codes]:checked").all()]
    field("问题与需求的初步资料（8.3.1c）").fill("同学来信说她在班里被孤立、被欺负。")
    save("开案", 400)
    seen["refused_client"] = page.locator("#error-case-client_id").inner_text()
    seen["refused_kept"] = field("问题与需求的初步资料（8.3.1c）").input_value()
    shot("outside-01-letter-case-refused")
    page.get_by_label(re.compile(STUDENT)).check()
    save("开案")
    page.wait_for_url(re.compile(r"/cases/[0-9a-f-]+$"))
    seen["letter_case"] = page.url.rsplit("/", 1)[-1]
    seen["case_heading"] = page.locator("h1").inner_text()
    follow(page.get_by_role("link", name="由社工信箱来信开案"))
    seen["letter_shows"] = page.locator("#opened-case a").get_attribute("href")
    shot("outside-02-letter-opened-case")
    page.goto(f"{console_url}/letters")
    seen["mailbox_case"] = page.get_by_role("link", name="已开案").get_attribute("href")

    # A referral of the planned case's client to an agency of the register (7.1.4b).
    page.goto(f"{console_url}/caseload")
    follow(page.get_by_role("link", name=PLANNED))
    page.wait_for_url(re.compile(r"/cases/[0-9a-f-]+$"))
    seen["planned_case"] = page.url.rsplit("/", 1)[-1]
    follow(page.get_by_role("link", name="转介至机构"))
    field("机构类别").select_option("mental_health")
    field("资源登记中的机构").select_option(label=PROVIDER)
    field("转介原因").select_option("specialist_need")
    field("给转介机构的说明").fill("情绪问题持续，需要专业评估。")
    save("转介")
    seen["referrals"] = page.locator("ul.referrals").inner_text()
    shot("outside-03-referrals")

    # The agency accepted it (7.1.4b), once the resources service has taken it up: a day before
    # the referral is refused beside the date, kept as typed.
    accepted = field("机构接收日期")
    me.reload_until(lambda: accepted.count() > 0, CARRIED_ON_SECONDS)
    today = date.fromisoformat(accepted.input_value())
    accepted.fill((today - timedelta(days=1)).isoformat())
    save("记录机构已接收", 400)
    seen["refused_acceptance"] = me.said_beside("机构接收日期")
    seen["refused_acceptance_kept"] = accepted.input_value()
    shot("outside-06-referral-acceptance-refused")
    accepted.fill(today.isoformat())
    save("记录机构已接收")
    seen["referral_accepted"] = page.locator("ul.referrals").inner_text()
    seen["referral_next"] = page.locator("ul.referrals h3").all_inner_texts()

    # A resource asked for (8.3.4b): none is refused beside the quantity, the rest kept.
    follow(page.get_by_role("link", name="返回个案"))
    follow(page.get_by_role("link", name="已申请的资源"))
    field("资源类别").select_option("tutoring")
    page.get_by_label(re.compile(r"7\.1\.1a ")).check()
    field("数量").fill("0")
    field("需要什么，为什么").fill("数学跟不上，需要每周两次辅导。")
    save("提交申请", 400)
    quantity = field("数量")
    seen["refused_quantity"] = me.said_beside("数量")
    seen["refused_invalid"] = quantity.get_attribute("aria-invalid")
    seen["refused_kept_request"] = field("需要什么，为什么").input_value()
    seen["requests_after_refusal"] = page.locator("section[aria-labelledby=made-heading]"
                                                  ).inner_text()
    shot("outside-04-request-refused")
    quantity.fill("2")
    save("提交申请")
    seen["requests"] = page.locator("ul.resource-requests").inner_text()

    # The resource offered for the case: accepted, then delivered as offered (8.3.4b).
    save("接受所提供的资源")
    seen["offer_accepted"] = page.locator("li", has_text=OFFERED).inner_text()
    save("记录交付")
    seen["delivered"] = page.locator("li", has_text=OFFERED).inner_text()
    shot("outside-07-resource-delivered")
    # How it was used (9.3c): more than delivered is refused beside the units, then recorded.
    field("使用数量").fill("4")
    field("需求满足程度").select_option("need_met")
    save("记录资源使用情况", 400)
    seen["usage_refused"] = me.said_beside("使用数量")
    field("使用数量").fill("3")
    save("记录资源使用情况")
    seen["used"] = page.locator("li", has_text=OFFERED).inner_text()
    shot("outside-08-resource-used")

    # The tutoring asked for, once the resources service has it: a resource of the register
    # that fits is offered for it.
    offer = field("登记的资源")
    me.reload_until(lambda: offer.count() > 0, CARRIED_ON_SECONDS)
    seen["offer_choices"] = offer.locator("option").all_inner_texts()
    offer.select_option(label="周末数学辅导 · 尚余 6 次")
    save("提供资源登记中的资源")
    seen["tutoring_offered"] = page.locator("li", has_text="学业辅导").inner_text()

    # The worker's own requests in every case, once the resources service has taken it up.
    follow(page.get_by_role("link", name="资源申请").first)
    me.reload_until(lambda: "学业辅导" in page.locator("tbody").inner_text(), CARRIED_ON_SECONDS)
    seen["my_requests"] = page.locator("tbody").inner_text()
    seen["nav"] = page.locator("header nav a").all_inner_texts()
    shot("outside-05-my-requests")
    # The tutoring's offer accepted from the list itself, back on the list as it was.
    tutoring = page.locator("tbody tr", has_text="学业辅导")
    seen["list_forms"] = tutoring.locator("form h3").all_inner_texts()
    tutoring.get_by_role("button", name="接受所提供的资源").click()
    page.wait_for_url(re.compile("/resource-requests$"))
    seen["accepted_from_list"] = page.locator("tbody tr", has_text="学业辅导").inner_text()
    me.context.close()
    return seen


JOURNEYS = {"outside_help": outside_help_journey}
