"""Events the cases service publishes. Identifiers, codes, dates, levels and counts only: no
names, contact details or free text (DESIGN.md "Actors, access, privacy")."""

from marshmallow import Schema, fields, validate

from contracts.fields import identifier, one_of, service_codes
from contracts.registry import contract

INTERVENTION_FORMS = ("direct", "indirect")  # 8.2.1.2
INTERVENTION_METHODS = (  # 8.2.1.2, 8.2.4
    "case_work",
    "group_work",
    "administration",
    "research",
    "crisis_intervention",
    "family_therapy",
    "outreach",
    "adventure_based_counselling",
    "resource_linking",
    "home_visit",
    "consultation",
)
CLOSING_REASONS = ("goals_met", "client_request", "referred", "transferred", "left_school", "other")
CLIENT_TYPES = ("student", "teacher", "family", "school", "community")  # 5


@contract("CaseOpened", 1, source="cases")
class CaseOpenedV1(Schema):
    """A case was opened for a client and assigned to a responsible social worker."""

    client_id = identifier(required=True)
    client_type = one_of(CLIENT_TYPES, required=True)
    social_worker_id = identifier(required=True)
    service_codes = service_codes(required=True)
    opened_on = fields.Date(required=True)


@contract("InterventionLogged", 1, source="cases")
class InterventionLoggedV1(Schema):
    """An intervention was delivered in a case (8.3.4): its form, method, codes and extent."""

    intervention_id = identifier(required=True)
    form = one_of(INTERVENTION_FORMS, required=True)
    method = one_of(INTERVENTION_METHODS, required=True)
    service_codes = service_codes(required=True)
    delivered_on = fields.Date(required=True)
    duration_minutes = fields.Integer(required=True, validate=validate.Range(min=1, max=1440))
    participant_count = fields.Integer(required=True, validate=validate.Range(min=1))


@contract("CaseClosed", 1, source="cases")
class CaseClosedV1(Schema):
    """A case was closed (8.3.6) for the stated reason."""

    reason = one_of(CLOSING_REASONS, required=True)
    closed_on = fields.Date(required=True)
    intervention_count = fields.Integer(required=True, validate=validate.Range(min=0))


RISK_TYPES = (  # 8.3.1d, 9.6a
    "abuse",
    "violence",
    "bullying",
    "self_harm",
    "suicide",
    "trauma",
    "substance_abuse",
    "severe_psychological_disorder",
    "family_crisis",
    "campus_emergency",
    "other",
)
RISK_LEVELS = ("low", "medium", "high", "critical")
RESOURCE_KINDS = (  # 8.3.4b, 9.3a
    "financial_aid",
    "tutoring",
    "psychological_service",
    "legal_aid",
    "medical",
    "materials",
    "venue",
    "volunteer_support",
    "other",
)
AGENCY_KINDS = (
    "mental_health",
    "medical",
    "child_protection",
    "police",
    "legal_aid",
    "civil_affairs",
    "education",
    "community_service",
    "other",
)


@contract("RiskEscalated", 1, source="cases")
class RiskEscalatedV1(Schema):
    """A risk in a case was raised, or its level changed upward (9.6a, 4.1, 8.3.1d): supervision
    opens an escalation by its policy table."""

    risk_id = identifier(required=True)
    case_id = identifier(required=True)
    risk_type = one_of(RISK_TYPES, required=True)
    level = one_of(RISK_LEVELS, required=True)
    previous_level = one_of(RISK_LEVELS, required=True, allow_none=True)
    life_safety = fields.Boolean(required=True)
    social_worker_id = identifier(required=True)
    raised_on = fields.Date(required=True)


@contract("ResourceRequested", 1, source="cases")
class ResourceRequestedV1(Schema):
    """A case needs a resource from outside the school (8.3.4b); the resources service links
    one. No description of the client: kind, codes and counts only."""

    request_id = identifier(required=True)
    case_id = identifier(required=True)
    kind = one_of(RESOURCE_KINDS, required=True)
    service_codes = service_codes(required=True)
    quantity = fields.Integer(required=True, validate=validate.Range(min=1))
    needed_by = fields.Date(required=True, allow_none=True)


@contract("ReferralMade", 1, source="cases")
class ReferralMadeV1(Schema):
    """A client was referred to an outside agency (8.3.1e, 7.1.4b): at a declined intake or
    during service."""

    referral_id = identifier(required=True)
    case_id = identifier(required=True)
    agency_kind = one_of(AGENCY_KINDS, required=True)
    agency_id = identifier(required=True, allow_none=True)
    reason_code = one_of(
        ("intake_declined", "beyond_scope", "specialist_need", "client_request", "other"),
        required=True,
    )
    referred_on = fields.Date(required=True)


