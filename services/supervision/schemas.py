"""Command payloads of the supervision service, as callers send them over RPC and HTTP."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from contracts.events.supervision import (
    CERTIFICATE_LEVELS,
    COMPLAINT_OUTCOMES,
    COMPLAINT_STEPS,
    DEACTIVATION_REASONS,
    DIPLOMA_LEVELS,
    EMPLOYMENT,
    ESCALATION_ACTIONS,
    EVALUATION_SCOPES,
    EVALUATOR_TYPES,
    FACILITY_KINDS,
    FEEDBACK_CHANNELS,
    FEEDBACK_KINDS,
    RATINGS,
    RESPONDENT_KINDS,
    SERVICE_MODES,
    SUPERVISION_FORMATS,
    SUPERVISION_KINDS,
    SUPERVISOR_SETTINGS,
    TRAINING_KINDS,
    TRAINING_TOPICS,
)
from contracts.fields import identifier, one_of

FREE_TEXT = validate.Length(min=1, max=20000)
ESCALATION_STATES = ("awaiting acknowledgement", "acknowledged", "resolved")
FINDING_STATES = ("open", "in_improvement", "addressed")


def optional_date() -> fields.Date:
    """A date that defaults to today on the service's clock."""
    return fields.Date(load_default=None)


def integer(minimum: int, maximum: int | None = None, **kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=minimum, max=maximum),
                          **kwargs)


def codes(choices: tuple[str, ...], **kwargs: Any) -> fields.List:
    return fields.List(one_of(choices), **kwargs)


class SchoolRef(Schema):
    school_id = identifier(required=True)


class GetSchool(SchoolRef):
    """A school (8.1)."""


class ListSocialWorkers(SchoolRef):
    """The school's social workers."""


class SupervisionReport(SchoolRef):
    """Supervision per social worker of a school, by kind (6.2.2.2)."""


class ListImprovementActions(SchoolRef):
    """The school's improvement actions (10.3)."""


class ListComplaints(SchoolRef):
    """The school's complaints and feedback (9.2c)."""


class EvaluationSummary(SchoolRef):
    """Satisfaction surveys and service evaluations of a school (10.2)."""


