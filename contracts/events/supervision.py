"""Events the supervision service publishes: schools, staff, training, supervision, risk
escalations, quality control, complaints and evaluations. Identifiers, codes, dates, levels and
counts only: no names, contact details or free text (DESIGN.md "Actors, access, privacy")."""

from collections.abc import Mapping, Sequence
from typing import Any

from marshmallow import Schema, fields, validate

from contracts.fields import identifier
from contracts.registry import contract

# Why a social worker may not be assigned cases; the cases service shows them as they are.
INELIGIBILITY_REASONS = (
    "not_qualified",  # 6.2.1.2: neither certificate nor college-level social-work diploma
    "no_project_experience",  # 6.2.1.2: has not led a school or youth project
    "no_ethics_commitment",  # 6.2.1.2: has not committed to the profession's values and ethics
    "no_pre_job_training",  # 9.1a
    "inactive",  # left the service
)


@contract("SocialWorkerEligibilityChanged", 1, source="supervision")
class SocialWorkerEligibilityChangedV1(Schema):
    """Whether a social worker may be assigned cases changed (6.2.1.2 qualification AND 9.1a
    pre-job training AND active), including the first time at registration. `reasons` lists why
    not when `eligible` is false, and is empty when it is true."""

    social_worker_id = identifier(required=True)
    eligible = fields.Boolean(required=True)
    reasons = fields.List(
        fields.String(validate=validate.OneOf(INELIGIBILITY_REASONS)), required=True
    )


SERVICE_MODES = ("resident", "visiting")  # 8.1.1 驻校, 8.1.2 入校
FACILITY_KINDS = (  # 6.1.1 service space, 6.1.2 rooms
    "office",
    "case_room",
    "group_room",
    "multi_function_room",
    "shared_service_space",
)
EMPLOYMENT = ("full_time", "part_time")  # 6.2.1.1, 6.2.2.1
CERTIFICATE_LEVELS = ("none", "assistant", "intermediate", "senior")  # 助理/中级/高级社会工作师
DIPLOMA_LEVELS = ("none", "secondary", "college", "bachelor", "master", "doctorate")
QUALIFICATION_BASES = ("certificate", "diploma")  # 6.2.1.2, first item
DEACTIVATION_REASONS = ("left_service", "transferred", "suspended", "other")
TRAINING_KINDS = ("pre_job", "continuing")  # 9.1a, 9.1b
TRAINING_TOPICS = (  # 6.2.1.3 competencies, plus topics of 9.1b continuing education
    "child_development",
    "law_and_policy",
    "education_administration",
    "social_work_methods",
    "ethics",
    "risk_and_crisis",
    "other",
)
SUPERVISION_KINDS = ("administrative", "educational", "supportive")  # 6.2.2.2
SUPERVISION_FORMATS = ("individual", "group")
SUPERVISOR_SETTINGS = ("internal", "external")  # 10.1.1
ACKNOWLEDGING_ROLES = ("social_worker", "supervisor", "school_admin", "operator")


def acknowledgers(ladder: Sequence[Mapping[str, Any]], step: int) -> frozenset[str]:
    """The roles that may take charge of an escalation waiting at `step` (1 for the first) of
    `ladder` (9.6b): the step's role, any role further up, and the operator, at the top of
    every ladder whatever the policy says."""
    return frozenset({str(rung["role"]) for rung in ladder[step - 1:]} | {"operator"})


ESCALATION_ACTIONS = (  # 9.6b emergency response, 4.1
    "contacted_guardian",
    "safety_plan",
    "counselling",
    "referred",
    "medical_help",
    "police_notified",
    "child_protection_notified",
    "school_informed",
    "other",
)
ESCALATION_RESOLUTIONS = ("handled", "referred", "risk_resolved", "superseded")
CONTROL_POINTS = (  # 9.5c key control points
    "assessment_overdue",
    "plan_overdue",
    "no_recent_intervention",
    "closed_without_evaluations",
    "follow_up_overdue",
    "letter_unanswered",
)
FEEDBACK_KINDS = ("complaint", "feedback", "suggestion")  # 9.2c, 10.1.2
FEEDBACK_CHANNELS = ("mailbox", "phone", "online", "in_person", "letter", "other")
COMPLAINT_STEPS = ("acknowledged", "investigating", "referred", "meeting_held", "other")
COMPLAINT_OUTCOMES = ("upheld", "partly_upheld", "not_upheld", "noted")
RESPONDENT_KINDS = ("student", "teacher", "parent", "school", "community", "mixed")
EVALUATOR_TYPES = ("self", "peer", "third_party")  # 10.2.3
EVALUATION_SCOPES = ("social_worker", "school", "project")
RATINGS = ("excellent", "good", "fair", "poor")