DECLINE_REASONS = ("beyond_scope", "not_eligible", "client_refused", "duplicate", "other")
CONSENT_PARTIES = ("client", "guardian")
EVALUATION_KINDS = ("process", "outcome")  # 8.3.5 a, b
GROUP_KINDS = ("therapeutic", "support", "educational", "growth", "social_skills", "other")
CLASS_THEMES = ("life_education", "study_or_career_planning", "adolescence_education", "other")
FOLLOW_UP_OUTCOMES = ("stable", "improved", "needs_support", "reopened", "unreachable")


@contract("ClientRegistered", 1, source="cases")
class ClientRegisteredV1(Schema):
    """A client was entered in the client register (9.2a). Only the type, the school and, for a
    student, the grade: the person's details stay sealed in the cases store."""

    client_id = identifier(required=True)
    client_type = one_of(CLIENT_TYPES, required=True)
    grade = fields.Integer(required=True, allow_none=True, validate=validate.Range(min=1, max=12))
    is_minor = fields.Boolean(required=True)
    guardian_count = fields.Integer(required=True, validate=validate.Range(min=0))


@contract("IntakeCompleted", 1, source="cases")
class IntakeCompletedV1(Schema):
    """The intake (8.3.1) was accepted: the professional relationship is established."""

    case_id = identifier(required=True)
    accepted_on = fields.Date(required=True)
    emergency = fields.Boolean(required=True)


@contract("IntakeDeclined", 1, source="cases")
class IntakeDeclinedV1(Schema):
    """The intake was declined with a reason and a referral (8.3.1e, 7.1.4b)."""

    case_id = identifier(required=True)
    reason_code = one_of(DECLINE_REASONS, required=True)
    referral_id = identifier(required=True)
    declined_on = fields.Date(required=True)


@contract("ConsentRecorded", 1, source="cases")
class ConsentRecordedV1(Schema):
    """Informed consent was recorded (4.2): by the client, or a guardian for a minor."""

    case_id = identifier(required=True)
    party = one_of(CONSENT_PARTIES, required=True)
    given_on = fields.Date(required=True)


@contract("ConsentWithdrawn", 1, source="cases")
class ConsentWithdrawnV1(Schema):
    """Consent was withdrawn (4.2): further service stops except life-safety work."""

    case_id = identifier(required=True)
    party = one_of(CONSENT_PARTIES, required=True)
    withdrawn_on = fields.Date(required=True)


@contract("AssessmentRecorded", 1, source="cases")
class AssessmentRecordedV1(Schema):
    """An assessment (8.3.2) was recorded; assessments are repeatable and numbered."""

    case_id = identifier(required=True)
    assessment_number = fields.Integer(required=True, validate=validate.Range(min=1))
    assessed_on = fields.Date(required=True)
    problem_count = fields.Integer(required=True, validate=validate.Range(min=0))
    strength_count = fields.Integer(required=True, validate=validate.Range(min=0))


@contract("PlanAdopted", 1, source="cases")
class PlanAdoptedV1(Schema):
    """A service plan with all seven parts of 8.3.3b was adopted."""

    case_id = identifier(required=True)
    plan_version = fields.Integer(required=True, validate=validate.Range(min=1))
    goal_count = fields.Integer(required=True, validate=validate.Range(min=1))
    adopted_on = fields.Date(required=True)
    review_by = fields.Date(required=True, allow_none=True)


@contract("PlanRevised", 1, source="cases")
class PlanRevisedV1(Schema):
    """The service plan was revised; the earlier version is kept."""

    case_id = identifier(required=True)
    plan_version = fields.Integer(required=True, validate=validate.Range(min=2))
    goal_count = fields.Integer(required=True, validate=validate.Range(min=1))
    revised_on = fields.Date(required=True)


@contract("EvaluationRecorded", 1, source="cases")
class EvaluationRecordedV1(Schema):
    """A process or outcome evaluation (8.3.5, 10.2.2) was recorded, with goal attainment
    scores (−2…+2 per goal) and satisfaction (1–5) for outcome evaluations."""

    case_id = identifier(required=True)
    kind = one_of(EVALUATION_KINDS, required=True)
    evaluated_on = fields.Date(required=True)
    goal_attainment = fields.List(
        fields.Integer(validate=validate.Range(min=-2, max=2)), required=True
    )
    satisfaction = fields.Integer(
        required=True, allow_none=True, validate=validate.Range(min=1, max=5)
    )


@contract("FollowUpScheduled", 1, source="cases")
class FollowUpScheduledV1(Schema):
    """A follow-up after closing (8.3.6c, 9.2b) is due on a date."""

    case_id = identifier(required=True)
    follow_up_id = identifier(required=True)
    due_on = fields.Date(required=True)


@contract("FollowUpRecorded", 1, source="cases")
class FollowUpRecordedV1(Schema):
    """A scheduled follow-up was done."""

    case_id = identifier(required=True)
    follow_up_id = identifier(required=True)
    done_on = fields.Date(required=True)
    outcome = one_of(FOLLOW_UP_OUTCOMES, required=True)


@contract("CaseReopened", 1, source="cases")
class CaseReopenedV1(Schema):
    """A closed case was reopened."""

    case_id = identifier(required=True)
    reopened_on = fields.Date(required=True)


