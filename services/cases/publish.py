"""Cases domain events → contract events. Payloads carry identifiers, codes, dates, levels and
counts; every sealed token (names, notes, summaries, who was told what) stays in the store and
travels only as a keyed commitment in the envelope.

Every event is published (envelope format 2): those integrators act on as contract events, the
others as `AuditRecorded`. Events stored before formats existed keep the envelope they had:
then intake items recorded, guardians and related parties added, group members and evaluations,
letters linked to cases and disposals applied were not published (their mappings say
`since=2`). What supervision says of workers is learned into a view now: those classes are
retired."""

from __future__ import annotations

from typing import Any

from services.cases.classes import ExperientialClass
from services.cases.clients import Client, WorkerEligibility, WorkerSupervisor
from services.cases.domain import Case
from services.cases.groups import Group
from services.cases.mailbox import Letter
from services.cases.risks import decided_life_safety
from services.runtime.domain import LATEST_FORMAT
from services.runtime.publishing import AUDIT_ONLY, Publications

PUBLICATIONS = Publications("cases")

# eventsourcing makes each aggregate's event classes when the class is created; mypy cannot see
# them, so the mapping reads them through these untyped names.
ClientEvents: Any = Client
CaseEvents: Any = Case
GroupEvents: Any = Group
LetterEvents: Any = Letter
ClassEvents: Any = ExperientialClass


def _case_id(event: Any) -> str:
    return str(event.originator_id)


@PUBLICATIONS.maps(ClientEvents.Registered, "ClientRegistered", 1)
def client_registered(event: Any) -> dict[str, Any]:
    return {
        "client_id": event.client_id,
        "client_type": event.client_type,
        "grade": event.grade,
        "is_minor": event.is_minor,
        "guardian_count": len(event.guardians),
    }


@PUBLICATIONS.maps(CaseEvents.Opened, "CaseOpened", 1)
def case_opened(event: Any) -> dict[str, Any]:
    return {
        "client_id": event.client_id,
        "client_type": event.client_type,
        "social_worker_id": event.social_worker_id,
        "service_codes": event.service_codes,
        "opened_on": event.opened_on,
    }


@PUBLICATIONS.maps(CaseEvents.IntakeAccepted, "IntakeCompleted", 1)
def intake_completed(event: Any) -> dict[str, Any]:
    return {"case_id": _case_id(event), "accepted_on": event.accepted_on,
            "emergency": event.emergency}


@PUBLICATIONS.maps(CaseEvents.IntakeDeclined, "IntakeDeclined", 1)
def intake_declined(event: Any) -> dict[str, Any]:
    return {"case_id": _case_id(event), "reason_code": event.reason_code,
            "referral_id": event.referral_id, "declined_on": event.declined_on}


@PUBLICATIONS.maps(CaseEvents.ReferralMade, "ReferralMade", 1)
def referral_made(event: Any) -> dict[str, Any]:
    return {"referral_id": event.referral_id, "case_id": _case_id(event),
            "agency_kind": event.agency_kind, "agency_id": event.agency_id,
            "reason_code": event.reason_code, "referred_on": event.referred_on}


@PUBLICATIONS.maps(CaseEvents.ConsentRecorded, "ConsentRecorded", 1)
def consent_recorded(event: Any) -> dict[str, Any]:
    return {"case_id": _case_id(event), "party": event.party, "given_on": event.given_on}


@PUBLICATIONS.maps(CaseEvents.ConsentWithdrawn, "ConsentWithdrawn", 1)
def consent_withdrawn(event: Any) -> dict[str, Any]:
    return {"case_id": _case_id(event), "party": event.party,
            "withdrawn_on": event.withdrawn_on}


@PUBLICATIONS.maps(CaseEvents.AssessmentRecorded, "AssessmentRecorded", 1)
def assessment_recorded(event: Any) -> dict[str, Any]:
    return {"case_id": _case_id(event), "assessment_number": event.assessment_number,
            "assessed_on": event.assessed_on, "problem_count": event.problem_count,
            "strength_count": event.strength_count}


@PUBLICATIONS.maps(CaseEvents.PlanAdopted, "PlanAdopted", 1)
def plan_adopted(event: Any) -> dict[str, Any]:
    return {"case_id": _case_id(event), "plan_version": 1, "goal_count": event.goal_count,
            "adopted_on": event.adopted_on, "review_by": event.review_by}


