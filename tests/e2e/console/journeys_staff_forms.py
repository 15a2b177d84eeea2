"""The staff forms' journey: the school admin registers a supervisor and a social worker (each
refused once beside a field on the way), records the worker's pre-job training (9.1a) and assigns
their supervisor (6.2.2); records a complaint about them (refused once beside a field), handles
and answers it (9.2c, 10.1.2), and records a satisfaction survey (10.2.1) and a service
evaluation (10.2.3), each refused once first; the supervisor then records a supervision session
with them (6.2.2.2) and a training (9.1b). And a worker's later changes: a new qualification,
serving this school, no longer serving it, and leaving the service."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from browser import Person, follow
from playwright.sync_api import Browser

from services.runtime.clock import local_date

NEW_WORKER = "demo-worker-7"
MOVING_WORKER = "demo-worker-8"
LEAVING_WORKER = "demo-worker-1"


def staff_forms_journey(browser: Browser, console_url: str, artefacts: Path) -> dict[str, Any]:
    # The services judge "not in the future" by the schools' date: the dates typed are today's.
    server_today = local_date(datetime.now(UTC))
    admin = Person(browser, console_url, artefacts).sign_in_as("demo-admin")
    page, field, save, shot = admin.page, admin.field, admin.save, admin.shot

    page.wait_for_url(re.compile("/staff$"))
    # A supervisor with an assistant's certificate does not meet 6.2.2.1: refused beside it.
    follow(page.get_by_role("link", name="登记督导"))
    admin.fill({"工号": "demo-supervisor", "从业年限": "6"})
    field("社会工作者职业资格").select_option("assistant")
    save("登记", 400)
    supervisor_refused = page.locator("#error-certificate_level").inner_text()
    field("社会工作者职业资格").select_option("intermediate")
    save("登记")
    page.wait_for_url(re.compile("/staff$"))
    follow(page.get_by_role("link", name="登记社会工作者"))
    admin.fill({"工号": NEW_WORKER, "主持过的学校或青少年项目数": "2",
                "登记日期": (server_today + timedelta(days=2)).isoformat()})
    field("社会工作者职业资格").select_option("assistant")
    field("最高学历").select_option("bachelor")
    page.get_by_label("所学专业为社会工作").check()
    page.get_by_label("认同社会工作专业价值观和伦理（6.2.1.2）").check()
    # Registered the day after tomorrow: refused beside the date, and nobody registered.
    save("登记", 400)
    refused = page.locator("#error-registered_on").inner_text()
    refused_invalid = field("登记日期").get_attribute("aria-invalid")
    kept = field("工号").input_value()
    shot("staff-01-register-refused")
    field("登记日期").fill("")
    save("登记")
    page.wait_for_url(re.compile(f"/staff/{NEW_WORKER}$"))
    before_training = page.locator("#eligible").inner_text()

    # Pre-job training (9.1a), then the supervisor (6.2.2).
    field("培训类别").select_option("pre_job")
    admin.fill({"分钟数": "2400", "完成日期": server_today.isoformat()})
    page.get_by_label("社会工作方法").check()
    save("保存培训记录")
    trainings = page.locator("table.trainings tbody tr").all_inner_texts()
    # Chosen among the school's supervisors, not typed.
    choices = field("督导").locator("option").all_inner_texts()
    field("督导").select_option("demo-supervisor")
    save("指派")
    supervisor = page.locator("#supervisor").inner_text()
    history = page.locator("#history tbody tr").all_inner_texts()
    eligible = page.locator("#eligible").inner_text()
    shot("staff-02-worker")
    follow(page.get_by_role("link", name="返回人员列表"))
    staff = page.locator("table.staff tbody tr").all_inner_texts()
    shot("staff-03-staff")

    # A complaint taken by phone (9.2c): anonymous with a contact is refused beside the
    # contact; named, it is recorded, acknowledged in a handling step and answered (10.1.2).
    follow(page.get_by_role("link", name="投诉与意见"))
    field("来源渠道").select_option("phone")
    page.get_by_label("匿名").check()
    admin.fill({"内容": "家长反映辅导时间安排不便。", "联系方式": "13800000000",
                "所涉社会工作者": NEW_WORKER})
    save("登记", 400)
    complaint_refused = page.locator("#error-receive-contact").inner_text()
    complaints_after_refusal = page.locator("table.complaints tbody tr a").count()
    shot("staff-05-complaint-refused")
    page.get_by_label("匿名").uncheck()
    save("登记")
    complaints = page.locator("table.complaints tbody tr").all_inner_texts()
    page.locator("table.complaints tbody tr a").first.click()
    field("处理步骤").select_option("acknowledged")
    field("备注").fill("已电话联系家长。")
    save("保存处理步骤")
    field("结果").select_option("partly_upheld")
    field("答复").fill("调整为每周三下午辅导。")
    save("答复")
    answered = page.locator("#answered").inner_text()
    steps = page.locator("#steps li").all_inner_texts()
    shot("staff-06-complaint-answered")

    # A satisfaction survey of parents (10.2.1): more satisfied than asked is refused beside
    # the count; then recorded, its mean score typed as read.
    follow(page.get_by_role("link", name="满意度调查"))
    field("调查对象").select_option("parent")
    field("评估方").select_option("third_party")
    admin.fill({"调查人数": "10", "满意人数": "12", "平均分": "4.25",
                "起始日期": "2026-09-01", "截止日期": server_today.isoformat()})
    save("保存调查结果", 400)
    survey_refused = page.locator("#error-survey-satisfied_count").inner_text()
    surveys_after_refusal = page.locator("#summary dd").first.inner_text()
    field("满意人数").fill("9")
    save("保存调查结果")
    summary = page.locator("#summary dd").all_inner_texts()
    survey_rows = page.locator("#surveys tbody tr").all_inner_texts()

    # A peer evaluation of the worker (10.2.3) that does not say which worker: refused beside
    # the field; then recorded.
    evaluation = page.locator("form[action='/surveys/evaluations']")
    evaluation.get_by_label(re.compile("^评估对象")).select_option("social_worker")
    evaluation.get_by_label(re.compile("^评估方式")).select_option("peer")
    evaluation.get_by_label(re.compile("^评级")).select_option("good")
    save("保存评估", 400)
    evaluation_refused = page.locator("#error-evaluation-social_worker_id").inner_text()
    evaluation.get_by_label(re.compile("^所涉社会工作者")).fill(NEW_WORKER)
    save("保存评估")
    evaluations = page.locator("table.evaluations tbody tr").all_inner_texts()
    shot("staff-07-survey")
    admin.context.close()

    # The supervisor records a session with the new supervisee, and a training of theirs.
    me = Person(browser, console_url, artefacts).sign_in_as("demo-supervisor")
    page, field, save, shot = me.page, me.field, me.save, me.shot
    follow(page.get_by_role("link", name="督导与培训"))
    session_form = page.locator("form[action='/supervision/sessions']")
    session_form.get_by_label(NEW_WORKER, exact=True).check()
    session_form.get_by_label("教育督导").check()
    session_form.get_by_label("支持督导").check()
    me.fill({"督导日期": server_today.isoformat(), "时长（分钟）": "90"})
    save("保存督导记录")
    sessions = page.locator("table.sessions tbody tr").all_inner_texts()
    field("社会工作者").select_option(NEW_WORKER)
    me.fill({"分钟数": "120", "完成日期": server_today.isoformat()})
    page.get_by_label("专业伦理").check()
    save("保存培训记录")
    training = page.locator("table.training tbody tr").all_inner_texts()
    shot("staff-04-supervision")
    me.context.close()
    return {"supervisor_refused": supervisor_refused, "refused": refused,
            "refused_invalid": refused_invalid, "kept": kept,
            "before_training": before_training, "trainings": trainings,
            "supervisor": supervisor, "choices": choices, "eligible": eligible, "staff": staff,
            "history": history,
            "sessions": sessions, "training": training, "server_today": server_today.isoformat(),
            "complaint_refused": complaint_refused,
            "complaints_after_refusal": complaints_after_refusal, "complaints": complaints,
            "answered": answered, "steps": steps, "survey_refused": survey_refused,
            "surveys_after_refusal": surveys_after_refusal, "summary": summary,
            "survey_rows": survey_rows,
            "evaluation_refused": evaluation_refused, "evaluations": evaluations}


def staff_changes_journey(browser: Browser, console_url: str,
                          artefacts: Path) -> dict[str, Any]:
    """A worker's later changes: one registered at another school comes to serve this one (a
    staff id missing refused beside it first), records a new qualification (6.2.1.2) and
    stops serving this school; another leaves the service, a date before their registration
    refused beside it first, and may take no more cases."""
    admin = Person(browser, console_url, artefacts).sign_in_as("demo-admin")
    page, field, save, shot = admin.page, admin.field, admin.save, admin.shot
    page.wait_for_url(re.compile("/staff$"))
    save("指派到本校", 400)
    seen: dict[str, Any] = {"assign_refused": page.locator(
        "#error-assign-social_worker_id").inner_text()}
    shot("staff-08-assign-refused")
    field("工号").fill(MOVING_WORKER)
    save("指派到本校")
    page.wait_for_url(re.compile(f"/staff/{MOVING_WORKER}$"))
    seen["schools"] = page.locator("#schools").inner_text()
    field("社会工作者职业资格").select_option("intermediate")
    save("保存资格记录")
    seen["certificate"] = page.locator("#certificate").inner_text()
    shot("staff-09-moving-worker")
    save("终止在本校服务")
    page.wait_for_url(re.compile("/staff$"))
    seen["staff_after"] = page.locator("table.staff tbody").inner_text()

    follow(page.get_by_role("link", name=LEAVING_WORKER))
    field("离职原因").select_option("left_service")
    field("离职日期").fill("2000-01-01")
    save("保存离职记录", 400)
    seen["leaving_refused"] = page.locator("#error-leaving-left_on").inner_text()
    seen["leaving_invalid"] = field("离职日期").get_attribute("aria-invalid")
    seen["still_active"] = page.locator("#active").inner_text()
    shot("staff-10-leaving-refused")
    field("离职日期").fill("")
    save("保存离职记录")
    seen["left"] = {"active": page.locator("#active").inner_text(),
                    "eligible": page.locator("#eligible").inner_text(),
                    "forms": page.get_by_role("button", name="保存培训记录").count()}
    shot("staff-11-left")
    admin.context.close()
    return seen


JOURNEYS = {"staff_forms": staff_forms_journey, "staff_changes": staff_changes_journey}