@contract("CaseReassigned", 1, source="cases")
class CaseReassignedV1(Schema):
    """A case was given to another responsible social worker."""

    case_id = identifier(required=True)
    from_social_worker_id = identifier(required=True)
    to_social_worker_id = identifier(required=True)


@contract("RiskLevelLowered", 1, source="cases")
class RiskLevelLoweredV1(Schema):
    """The level of an unresolved risk in a case was lowered (9.6a); raising it is
    RiskEscalated, ending it RiskResolved."""

    risk_id = identifier(required=True)
    case_id = identifier(required=True)
    level = one_of(RISK_LEVELS, required=True)
    previous_level = one_of(RISK_LEVELS, required=True)
    changed_on = fields.Date(required=True)


@contract("RiskResolved", 1, source="cases")
class RiskResolvedV1(Schema):
    """A risk in a case was resolved."""

    risk_id = identifier(required=True)
    case_id = identifier(required=True)
    resolved_on = fields.Date(required=True)


@contract("LifeSafetyDisclosureRecorded", 1, source="cases")
class LifeSafetyDisclosureRecordedV1(Schema):
    """Confidential information was disclosed to protect life (4.1); who was told, what and why
    stay sealed in the cases store, the fact and the kinds of recipient are published."""

    disclosure_id = identifier(required=True)
    case_id = identifier(required=True)
    risk_id = identifier(required=True, allow_none=True)
    recipient_kinds = fields.List(
        one_of(("guardian", "school", "police", "medical", "child_protection", "other")),
        required=True,
        validate=validate.Length(min=1),
    )
    disclosed_at = fields.DateTime(required=True)


@contract("GroupFormed", 1, source="cases")
class GroupFormedV1(Schema):
    """A group (8.2.1.3) was formed with a purpose and service codes."""

    group_id = identifier(required=True)
    kind = one_of(GROUP_KINDS, required=True)
    service_codes = service_codes(required=True)
    social_worker_id = identifier(required=True)
    planned_sessions = fields.Integer(required=True, validate=validate.Range(min=1))
    formed_on = fields.Date(required=True)


@contract("GroupSessionHeld", 1, source="cases")
class GroupSessionHeldV1(Schema):
    """A group session was held; attendance as counts."""

    group_id = identifier(required=True)
    session_number = fields.Integer(required=True, validate=validate.Range(min=1))
    held_on = fields.Date(required=True)
    attended = fields.Integer(required=True, validate=validate.Range(min=0))
    enrolled = fields.Integer(required=True, validate=validate.Range(min=0))


@contract("GroupClosed", 1, source="cases")
class GroupClosedV1(Schema):
    """A group was closed, after its group evaluation."""

    group_id = identifier(required=True)
    closed_on = fields.Date(required=True)
    sessions_held = fields.Integer(required=True, validate=validate.Range(min=0))
    goal_attainment = fields.List(
        fields.Integer(validate=validate.Range(min=-2, max=2)), required=True
    )


@contract("LetterReceived", 1, source="cases")
class LetterReceivedV1(Schema):
    """A letter arrived in the social-worker mailbox (8.2.2); anonymous letters allowed."""

    letter_id = identifier(required=True)
    anonymous = fields.Boolean(required=True)
    received_on = fields.Date(required=True)
    service_codes = fields.List(fields.String(), required=True)


@contract("LetterAnswered", 1, source="cases")
class LetterAnsweredV1(Schema):
    """A letter was answered; the reply time is published, not the reply."""

    letter_id = identifier(required=True)
    answered_on = fields.Date(required=True)
    days_to_answer = fields.Integer(required=True, validate=validate.Range(min=0))
    opened_case_id = identifier(required=True, allow_none=True)


@contract("ClassHeld", 1, source="cases")
class ClassHeldV1(Schema):
    """An experiential class (8.2.3) was held."""

    class_id = identifier(required=True)
    theme = one_of(CLASS_THEMES, required=True)
    service_codes = service_codes(required=True)
    held_on = fields.Date(required=True)
    attendance = fields.Integer(required=True, validate=validate.Range(min=0))
    grade = fields.Integer(required=True, allow_none=True, validate=validate.Range(min=1, max=12))


@contract("GroupMemberAdded", 1, source="cases")
class GroupMemberAddedV1(Schema):
    """A client joined a group (8.2.1.3)."""

    group_id = identifier(required=True)
    client_id = identifier(required=True)
    joined_on = fields.Date(required=True)


@contract("PersonalContentDestroyed", 1, source="cases")
class PersonalContentDestroyedV1(Schema):
    """The cases service destroyed a client's personal content after the archive disposed of
    a file about them (9.4e): the client's key is gone; every record of them reads as destroyed.
    Integrators holding a copy of anything personal about the client destroy it too."""

    client_id = identifier(required=True)
    file_id = identifier(required=True)
    destroyed_on = fields.Date(required=True)