@PUBLICATIONS.maps(CaseEvents.PlanRevised, "PlanRevised", 1)
def plan_revised(event: Any) -> dict[str, Any]:
    return {"case_id": _case_id(event), "plan_version": event.plan_version,
            "goal_count": event.goal_count, "revised_on": event.revised_on}


@PUBLICATIONS.maps(CaseEvents.InterventionLogged, "InterventionLogged", 1)
def intervention_logged(event: Any) -> dict[str, Any]:
    return {
        "intervention_id": event.intervention_id,
        "form": event.form,
        "method": event.method,
        "service_codes": event.service_codes,
        "delivered_on": event.delivered_on,
        "duration_minutes": event.duration_minutes,
        "participant_count": event.participant_count,
    }


@PUBLICATIONS.maps(CaseEvents.ResourceRequested, "ResourceRequested", 1)
def resource_requested(event: Any) -> dict[str, Any]:
    return {"request_id": event.request_id, "case_id": _case_id(event), "kind": event.kind,
            "service_codes": event.service_codes, "quantity": event.quantity,
            "needed_by": event.needed_by}


@PUBLICATIONS.maps(CaseEvents.EvaluationRecorded, "EvaluationRecorded", 1)
def evaluation_recorded(event: Any) -> dict[str, Any]:
    return {"case_id": _case_id(event), "kind": event.kind, "evaluated_on": event.evaluated_on,
            "goal_attainment": [goal["attainment"] for goal in
                                sorted(event.goals, key=lambda g: g["goal_number"])],
            "satisfaction": event.satisfaction}


@PUBLICATIONS.maps(CaseEvents.Closed, "CaseClosed", 1)
def case_closed(event: Any) -> dict[str, Any]:
    return {"reason": event.reason, "closed_on": event.closed_on,
            "intervention_count": event.intervention_count}


@PUBLICATIONS.maps(CaseEvents.FollowUpScheduled, "FollowUpScheduled", 1)
def follow_up_scheduled(event: Any) -> dict[str, Any]:
    return {"case_id": _case_id(event), "follow_up_id": event.follow_up_id,
            "due_on": event.due_on}


@PUBLICATIONS.maps(CaseEvents.FollowUpRecorded, "FollowUpRecorded", 1)
def follow_up_recorded(event: Any) -> dict[str, Any]:
    return {"case_id": _case_id(event), "follow_up_id": event.follow_up_id,
            "done_on": event.done_on, "outcome": event.outcome}


@PUBLICATIONS.maps(CaseEvents.Reopened, "CaseReopened", 1)
def case_reopened(event: Any) -> dict[str, Any]:
    return {"case_id": _case_id(event), "reopened_on": event.reopened_on}


@PUBLICATIONS.maps(CaseEvents.Reassigned, "CaseReassigned", 1)
def case_reassigned(event: Any) -> dict[str, Any]:
    return {"case_id": _case_id(event), "from_social_worker_id": event.from_social_worker_id,
            "to_social_worker_id": event.to_social_worker_id}


def _escalation(event: Any, previous_level: str | None, raised_on: Any) -> dict[str, Any]:
    return {"risk_id": event.risk_id, "case_id": _case_id(event), "risk_type": event.risk_type,
            "level": event.level, "previous_level": previous_level,
            "life_safety": decided_life_safety(event.level, getattr(event, "life_safety", None)),
            "social_worker_id": event.social_worker_id, "raised_on": raised_on}


@PUBLICATIONS.maps(CaseEvents.RiskRaised, "RiskEscalated", 1)
def risk_raised(event: Any) -> dict[str, Any]:
    return _escalation(event, None, event.raised_on)


@PUBLICATIONS.maps(CaseEvents.RiskLevelRaised, "RiskEscalated", 1)
def risk_level_raised(event: Any) -> dict[str, Any]:
    return _escalation(event, event.previous_level, event.changed_on)


@PUBLICATIONS.maps(CaseEvents.RiskLevelLowered, "RiskLevelLowered", 1)
def risk_level_lowered(event: Any) -> dict[str, Any]:
    return {"risk_id": event.risk_id, "case_id": _case_id(event), "level": event.level,
            "previous_level": event.previous_level, "changed_on": event.changed_on}


@PUBLICATIONS.maps(CaseEvents.RiskResolved, "RiskResolved", 1)
def risk_resolved(event: Any) -> dict[str, Any]:
    return {"risk_id": event.risk_id, "case_id": _case_id(event),
            "resolved_on": event.resolved_on}