def _positive(**kwargs: Any) -> fields.Integer:
    return fields.Integer(validate=validate.Range(min=1), **kwargs)


@contract("SchoolRegistered", 1, source="supervision")
class SchoolRegisteredV1(Schema):
    """A school joined the service, with its service mode (8.1) and service spaces (6.1)."""

    school_id = identifier(required=True)
    district = identifier(required=True)
    service_mode = fields.String(required=True, validate=validate.OneOf(SERVICE_MODES))
    facility_kinds = fields.List(
        fields.String(validate=validate.OneOf(FACILITY_KINDS)), required=True
    )
    registered_on = fields.Date(required=True)


@contract("SchoolFacilitiesRecorded", 1, source="supervision")
class SchoolFacilitiesRecordedV1(Schema):
    """A school's service spaces (6.1) were recorded anew; the list replaces the earlier one."""

    school_id = identifier(required=True)
    facility_kinds = fields.List(
        fields.String(validate=validate.OneOf(FACILITY_KINDS)), required=True
    )
    recorded_on = fields.Date(required=True)


@contract("SocialWorkerRegistered", 1, source="supervision")
class SocialWorkerRegisteredV1(Schema):
    """A school social worker was registered, full- or part-time (6.2.1.1), with whether the
    6.2.1.2 qualification is met and on which basis."""

    social_worker_id = identifier(required=True)
    employment = fields.String(required=True, validate=validate.OneOf(EMPLOYMENT))
    school_ids = fields.List(identifier(), required=True)
    qualified = fields.Boolean(required=True)
    qualification_basis = fields.String(
        required=True, allow_none=True, validate=validate.OneOf(QUALIFICATION_BASES)
    )
    projects_led = fields.Integer(required=True, validate=validate.Range(min=0))
    registered_on = fields.Date(required=True)


@contract("SocialWorkerQualificationRecorded", 1, source="supervision")
class SocialWorkerQualificationRecordedV1(Schema):
    """A social worker's 6.2.1.2 qualification was recorded anew (a certificate obtained, a
    project completed)."""

    social_worker_id = identifier(required=True)
    qualified = fields.Boolean(required=True)
    qualification_basis = fields.String(
        required=True, allow_none=True, validate=validate.OneOf(QUALIFICATION_BASES)
    )
    projects_led = fields.Integer(required=True, validate=validate.Range(min=0))
    ethics_commitment = fields.Boolean(required=True)
    recorded_on = fields.Date(required=True)


@contract("SocialWorkerAssigned", 1, source="supervision")
class SocialWorkerAssignedV1(Schema):
    """A social worker was assigned to serve a school."""

    social_worker_id = identifier(required=True)
    school_id = identifier(required=True)
    assigned_on = fields.Date(required=True)


@contract("SocialWorkerAssignmentEnded", 1, source="supervision")
class SocialWorkerAssignmentEndedV1(Schema):
    """A social worker stopped serving a school."""

    social_worker_id = identifier(required=True)
    school_id = identifier(required=True)
    ended_on = fields.Date(required=True)


@contract("SocialWorkerDeactivated", 1, source="supervision")
class SocialWorkerDeactivatedV1(Schema):
    """A social worker left the service; they can no longer be assigned cases."""

    social_worker_id = identifier(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(DEACTIVATION_REASONS))
    left_on = fields.Date(required=True)


@contract("SupervisorRegistered", 1, source="supervision")
class SupervisorRegisteredV1(Schema):
    """A social-work supervisor (6.2.2.1), internal or external (10.1.1), was registered with
    the qualification that was checked."""

    supervisor_id = identifier(required=True)
    employment = fields.String(required=True, validate=validate.OneOf(EMPLOYMENT))
    setting = fields.String(required=True, validate=validate.OneOf(SUPERVISOR_SETTINGS))
    certificate_level = fields.String(required=True, validate=validate.OneOf(CERTIFICATE_LEVELS))
    years_of_practice = fields.Integer(required=True, validate=validate.Range(min=0))
    registered_on = fields.Date(required=True)


@contract("SupervisorAssigned", 1, source="supervision")
class SupervisorAssignedV1(Schema):
    """A supervisor took a social worker as supervisee (6.2.2.1); it replaces any earlier one."""

    social_worker_id = identifier(required=True)
    supervisor_id = identifier(required=True)
    previous_supervisor_id = identifier(required=True, allow_none=True)
    assigned_on = fields.Date(required=True)


@contract("TrainingRecorded", 1, source="supervision")
class TrainingRecordedV1(Schema):
    """A social worker completed training: pre-job (9.1a) or continuing education counted
    towards 36 hours a year (9.1b), with its competency topics (6.2.1.3)."""

    training_id = identifier(required=True)
    social_worker_id = identifier(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(TRAINING_KINDS))
    hours = fields.Float(required=True, validate=validate.Range(min=0.5, max=400))
    topics = fields.List(fields.String(validate=validate.OneOf(TRAINING_TOPICS)), required=True)
    completed_on = fields.Date(required=True)


