"""Payloads of the supervision service's commands and queries, as callers send them over RPC
and HTTP, and the schemas of what its queries answer (the gateway's OpenAPI documents them)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from contracts.events.cases import RISK_LEVELS
from contracts.events.supervision import (
    ACKNOWLEDGING_ROLES,
    CERTIFICATE_LEVELS,
    COMPLAINT_OUTCOMES,
    COMPLAINT_STEPS,
    CONTROL_POINTS,
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
from contracts.fields import answer, day, identifier, one_of, out, some_ids
from services.runtime.paging import PageQuery
from services.runtime.publishing import Step

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


class ListSchools(PageQuery):
    """The schools the caller may see (8.1)."""

    district = identifier(load_default=None)
    service_mode = one_of(SERVICE_MODES, load_default=None)


class ListSocialWorkers(SchoolRef, PageQuery):
    """The school's social workers, by whether they are active and may take cases."""

    active = fields.Boolean(load_default=None)
    eligible = fields.Boolean(load_default=None)
    employment = one_of(EMPLOYMENT, load_default=None)


class SupervisionReport(SchoolRef):
    """Supervision per social worker of a school, by kind (6.2.2.2)."""


class ListImprovementActions(SchoolRef, PageQuery):
    """The school's improvement actions (10.3)."""

    status = one_of(("open", "done"), load_default=None)
    owner_id = identifier(load_default=None)


class ListComplaints(SchoolRef, PageQuery):
    """The school's complaints and feedback (9.2c), by kind, answer and date received."""

    kind = one_of(FEEDBACK_KINDS, load_default=None)
    answered = fields.Boolean(load_default=None)
    received_from = fields.Date(load_default=None)
    received_to = fields.Date(load_default=None)


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


class SocialWorkerHistory(SocialWorkerRef):
    """Every change of a social worker's staff record, in order."""


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


class ListSupervisors(SchoolRef, PageQuery):
    """The supervisors a worker of the school may be assigned (6.2.2.1): the school's own, and
    those registered for no one school."""


class ListSupervisees(SupervisorRef, PageQuery):
    """The supervisor's social workers (6.2.2)."""

    active = fields.Boolean(load_default=None)


class RecordTraining(Schema):
    """Record training a social worker completed (9.1)."""

    social_worker_id = identifier(required=True)
    kind = one_of(TRAINING_KINDS, required=True)
    minutes = integer(30, 24000, required=True)
    topics = codes(TRAINING_TOPICS, required=True,
                   validate=validate.Length(min=1, error="Give at least one topic (6.2.1.3)."))
    completed_on = fields.Date(required=True)


class ListTrainings(SchoolRef, PageQuery):
    """Training completed by the school's social workers (9.1), by year, kind and worker."""

    year = integer(2000, 2100, load_default=None)
    kind = one_of(TRAINING_KINDS, load_default=None)
    social_worker_id = identifier(load_default=None)


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


class ListSupervisionSessions(SchoolRef, PageQuery):
    """Supervision sessions with the school's social workers (6.2.2.2, 9.1c)."""

    supervisor_id = identifier(load_default=None)
    social_worker_id = identifier(load_default=None)
    held_from = fields.Date(load_default=None)
    held_to = fields.Date(load_default=None)


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


class ListEveryEscalation(PageQuery):
    """Every school's risk escalations, by state, level, whether past their time, the role
    they wait for and the case whose risk opened them (9.6b)."""

    status = one_of(ESCALATION_STATES, load_default=None)
    level = one_of(RISK_LEVELS, load_default=None)
    overdue = fields.Boolean(load_default=None)
    waiting_for = one_of(ACKNOWLEDGING_ROLES, load_default=None)
    case_id = identifier(load_default=None)


class ListEscalations(SchoolRef, ListEveryEscalation):
    """A school's risk escalations, by state, level, whether past their time, the role they
    wait for and the case whose risk opened them (9.6b)."""


class CountEscalationsBySchool(Schema):
    """The escalations waiting for someone to take charge of them, and of those the overdue,
    in each school named (9.6b): beside each school on the operator's schools page."""

    school_id = some_ids(required=True)


