"""The school admin registers a supervisor and a social worker, records the worker's pre-job
training and assigns their supervisor, records, handles and answers a complaint about them and
records a satisfaction survey and a service evaluation; the supervisor records a supervision
session with them and a training, in a real browser (journeys_staff_forms.py); and a worker's
later changes (a school assignment, a new qualification, its end, leaving the service). What the
browser did is read back over RPC."""

from __future__ import annotations

import pytest

from services.runtime.cli.demo import SCHOOL, WORKER
from services.runtime.cli.journeys import staff_school
from tests.e2e.console.conftest import ARTEFACTS, console, console_address, run_journey
from tests.support.services import rpc

pytestmark = pytest.mark.e2e

ADMIN = {"id": "demo-admin", "role": "school_admin", "school_id": SCHOOL}
SUPERVISOR = "demo-supervisor"
NEW_WORKER = "demo-worker-7"
MOVING_WORKER = "demo-worker-8"
OTHER_SCHOOL = "JD002"


def test_an_admin_registers_a_worker_whom_their_supervisor_then_supervises(amqp_uri, tmp_path):
    with console(amqp_uri, tmp_path, console_address(), services=("supervision",),
                 CASEBOOK_CONSOLE_DEV_SIGN_IN="true") as url:
        with rpc(amqp_uri, ADMIN) as admin:
            staff_school(admin, SCHOOL, WORKER)
        seen = run_journey("staff_forms", url)
        with rpc(amqp_uri, ADMIN) as admin:
            worker = admin.supervision.get_social_worker({"social_worker_id": NEW_WORKER})
            trainings = admin.supervision.list_trainings(
                {"school_id": SCHOOL, "social_worker_id": NEW_WORKER})["items"]
            sessions = admin.supervision.list_supervision_sessions(
                {"school_id": SCHOOL, "social_worker_id": NEW_WORKER})["items"]
            listed = admin.supervision.list_complaints({"school_id": SCHOOL})["items"]
            complaint = admin.supervision.get_complaint(
                {"complaint_id": listed[0]["complaint_id"]}) if listed else {}
            summary = admin.supervision.evaluation_summary({"school_id": SCHOOL})
            supervisees = admin.supervision.list_supervisees({"supervisor_id": SUPERVISOR})
            evaluations = admin.supervision.list_service_evaluations(
                {"school_id": SCHOOL})["items"]

    # The supervisor, registered by the browser once qualified, supervises the new worker.
    assert seen["supervisor_refused"] == "督导须持有中级或高级社会工作师证书（6.2.2.1）。"
    assert [w["social_worker_id"] for w in supervisees["items"]] == [NEW_WORKER]
    # The refusal: beside the date, the form kept as typed.
    assert seen["refused"] == "不得晚于今天。"
    assert seen["refused_invalid"] == "true" and seen["kept"] == NEW_WORKER
    assert "未参加岗前培训（9.1a）" in seen["before_training"]
    assert len(seen["trainings"]) == 1 and "岗前培训（9.1a）" in seen["trainings"][0]
    assert seen["choices"] == ["请选择…", SUPERVISOR]  # the school's one supervisor
    assert seen["supervisor"] == SUPERVISOR and seen["eligible"] == "是"
    # Its history, change by change: registered (not yet eligible), trained (now eligible),
    # then the supervisor, each by the admin.
    changes = [" ".join(row.split()) for row in seen["history"]]
    assert [change.split(" ")[2] for change in changes] == [
        "登记", "接案资格变化", "记录培训（9.1）", "接案资格变化", "指派督导（6.2.2）"]
    assert "不能接案 · 未参加岗前培训（9.1a）" in changes[1] and "可以接案" in changes[3]
    assert f"指派督导（6.2.2） · {SUPERVISOR}" in changes[4]
    assert all("demo-admin" in change for change in changes)
    assert any(NEW_WORKER in row and "全职" in row for row in seen["staff"])
    assert len(seen["sessions"]) == 1 and "教育督导、支持督导" in seen["sessions"][0]
    assert any(NEW_WORKER in row and "2.0" in row for row in seen["training"])

    # Read back over RPC: registered once, as typed, trained, supervised, on the services' today.
    assert worker["employment"] == "full_time" and worker["school_ids"] == [SCHOOL]
    assert worker["qualification"] == {"certificate_level": "assistant",
                                       "diploma_level": "bachelor",
                                       "diploma_in_social_work": True, "projects_led": 2,
                                       "ethics_commitment": True}
    assert worker["registered_on"] == seen["server_today"]
    assert worker["supervisor_id"] == SUPERVISOR and worker["eligible"] is True
    assert sorted((t["kind"], t["minutes"], t["topics"]) for t in trainings) == [
        ("continuing", 120, ["ethics"]), ("pre_job", 2400, ["social_work_methods"])]
    assert [(s["supervisor_id"], s["social_worker_ids"], s["kinds"], s["format"],
             s["held_on"], s["duration_minutes"]) for s in sessions] == [
        (SUPERVISOR, [NEW_WORKER], ["educational", "supportive"], "individual",
         seen["server_today"], 90)]
    # The complaint, as the browser recorded, handled and answered it: the refused one never
    # recorded.
    assert seen["complaint_refused"] == "匿名投诉不留联系方式，请留空。"
    assert seen["complaints_after_refusal"] == 0
    assert len(seen["complaints"]) == 1 and "投诉" in seen["complaints"][0]
    assert "投诉部分成立" in seen["answered"]
    assert len(seen["steps"]) == 1 and "已确认" in seen["steps"][0]
    assert "已电话联系家长。" in seen["steps"][0]
    assert len(listed) == 1
    assert (complaint["kind"], complaint["channel"], complaint["anonymous"],
            complaint["about_social_worker_id"], complaint["contact"], complaint["outcome"]) == (
        "complaint", "phone", False, NEW_WORKER, "13800000000", "partly_upheld")
    assert complaint["content"] == "家长反映辅导时间安排不便。"
    assert [(s["step"], s["note"]) for s in complaint["steps"]] == [
        ("acknowledged", "已电话联系家长。")]
    assert complaint["answer"]["answer"] == "调整为每周三下午辅导。"
    # The survey: the refused one never recorded; the mean score in thousandths.
    assert seen["survey_refused"] == "不得多于调查人数（10）。"
    assert seen["surveys_after_refusal"] == "0"
    assert seen["summary"] == ["1", "10", "90.0%", "4.25"]
    (survey_row,) = seen["survey_rows"]  # the survey itself, listed
    assert "家长 · 10" in survey_row and "9 (90.0%)" in survey_row and "4.25" in survey_row
    assert (summary["surveys"], summary["respondents"], summary["satisfied_permille"],
            summary["mean_score_permille"]) == (1, 10, 900, 4250)
    # The evaluation: refused without its worker, then recorded once, as a peer's.
    assert seen["evaluation_refused"] == "评估社会工作者时必填。"
    assert len(seen["evaluations"]) == 1 and "良好" in seen["evaluations"][0]
    assert [(e["scope"], e["social_worker_id"], e["evaluator_type"], e["rating"])
            for e in evaluations] == [("social_worker", NEW_WORKER, "peer", "good")]
    for page in ("staff-07-survey", "staff-05-complaint-refused", "staff-06-complaint-answered",
                 "staff-01-register-refused", "staff-02-worker", "staff-03-staff",
                 "staff-04-supervision"):
        assert (ARTEFACTS / f"{page}.png").stat().st_size > 0