@contract("TrainingRecorded", 2, source="supervision")
class TrainingRecordedV2(Schema):
    """A social worker completed training: pre-job (9.1a) or continuing education counted
    towards 36 hours a year (9.1b), with its competency topics (6.2.1.3). Its length is in whole
    minutes: v1 gave hours as a float, which languages write differently and so cannot be hashed
    the same (RFC 8785)."""

    training_id = identifier(required=True)
    social_worker_id = identifier(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(TRAINING_KINDS))
    minutes = fields.Integer(required=True, validate=validate.Range(min=30, max=24000))
    topics = fields.List(fields.String(validate=validate.OneOf(TRAINING_TOPICS)), required=True)
    completed_on = fields.Date(required=True)


@contract("SupervisionSessionHeld", 1, source="supervision")
class SupervisionSessionHeldV1(Schema):
    """A supervision session was held (6.2.2.2, 9.1c), of one or more of the three kinds."""

    session_id = identifier(required=True)
    supervisor_id = identifier(required=True)
    social_worker_ids = fields.List(identifier(), required=True, validate=validate.Length(min=1))
    kinds = fields.List(
        fields.String(validate=validate.OneOf(SUPERVISION_KINDS)),
        required=True,
        validate=validate.Length(min=1),
    )
    format = fields.String(required=True, validate=validate.OneOf(SUPERVISION_FORMATS))
    held_on = fields.Date(required=True)
    duration_minutes = _positive(required=True)


@contract("EscalationOpened", 1, source="supervision")
class EscalationOpenedV1(Schema):
    """A risk raised in a case opened an escalation (9.6b, 4.1): by the policy table for its type
    and level, `role` must acknowledge before `due_at` or it climbs to the next step."""

    escalation_id = identifier(required=True)
    risk_id = identifier(required=True)
    case_id = identifier(required=True)
    risk_type = identifier(required=True)
    level = identifier(required=True)
    life_safety = fields.Boolean(required=True)
    social_worker_id = identifier(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ACKNOWLEDGING_ROLES))
    steps = _positive(required=True)
    opened_at = fields.DateTime(required=True)
    due_at = fields.DateTime(required=True)


@contract("EscalationClimbed", 1, source="supervision")
class EscalationClimbedV1(Schema):
    """An escalation was not acknowledged in time and climbed to the next step of its ladder."""

    escalation_id = identifier(required=True)
    from_role = fields.String(required=True, validate=validate.OneOf(ACKNOWLEDGING_ROLES))
    to_role = fields.String(required=True, validate=validate.OneOf(ACKNOWLEDGING_ROLES))
    step = _positive(required=True)
    climbed_at = fields.DateTime(required=True)
    due_at = fields.DateTime(required=True)


@contract("EscalationAcknowledged", 1, source="supervision")
class EscalationAcknowledgedV1(Schema):
    """Someone in the required role took charge of an escalation; `in_time` is true when it was
    acknowledged at its first step before the first time limit."""

    escalation_id = identifier(required=True)
    acknowledged_by = identifier(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ACKNOWLEDGING_ROLES))
    step = _positive(required=True)
    acknowledged_at = fields.DateTime(required=True)
    in_time = fields.Boolean(required=True)


@contract("EscalationActionTaken", 1, source="supervision")
class EscalationActionTakenV1(Schema):
    """An emergency response action (9.6b) was taken in an acknowledged escalation."""

    escalation_id = identifier(required=True)
    action = fields.String(required=True, validate=validate.OneOf(ESCALATION_ACTIONS))
    taken_at = fields.DateTime(required=True)


@contract("EscalationResolved", 1, source="supervision")
class EscalationResolvedV1(Schema):
    """An escalation was closed: handled, referred, its risk resolved in the case, or superseded
    by an escalation at a higher level."""

    escalation_id = identifier(required=True)
    resolution = fields.String(required=True, validate=validate.OneOf(ESCALATION_RESOLUTIONS))
    resolved_at = fields.DateTime(required=True)


@contract("QualityFindingRaised", 1, source="supervision")
class QualityFindingRaisedV1(Schema):
    """A key control point of the service process (9.5c) was missed: what should have happened
    by `due_on` had not happened, as detected on `detected_on`."""

    finding_id = identifier(required=True)
    control_point = fields.String(required=True, validate=validate.OneOf(CONTROL_POINTS))
    case_id = identifier(required=True, allow_none=True)
    letter_id = identifier(required=True, allow_none=True)
    social_worker_id = identifier(required=True, allow_none=True)
    due_on = fields.Date(required=True)
    detected_on = fields.Date(required=True)