class ListFindings(SchoolRef, PageQuery):
    """Key control points of a school found unmet (9.5c)."""

    status = one_of(FINDING_STATES, load_default=None)
    control_point = one_of(CONTROL_POINTS, load_default=None)
    social_worker_id = identifier(load_default=None)


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
    # 1–5 in thousandths: 4250 is a mean of 4.25.
    mean_score_permille = integer(1000, 5000, required=True)
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


class ListSatisfactionSurveys(SchoolRef, PageQuery):
    """Satisfaction surveys of a school (10.2.1), by the end of their period, by who answered,
    who ran them and the worker surveyed about."""

    respondent_kind = one_of(RESPONDENT_KINDS, load_default=None)
    evaluator_type = one_of(EVALUATOR_TYPES, load_default=None)
    social_worker_id = identifier(load_default=None)


class ListServiceEvaluations(SchoolRef, PageQuery):
    """Service evaluations of a school (10.2.1), by scope, evaluator type and worker."""

    scope = one_of(EVALUATION_SCOPES, load_default=None)
    evaluator_type = one_of(EVALUATOR_TYPES, load_default=None)
    social_worker_id = identifier(load_default=None)


class ComplianceReport(Schema):
    """Which shall-items of the standard a school met in a period."""

    school_id = identifier(required=True)
    period_from = fields.Date(required=True)
    period_to = fields.Date(required=True)


class ComplianceReportCsv(ComplianceReport):
    """The compliance report of a school and period, as CSV."""


# Answers.


def instant(description: str, **kwargs: Any) -> fields.Field:
    return fields.String(required=True,
                         metadata={"description": description, "format": "date-time"}, **kwargs)


def texts(description: str) -> fields.Field:
    return out(fields.List, description, cls_or_instance=fields.String())


class SchoolRecord(Schema):
    """A school and its service space (8.1, 6.1)."""

    school_id = out(fields.String, "The school's code.")
    name = out(fields.String, "The school's name.")
    district = out(fields.String, "Its district.")
    service_mode = out(fields.String, "resident (8.1.1) or visiting (8.1.2).")
    facility_kinds = texts("Its rooms for social work (6.1).")
    has_service_space = out(fields.Boolean, "Whether it has a service space (6.1.1).")
    registered_on = day("When it was registered.")


class SocialWorkerRecord(Schema):
    """A social worker: qualification, schools served, supervisor, and whether they may take
    cases (6.2.1.2, 9.1a)."""

    social_worker_id = out(fields.String, "The worker's staff id.")
    school_ids = texts("The schools they serve.")
    employment = out(fields.String, "full_time or part_time (6.2.1.1).")
    qualification = out(fields.Dict, "Certificate, diploma, projects led, ethics commitment.")
    qualification_basis = out(fields.String, "certificate or diploma (6.2.1.2); null: neither.",
                              allow_none=True)
    supervisor_id = out(fields.String, "Their supervisor (6.2.2).", allow_none=True)
    active = out(fields.Boolean, "False once they left.")
    registered_on = day("When they were registered.")
    left_on = day("When they left.", allow_none=True)
    eligible = out(fields.Boolean, "Whether they may take cases now.")
    ineligibility = texts("Why not, as codes.")
    pre_job_trained = out(fields.Boolean, "Whether pre-job training is recorded (9.1a).")


class WorkerHistory(Schema):
    """A social worker's staff record, change by change, with what was published of each."""

    social_worker_id = out(fields.String, "The worker's staff id.")
    steps = fields.List(fields.Nested(Step), required=True)


class SupervisorRecord(Schema):
    """A supervisor (6.2.2.1): where they serve and their qualification."""

    supervisor_id = out(fields.String, "The supervisor's staff id.")
    school_id = out(fields.String, "Their school; null: registered for no one school.",
                    allow_none=True)
    employment = out(fields.String, "full_time or part_time.")
    setting = out(fields.String, "internal or external (10.1.1).")
    certificate_level = out(fields.String, "Their social work certificate.")
    years_of_practice = out(fields.Integer, "Years of practice (6.2.2.1).")
    registered_on = day("When they were registered.")


class Eligibility(Schema):
    """Whether a social worker may take cases, and why not (6.2.1.2, 9.1a)."""

    social_worker_id = out(fields.String, "The worker's staff id.")
    eligible = out(fields.Boolean, "Whether they may take cases now.")
    reasons = texts("Why not, as codes.")