@PUBLICATIONS.maps(CaseEvents.DisclosureRecorded, "LifeSafetyDisclosureRecorded", 1)
def disclosure_recorded(event: Any) -> dict[str, Any]:
    return {"disclosure_id": event.disclosure_id, "case_id": _case_id(event),
            "risk_id": event.risk_id, "recipient_kinds": event.recipient_kinds,
            "disclosed_at": event.disclosed_at}


@PUBLICATIONS.maps(GroupEvents.Formed, "GroupFormed", 1)
def group_formed(event: Any) -> dict[str, Any]:
    return {"group_id": str(event.originator_id), "kind": event.kind,
            "service_codes": event.service_codes, "social_worker_id": event.social_worker_id,
            "planned_sessions": event.planned_sessions, "formed_on": event.formed_on}


@PUBLICATIONS.maps(GroupEvents.SessionHeld, "GroupSessionHeld", 1)
def group_session_held(event: Any) -> dict[str, Any]:
    return {"group_id": str(event.originator_id), "session_number": event.session_number,
            "held_on": event.held_on, "attended": len(event.attended),
            "enrolled": event.enrolled}


@PUBLICATIONS.maps(GroupEvents.Closed, "GroupClosed", 1)
def group_closed(event: Any) -> dict[str, Any]:
    return {"group_id": str(event.originator_id), "closed_on": event.closed_on,
            "sessions_held": event.sessions_held, "goal_attainment": event.goal_attainment}


@PUBLICATIONS.maps(LetterEvents.Received, "LetterReceived", 1)
def letter_received(event: Any) -> dict[str, Any]:
    return {"letter_id": str(event.originator_id), "anonymous": event.anonymous,
            "received_on": event.received_on, "service_codes": event.service_codes}


@PUBLICATIONS.maps(LetterEvents.Answered, "LetterAnswered", 1)
def letter_answered(event: Any) -> dict[str, Any]:
    return {"letter_id": str(event.originator_id), "answered_on": event.answered_on,
            "days_to_answer": event.days_to_answer, "opened_case_id": event.opened_case_id}


@PUBLICATIONS.maps(ClassEvents.Held, "ClassHeld", 1)
def class_held(event: Any) -> dict[str, Any]:
    return {"class_id": str(event.originator_id), "theme": event.theme,
            "service_codes": event.service_codes, "held_on": event.held_on,
            "attendance": event.attendance, "grade": event.grade}


# Published from envelope format 2 on.

RetiredEligibility: Any = WorkerEligibility
RetiredSupervisor: Any = WorkerSupervisor
PUBLICATIONS.retired(RetiredEligibility.Learned, RetiredEligibility.Changed,
                     RetiredSupervisor.Learned, RetiredSupervisor.Changed)
PUBLICATIONS.audit_only(ClientEvents.GuardianAdded, "Client")
PUBLICATIONS.audit_only(ClientEvents.RelatedPartyAdded, "Client", "kind")
PUBLICATIONS.audit_only(LetterEvents.CaseOpened, "Letter", "case_id")


@PUBLICATIONS.maps(CaseEvents.IntakeRecorded, *AUDIT_ONLY, since=LATEST_FORMAT)
def intake_recorded(event: Any) -> dict[str, Any]:
    items = event.items
    return {"event": "IntakeRecorded", "record": "Case", "details": {
        "worker_introduced": items.get("worker_introduced"),
        "respect_and_empathy": items.get("respect_and_empathy"),
        "emergency": items.get("emergency"),
    }}


@PUBLICATIONS.maps(GroupEvents.Evaluated, *AUDIT_ONLY, since=LATEST_FORMAT)
def group_evaluated(event: Any) -> dict[str, Any]:
    return {"event": "Evaluated", "record": "Group", "details": {
        "evaluated_on": event.evaluated_on.isoformat(),
        "goals": len(event.goal_attainment),
    }}


@PUBLICATIONS.maps(GroupEvents.MemberAdded, "GroupMemberAdded", 1, since=LATEST_FORMAT)
def group_member_added(event: Any) -> dict[str, Any]:
    return {"group_id": str(event.originator_id), "client_id": event.client_id,
            "joined_on": event.joined_on}


@PUBLICATIONS.maps(ClientEvents.PersonalContentDestroyed, "PersonalContentDestroyed", 1,
                   since=LATEST_FORMAT)
def personal_content_destroyed(event: Any) -> dict[str, Any]:
    return {"client_id": event.client_id, "file_id": event.file_id,
            "destroyed_on": event.disposed_on}