def test_an_admin_records_a_workers_later_changes(amqp_uri, tmp_path):
    with console(amqp_uri, tmp_path, console_address(), services=("supervision",),
                 CASEBOOK_CONSOLE_DEV_SIGN_IN="true") as url:
        with rpc(amqp_uri, ADMIN) as admin:
            staff_school(admin, SCHOOL, WORKER)
        # A worker of another school, registered by that school's admin.
        with rpc(amqp_uri, {**ADMIN, "id": "admin-2", "school_id": OTHER_SCHOOL}) as admin:
            staff_school(admin, OTHER_SCHOOL, MOVING_WORKER)
        seen = run_journey("staff_changes", url)
        with rpc(amqp_uri, {"id": "operator-1", "role": "operator"}) as operator:
            moved = operator.supervision.get_social_worker({"social_worker_id": MOVING_WORKER})
            left = operator.supervision.get_social_worker({"social_worker_id": WORKER})

    # The worker of the other school served this one, was requalified, and serves it no more.
    assert seen["assign_refused"] == "此项必填。"
    assert sorted(seen["schools"].split("、")) == [SCHOOL, OTHER_SCHOOL]
    assert seen["certificate"] == "中级社会工作师"
    assert moved["school_ids"] == [OTHER_SCHOOL]
    assert moved["qualification"]["certificate_level"] == "intermediate"
    assert MOVING_WORKER not in seen["staff_after"] and WORKER in seen["staff_after"]
    # The leaving: refused beside its date, nothing recorded; then recorded for today.
    assert seen["leaving_refused"] == f"不得早于 {left['registered_on']}。"
    assert seen["leaving_invalid"] == "true" and seen["still_active"] == "是"
    assert (left["active"], left["eligible"], left["ineligibility"]) == (
        False, False, ["inactive"])
    assert seen["left"]["active"].startswith("已于") and "已离职" in seen["left"]["eligible"]
    assert seen["left"]["forms"] == 0
    for page in ("staff-08-assign-refused", "staff-09-moving-worker",
                 "staff-10-leaving-refused", "staff-11-left"):
        assert (ARTEFACTS / f"{page}.png").stat().st_size > 0