class TrainingRecord(Schema):
    """Training a social worker completed (9.1), in whole minutes."""

    training_id = out(fields.String, "The training's id.")
    social_worker_id = out(fields.String, "Who completed it.")
    kind = out(fields.String, "pre_job (9.1a) or continuing (9.1b).")
    minutes = out(fields.Integer, "Its length in minutes.")
    topics = texts("Its competency topics (6.2.1.3).")
    completed_on = day("When it was completed.")
    year = out(fields.Integer, "The calendar year it counts for (9.1b).")


class TrainingLine(Schema):
    """A worker's continuing education in a year against the 36 hours of 9.1b, in minutes."""

    social_worker_id = out(fields.String, "The worker's staff id.")
    year = out(fields.Integer, "The calendar year.")
    continuing_minutes = out(fields.Integer, "Minutes of continuing education that year.")
    minutes_missing = out(fields.Integer, "Minutes short of 36 hours (0 when met).")
    below_minimum = out(fields.Boolean, "Whether it is short of 36 hours.")
    pre_job_trained = out(fields.Boolean, "Whether pre-job training is recorded (9.1a).")
    topics = texts("The topics covered that year (6.2.1.3).")


class TrainingReportRecord(Schema):
    """Continuing education per active worker of a school in a year (9.1b)."""

    school_id = out(fields.String, "The school.")
    year = out(fields.Integer, "The calendar year.")
    lines = out(fields.List, "A line per active worker.",
                cls_or_instance=fields.Nested(TrainingLine))


class SessionRecord(Schema):
    """A supervision session (6.2.2.2, 9.1c)."""

    session_id = out(fields.String, "The session's id.")
    school_id = out(fields.String, "The school it was held for.", allow_none=True)
    supervisor_id = out(fields.String, "Who supervised.")
    social_worker_ids = texts("The supervisees.")
    kinds = texts("administrative, educational, supportive (6.2.2.2).")
    format = out(fields.String, "individual or group.")
    held_on = day("When it was held.")
    duration_minutes = out(fields.Integer, "How long it took.")


class SupervisionLine(Schema):
    """A worker's supervision: sessions, the last, days since, the kinds received (9.1c)."""

    social_worker_id = out(fields.String, "The worker's staff id.")
    supervisor_id = out(fields.String, "Their supervisor.", allow_none=True)
    sessions = out(fields.Integer, "Sessions received.")
    last_session_on = day("The last one.", allow_none=True)
    days_without_supervision = out(fields.Integer, "Days since the last (or registration).")
    overdue = out(fields.Boolean, "Whether that exceeds the configured interval (9.1c).")
    kinds = out(fields.Dict, "Sessions by kind (6.2.2.2).")


class SupervisionReportRecord(Schema):
    """Supervision per active worker of a school (6.2.2.2, 9.1c)."""

    school_id = out(fields.String, "The school.")
    interval_days = out(fields.Integer, "The longest time allowed without supervision (9.1c).")
    lines = out(fields.List, "A line per active worker.",
                cls_or_instance=fields.Nested(SupervisionLine))


class EscalationRecord(Schema):
    """A risk escalation: its ladder, the step it waits at, acknowledgement, resolution (9.6b)."""

    escalation_id = out(fields.String, "The escalation's id.")
    version = out(fields.Integer, "How many changes its record has had.")
    school_id = out(fields.String, "The case's school.", allow_none=True)
    risk_id = out(fields.String, "The risk.")
    case_id = out(fields.String, "The case.")
    risk_type = out(fields.String, "The risk's type (4.1).")
    level = out(fields.String, "The risk's level.")
    life_safety = out(fields.Boolean, "Whether life or safety is at stake.")
    social_worker_id = out(fields.String, "Who raised the risk.")
    status = out(fields.String, "awaiting acknowledgement, acknowledged or resolved.")
    step = out(fields.Integer, "The ladder's step it is at (1 is the first).")
    role = out(fields.String, "The role that step waits for.")
    opened_at = instant("When it opened.")
    due_at = instant("When the current step's time runs out.")
    ladder = out(fields.List, "Each step's role and minutes.", cls_or_instance=fields.Dict())
    acknowledgement = out(fields.Dict, "Who acknowledged, when, at which step, in time.",
                          allow_none=True)
    resolution = out(fields.Dict, "How and when it was resolved.", allow_none=True)