@contract("ImprovementActionOpened", 1, source="supervision")
class ImprovementActionOpenedV1(Schema):
    """A quality finding started an improvement action (10.3), owned by someone, due by a date."""

    action_id = identifier(required=True)
    finding_id = identifier(required=True)
    owner_id = identifier(required=True)
    opened_on = fields.Date(required=True)
    due_on = fields.Date(required=True)


@contract("ImprovementActionCompleted", 1, source="supervision")
class ImprovementActionCompletedV1(Schema):
    """An improvement action was done (10.3); `on_time` compares with its due date."""

    action_id = identifier(required=True)
    finding_id = identifier(required=True)
    completed_on = fields.Date(required=True)
    on_time = fields.Boolean(required=True)


@contract("ComplaintReceived", 1, source="supervision")
class ComplaintReceivedV1(Schema):
    """A complaint, feedback or suggestion came in through the feedback channel (9.2c, 10.1.2),
    possibly anonymous; its content and any contact stay sealed in the supervision store."""

    complaint_id = identifier(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(FEEDBACK_KINDS))
    channel = fields.String(required=True, validate=validate.OneOf(FEEDBACK_CHANNELS))
    anonymous = fields.Boolean(required=True)
    about_social_worker_id = identifier(required=True, allow_none=True)
    received_on = fields.Date(required=True)
    acknowledge_by = fields.Date(required=True)
    answer_by = fields.Date(required=True)


@contract("ComplaintStepRecorded", 1, source="supervision")
class ComplaintStepRecordedV1(Schema):
    """A handling step of a complaint was taken."""

    complaint_id = identifier(required=True)
    step = fields.String(required=True, validate=validate.OneOf(COMPLAINT_STEPS))
    taken_on = fields.Date(required=True)
    in_time = fields.Boolean(required=True)


@contract("ComplaintAnswered", 1, source="supervision")
class ComplaintAnsweredV1(Schema):
    """A complaint was answered; the answer stays sealed, the outcome and timing are published."""

    complaint_id = identifier(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(COMPLAINT_OUTCOMES))
    answered_on = fields.Date(required=True)
    days_to_answer = fields.Integer(required=True, validate=validate.Range(min=0))
    in_time = fields.Boolean(required=True)


@contract("SatisfactionSurveyRecorded", 1, source="supervision")
class SatisfactionSurveyRecordedV1(Schema):
    """A satisfaction survey (10.2.1) was recorded as counts and a mean score (1–5), with who
    ran it (10.2.3)."""

    survey_id = identifier(required=True)
    social_worker_id = identifier(required=True, allow_none=True)
    respondent_kind = fields.String(required=True, validate=validate.OneOf(RESPONDENT_KINDS))
    respondent_count = _positive(required=True)
    satisfied_count = fields.Integer(required=True, validate=validate.Range(min=0))
    mean_score = fields.Float(required=True, validate=validate.Range(min=1, max=5))
    evaluator_type = fields.String(required=True, validate=validate.OneOf(EVALUATOR_TYPES))
    period_from = fields.Date(required=True)
    period_to = fields.Date(required=True)


@contract("SatisfactionSurveyRecorded", 2, source="supervision")
class SatisfactionSurveyRecordedV2(Schema):
    """A satisfaction survey (10.2.1) was recorded as counts and a mean score in thousandths
    (1000–5000 for 1–5: v1 gave the mean as a float, which cannot be hashed the same in every
    language), with who ran it (10.2.3)."""

    survey_id = identifier(required=True)
    social_worker_id = identifier(required=True, allow_none=True)
    respondent_kind = fields.String(required=True, validate=validate.OneOf(RESPONDENT_KINDS))
    respondent_count = _positive(required=True)
    satisfied_count = fields.Integer(required=True, validate=validate.Range(min=0))
    mean_score_permille = fields.Integer(required=True, validate=validate.Range(min=1000,
                                                                                max=5000))
    evaluator_type = fields.String(required=True, validate=validate.OneOf(EVALUATOR_TYPES))
    period_from = fields.Date(required=True)
    period_to = fields.Date(required=True)


@contract("ServiceEvaluationRecorded", 1, source="supervision")
class ServiceEvaluationRecordedV1(Schema):
    """A service evaluation (10.2.1) by self, peer or third party (10.2.3) was recorded."""

    evaluation_id = identifier(required=True)
    scope = fields.String(required=True, validate=validate.OneOf(EVALUATION_SCOPES))
    social_worker_id = identifier(required=True, allow_none=True)
    evaluator_type = fields.String(required=True, validate=validate.OneOf(EVALUATOR_TYPES))
    rating = fields.String(required=True, validate=validate.OneOf(RATINGS))
    evaluated_on = fields.Date(required=True)
