"""A supervisor takes charge of a risk escalation in a real browser (journeys_supervisor.py):
a social worker of theirs rated a self-harm risk high, which threatens life (4.1) and so
escalates to the supervisor first (services/runtime/risk_policy.py); another escalation, left
unacknowledged for two days, is marked overdue. Then an improvement action for a key control
point found unmet (9.5c, 10.3). What the browser did is read back over RPC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.runtime.cli.demo import SCHOOL, WORKER
from services.runtime.cli.demo import SUPERVISOR as DEMO_SUPERVISOR
from services.runtime.cli.journeys import open_case, register_student, staff_school
from tests.e2e.console.conftest import ARTEFACTS, console, console_address, run_journey
from tests.support.services import rpc
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

ADMIN = {"id": "demo-admin", "role": "school_admin", "school_id": SCHOOL}
SOCIAL_WORKER = {"id": WORKER, "role": "social_worker", "school_id": SCHOOL}
SUPERVISOR = {"id": DEMO_SUPERVISOR, "role": "supervisor", "school_id": SCHOOL}
OTHER_WORKER = "demo-worker-2"  # the supervisor's other supervisee, a case is handed to


def staff_with_supervisor(amqp_uri: str) -> None:
    """School JD001 with its worker and another, and demo-supervisor as the supervisor of both
    (6.2.2). The other first: the cases service learns the assignments in the order made, so
    once it knows the worker's, it knows the other's."""
    with rpc(amqp_uri, ADMIN) as admin:
        staff_school(admin, SCHOOL, OTHER_WORKER, SUPERVISOR["id"])
        staff_school(admin, SCHOOL, WORKER, SUPERVISOR["id"])


def raise_risk(amqp_uri: str, case_id: str, risk_type: str, on: datetime) -> None:
    with rpc(amqp_uri, SOCIAL_WORKER) as worker:
        worker.cases.raise_risk({"case_id": case_id, "risk_type": risk_type, "level": "high",
                                 "raised_on": on.date().isoformat()})


def escalations(amqp_uri: str) -> int:
    with rpc(amqp_uri, SUPERVISOR) as supervisor:
        total: int = supervisor.supervision.list_escalations({"school_id": SCHOOL})["total"]
        return total


def test_a_supervisor_acknowledges_an_escalation_raised_by_a_high_risk(amqp_uri, tmp_path):
    # Every service and the console read the same settable clock (services/runtime/clock.py).
    clock_file = tmp_path / "clock"
    clock_file.write_text("")
    with console(amqp_uri, tmp_path, console_address(), services=("cases", "supervision"),
                 CASEBOOK_CONSOLE_DEV_SIGN_IN="true", CASEBOOK_CLOCK_FILE=str(clock_file),
                 CASEBOOK_SUPERVISION_TIMER_SECONDS="1") as url:
        staff_with_supervisor(amqp_uri)
        with rpc(amqp_uri, SUPERVISOR) as supervisor:
            supervisor.supervision.record_supervision_session({
                "supervisor_id": SUPERVISOR["id"], "social_worker_ids": [WORKER],
                "kinds": ["educational", "supportive"],
                "held_on": datetime.now(UTC).date().isoformat(), "duration_minutes": 60})
        with rpc(amqp_uri, SOCIAL_WORKER) as worker:
            case_id = open_case(worker, register_student(worker, "escalated"), WORKER,
                                ["7.1.3a"])
        now = datetime.now(UTC)
        # Bullying rated high waits 4 hours for the supervisor; two days on, nobody has.
        raise_risk(amqp_uri, case_id, "bullying", now)
        wait_for(lambda: escalations(amqp_uri) == 1, timeout=30, what="the first escalation")
        later = now + timedelta(days=2)
        clock_file.write_text(later.isoformat())
        raise_risk(amqp_uri, case_id, "self_harm", later)
        wait_for(lambda: escalations(amqp_uri) == 2, timeout=30, what="the second escalation")
        with rpc(amqp_uri, SUPERVISOR) as supervisor:
            # The cases service learns who supervises the worker from supervision's events.
            wait_for(lambda: supervisor.cases.list_caseload({})["total"] == 1, timeout=30,
                     what="cases to learn the supervisor")
            # The case opened on 1 September was never assessed: its timer finds it (9.5c).
            wait_for(lambda: supervisor.supervision.list_findings(
                {"school_id": SCHOOL})["total"] >= 1, timeout=30, what="a finding")

        seen = run_journey("supervisor", url)

        with rpc(amqp_uri, SUPERVISOR) as supervisor:
            trail = supervisor.supervision.escalation_trail(
                {"escalation_id": seen["escalation_id"]})["trail"]
            record = supervisor.supervision.get_escalation(
                {"escalation_id": seen["escalation_id"]})
            actions = supervisor.supervision.list_improvement_actions(
                {"school_id": SCHOOL})["items"]
            handed = supervisor.cases.get_case({"case_id": seen["reassign_case"]})

    assert seen["listed"] == 2
    assert len(seen["late_rows"]) == 1 and "欺凌" in seen["late_rows"][0]
    assert "已超时" in seen["late_rows"][0]
    assert seen["overdue_only"] == 1
    # Climbed to its top step (the timer runs every second): past the supervisor's hands.
    assert seen["passed"] == "已超过您所在的上报层级，现等待运维人员确认。"
    assert seen["acknowledge_offered"] == 0
    assert seen["waiting"] == "待确认" and seen["life_safety"] >= 1
    assert seen["acknowledged"] == "已确认"
    assert seen["refused"].endswith("此项必填。")
    assert seen["trail_after_refusal"] == seen["trail_before"]  # the refusal changed nothing
    assert seen["resolved"] == "已解除"
    assert any("已确认" in line and "督导" in line for line in seen["trail"])
    assert any("已联系监护人" in line for line in seen["trail"])
    assert len(seen["cases"]) == 1 and "王小明" in seen["cases"][0]

    # Read back over RPC: the acknowledgement is the supervisor's, at the first step, in time.
    events = [entry["event"] for entry in trail]
    assert events == ["Opened", "Acknowledged", "ActionTaken", "Resolved"]
    acknowledged = trail[1]
    assert acknowledged["actor"] == {"id": "demo-supervisor", "role": "supervisor"}
    assert acknowledged["details"]["role"] == "supervisor"
    assert acknowledged["details"]["step"] == 1 and acknowledged["details"]["in_time"] is True
    assert trail[2]["details"]["action"] == "contacted_guardian"
    assert record["life_safety"] is True and record["risk_type"] == "self_harm"
    assert record["resolution"]["resolution"] == "handled"
    # The improvement action, as the browser opened and completed it (10.3).
    assert "预估逾期" in seen["finding"] and "待改进" in seen["finding"]
    assert any("每周检查个案的预估进度" in line for line in seen["under_way"])
    assert "已改进" in seen["addressed"]
    assert [(a["owner_id"], a["status"], a["on_time"]) for a in actions] == [
        ("demo-worker-1", "done", True)]
    assert any(WORKER in line and "1" in line for line in seen["supervision"])
    assert len(seen["sessions"]) == 1 and "教育督导、支持督导" in seen["sessions"][0]
    # The case handed to the other supervisee (6.2.2), the only one offered; the refusal kept
    # what was typed.
    assert seen["reassign_offered"] == ["请选择…", OTHER_WORKER]
    assert seen["reassign_refused"] == "此项必填。" and seen["reassign_kept"] == "原社工休产假。"
    assert seen["reassigned"] == f"现由 {OTHER_WORKER} 负责"
    assert handed["social_worker_id"] == OTHER_WORKER
    for page in ("sup-01-escalations", "sup-03-action-refused", "sup-04-escalation-resolved",
                 "sup-06-quality", "sup-07-supervision", "sup-08-case-reassigned"):
        assert (ARTEFACTS / f"{page}.png").stat().st_size > 0
