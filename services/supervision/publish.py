"""Supervision domain events → contract events. Identifiers, codes, dates, levels and counts:
school names, complaint content and contacts, answers, plans and evaluation findings stay in the
store. Every event of envelope format 2 is published (a contract event, or `AuditRecorded`);
those of format 1 keep the envelopes they had. What supervision learns of cases, letters and
delivered services is kept in learned tables now: the aggregates that held it are retired.
Training is in whole minutes and survey means in thousandths from format 2 on (v2), never
floats."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.runtime.domain import LATEST_FORMAT
from services.runtime.publishing import Publications
from services.supervision.domain import (
    SchoolEvents,
    SessionEvents,
    SocialWorkerEvents,
    SupervisorEvents,
    qualification_basis,
)
from services.supervision.escalation import EscalationEvents
from services.supervision.feedback import (
    ComplaintEvents,
    EvaluationEvents,
    SurveyEvents,
)
from services.supervision.quality import (
    ActionEvents,
    CaseWatchEvents,
    DeliveryEvents,
    FindingEvents,
    LetterWatchEvents,
)

PUBLICATIONS = Publications("supervision")


@PUBLICATIONS.maps(SchoolEvents.Registered, "SchoolRegistered", 1)
def school_registered(event: Any) -> dict[str, Any]:
    return {"school_id": event.school_id, "district": event.district,
            "service_mode": event.service_mode, "facility_kinds": event.facility_kinds,
            "registered_on": event.registered_on}


@PUBLICATIONS.maps(SchoolEvents.FacilitiesRecorded, "SchoolFacilitiesRecorded", 1)
def school_facilities_recorded(event: Any) -> dict[str, Any]:
    return {"school_id": event.school_id, "facility_kinds": event.facility_kinds,
            "recorded_on": event.recorded_on}


def _basis(qualification: dict[str, Any]) -> str | None:
    return qualification_basis(qualification["certificate_level"],
                               qualification["diploma_level"],
                               qualification["diploma_in_social_work"])


def _meets_6_2_1_2(qualification: dict[str, Any]) -> bool:
    return (_basis(qualification) is not None and qualification["projects_led"] >= 1
            and bool(qualification["ethics_commitment"]))


@PUBLICATIONS.maps(SocialWorkerEvents.Registered, "SocialWorkerRegistered", 1)
def social_worker_registered(event: Any) -> dict[str, Any]:
    q = event.qualification
    return {"social_worker_id": event.social_worker_id, "employment": event.employment,
            "school_ids": event.school_ids, "qualified": _meets_6_2_1_2(q),
            "qualification_basis": _basis(q), "projects_led": q["projects_led"],
            "registered_on": event.registered_on}


@PUBLICATIONS.maps(SocialWorkerEvents.QualificationRecorded, "SocialWorkerQualificationRecorded", 1)
def qualification_recorded(event: Any) -> dict[str, Any]:
    q = event.qualification
    return {"social_worker_id": event.social_worker_id, "qualified": _meets_6_2_1_2(q),
            "qualification_basis": _basis(q), "projects_led": q["projects_led"],
            "ethics_commitment": q["ethics_commitment"], "recorded_on": event.recorded_on}


@PUBLICATIONS.maps(SocialWorkerEvents.EligibilityChanged, "SocialWorkerEligibilityChanged", 1)
def eligibility_changed(event: Any) -> dict[str, Any]:
    return {"social_worker_id": event.social_worker_id, "eligible": event.eligible,
            "reasons": event.reasons}


@PUBLICATIONS.maps(SocialWorkerEvents.Assigned, "SocialWorkerAssigned", 1)
def social_worker_assigned(event: Any) -> dict[str, Any]:
    return {"social_worker_id": event.social_worker_id, "school_id": event.school_id,
            "assigned_on": event.assigned_on}


@PUBLICATIONS.maps(SocialWorkerEvents.AssignmentEnded, "SocialWorkerAssignmentEnded", 1)
def assignment_ended(event: Any) -> dict[str, Any]:
    return {"social_worker_id": event.social_worker_id, "school_id": event.school_id,
            "ended_on": event.ended_on}


@PUBLICATIONS.maps(SocialWorkerEvents.Deactivated, "SocialWorkerDeactivated", 1)
def social_worker_deactivated(event: Any) -> dict[str, Any]:
    return {"social_worker_id": event.social_worker_id, "reason": event.reason,
            "left_on": event.left_on}


@PUBLICATIONS.maps(SupervisorEvents.Registered, "SupervisorRegistered", 1)
def supervisor_registered(event: Any) -> dict[str, Any]:
    return {"supervisor_id": event.supervisor_id, "employment": event.employment,
            "setting": event.setting, "certificate_level": event.certificate_level,
            "years_of_practice": event.years_of_practice, "registered_on": event.registered_on}


@PUBLICATIONS.maps(SocialWorkerEvents.SupervisorAssigned, "SupervisorAssigned", 1)
def supervisor_assigned(event: Any) -> dict[str, Any]:
    return {"social_worker_id": event.social_worker_id, "supervisor_id": event.supervisor_id,
            "previous_supervisor_id": event.previous_supervisor_id,
            "assigned_on": event.assigned_on}


# Events stored before whole minutes hold `hours` (read as minutes too): v1 gives them as they
# were published; later format-1 events give their minutes as hours.
@PUBLICATIONS.maps(SocialWorkerEvents.TrainingRecorded, "TrainingRecorded", 1, until=1)
def training_recorded_v1(event: Any) -> dict[str, Any]:
    return {"training_id": event.training_id, "social_worker_id": event.social_worker_id,
            "kind": event.kind, "hours": vars(event).get("hours", event.minutes / 60),
            "topics": event.topics, "completed_on": event.completed_on}


@PUBLICATIONS.maps(SocialWorkerEvents.TrainingRecorded, "TrainingRecorded", 2,
                   since=LATEST_FORMAT)
def training_recorded(event: Any) -> dict[str, Any]:
    return {"training_id": event.training_id, "social_worker_id": event.social_worker_id,
            "kind": event.kind, "minutes": event.minutes, "topics": event.topics,
            "completed_on": event.completed_on}


@PUBLICATIONS.maps(SessionEvents.Held, "SupervisionSessionHeld", 1)
def supervision_session_held(event: Any) -> dict[str, Any]:
    return {"session_id": str(event.originator_id), "supervisor_id": event.supervisor_id,
            "social_worker_ids": event.social_worker_ids, "kinds": event.kinds,
            "format": event.format, "held_on": event.held_on,
            "duration_minutes": event.duration_minutes}


@PUBLICATIONS.maps(EscalationEvents.Opened, "EscalationOpened", 1)
def escalation_opened(event: Any) -> dict[str, Any]:
    first = event.ladder[0]
    return {"escalation_id": str(event.originator_id), "risk_id": event.risk_id,
            "case_id": event.case_id, "risk_type": event.risk_type, "level": event.level,
            "life_safety": event.life_safety, "social_worker_id": event.social_worker_id,
            "role": first["role"], "steps": len(event.ladder), "opened_at": event.opened_at,
            "due_at": event.opened_at + timedelta(minutes=first["minutes"])}


@PUBLICATIONS.maps(EscalationEvents.Climbed, "EscalationClimbed", 1)
def escalation_climbed(event: Any) -> dict[str, Any]:
    return {"escalation_id": str(event.originator_id), "from_role": event.from_role,
            "to_role": event.to_role, "step": event.step, "climbed_at": event.climbed_at,
            "due_at": event.due_at}


@PUBLICATIONS.maps(EscalationEvents.Acknowledged, "EscalationAcknowledged", 1)
def escalation_acknowledged(event: Any) -> dict[str, Any]:
    return {"escalation_id": str(event.originator_id), "acknowledged_by": event.acknowledged_by,
            "role": event.role, "step": event.step, "acknowledged_at": event.acknowledged_at,
            "in_time": event.in_time}


@PUBLICATIONS.maps(EscalationEvents.ActionTaken, "EscalationActionTaken", 1)
def escalation_action_taken(event: Any) -> dict[str, Any]:
    return {"escalation_id": str(event.originator_id), "action": event.action,
            "taken_at": event.taken_at}


@PUBLICATIONS.maps(EscalationEvents.Resolved, "EscalationResolved", 1)
def escalation_resolved(event: Any) -> dict[str, Any]:
    return {"escalation_id": str(event.originator_id), "resolution": event.resolution,
            "resolved_at": event.resolved_at}


@PUBLICATIONS.maps(FindingEvents.Raised, "QualityFindingRaised", 1)
def quality_finding_raised(event: Any) -> dict[str, Any]:
    return {"finding_id": str(event.originator_id), "control_point": event.control_point,
            "case_id": event.case_id, "letter_id": event.letter_id,
            "social_worker_id": event.social_worker_id, "due_on": event.due_on,
            "detected_on": event.detected_on}


@PUBLICATIONS.maps(ActionEvents.Opened, "ImprovementActionOpened", 1)
def improvement_action_opened(event: Any) -> dict[str, Any]:
    return {"action_id": str(event.originator_id), "finding_id": event.finding_id,
            "owner_id": event.owner_id, "opened_on": event.opened_on, "due_on": event.due_on}


@PUBLICATIONS.maps(ActionEvents.Completed, "ImprovementActionCompleted", 1)
def improvement_action_completed(event: Any) -> dict[str, Any]:
    return {"action_id": str(event.originator_id), "finding_id": event.finding_id,
            "completed_on": event.completed_on, "on_time": event.on_time}


@PUBLICATIONS.maps(ComplaintEvents.Received, "ComplaintReceived", 1)
def complaint_received(event: Any) -> dict[str, Any]:
    return {"complaint_id": event.complaint_id, "kind": event.kind, "channel": event.channel,
            "anonymous": event.anonymous,
            "about_social_worker_id": event.about_social_worker_id,
            "received_on": event.received_on, "acknowledge_by": event.acknowledge_by,
            "answer_by": event.answer_by}


@PUBLICATIONS.maps(ComplaintEvents.StepRecorded, "ComplaintStepRecorded", 1)
def complaint_step_recorded(event: Any) -> dict[str, Any]:
    return {"complaint_id": str(event.originator_id), "step": event.step,
            "taken_on": event.taken_on, "in_time": event.in_time}


@PUBLICATIONS.maps(ComplaintEvents.Answered, "ComplaintAnswered", 1)
def complaint_answered(event: Any) -> dict[str, Any]:
    return {"complaint_id": str(event.originator_id), "outcome": event.outcome,
            "answered_on": event.answered_on, "days_to_answer": event.days_to_answer,
            "in_time": event.in_time}


# Surveys stored before thousandths hold the float `mean_score`: v1 gives it as published.
@PUBLICATIONS.maps(SurveyEvents.Recorded, "SatisfactionSurveyRecorded", 1, until=1)
def satisfaction_survey_recorded_v1(event: Any) -> dict[str, Any]:
    return {**_survey(event),
            "mean_score": vars(event).get("mean_score", event.mean_score_permille / 1000)}


@PUBLICATIONS.maps(SurveyEvents.Recorded, "SatisfactionSurveyRecorded", 2, since=LATEST_FORMAT)
def satisfaction_survey_recorded(event: Any) -> dict[str, Any]:
    return {**_survey(event), "mean_score_permille": event.mean_score_permille}


def _survey(event: Any) -> dict[str, Any]:
    return {"survey_id": str(event.originator_id), "social_worker_id": event.social_worker_id,
            "respondent_kind": event.respondent_kind,
            "respondent_count": event.respondent_count,
            "satisfied_count": event.satisfied_count, "evaluator_type": event.evaluator_type,
            "period_from": event.period_from, "period_to": event.period_to}


@PUBLICATIONS.maps(EvaluationEvents.Recorded, "ServiceEvaluationRecorded", 1)
def service_evaluation_recorded(event: Any) -> dict[str, Any]:
    return {"evaluation_id": str(event.originator_id), "scope": event.scope,
            "social_worker_id": event.social_worker_id, "evaluator_type": event.evaluator_type,
            "rating": event.rating, "evaluated_on": event.evaluated_on}


# Published from envelope format 2 on: a finding's way through improvement (10.3).

PUBLICATIONS.audit_only(FindingEvents.ImprovementStarted, "QualityFinding", "action_id")
PUBLICATIONS.audit_only(FindingEvents.Addressed, "QualityFinding", "addressed_on")

# Learned tables now keep what these held (`views.py`): no new event of them is made.
PUBLICATIONS.retired(
    CaseWatchEvents.Started, CaseWatchEvents.IntakeAccepted, CaseWatchEvents.Assessed,
    CaseWatchEvents.PlanAdopted, CaseWatchEvents.InterventionNoted, CaseWatchEvents.Evaluated,
    CaseWatchEvents.Closed, CaseWatchEvents.Declined, CaseWatchEvents.Reopened,
    CaseWatchEvents.Reassigned, CaseWatchEvents.FollowUpScheduled, CaseWatchEvents.FollowUpDone,
    CaseWatchEvents.FindingsNoted, LetterWatchEvents.Started, LetterWatchEvents.Answered,
    LetterWatchEvents.FindingsNoted, DeliveryEvents.Noted)
