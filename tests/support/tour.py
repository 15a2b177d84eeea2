"""A full tour of Casebook: every kind of work of every service, at least once, as the people
who do it would, over RPC with the services running. The audit-trail tests check that each
stored event of every type reached the ledger, and the verifiers in `examples/verify/` read
what it leaves. Time moves by the clock (`services.runtime.clock`), never by sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from contracts.errors import CasebookError
from services.runtime.cli.journeys import (
    PLAN,
    QUALIFIED,
    client_id,
    close_case,
    intervention,
    ready_case,
    register_student,
    staff_school,
)
from services.runtime.clock import clock
from tests.support.services import ARCHIVIST, AUDITOR, OPERATOR, SUPERVISOR, WORKER, rpc
from tests.support.waiting import wait_for

SCHOOL = "JD001"
ADMIN = {"id": "admin-1", "role": "school_admin", "school_id": SCHOOL}
SECOND_SUPERVISOR = {"id": "supervisor-2", "role": "supervisor", "school_id": SCHOOL}
SECOND_WORKER = {"id": "worker-2", "role": "social_worker", "school_id": SCHOOL}
STARTED = datetime(2026, 9, 1, 9, tzinfo=UTC)  # the first day of the work recorded
NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)  # when it is recorded: nothing is dated ahead
TODAY = NOW.date().isoformat()
# Long after every retention period of what the tour files: disposal is then allowed.
DISPOSAL_DAY = datetime(2060, 1, 5, 9, tzinfo=UTC)


def full_tour(uri: str) -> dict[str, Any]:
    """Drive every kind of work once; returns the ids it made. The caller runs cases,
    resources, supervision and the archive (and resets the clock afterwards)."""
    clock.set(NOW)
    made: dict[str, Any] = {}
    staff(uri)
    made.update(casework(uri))
    made.update(community(uri, made))
    made.update(oversight(uri, made))
    made.update(archiving(uri, made))
    return made


def staff(uri: str) -> None:
    """Supervision's register: the school, its workers and supervisors, training (6, 9.1)."""
    with rpc(uri, ADMIN) as admin:
        staff_school(admin, SCHOOL, WORKER["id"])
        supervision = admin.supervision
        supervision.record_facilities({"school_id": SCHOOL,
                                       "facility_kinds": ["office", "case_room", "group_room"]})
        supervision.register_social_worker({
            "social_worker_id": SECOND_WORKER["id"], "employment": "part_time",
            "school_ids": [SCHOOL], **{**QUALIFIED, "certificate_level": "none"}})
        supervision.record_qualification({"social_worker_id": SECOND_WORKER["id"],
                                          **QUALIFIED})
        supervision.record_training({
            "social_worker_id": SECOND_WORKER["id"], "kind": "pre_job", "minutes": 40 * 60,
            "topics": ["ethics"], "completed_on": "2026-08-21"})
    # A worker who moves from another school and later leaves: the district's operator.
    with rpc(uri, OPERATOR) as operator:
        staff_school(operator, "JD002", "worker-3")
        operator.supervision.assign_social_worker({"social_worker_id": "worker-3",
                                                   "school_id": SCHOOL})
        operator.supervision.end_assignment({"social_worker_id": "worker-3",
                                             "school_id": "JD002"})
        operator.supervision.deactivate_social_worker({"social_worker_id": "worker-3",
                                                       "reason": "transferred"})
    with rpc(uri, ADMIN) as admin:
        supervision = admin.supervision
        for supervisor in (SUPERVISOR, SECOND_SUPERVISOR):
            supervision.register_supervisor({
                "supervisor_id": supervisor["id"], "employment": "full_time",
                "certificate_level": "intermediate", "years_of_practice": 6,
                "school_id": SCHOOL})
        for worker in (WORKER, SECOND_WORKER):
            supervision.assign_supervisor({"social_worker_id": worker["id"],
                                           "supervisor_id": SUPERVISOR["id"]})
        supervision.record_supervision_session({
            "supervisor_id": SUPERVISOR["id"], "social_worker_ids": [WORKER["id"]],
            "kinds": ["educational", "supportive"], "held_on": "2026-08-28",
            "duration_minutes": 90})
    # Cases learns who may work and who supervises whom from supervision's events.
    with rpc(uri, SUPERVISOR) as proxy:
        wait_for(lambda: _answers(lambda: proxy.cases.list_caseload(
            {"social_worker_id": SECOND_WORKER["id"]})), what="cases to learn the supervisors")


