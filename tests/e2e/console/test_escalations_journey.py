"""Everyone on a risk escalation's ladder takes their part in a real browser
(journeys_escalations.py), not only the supervisor: a medium bullying risk waits for its
social worker first (services/runtime/risk_policy.py), who acknowledges it and records an
action; a critical suicide risk left unacknowledged four hours climbs past the supervisor and
the school administrator to the operator, who finds it among every school's overdue escalations
and in the school's list, takes charge of it and resolves it. The case's page says where each of
its risks' escalations stands. The operator's status page shows the two services started and
says the two others do not answer; the operator also registers a school and records its service
spaces. What the browser did is read back over RPC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.runtime.cli.demo import SCHOOL, SUPERVISOR, WORKER
from services.runtime.cli.journeys import open_case, register_student, staff_school
from tests.e2e.console.conftest import ARTEFACTS, console, console_address, run_journey
from tests.support.services import rpc
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

ADMIN = {"id": "demo-admin", "role": "school_admin", "school_id": SCHOOL}
SOCIAL_WORKER = {"id": WORKER, "role": "social_worker", "school_id": SCHOOL}
OPERATOR = {"id": "demo-operator", "role": "operator"}


def escalations(amqp_uri: str, **query: str) -> list[dict]:
    with rpc(amqp_uri, OPERATOR) as operator:
        items: list[dict] = operator.supervision.list_escalations(
            {"school_id": SCHOOL, **query})["items"]
        return items


def test_the_worker_the_admin_and_the_operator_each_take_their_step_of_a_ladder(amqp_uri,
                                                                                tmp_path):
    clock_file = tmp_path / "clock"
    clock_file.write_text("")
    with console(amqp_uri, tmp_path, console_address(), services=("cases", "supervision"),
                 CASEBOOK_CONSOLE_DEV_SIGN_IN="true", CASEBOOK_CLOCK_FILE=str(clock_file),
                 CASEBOOK_SUPERVISION_TIMER_SECONDS="1") as url:
        with rpc(amqp_uri, ADMIN) as admin:
            staff_school(admin, SCHOOL, WORKER, SUPERVISOR)
        now = datetime.now(UTC)
        with rpc(amqp_uri, SOCIAL_WORKER) as worker:
            case_id = open_case(worker, register_student(worker, "ladder"), WORKER, ["7.1.3a"])
            for risk_type, level in (("bullying", "medium"), ("suicide", "critical")):
                worker.cases.raise_risk({"case_id": case_id, "risk_type": risk_type,
                                         "level": level, "raised_on": now.date().isoformat()})
        wait_for(lambda: len(escalations(amqp_uri)) == 2, timeout=30, what="two escalations")
        # Four hours on: the critical one waited an hour for the supervisor, an hour for the
        # school administrator, and two for the operator, and is overdue at the top of its
        # ladder (9.6b); the medium one still has most of its worker's day.
        clock_file.write_text((now + timedelta(hours=4, minutes=1)).isoformat())
        wait_for(lambda: [item["role"] for item in escalations(amqp_uri)] == [
            "social_worker", "operator"], timeout=30, what="the climb to the operator")

        seen = run_journey("escalations", url)

        with rpc(amqp_uri, OPERATOR) as operator:
            trails = {key: operator.supervision.escalation_trail(
                {"escalation_id": seen[key]})["trail"]
                for key in ("worker_escalation", "operator_escalation")}
            records = {key: operator.supervision.get_escalation({"escalation_id": seen[key]})
                       for key in ("worker_escalation", "operator_escalation")}
            school = operator.supervision.get_school({"school_id": "JD002"})

    # The worker: their case's two escalations; the medium one theirs to take, not to resolve.
    assert len(seen["worker_rows"]) == 2
    assert seen["worker_waiting"] == "有 1 项风险上报等待您确认接手（9.6b）。"
    assert len(seen["waiting_for_worker"]) == 1 and "欺凌" in seen["waiting_for_worker"][0]
    assert any("欺凌" in row and "第 1 级：社会工作者" in row for row in seen["worker_rows"])
    assert seen["worker_case_link"] == 1
    assert seen["worker_state"] == "已确认"
    assert seen["worker_resolve_offered"] == 0
    assert seen["resolved_by"] == "处置完毕后，由督导、学校管理员或运维人员结束此次风险上报。"
    worker_trail = trails["worker_escalation"]
    assert [entry["event"] for entry in worker_trail] == ["Opened", "Acknowledged",
                                                          "ActionTaken"]
    assert worker_trail[1]["actor"] == {"id": WORKER, "role": "social_worker"}
    assert worker_trail[1]["details"]["in_time"] is True
    assert worker_trail[2]["details"]["action"] == "contacted_guardian"
    assert records["worker_escalation"]["status"] == "acknowledged"
    # The case's risks each say their escalation: the one taken in charge, the one overdue at
    # the top of its ladder.
    [taken], [late] = seen["case_risks"]["欺凌"], seen["case_risks"]["自杀"]
    assert taken.startswith("风险上报，开启于") and taken.endswith("· 已确认")
    assert "第 3 级：运维人员" in late and late.endswith("已超时")
    assert len(seen["case_escalation_links"]) == 2
    assert f"/escalations/{seen['worker_escalation']}" in seen["case_escalation_links"]

    # The school administrator: the school's two, the critical one past their step.
    assert len(seen["admin_rows"]) == 2
    assert seen["admin_waiting"] == 0  # nothing waits at the administrator's step now
    assert seen["admin_passed"] == "已超过您所在的上报层级，现等待运维人员确认。"
    assert seen["admin_acknowledge_offered"] == 0
    assert seen["admin_case_link"] == 0  # the live case's content is not the admin's to read

    # The operator: every school's, the overdue one among them naming its school; the school
    # among the schools, and its own list.
    assert len(seen["every_school_rows"]) == 2
    assert seen["waiting_link"] == "等待我确认 1"
    assert len(seen["waiting_for_operator"]) == 1 and "自杀" in seen["waiting_for_operator"][0]
    assert all("JD001" in row for row in seen["every_school_rows"])
    assert seen["operator_overdue_url"].endswith("/escalations?overdue=true")
    assert len(seen["operator_overdue_rows"]) == 1 and "自杀" in seen["operator_overdue_rows"][0]
    assert len(seen["schools"]) == 1 and "School JD001" in seen["schools"][0]
    # The worker took the medium one: the critical one waits, past its time.
    assert "1 项待确认" in seen["schools"][0] and "1 项已超时" in seen["schools"][0]
    assert seen["operator_school"].startswith("学校 JD001")
    assert len(seen["operator_rows"]) == 2
    assert seen["operator_waiting"].startswith("运维人员")
    assert seen["operator_refused"] == "此项必填。" and seen["trail_unchanged"]
    assert seen["operator_state"] == "已解除"
    assert seen["back_to"].endswith("/escalations?school=JD001")
    operator_trail = trails["operator_escalation"]
    assert [entry["event"] for entry in operator_trail] == [
        "Opened", "Climbed", "Climbed", "Acknowledged", "ActionTaken", "Resolved"]
    acknowledged = operator_trail[3]
    assert acknowledged["actor"] == {"id": "demo-operator", "role": "operator"}
    assert acknowledged["details"]["step"] == 3 and acknowledged["details"]["in_time"] is False
    assert operator_trail[4]["details"]["action"] == "safety_plan"
    assert records["operator_escalation"]["resolution"]["resolution"] == "handled"

    # A school the operator registered, refused first without its name (nothing recorded).
    assert seen["school_refused"] == "此项必填。" and seen["school_code_kept"] == "JD002"
    assert len(seen["schools_after"]) == 2
    assert seen["spaces_before"] == "尚未登记服务场所：合规报告将显示此项缺失。"
    assert seen["spaces_after"] == "个案工作室"
    assert school["name"] == "嘉定第二中学" and school["service_mode"] == "visiting"
    assert school["facility_kinds"] == ["case_room"] and school["has_service_space"]

    # The services' status: the started ones with their positions, the others not answering.
    # Each subscribes to the other (who supervises whom; the risks raised).
    assert "supervision 已读到第" in seen["services"]["cases"]
    assert "cases 已读到第" in seen["services"]["supervision"]
    for service in ("archive", "resources"):
        assert "无响应" in seen["services"][service], seen["services"]
    for page in ("esc-01-worker-acted", "esc-01-case-escalations", "esc-02-admin-passed",
                 "esc-03-operator-overdue", "esc-04-operator-schools", "esc-05-operator-refused",
                 "esc-06-operator-school", "esc-07-operator-services"):
        assert (ARTEFACTS / f"{page}.png").stat().st_size > 0