class TrailEntry(Schema):
    """One thing that happened to an escalation."""

    event = out(fields.String, "What happened.")
    at = instant("When.")
    version = out(fields.Integer, "The escalation's version after it.")
    actor = out(fields.Dict, "Who: id and role.")
    details = out(fields.Dict, "The event's own fields.")


class SchoolEscalations(Schema):
    school_id = out(fields.String, "The school.")
    awaiting = out(fields.Integer, "Its escalations waiting for someone to take charge of "
                   "them (acknowledge them).")
    overdue = out(fields.Integer, "Of those, the ones waiting past their step's time (9.6b).")


class EscalationsBySchool(Schema):
    """Each school asked for that the caller may see, in the order asked, zeros included."""

    schools = out(fields.List, "Each school's counts.",
                  cls_or_instance=fields.Nested(SchoolEscalations))


class EscalationTrailRecord(Schema):
    """What happened to an escalation, in order (9.6b)."""

    escalation_id = out(fields.String, "The escalation's id.")
    trail = out(fields.List, "Each thing that happened.",
                cls_or_instance=fields.Nested(TrailEntry))


class FindingRecord(Schema):
    """A key control point found unmet (9.5c)."""

    finding_id = out(fields.String, "The finding's id.")
    school_id = out(fields.String, "The school.", allow_none=True)
    control_point = out(fields.String, "Which control point.")
    case_id = out(fields.String, "The case it is about.", allow_none=True)
    letter_id = out(fields.String, "The letter it is about.", allow_none=True)
    social_worker_id = out(fields.String, "The case's worker.", allow_none=True)
    due_on = day("The deadline that was missed.")
    detected_on = day("When it was found missed.")
    status = out(fields.String, "open, in_improvement or addressed.")
    action_id = out(fields.String, "Its improvement action (10.3).", allow_none=True)


class ImprovementActionRecord(Schema):
    """The response to a finding, owned and tracked to done (10.3)."""

    action_id = out(fields.String, "The action's id.")
    school_id = out(fields.String, "The school.", allow_none=True)
    finding_id = out(fields.String, "The finding it answers.")
    owner_id = out(fields.String, "Who owns it.")
    plan = out(fields.String, "What is to be done (practice, not clients).")
    opened_on = day("When it was opened.")
    due_on = day("When it is due.")
    status = out(fields.String, "open or done.")
    completed_on = day("When it was completed.", allow_none=True)
    on_time = out(fields.Boolean, "Whether it was completed by its due date.", allow_none=True)
    result = out(fields.String, "What was done.", allow_none=True)


class ComplaintRecord(Schema):
    """A complaint's codes, dates and time limits (9.2c, 10.1.2); never its content."""

    complaint_id = out(fields.String, "The complaint's id.")
    school_id = out(fields.String, "The school.")
    kind = out(fields.String, "complaint, feedback or suggestion.")
    channel = out(fields.String, "How it came in.")
    anonymous = out(fields.Boolean, "Whether it is anonymous.")
    about_social_worker_id = out(fields.String, "The worker it is about.", allow_none=True)
    received_on = day("When it was received.")
    acknowledge_by = day("When it must be acknowledged by (10.1.2).")
    acknowledged_on = day("When its first handling step was taken.", allow_none=True)
    answer_by = day("When it must be answered by.")
    answered_on = day("When it was answered.", allow_none=True)
    outcome = out(fields.String, "The outcome of the answer.", allow_none=True)
    answered_in_time = out(fields.Boolean, "In time, late, or null while time remains.",
                           allow_none=True)
    step_count = out(fields.Integer, "Handling steps taken.")


class ComplaintDetail(ComplaintRecord):
    """A complaint and its handling; the content, contact and notes for those who handle it."""

    steps = out(fields.List, "Each handling step: what, when, in time (and its note).",
                cls_or_instance=fields.Dict())
    content = fields.String(metadata={"description": "What it says (handlers only)."})
    contact = fields.String(allow_none=True,
                            metadata={"description": "The complainant's contact (handlers)."})
    answer = fields.Dict(metadata={"description": "The answer given (handlers only)."})