def casework(uri: str) -> dict[str, Any]:
    """Cases: every step of 8.3 and its side paths, groups, letters and classes (7, 8)."""
    day = STARTED.date()
    with rpc(uri, WORKER) as cases_proxy:
        proxy = cases_proxy.cases
        # The main case: worked, revised, at risk, referred, closed with a follow-up, reopened.
        main, planned = ready_case(cases_proxy, "tour-main", WORKER["id"])
        main_client = client_id("tour-main")
        proxy.add_guardian({"client_id": main_client, "name": "王强", "relation": "father"})
        proxy.add_related_party({"client_id": main_client, "kind": "peer", "name": "小李"})
        proxy.revise_plan({"case_id": main, "revised_on": _on(planned, 1),
                           "reason": "Teacher joins.", **PLAN})
        proxy.log_intervention(intervention(main, planned + timedelta(days=2)))
        risk = proxy.raise_risk({"case_id": main, "risk_type": "self_harm", "level": "high",
                                 "raised_on": _on(planned, 3), "description": "Cut marks."})
        risk_id = risk["risk_id"]
        proxy.change_risk_level({"case_id": main, "risk_id": risk_id, "level": "critical",
                                 "changed_on": _on(planned, 3)})
        proxy.record_disclosure({
            "case_id": main, "risk_id": risk_id,
            "recipients": [{"kind": "guardian", "who": "王芳"}],
            "what": "The risk of self-harm.", "why": "To protect her life (4.1).",
            "disclosed_at": (STARTED + timedelta(days=14)).isoformat()})
        proxy.change_risk_level({"case_id": main, "risk_id": risk_id, "level": "low",
                                 "changed_on": _on(planned, 10)})
        proxy.resolve_risk({"case_id": main, "risk_id": risk_id, "resolved_on": _on(planned, 12)})
        proxy.request_resource({"case_id": main, "kind": "tutoring",
                                "service_codes": ["7.1.3a"], "quantity": 1})
        proxy.request_resource({"case_id": main, "kind": "materials",
                                "service_codes": ["7.1.3a"], "quantity": 1})
        proxy.make_referral({"case_id": main, "agency_kind": "mental_health",
                             "reason_code": "specialist_need", "referred_on": _on(planned, 4)})
        close_case(cases_proxy, main, planned + timedelta(days=20))
        follow_up = proxy.schedule_follow_up({"case_id": main,
                                              "due_on": _on(planned, 50)})["follow_up_id"]
        proxy.record_follow_up({"case_id": main, "follow_up_id": follow_up,
                                "done_on": _on(planned, 49), "outcome": "stable"})
        proxy.reopen_case({"case_id": main, "reopened_on": _on(planned, 60),
                           "reason": "Trouble again."})

        # A case whose consent is withdrawn, and one declined at intake (8.3.1e).
        withdrawn, _ = ready_case(cases_proxy, "tour-withdrawn", WORKER["id"])
        proxy.withdraw_consent({"case_id": withdrawn, "party": "guardian",
                                "withdrawn_on": _on(day, 10)})
        declined_client = register_student(cases_proxy, "tour-declined")
        declined = proxy.open_case(_opening(declined_client, day))["case_id"]
        proxy.record_intake({"case_id": declined, "initial_information": "Wants a new class."})
        proxy.decline_intake({"case_id": declined, "reason_code": "beyond_scope",
                              "declined_on": _on(day, 1),
                              "referral": {"agency_kind": "education"}})

        # A closed case the archive files and, decades later, disposes of.
        archived, planned = ready_case(cases_proxy, "tour-archived", WORKER["id"])
        proxy.log_intervention(intervention(archived, planned + timedelta(days=1)))
        close_case(cases_proxy, archived, planned + timedelta(days=8))

        # The mailbox: a letter answered, and one that opens a case (8.2.2).
        letter = proxy.receive_letter({"received_on": _on(day, 2), "anonymous": True,
                                       "content": "I am scared at break time."})["letter_id"]
        proxy.answer_letter({"letter_id": letter, "answered_on": _on(day, 3),
                             "reply": "Come and see me on Tuesday."})
        writer = register_student(cases_proxy, "tour-writer")
        letter_case = proxy.receive_letter({"received_on": _on(day, 4), "client_id": writer,
                                            "content": "Can we talk?"})["letter_id"]
        writers_case = proxy.open_case({**_opening(writer, day + timedelta(days=5)),
                                        "letter_id": letter_case})["case_id"]
        # A risk nobody acknowledges in time: its escalation climbs (9.2, below).
        proxy.raise_risk({"case_id": writers_case, "risk_type": "bullying", "level": "high",
                          "raised_on": _on(day, 5)})

        # A group from forming to closing (7.1.2), and a class (7.1.1).
        group = proxy.form_group({"kind": "social_skills", "purpose": "Making friends.",
                                  "service_codes": ["7.1.2a"], "social_worker_id": WORKER["id"],
                                  "planned_sessions": 2, "formed_on": _on(day, 6)})["group_id"]
        proxy.add_group_member({"group_id": group, "client_id": writer, "joined_on": _on(day, 6)})
        proxy.hold_group_session({"group_id": group, "held_on": _on(day, 7),
                                  "attended": [writer]})
        proxy.evaluate_group({"group_id": group, "evaluated_on": _on(day, 8),
                              "goal_attainment": [1]})
        proxy.close_group({"group_id": group, "closed_on": _on(day, 9)})
        proxy.hold_class({"theme": "life_education", "topic": "Staying safe online.",
                          "service_codes": ["7.1.1a"], "held_on": _on(day, 6),
                          "attendance": 38, "grade": 6})
    # A supervisor moves the withdrawn case to another worker (8.3.4).
    with rpc(uri, SUPERVISOR) as proxy:
        proxy.cases.reassign_case({"case_id": withdrawn, "to_social_worker_id":
                                   SECOND_WORKER["id"], "reassigned_on": _on(day, 12)})
    return {"main_case": main, "archived_case": archived, "archived_client":
            client_id("tour-archived"), "risk_id": risk_id}


