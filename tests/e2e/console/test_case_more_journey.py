"""More of the social worker's case page in a real browser (journeys_case_more.py): a risk's
level changed, a disclosure under 4.1 refused once then recorded, an intake declined with a
referral; what the journey saw, and what the cases service holds afterwards, read over RPC."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.console.i18n import today as schools_today
from services.runtime.cli.demo import SCHOOL, WORKER
from services.runtime.cli.journeys import PLAN, close_case, intervention, open_case, ready_case
from tests.e2e.console.conftest import ARTEFACTS, console, console_address, run_journey
from tests.support.services import rpc

pytestmark = pytest.mark.e2e


def test_a_social_worker_changes_a_risk_discloses_and_declines_an_intake(amqp_uri, tmp_path):
    worker = {"id": WORKER, "role": "social_worker", "school_id": SCHOOL}
    with console(amqp_uri, tmp_path, console_address(), services=("cases",),
                 CASEBOOK_CONSOLE_DEV_SIGN_IN="true") as url:
        with rpc(amqp_uri, worker) as proxy:
            planned, adopted_on = ready_case(proxy, "case-more", worker_id=WORKER)
            risk = proxy.cases.raise_risk({
                "case_id": planned, "risk_type": "self_harm", "level": "medium",
                "raised_on": (adopted_on + timedelta(days=1)).isoformat(),
            })["risk_id"]
            new = proxy.cases.register_client({
                "client_type": "student", "name": "赵小雨", "date_of_birth": "2012-04-01",
                "grade": 8,
                "guardians": [{"name": "赵刚", "relation": "father", "contact": "139-0000-0002"}],
            })["client_id"]
            at_intake = open_case(proxy, new, WORKER, ["7.1.3a"])
            closed, day = ready_case(proxy, "case-more-closed", worker_id=WORKER)
            proxy.cases.log_intervention(intervention(closed, day + timedelta(days=1)))
            close_case(proxy, closed, day + timedelta(days=7))
            proxy.cases.schedule_follow_up({"case_id": closed, "due_on": "2026-10-01"})
        seen = run_journey("case_more", url)
        with rpc(amqp_uri, worker) as proxy:
            record = proxy.cases.get_case({"case_id": planned})
            client = proxy.cases.get_client({"client_id": record["client_id"]})
            declined = proxy.cases.get_case({"case_id": at_intake})
            # The closed case's record needed an archive grant (9.4d); its timeline does not.
            after_closing = [step["details"] for step in proxy.cases.get_case_timeline(
                {"case_id": closed})["steps"] if step["event"].startswith("FollowUp")]
            reopened = proxy.cases.get_case({"case_id": closed})  # live again: no grant

    today = schools_today()
    assert seen["planned_case"] == planned and seen["declined_case"] == at_intake

    # The level: medium to high, which makes self-harm a threat to life (the risk policy).
    assert seen["disclosable_before"] == 0
    assert "等级 高" in seen["risk_after_change"]
    (changed,) = record["risks"]
    assert changed["risk_id"] == risk and changed["level"] == "high"
    assert changed["history"][-1] == {"level": "high", "on": today.isoformat()}
    assert changed["reached_life_safety"] is True

    # The disclosure: refused without its reason, beside the field, the rest kept, nothing saved.
    assert seen["refused_why"] == "此项必填。"
    assert seen["refused_invalid"] == "true"
    assert seen["refused_kept"] == ["王芳", "2026-11-30T18:30"]
    assert seen["disclosures_after_refusal"] == "暂无披露记录。"
    assert "监护人 王芳" in seen["disclosures"] and "理由：生命安全优先于保密（4.1）。" in seen[
        "disclosures"]
    (disclosure,) = record["disclosures"]
    assert disclosure["risk_id"] == risk and disclosure["recipient_kinds"] == ["guardian"]
    assert disclosure["disclosed_at"] == "2026-11-30T18:30:00+08:00"  # typed on Beijing time
    assert disclosure["details"] == {
        "recipients": [{"kind": "guardian", "who": "王芳"}],
        "what": "孩子有自伤风险，需要今晚陪伴。", "why": "生命安全优先于保密（4.1）。"}

    # The plan: a second version with a third goal, the first kept; the guardian's consent
    # withdrawn, the client's standing.
    assert seen["plan_shown"] == "\n".join(goal["goal"] for goal in PLAN["goals"])
    assert "服务计划第 2 版" in seen["plan_version"]
    first, second = record["plans"]
    assert [goal["goal"] for goal in first["parts"]["goals"]] == [
        goal["goal"] for goal in PLAN["goals"]]
    assert [goal["goal"] for goal in second["parts"]["goals"]] == [
        *(goal["goal"] for goal in PLAN["goals"]), "每周写一次情绪日记。"]
    assert second["parts"]["methods"] == PLAN["methods"]
    assert second["reason"] == "风险升高，加入情绪记录。"
    consents = {consent["party"]: consent for consent in record["consents"]}
    assert consents["guardian"]["withdrawn_on"] == today.isoformat()
    assert consents["guardian"]["withdrawal_reason"] == "家长要求暂停服务。"
    assert consents["client"].get("withdrawn_on") is None
    assert seen["consents_after"] == "知情同意：服务对象"
    # The ecosystem (4.6): refused without a name, then the teacher beside the guardian.
    assert seen["party_kinds"] == ["请选择…", "家庭成员", "教师", "同伴", "机构", "其他"]
    assert seen["refused_party"] == "此项必填。"
    assert "教师：李老师 (班主任)" in seen["ecosystem"] and "监护人：" in seen["ecosystem"]
    assert client["related_parties"][-1] == {
        "kind": "teacher", "name": "李老师", "relation": "班主任", "contact": None}

    # The other case: declined beyond the service's scope, referred to mental health services.
    assert "超出服务范围" in seen["declined"] and "已转介至精神卫生机构" in seen["declined"]
    assert seen["steps_left"] == 1
    assert declined["status"] == "declined"
    assert declined["declined"]["reason_code"] == "beyond_scope"
    assert declined["declined"]["explanation"] == "需要专业的精神科评估。"
    (referral,) = declined["referrals"]
    assert referral["agency_kind"] == "mental_health" and referral["reason_code"] == (
        "intake_declined")
    assert referral["note"] == "已与家长沟通，同意转介。"
    assert "风险等级已上调（9.6b）" in seen["timeline"]
    assert "已记录保密例外披露（4.1）" in seen["timeline"]
    # The follow-up: listed past its date, another scheduled, then this one recorded.
    assert closed[:8] in seen["follow_ups"] and "2026年10月1日" in seen["follow_ups"]
    scheduled, following, done = after_closing
    assert seen["follow_up_href"] == f"/cases/{closed}/follow-ups/{scheduled['follow_up_id']}"
    assert following["due_on"] == seen["next_due_on"]
    assert done["follow_up_id"] == scheduled["follow_up_id"]
    assert done["outcome"] == "needs_support" and done["done_on"] == today.isoformat()
    assert seen["follow_ups_after"] == "暂无逾期回访。"
    due_on = date.fromisoformat(seen["next_due_on"])
    assert seen["coming"][0] == "共 1 次回访"
    assert seen["coming"][1].splitlines() == [
        f"个案 {closed[:8]} 的回访", f"{due_on.year}年{due_on.month}月{due_on.day}日 · 还有 14 天"]
    assert seen["coming_in_a_week"] == "暂无即将到期的回访。"
    assert seen["reopened"][0] == closed and reopened["status"] == "active"
    assert reopened["reopenings"] == [{"reopened_on": today.isoformat(),
                                       "reason": "回访发现需要继续支持。"}]
    for page in ("case-more-02-disclosure-refused", "case-more-04-declined",
                 "case-more-05-follow-ups", "case-more-05b-coming", "case-more-06-reopened"):
        assert (ARTEFACTS / f"{page}.png").stat().st_size > 0
