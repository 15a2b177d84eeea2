"""Risk escalations (9.6b) for everyone on their ladders, in the console: the case's social
worker takes the medium risk's escalation that waits for them first and records what they did,
but leaves resolving it to those above; the school administrator finds the critical one climbed
past their step; the operator, who serves every school, finds it among every school's overdue
ones and again through the school, takes charge of it (an action without saying which refused
beside the field first) and resolves it, registers another school, then reads each service's
status."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from browser import Person, follow
from playwright.sync_api import Browser, Page


def header_link(page: Page, name: str) -> None:
    follow(page.locator("header nav").get_by_role("link", name=name, exact=True))


def rows(page: Page) -> list[str]:
    return [" ".join(row.split()) for row in
            page.locator("table.escalations tbody tr").all_inner_texts()]


def escalations_journey(browser: Browser, console_url: str, artefacts: Path) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    # The worker: a medium risk waits for them first (24 hours), said on their caseload and in
    # their own header.
    worker = Person(browser, console_url, artefacts).sign_in_as("demo-worker-1")
    page = worker.page
    page.wait_for_url(re.compile("/caseload$"))
    seen["worker_waiting"] = page.locator("#waiting").inner_text()
    follow(page.locator("#waiting a"))
    seen["waiting_for_worker"] = rows(page)
    header_link(page, "风险上报")
    seen["worker_rows"] = rows(page)
    follow(page.get_by_role("link", name=re.compile("^欺凌")))
    seen["worker_escalation"] = page.url.rsplit("/", 1)[-1]
    seen["worker_case_link"] = page.get_by_role("link", name="查看个案").count()
    worker.save("确认接手")
    seen["worker_state"] = page.locator("#state").inner_text()
    worker.field("采取的措施").select_option("contacted_guardian")
    worker.save("保存措施")
    seen["worker_resolve_offered"] = page.get_by_role("button", name="结束风险上报").count()
    seen["resolved_by"] = page.locator("#resolved-by").inner_text()
    worker.shot("esc-01-worker-acted")
    # The case's page says where each risk's escalation stands, linked to it.
    follow(page.get_by_role("link", name="查看个案"))
    seen["case_risks"] = {
        risk.inner_text().split()[0]: [" ".join(text.split()) for text in
                                       risk.locator(".escalated").all_inner_texts()]
        for risk in page.locator(".risks > li").all()}
    seen["case_escalation_links"] = [
        link.get_attribute("href") for link in page.locator(".risks .escalated a").all()]
    worker.shot("esc-01-case-escalations")

    # The school administrator: both of the school's, the critical one past their step.
    admin = Person(browser, console_url, artefacts).sign_in_as("demo-admin")
    page = admin.page
    page.wait_for_url(re.compile("/staff$"))
    seen["admin_waiting"] = page.locator("#waiting").count()
    header_link(page, "风险上报")
    seen["admin_rows"] = rows(page)
    follow(page.get_by_role("link", name=re.compile("^自杀")))
    seen["admin_passed"] = page.locator(".note").inner_text()
    seen["admin_acknowledge_offered"] = page.get_by_role("button", name="确认接手").count()
    seen["admin_case_link"] = page.get_by_role("link", name="查看个案").count()
    admin.shot("esc-02-admin-passed")

    # The operator lands on every school's escalations, the overdue ones a click away; the
    # schools page leads to one school's.
    operator = Person(browser, console_url, artefacts).sign_in_as("demo-operator")
    page = operator.page
    page.wait_for_url(re.compile("/escalations$"))
    seen["every_school_rows"] = rows(page)
    seen["waiting_link"] = page.get_by_role("link", name="等待我确认").inner_text()
    follow(page.get_by_role("link", name="等待我确认"))
    seen["waiting_for_operator"] = rows(page)
    follow(page.get_by_role("link", name="已超时"))
    seen["operator_overdue_url"] = page.url
    seen["operator_overdue_rows"] = rows(page)
    operator.shot("esc-03-operator-overdue")
    header_link(page, "学校")
    seen["schools"] = [" ".join(row.split()) for row in
                       page.locator("table.schools tbody tr").all_inner_texts()]
    operator.shot("esc-04-operator-schools")
    follow(page.get_by_role("link", name="School JD001 的风险上报"))
    seen["operator_school"] = page.locator("#school").inner_text()
    seen["operator_rows"] = rows(page)
    follow(page.get_by_role("link", name=re.compile("^自杀")))
    seen["operator_escalation"] = page.url.rsplit("/", 1)[-1]
    seen["operator_waiting"] = page.locator("ol.steps li.next").inner_text()
    operator.save("确认接手")
    trail_before = page.locator("#trail li").count()
    operator.save("保存措施", 400)
    seen["operator_refused"] = operator.said_beside("采取的措施")
    seen["trail_unchanged"] = page.locator("#trail li").count() == trail_before
    operator.shot("esc-05-operator-refused")
    operator.field("采取的措施").select_option("safety_plan")
    operator.save("保存措施")
    operator.field("处置结果").select_option("handled")
    operator.save("结束风险上报")
    seen["operator_state"] = page.locator("#state").inner_text()
    follow(page.get_by_role("link", name="返回风险上报列表"))
    seen["back_to"] = page.url

    # A school brought into Casebook: refused without its name, beside it, then registered.
    header_link(page, "学校")
    follow(page.get_by_role("link", name="登记新学校"))
    operator.fill({"学校代码": "JD002", "区县代码": "JD"})
    operator.field("服务方式").select_option("visiting")
    operator.save("登记学校", 400)
    seen["school_refused"] = operator.said_beside("学校名称")
    seen["school_code_kept"] = operator.field("学校代码").input_value()
    operator.field("学校名称").fill("嘉定第二中学")
    operator.save("登记学校")
    seen["schools_after"] = [" ".join(row.split()) for row in
                             page.locator("table.schools tbody tr").all_inner_texts()]
    # Its service spaces (6.1), recorded as they now are on its page.
    follow(page.get_by_role("link", name="嘉定第二中学", exact=True))
    seen["spaces_before"] = page.locator("#facilities-heading + p").inner_text()
    page.get_by_label("个案工作室").check()
    operator.save("登记服务场所")
    seen["spaces_after"] = page.locator("ul.facilities").inner_text()
    operator.shot("esc-06-operator-school")

    # Where each service's pipe stands: the two running answer, the two not started do not.
    header_link(page, "服务状态")
    seen["services"] = {
        name: " ".join(page.locator(f"tr[data-service='{name}']").inner_text().split())
        for name in ("cases", "archive", "resources", "supervision")}
    operator.shot("esc-07-operator-services")
    return seen


JOURNEYS = {"escalations": escalations_journey}