def community(uri: str, made: dict[str, Any]) -> dict[str, Any]:
    """Resources: providers, resources, donations, volunteers, links and referrals (7.2)."""
    with rpc(uri, ADMIN) as proxy:
        resources = proxy.resources
        provider = resources.register_provider({
            "provider_kind": "organisation", "sector": "social_organisation",
            "name": "阳光社工服务中心", "registered_on": "2026-08-01"})["provider_id"]
        tutoring = resources.register_resource({
            "provider_id": provider, "kind": "tutoring", "title": "Homework club",
            "capacity": 10, "school_ids": [SCHOOL], "valid_from": "2026-08-01"})["resource_id"]
        stationery = resources.register_resource({
            "provider_id": provider, "kind": "materials", "title": "Stationery",
            "capacity": 50, "school_ids": [SCHOOL], "valid_from": "2026-08-01"})["resource_id"]
        resources.record_donation({"provider_id": provider, "kind": "funds",
                                   "amount_cents": 500_000, "received_on": "2026-09-03"})
        volunteer = resources.register_volunteer({"name": "陈老师",
                                                  "registered_on": "2026-08-15"})["volunteer_id"]
        resources.record_volunteer_check({"volunteer_id": volunteer, "result": "passed",
                                          "checked_on": "2026-08-20",
                                          "expires_on": "2027-08-20"})
        assignment = resources.assign_volunteer({
            "volunteer_id": volunteer, "activity_id": "homework-club",
            "activity_kind": "tutoring", "with_students": True,
            "starts_on": "2026-09-07"})["assignment_id"]
        resources.log_volunteer_hours({"volunteer_id": volunteer, "assignment_id": assignment,
                                       "served_on": "2026-09-08", "minutes": 90})
        resources.hold_joint_activity({"partner_ids": [provider], "theme": "Safety week",
                                       "service_codes": ["7.1.1a"], "held_on": "2026-09-20",
                                       "participant_count": 120})
    with rpc(uri, WORKER) as proxy:
        links = wait_for(lambda: proxy.resources.list_resource_links(
            {"case_id": made["main_case"]})["items"], what="resources to learn the requests")
        wait_for(lambda: len(proxy.resources.list_resource_links(
            {"case_id": made["main_case"]})["items"]) == 2, what="both requests")
        links = proxy.resources.list_resource_links({"case_id": made["main_case"]})["items"]
        by_kind = {link["kind"]: link["request_id"] for link in links}
        offered = by_kind["tutoring"]
        proxy.resources.offer_resource({"request_id": offered, "resource_id": tutoring})
        proxy.resources.accept_resource_link({"request_id": offered,
                                              "accepted_on": TODAY})
        proxy.resources.record_delivery({"request_id": offered, "delivered_on": TODAY})
        proxy.resources.record_usage({"request_id": offered, "units_used": 1,
                                      "outcome": "need_met", "recorded_on": TODAY})
        proxy.resources.offer_resource({"request_id": by_kind["materials"],
                                        "resource_id": stationery})
        proxy.resources.decline_resource_link({"request_id": by_kind["materials"],
                                               "reason": "need_met_otherwise",
                                               "declined_on": TODAY})
        referral = wait_for(lambda: proxy.resources.list_referrals(
            {"case_id": made["main_case"]})["items"], what="resources to learn the referral")
        referral_id = referral[0]["referral_id"]
        proxy.resources.accept_referral({"referral_id": referral_id,
                                         "accepted_on": TODAY})
        proxy.resources.complete_referral({"referral_id": referral_id,
                                           "outcome": "service_provided",
                                           "completed_on": TODAY})
    with rpc(uri, SUPERVISOR) as proxy:
        proxy.resources.issue_provider_feedback({"provider_id": provider,
                                                 "period_from": "2026-09-01",
                                                 "period_to": "2026-12-31"})
    return {"provider_id": provider}