class RegisterSchool(Schema):
    """Register a school and its service mode (8.1, 6.1)."""

    school_id = identifier(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    district = identifier(required=True)
    service_mode = one_of(SERVICE_MODES, required=True)
    facility_kinds = codes(FACILITY_KINDS, load_default=list)
    registered_on = optional_date()


class RecordFacilities(Schema):
    """Record the school's service space (6.1)."""

    school_id = identifier(required=True)
    facility_kinds = codes(FACILITY_KINDS, required=True)
    recorded_on = optional_date()


class Qualification(Schema):
    """6.2.1.2: certificate or social-work diploma (college or above), a led school or youth
    project, and the commitment to the profession's values and ethics."""

    certificate_level = one_of(CERTIFICATE_LEVELS, required=True)
    diploma_level = one_of(DIPLOMA_LEVELS, required=True)
    diploma_in_social_work = fields.Boolean(required=True)
    projects_led = integer(0, required=True)
    ethics_commitment = fields.Boolean(required=True)


class RegisterSocialWorker(Qualification):
    """Register a social worker with their qualification (6.2.1)."""

    social_worker_id = identifier(required=True)
    employment = one_of(EMPLOYMENT, required=True)
    school_ids = fields.List(identifier(), required=True,
                             validate=validate.Length(min=1, error="Give at least one school."))
    registered_on = optional_date()


class RecordQualification(Qualification):
    """Record a social worker's qualification (6.2.1.2)."""

    social_worker_id = identifier(required=True)
    recorded_on = optional_date()


class SocialWorkerRef(Schema):
    social_worker_id = identifier(required=True)


class GetSocialWorker(SocialWorkerRef):
    """A social worker."""


class WorkerEligibility(SocialWorkerRef):
    """Whether a social worker may take cases (6.2.1.2, 9.1a)."""


class AssignSocialWorker(Schema):
    """Assign a social worker to a school."""

    social_worker_id = identifier(required=True)
    school_id = identifier(required=True)
    assigned_on = optional_date()


class EndAssignment(Schema):
    """End a social worker's assignment to a school."""

    social_worker_id = identifier(required=True)
    school_id = identifier(required=True)
    ended_on = optional_date()


class DeactivateSocialWorker(Schema):
    """Record that a social worker left."""

    social_worker_id = identifier(required=True)
    reason = one_of(DEACTIVATION_REASONS, required=True)
    left_on = optional_date()


class RegisterSupervisor(Schema):
    """Register a supervisor (6.2.2.1)."""

    supervisor_id = identifier(required=True)
    employment = one_of(EMPLOYMENT, required=True)
    setting = one_of(SUPERVISOR_SETTINGS, load_default="internal")
    certificate_level = one_of(CERTIFICATE_LEVELS, required=True)
    years_of_practice = integer(0, required=True)
    school_id = identifier(load_default=None)
    registered_on = optional_date()


class AssignSupervisor(Schema):
    """Assign a social worker's supervisor (6.2.2)."""

    social_worker_id = identifier(required=True)
    supervisor_id = identifier(required=True)
    assigned_on = optional_date()


class SupervisorRef(Schema):
    supervisor_id = identifier(required=True)


class ListSupervisees(SupervisorRef):
    """The supervisor's social workers (6.2.2)."""


class RecordTraining(Schema):
    """Record training a social worker completed (9.1)."""

    social_worker_id = identifier(required=True)
    kind = one_of(TRAINING_KINDS, required=True)
    hours = fields.Float(required=True, validate=validate.Range(min=0.5, max=400))
    topics = codes(TRAINING_TOPICS, required=True,
                   validate=validate.Length(min=1, error="Give at least one topic (6.2.1.3)."))
    completed_on = fields.Date(required=True)


class TrainingReport(Schema):
    """Training hours per social worker of a school in a year (9.1b)."""

    school_id = identifier(required=True)
    year = integer(2000, 2100, required=True)


class RecordSupervisionSession(Schema):
    """Record a supervision session (6.2.2.2, 9.1c)."""

    supervisor_id = identifier(required=True)
    social_worker_ids = fields.List(identifier(), required=True,
                                    validate=validate.Length(min=1))
    kinds = codes(SUPERVISION_KINDS, required=True, validate=validate.Length(
        min=1, error="Give at least one kind: administrative, educational, supportive."))
    format = one_of(SUPERVISION_FORMATS, load_default="individual")
    held_on = fields.Date(required=True)
    duration_minutes = integer(1, 480, required=True)


class EscalationRef(Schema):
    escalation_id = fields.UUID(required=True)


class GetEscalation(EscalationRef):
    """A risk escalation (9.6b)."""


class EscalationTrail(EscalationRef):
    """What happened to a risk escalation, in order (9.6b)."""


class AcknowledgeEscalation(EscalationRef):
    """Acknowledge a risk escalation (9.6b)."""


class RecordEscalationAction(Schema):
    """Record an action taken on a risk escalation (9.6b)."""

    escalation_id = fields.UUID(required=True)
    action = one_of(ESCALATION_ACTIONS, required=True)


class ResolveEscalation(Schema):
    """Resolve a risk escalation (9.6b)."""

    escalation_id = fields.UUID(required=True)
    # risk_resolved and superseded come only from the cases stream.
    resolution = one_of(("handled", "referred"), required=True)


class ListEscalations(Schema):
    """A school's risk escalations, by status (9.6b)."""

    school_id = identifier(required=True)
    status = one_of(ESCALATION_STATES, load_default=None)


class ListFindings(Schema):
    """Key control points of a school found unmet (9.5c)."""

    school_id = identifier(required=True)
    status = one_of(FINDING_STATES, load_default=None)


class OpenImprovementAction(Schema):
    """Open an improvement action for a finding (10.3)."""

    finding_id = fields.UUID(required=True)
    owner_id = identifier(required=True)
    plan = fields.String(required=True, validate=FREE_TEXT)
    due_on = fields.Date(required=True)


class CompleteImprovementAction(Schema):
    """Complete an improvement action (10.3)."""

    action_id = fields.UUID(required=True)
    result = fields.String(required=True, validate=FREE_TEXT)
    completed_on = optional_date()


class ReceiveComplaint(Schema):
    """Receive a complaint or feedback, also anonymous (9.2c, 10.1.2)."""

    school_id = identifier(required=True)
    kind = one_of(FEEDBACK_KINDS, load_default="complaint")
    channel = one_of(FEEDBACK_CHANNELS, required=True)
    anonymous = fields.Boolean(load_default=False)
    content = fields.String(required=True, validate=FREE_TEXT)
    contact = fields.String(load_default=None, validate=validate.Length(min=1, max=500))
    about_social_worker_id = identifier(load_default=None)
    received_on = optional_date()


class ComplaintRef(Schema):
    complaint_id = fields.UUID(required=True)


class GetComplaint(ComplaintRef):
    """A complaint and its handling (9.2c)."""


class RecordComplaintStep(Schema):
    """Record a handling step of a complaint (9.2c)."""

    complaint_id = fields.UUID(required=True)
    step = one_of(COMPLAINT_STEPS, required=True)
    note = fields.String(load_default="", validate=validate.Length(max=20000))
    taken_on = optional_date()


class AnswerComplaint(Schema):
    """Answer a complaint (9.2c)."""

    complaint_id = fields.UUID(required=True)
    outcome = one_of(COMPLAINT_OUTCOMES, required=True)
    answer = fields.String(required=True, validate=FREE_TEXT)
    answered_on = optional_date()


class RecordSatisfactionSurvey(Schema):
    """Record a satisfaction survey (10.2.1)."""

    school_id = identifier(required=True)
    social_worker_id = identifier(load_default=None)
    respondent_kind = one_of(RESPONDENT_KINDS, required=True)
    respondent_count = integer(1, required=True)
    satisfied_count = integer(0, required=True)
    mean_score = fields.Float(required=True, validate=validate.Range(min=1, max=5))
    evaluator_type = one_of(EVALUATOR_TYPES, required=True)
    period_from = fields.Date(required=True)
    period_to = fields.Date(required=True)


class RecordServiceEvaluation(Schema):
    """Record a service evaluation and who evaluated (10.2.3)."""

    school_id = identifier(required=True)
    scope = one_of(EVALUATION_SCOPES, required=True)
    social_worker_id = identifier(load_default=None)
    evaluator_type = one_of(EVALUATOR_TYPES, required=True)
    rating = one_of(RATINGS, required=True)
    findings = fields.String(load_default="", validate=validate.Length(max=20000))
    evaluated_on = optional_date()


class ComplianceReport(Schema):
    """Which shall-items of the standard a school met in a period."""

    school_id = identifier(required=True)
    period_from = fields.Date(required=True)
    period_to = fields.Date(required=True)


class ComplianceReportCsv(ComplianceReport):
    """The compliance report of a school and period, as CSV."""
