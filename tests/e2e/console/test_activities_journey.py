"""The social worker's mailbox, groups and classes in a real browser (journeys_activities.py):
what the journey saw, and what the cases service holds afterwards, read back over RPC."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.console.i18n import today as schools_today
from services.runtime.cli.demo import SCHOOL, WORKER
from services.runtime.cli.journeys import register_student
from tests.e2e.console.conftest import ARTEFACTS, console, console_address, run_journey
from tests.support.services import rpc

pytestmark = pytest.mark.e2e


def test_a_social_worker_answers_a_letter_runs_a_group_and_records_a_class(amqp_uri, tmp_path):
    worker = {"id": WORKER, "role": "social_worker", "school_id": SCHOOL}
    with console(amqp_uri, tmp_path, console_address(), services=("cases",),
                 CASEBOOK_CONSOLE_DEV_SIGN_IN="true") as url:
        with rpc(amqp_uri, worker) as proxy:
            student = proxy.cases.register_client({
                "client_type": "student", "name": "张小华", "date_of_birth": "2013-09-01",
                "grade": 7,
                "guardians": [{"name": "张伟", "relation": "father", "contact": "139-0000-0001"}],
            })["client_id"]
        seen = run_journey("activities", url)
        with rpc(amqp_uri, worker) as proxy:
            letter = proxy.cases.get_letter({"letter_id": seen["letter_id"]})
            group = proxy.cases.get_group({"group_id": seen["group_id"]})
            held = proxy.cases.get_class({"class_id": seen["class_id"]})

    today = schools_today()  # the console's dates are the schools' (Asia/Shanghai)
    # The caseload stays the worker's landing page; the escalations waiting for them (9.6b)
    # follow its links, then these pages, and the resource register (register.py) theirs.
    assert seen["landed_on"] == "/caseload"
    assert seen["nav"] == ["我的个案", "登记服务对象", "资源申请", "风险上报", "社工信箱",
                           "小组工作", "社工课堂", "资源登记", "志愿者"]

    # The letter: unanswered and overdue with its deadline, an empty reply refused, then answered.
    assert "已逾期 3 天" in seen["unanswered"] and "匿名" in seen["unanswered"]
    assert seen["deadline_shown"]
    assert seen["empty_reply"].endswith("此项必填。")
    assert seen["replied"].startswith(f"已于 {today.year}年{today.month}月{today.day}日 回信")
    assert "收信后 10 天" in seen["replied"]
    assert "已于" in seen["answered"] and "已逾期" not in seen["answered"]
    assert "暂无来信" in seen["unanswered_after"]
    assert letter["anonymous"] is True and letter["grade"] == 8
    assert letter["received_on"] == (today - timedelta(days=10)).isoformat()
    assert letter["content"] == "最近总是睡不着，很担心期中考试。"
    assert letter["answer"]["reply"] == "谢谢你的来信。下周二午休时来社工室聊聊好吗？"
    assert letter["answer"]["days_to_answer"] == 10 and letter["answer"]["answered_by"] == WORKER

    # The group: formed by the signed-in worker, the student a member who attended its session.
    assert "张小华" in seen["members"]
    assert "1 名组员中 1 名出席" in seen["sessions"] and "张小华" in seen["sessions"]
    assert "服务流程中尚有步骤未完成" in seen["evaluated_too_early"]
    assert "小组活动" in seen["evaluated_too_early"]
    assert "已结束" in seen["ended"]
    assert "支持小组" in seen["groups"] and "1 / 6" in seen["groups"] and "已结束" in seen["groups"]
    assert group["social_worker_id"] == WORKER and group["kind"] == "support"
    assert group["purpose"] == "帮助新生适应初中生活" and group["planned_sessions"] == 6
    assert [member["client_id"] for member in group["members"]] == [student]
    assert len(group["sessions"]) == 1
    assert group["sessions"][0]["attended"] == [student]
    assert group["sessions"][0]["notes"] == "破冰游戏，组员互相介绍。"
    assert group["evaluation"]["goal_attainment"] == [1, 2]
    assert group["status"] == "closed" and group["closed_on"] == today.isoformat()

    # The class.
    assert "珍爱生命" in seen["class"] and "生命教育" in seen["classes"]
    assert held["theme"] == "life_education" and held["topic"] == "珍爱生命"
    assert held["attendance"] == 42 and held["grade"] == 7
    assert held["service_codes"] == ["7.1.3a"] and held["held_on"] == today.isoformat()
    assert seen["in_english"][0].startswith("Classes")
    assert "Life education" in seen["in_english"][1]

    for name in ("activities-02-mailbox-unanswered", "activities-03-reply-refused",
                 "activities-05-group-session", "activities-06-classes"):
        assert (ARTEFACTS / f"{name}.png").stat().st_size > 0


def test_a_form_offers_the_workers_clients_a_page_at_a_time(amqp_uri, tmp_path):
    worker = {"id": WORKER, "role": "social_worker", "school_id": SCHOOL}
    with console(amqp_uri, tmp_path, console_address(), services=("cases",),
                 CASEBOOK_CONSOLE_DEV_SIGN_IN="true") as url:
        with rpc(amqp_uri, worker) as proxy:
            registered = {register_student(proxy, f"picked-{number}") for number in range(25)}
        seen = run_journey("client_choices", url)
    assert seen["first_page"] == 20
    assert seen["swapped_in"] and seen["more_left"] == 0
    assert seen["fallback"].startswith("/letters/new?clients_after=")
    assert len(seen["after_more"]) == 25 and set(seen["after_more"]) == registered