def oversight(uri: str, made: dict[str, Any]) -> dict[str, Any]:
    """Supervision's oversight: escalations, quality findings and their improvement, complaints,
    satisfaction and evaluations (9.2, 9.3, 9.5, 10)."""
    with rpc(uri, SUPERVISOR) as proxy:
        waiting = wait_for(lambda: proxy.supervision.list_escalations(
            {"school_id": SCHOOL, "status": "awaiting acknowledgement"})["items"],
            what="supervision to open an escalation for the open risk")[0]
        escalation = waiting["escalation_id"]
        # The deadline passes unanswered: the escalation climbs (9.2).
        clock.set(NOW + timedelta(days=2))
        wait_for(lambda: proxy.supervision.get_escalation(
            {"escalation_id": escalation})["step"] > waiting["step"],
            timeout=150, what="the escalation to climb past its deadline")
    # Two days on, it waits for the district's operator, who takes charge.
    with rpc(uri, OPERATOR) as proxy:
        proxy.supervision.acknowledge_escalation({"escalation_id": escalation})
        proxy.supervision.record_escalation_action({"escalation_id": escalation,
                                                    "action": "safety_plan"})
        proxy.supervision.resolve_escalation({"escalation_id": escalation,
                                              "resolution": "handled"})
    with rpc(uri, SUPERVISOR) as proxy:
        # A deadline the clock passed is a finding; its improvement is planned and done.
        findings = wait_for(lambda: proxy.supervision.list_findings(
            {"school_id": SCHOOL})["items"], timeout=60, what="a quality finding")
        action = proxy.supervision.open_improvement_action({
            "finding_id": findings[0]["finding_id"], "owner_id": WORKER["id"],
            "plan": "Weekly review of open steps.", "due_on": "2026-12-31"})["action_id"]
        proxy.supervision.complete_improvement_action({"action_id": action,
                                                       "result": "Reviews held."})
    with rpc(uri, ADMIN) as proxy:
        complaint = proxy.supervision.receive_complaint({
            "school_id": SCHOOL, "channel": "mailbox", "content": "Waited two weeks.",
            "about_social_worker_id": WORKER["id"]})["complaint_id"]
        proxy.supervision.record_complaint_step({"complaint_id": complaint,
                                                 "step": "investigating"})
        proxy.supervision.answer_complaint({"complaint_id": complaint, "outcome": "noted",
                                            "answer": "The waiting list is shorter now."})
        proxy.supervision.record_satisfaction_survey({
            "school_id": SCHOOL, "respondent_kind": "student", "respondent_count": 40,
            "satisfied_count": 36, "mean_score_permille": 4500, "evaluator_type": "third_party",
            "period_from": "2026-09-01", "period_to": "2026-10-31"})
        proxy.supervision.record_service_evaluation({
            "school_id": SCHOOL, "scope": "school", "evaluator_type": "third_party",
            "rating": "good"})
    return {"escalation_id": escalation}