class SurveyRecord(Schema):
    """A satisfaction survey's figures over its period, and who ran it (10.2.1, 10.2.3)."""

    survey_id = out(fields.String, "The survey's id.")
    school_id = out(fields.String, "The school.")
    social_worker_id = out(fields.String, "The worker it was about; null: the school's service.",
                           allow_none=True)
    respondent_kind = out(fields.String, "Who answered: students, parents, teachers.")
    respondent_count = out(fields.Integer, "How many answered.")
    satisfied_count = out(fields.Integer, "How many of them were satisfied.")
    mean_score_permille = out(fields.Integer, "The mean score (1–5) in thousandths.")
    evaluator_type = out(fields.String, "self, peer or third_party (10.2.3).")
    period_from = day("The first day of the period surveyed.")
    period_to = day("The last day of the period surveyed.")


class EvaluationRecord(Schema):
    """A service evaluation and who evaluated (10.2.1, 10.2.3); never its findings text."""

    evaluation_id = out(fields.String, "The evaluation's id.")
    school_id = out(fields.String, "The school.")
    scope = out(fields.String, "social_worker, school or project.")
    social_worker_id = out(fields.String, "The worker evaluated.", allow_none=True)
    evaluator_type = out(fields.String, "self, peer or third_party (10.2.3).")
    rating = out(fields.String, "The rating.")
    evaluated_on = day("When it was evaluated.")


class EvaluationSummaryRecord(Schema):
    """Surveys and evaluations of a school (10.2.1), in thousandths."""

    school_id = out(fields.String, "The school.")
    surveys = out(fields.Integer, "Satisfaction surveys recorded.")
    respondents = out(fields.Integer, "Their respondents.")
    satisfied_permille = out(fields.Integer, "Satisfied respondents, in thousandths.",
                             allow_none=True)
    mean_score_permille = out(fields.Integer, "Mean score (1–5) in thousandths, weighted by "
                              "respondents.", allow_none=True)
    evaluations = out(fields.List, "Evaluations counted by evaluator type and rating.",
                      cls_or_instance=fields.Dict())


class ComplianceReportRecord(Schema):
    """Which shall-items of the standard a school met in a period, and each gap."""

    school_id = out(fields.String, "The school.")
    period_from = day("The period's first day.")
    period_to = day("The period's last day.")
    generated_at = instant("When the report was made.")
    compliant = out(fields.Boolean, "Whether no gap was found.")
    checks = out(fields.List, "Each check: clause, name, met, figures.",
                 cls_or_instance=fields.Dict())
    gaps = out(fields.List, "Each gap: clause, check, subject, detail.",
               cls_or_instance=fields.Dict())
    figures = out(fields.Dict, "Training, supervision and findings figures.")


SchoolId = answer("school_id", "The school's code.")
SocialWorkerId = answer("social_worker_id", "The worker's staff id.")
SupervisorId = answer("supervisor_id", "The supervisor's id.")
TrainingId = answer("training_id", "The training's id.")
SessionId = answer("session_id", "The session's id.")
EscalationId = answer("escalation_id", "The escalation's id.")
ActionId = answer("action_id", "The improvement action's id.")
ComplaintId = answer("complaint_id", "The complaint's id.")
SurveyId = answer("survey_id", "The survey's id.")
EvaluationId = answer("evaluation_id", "The evaluation's id.")


class SupervisorAssignment(Schema):
    """Who supervises the worker now (6.2.2)."""

    social_worker_id = out(fields.String, "The worker's staff id.")
    supervisor_id = out(fields.String, "Their supervisor.")


class AcknowledgedEscalation(Schema):
    """The escalation after its acknowledgement (9.6b)."""

    escalation_id = out(fields.String, "The escalation's id.")
    status = out(fields.String, "acknowledged.")
    step = out(fields.Integer, "The ladder's step it was acknowledged at.")
    role = out(fields.String, "The role that step waited for.")
    acknowledgement = out(fields.Dict, "Who acknowledged, when, at which step, in time.")
