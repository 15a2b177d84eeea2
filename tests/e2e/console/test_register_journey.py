"""The resource register (9.3) in a real browser (journeys_register.py): a provider, its resource
and a donation, a volunteer assigned and their time logged by a social worker; the volunteer
cleared and the provider's feedback issued by the school administrator. What the journey saw,
and what the resources service holds afterwards, read over RPC."""

from __future__ import annotations

import pytest

from services.runtime.cli.demo import SCHOOL, WORKER
from tests.e2e.console.conftest import ARTEFACTS, console, console_address, run_journey
from tests.support.services import AUDITOR, rpc

pytestmark = pytest.mark.e2e

PROVIDER_NAME = "阳光公益基金会"  # as journeys_register.py registers it


def test_the_school_keeps_its_resource_register_in_the_console(amqp_uri, tmp_path):
    worker = {"id": WORKER, "role": "social_worker", "school_id": SCHOOL}
    with console(amqp_uri, tmp_path, console_address(), services=("cases", "resources"),
                 CASEBOOK_CONSOLE_DEV_SIGN_IN="true") as url:
        with rpc(amqp_uri, worker) as proxy:
            group = proxy.cases.form_group({
                "kind": "growth", "purpose": "成长小组：提升自信", "service_codes": ["7.1.2a"],
                "planned_sessions": 6, "formed_on": "2026-10-08",
                "social_worker_id": WORKER})["group_id"]
        seen = run_journey("register", url)
        with rpc(amqp_uri, worker) as proxy:
            provider = proxy.resources.get_provider({"provider_id": seen["provider_id"]})
            (resource,) = proxy.resources.list_resources(
                {"provider_id": seen["provider_id"]})["items"]
            (donation,) = proxy.resources.list_donations(
                {"provider_id": seen["provider_id"]})["items"]
            volunteer = proxy.resources.get_volunteer({"volunteer_id": seen["volunteer_id"]})
            joint = proxy.resources.list_joint_activities({})["items"]
        with rpc(amqp_uri, AUDITOR) as auditor:
            issued = [envelope for envelope in auditor.resources.events_since(0, 500)
                      if envelope["type"] == "ProviderFeedbackIssued"]
    today = seen["today"]

    # The register is in the header of each role that keeps it, after the role's own pages.
    assert seen["nav"][:3] == ["我的个案", "登记服务对象", "资源申请"]
    assert seen["nav"][-2:] == ["资源登记", "志愿者"]
    assert seen["admin_nav"][0] == "人员与任职资格"
    assert seen["admin_nav"][-2:] == ["资源登记", "志愿者"]

    # The provider: refused beside the name and the email, what was typed kept; then as typed,
    # its contact sealed in the service and shown to the school's own team.
    assert seen["refused_name"] == "此项必填。"
    assert seen["refused_email"] == "不是有效的电子邮箱地址。"
    assert seen["refused_kept"] == "周老师"
    assert "社会组织" in seen["sectors_offered"] and "医疗机构" in seen["sectors_offered"]
    assert seen["provider_heading"] == f"{PROVIDER_NAME} 机构 · 社会组织"
    assert "周老师" in seen["provider_record"] and "help@sunshine.example" in seen[
        "provider_record"]
    assert PROVIDER_NAME not in seen["provider_title"]
    assert (provider["provider_kind"], provider["sector"], provider["name"]) == (
        "organisation", "social_organisation", PROVIDER_NAME)
    assert provider["details"]["contact"] == {
        "person": "周老师", "phone": "0571-8888 0000", "email": "help@sunshine.example",
        "address": None}

    # The resource: no capacity refused beside it, then six sessions covering the school.
    assert seen["refused_capacity"] == "至少为 1。"
    assert "周末数学辅导" in seen["resources"] and "尚余 6 / 共 6 次" in seen["resources"]
    assert (resource["kind"], resource["capacity"], resource["unit"]) == ("tutoring", 6, "次")
    assert resource["school_ids"] == [SCHOOL]
    assert resource["eligible_service_codes"] == ["7.1.1a"]

    # The donation: 1,500.50 yuan kept as whole cents, shown in the list and the totals.
    assert "¥1,500.50" in seen["donations"] and "困难学生助学金" in seen["donations"]
    assert (donation["kind"], donation["amount_cents"], donation["currency"]) == (
        "funds", 150050, "CNY")
    assert PROVIDER_NAME in seen["providers"]
    assert seen["totals"] == "资金: ¥1,500.50 1 笔"

    # The joint activity (7.5): refused beside the participants, then held with the provider,
    # who now counts in the school's network, under its sector (7.3a).
    assert seen["refused_participants"] == "此项必填。"
    assert "家长课堂：亲子沟通" in seen["joint"] and PROVIDER_NAME in seen["joint"]
    assert "30" in seen["joint"]
    assert seen["network"].split() == ["社会组织", "1", "1"]  # a row, or a card at phone width
    assert [activity["partner_ids"] for activity in joint] == [[seen["provider_id"]]]

    # The volunteer: not checked, so not with students (9.3b), refused above the form; assigned
    # to the worker's group without, and an hour and a half served.
    assert seen["volunteer_heading"] == "陈志愿 未审查"
    assert seen["may_work_before"].startswith("今日不可以")
    assert seen["worker_offered_check"] == 0  # a supervisor or the administrator checks
    assert seen["activities_offered"][0] == "请选择…"
    assert seen["activities_offered"][1].startswith("成长小组，")
    assert seen["activities_offered"][2].startswith("联合活动：家长课堂：亲子沟通")
    assert "背景审查" in seen["refused_with_students"]
    assert "成长小组" in seen["assignments"] and "与学生接触" not in seen["assignments"]
    assert "90 分钟" in seen["served"]
    assert "1 小时 30 分钟" in seen["volunteers"] and "未审查" in seen["volunteers"]
    ((assignment_id, assignment),) = [(item["assignment_id"], item)
                                      for item in volunteer["assignments"]]
    assert (assignment["activity_kind"], assignment["activity_id"]) == ("group", group)
    assert assignment["with_students"] is False and assignment["starts_on"] == today
    assert volunteer["served"] == [
        {"assignment_id": assignment_id, "served_on": today, "minutes": 90}]
    assert volunteer["details"]["name"] == "陈志愿"
    assert volunteer["skills"] == ["数学辅导", "摄影"]

    # Cleared by the school administrator: an end before the check refused beside it.
    assert seen["refused_expiry"] == "须晚于审查日期。"
    assert seen["cleared_heading"] == "陈志愿 审查有效" and seen["may_work_after"] == "今日可以"
    assert volunteer["check_state"] == "cleared" and volunteer["may_work_with_students"] is True

    # The feedback (9.3c): counts for the period, all resources, issued to the provider.
    assert "全部资源" in seen["feedback"] and "周末数学辅导" in seen["feedback"]
    assert seen["issued"].startswith("已向资源提供方出具此期间的反馈")
    assert seen["issued_on_provider"].endswith("：服务对象 0 人，交付 0 次")  # listed on its page
    (feedback,) = issued
    assert feedback["payload"]["provider_id"] == seen["provider_id"]
    assert feedback["payload"]["period_to"] == today

    for page in ("register-01-provider-refused", "register-02-provider", "register-03-providers",
                 "register-04-volunteer-refused", "register-05-volunteer-cleared",
                 "register-06-feedback-issued", "register-07-joint-activity"):
        assert (ARTEFACTS / f"{page}.png").stat().st_size > 0