def archiving(uri: str, made: dict[str, Any]) -> dict[str, Any]:
    """The archive: files, reads under grants, holds, and disposal after retention (9.4)."""
    with rpc(uri, ARCHIVIST) as proxy:
        file = wait_for(lambda: _answers(lambda: proxy.archive.find_file(
            {"source": "cases", "record_id": made["archived_case"]})),
            what="the archive to file the closed case")
        file_id = file["file_id"]
    read = {"case_id": made["archived_case"], "purpose": "Review before the follow-up."}
    with rpc(uri, SUPERVISOR) as proxy:
        refused = _answers(lambda: proxy.cases.get_case(read))
        assert refused is None, "an archived case is read under a grant only"
        denied = proxy.archive.request_access({"file_id": file_id, "purpose": "Curiosity.",
                                               "duration_hours": 1})["request_id"]
        granted = proxy.archive.request_access({"file_id": file_id,
                                                "purpose": read["purpose"],
                                                "duration_hours": 2})["request_id"]
    with rpc(uri, SECOND_SUPERVISOR) as proxy:
        proxy.archive.deny_access({"request_id": denied, "reason_code": "not_need_to_know"})
        grant = proxy.archive.approve_access({"request_id": granted})
    with rpc(uri, SUPERVISOR) as proxy:
        proxy.cases.get_case(read)
    with rpc(uri, SECOND_SUPERVISOR) as proxy:
        proxy.archive.revoke_access({"grant_id": grant["grant_id"],
                                     "reason_code": "purpose_fulfilled"})
    with rpc(uri, ARCHIVIST) as proxy:
        proxy.archive.place_legal_hold({"file_id": file_id, "hold_id": "hold-1",
                                        "authority": "court", "reference": "(2026)沪0101民初1号"})
        proxy.archive.lift_legal_hold({"file_id": file_id, "hold_id": "hold-1"})
    clock.set(DISPOSAL_DAY)
    with rpc(uri, ARCHIVIST) as proxy:
        proxy.archive.request_disposal({"file_id": file_id})
    with rpc(uri, SUPERVISOR) as proxy:
        proxy.archive.reject_disposal({"file_id": file_id, "reason_code": "policy_review"})
    with rpc(uri, ARCHIVIST) as proxy:
        proxy.archive.request_disposal({"file_id": file_id})
    with rpc(uri, SUPERVISOR) as proxy:
        proxy.archive.approve_disposal({"file_id": file_id})
    with rpc(uri, AUDITOR) as proxy:
        wait_for(lambda: proxy.archive.list_checkpoints()["items"], what="a signed checkpoint")
        # An auditor's verification of the ledger: kept, and published as LedgerVerified.
        verification = proxy.archive.verify_ledger({})
    return {"file_id": file_id, "verification_id": verification["verification_id"]}


def _answers(call: Callable[[], Any]) -> Any:
    """The call's answer, or None when it is refused (not yet learned, or not allowed)."""
    try:
        return call()
    except CasebookError:
        return None


def _on(day: date, days: int) -> str:
    return (day + timedelta(days=days)).isoformat()


def _opening(client: str, day: date) -> dict[str, Any]:
    return {"client_id": client, "social_worker_id": WORKER["id"], "service_codes": ["7.1.3a"],
            "opened_on": day.isoformat(),
            "intake": {"worker_introduced": True, "respect_and_empathy": True}}
