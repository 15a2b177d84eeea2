"""Command payloads of the cases service, as callers send them over RPC and HTTP. Rules of the
standard that depend on a record's state (the seven parts of a plan, a declined intake's
referral, what an evaluation covers) are checked by the aggregates, not here."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from contracts.events.cases import (
    AGENCY_KINDS,
    CLIENT_TYPES,
    CLOSING_REASONS,
    CONSENT_PARTIES,
    DECLINE_REASONS,
    EVALUATION_KINDS,
    FOLLOW_UP_OUTCOMES,
    INTERVENTION_FORMS,
    INTERVENTION_METHODS,
    RESOURCE_KINDS,
    RISK_LEVELS,
    RISK_TYPES,
)
from contracts.fields import identifier, one_of, service_codes, system_identifier
from services.cases.rules import EMERGENCY_RISK_TYPES

NAME = validate.Length(min=1, max=200)
RELATED_PARTY_KINDS = ("family_member", "teacher", "peer", "agency", "other")  # 4.6
PARTICIPANT_KINDS = ("client", "guardian", "family_member", "teacher", "peer", "agency", "other")
INFORMED_OF = ("rights", "responsibilities", "obligations", "service_plan")  # 4.2
RECIPIENT_KINDS = ("guardian", "school", "police", "medical", "child_protection", "other")
# Why a client is referred to an agency (7.1.4b); a declined intake's referral has the decline's
# own reason (8.3.1e).
REFERRAL_REASONS = ("beyond_scope", "specialist_need", "client_request", "other")


def text(min_length: int = 0, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=min_length, max=20000), **kwargs)


def optional_text() -> fields.String:
    return text(load_default=None, allow_none=True)


def texts(**kwargs: Any) -> fields.List:
    """A list of short free-text items (problems, goals, steps)."""
    return fields.List(fields.String(validate=validate.Length(min=1, max=2000)), **kwargs)


def count(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, **kwargs)


class CaseRef(Schema):
    case_id = fields.UUID(required=True)


# Client register (9.2a, 5, 4.6).


class Guardian(Schema):
    name = fields.String(required=True, validate=NAME)
    relation = fields.String(required=True, validate=validate.Length(min=1, max=50))
    contact = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class RelatedParty(Schema):
    kind = one_of(RELATED_PARTY_KINDS, required=True)
    name = fields.String(required=True, validate=NAME)
    relation = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    contact = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class RegisterClient(Schema):
    """Register a client in the school's client register (9.2a). Leave `client_id` out and
    Casebook makes one; give one only as a UUID your own system made."""

    client_id = system_identifier(load_default=None)
    school_id = identifier(load_default=None)
    client_type = one_of(CLIENT_TYPES, required=True)
    name = fields.String(required=True, validate=NAME)
    date_of_birth = fields.Date(load_default=None, allow_none=True)
    grade = count(load_default=None, allow_none=True, validate=validate.Range(min=1, max=12))
    contact = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    guardians = fields.List(fields.Nested(Guardian), load_default=list)
    related_parties = fields.List(fields.Nested(RelatedParty), load_default=list)


class AddGuardian(Guardian):
    """Add a guardian to a client (4.2)."""

    client_id = identifier(required=True)


class AddRelatedParty(RelatedParty):
    """Add a related party of a client's ecosystem (4.6)."""

    client_id = identifier(required=True)


# Intake (8.3.1).


class Emergency(Schema):
    """8.3.1d: abuse, violence, trauma or substance abuse calls for emergency intervention."""

    risk_type = one_of(EMERGENCY_RISK_TYPES, required=True)
    # An emergency is treated as a threat to life until the worker assesses it lower.
    level = one_of(RISK_LEVELS, load_default="critical")
    description = optional_text()


class Intake(Schema):
    worker_introduced = fields.Boolean(load_default=False)
    respect_and_empathy = fields.Boolean(load_default=False)
    initial_information = optional_text()
    emergency = fields.Nested(Emergency, load_default=None, allow_none=True)


class OpenCase(Schema):
    """Open a case for a registered client (8.3.1)."""

    school_id = identifier(load_default=None)
    client_id = identifier(required=True)
    # Optional: the register knows it; when given it must match the register.
    client_type = one_of(CLIENT_TYPES, load_default=None, allow_none=True)
    social_worker_id = identifier(required=True)
    service_codes = service_codes(required=True)
    opened_on = fields.Date(required=True)
    letter_id = fields.UUID(load_default=None, allow_none=True)
    intake = fields.Nested(Intake, load_default=dict)


class RecordIntake(Intake, CaseRef):
    """Record the intake (8.3.1)."""

    worker_introduced = fields.Boolean(load_default=None, allow_none=True)
    respect_and_empathy = fields.Boolean(load_default=None, allow_none=True)


class AcceptIntake(CaseRef):
    """Accept the intake: a professional relationship begins (8.3.1e)."""

    accepted_on = fields.Date(required=True)


class Referral(Schema):
    agency_kind = one_of(AGENCY_KINDS, required=True)
    agency_id = identifier(load_default=None, allow_none=True)
    note = optional_text()


class DeclineIntake(CaseRef):
    """Decline the intake with a reason and a referral (8.3.1e)."""

    reason_code = one_of(DECLINE_REASONS, required=True)
    explanation = optional_text()
    declined_on = fields.Date(required=True)
    referral = fields.Nested(Referral, load_default=None, allow_none=True)


# Consent (4.2).


class RecordConsent(CaseRef):
    """Record informed consent, and a guardian's for a minor (4.2)."""

    party = one_of(CONSENT_PARTIES, required=True)
    given_on = fields.Date(required=True)
    informed_of = fields.List(one_of(INFORMED_OF), load_default=lambda: list(INFORMED_OF),
                              validate=validate.Length(min=1))
    given_by = fields.String(load_default=None, allow_none=True, validate=NAME)


class WithdrawConsent(CaseRef):
    """Record that consent was withdrawn (4.2)."""

    party = one_of(CONSENT_PARTIES, required=True)
    withdrawn_on = fields.Date(required=True)
    reason = optional_text()


# Assessment (8.3.2) and plan (8.3.3).


class RecordAssessment(CaseRef):
    """Record an assessment (8.3.2)."""

    assessed_on = fields.Date(required=True)
    environment = text(min_length=1, required=True)
    problems = texts(required=True, validate=validate.Length(min=1))
    causes = texts(required=True, validate=validate.Length(min=1))
    priorities = texts(required=True, validate=validate.Length(min=1))
    strengths = texts(required=True, validate=validate.Length(min=1))
    preliminary_plan = optional_text()


class Goal(Schema):
    goal = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    baseline = fields.Float(load_default=None, allow_none=True)  # 10.2.2 baseline measure
    measure = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class PlanParts(Schema):
    """The seven parts of 8.3.3b; all may be sent empty so that the refusal names each one
    missing rather than the first."""

    goals = fields.List(fields.Nested(Goal), load_default=list)
    content = text(load_default="")
    methods = texts(load_default=list)
    action_steps = texts(load_default=list)
    schedule = text(load_default="")
    evaluation_participants = texts(load_default=list)
    evaluation_methods = texts(load_default=list)


class AdoptPlan(PlanParts, CaseRef):
    """Adopt the service plan with its seven parts (8.3.3)."""

    adopted_on = fields.Date(required=True)
    review_by = fields.Date(load_default=None, allow_none=True)


class RevisePlan(PlanParts, CaseRef):
    """Revise the plan: a new version, the old one kept (8.3.3)."""

    revised_on = fields.Date(required=True)
    reason = optional_text()


# Intervention (8.3.4), resources, referrals.


class LogIntervention(CaseRef):
    """Log an intervention delivered in a case (8.3.4)."""

    form = one_of(INTERVENTION_FORMS, required=True)
    method = one_of(INTERVENTION_METHODS, required=True)
    service_codes = service_codes(required=True)
    delivered_on = fields.Date(required=True)
    duration_minutes = count(required=True, validate=validate.Range(min=1, max=1440))
    participant_count = count(load_default=1, validate=validate.Range(min=1))
    participant_kinds = fields.List(one_of(PARTICIPANT_KINDS), load_default=lambda: ["client"])
    notes = optional_text()
    life_safety = fields.Boolean(load_default=False)


class RequestResource(CaseRef):
    """Ask the resources service for a resource for a case (8.3.4b)."""

    kind = one_of(RESOURCE_KINDS, required=True)
    service_codes = service_codes(required=True)
    quantity = count(load_default=1, validate=validate.Range(min=1))
    needed_by = fields.Date(load_default=None, allow_none=True)
    description = optional_text()
    life_safety = fields.Boolean(load_default=False)


class MakeReferral(Referral, CaseRef):
    """Refer the client to an agency (8.3.1e, 7.1.4b)."""

    reason_code = one_of(REFERRAL_REASONS, required=True)
    referred_on = fields.Date(required=True)
    life_safety = fields.Boolean(load_default=False)


# Evaluation (8.3.5, 10.2.2) and closing (8.3.6).


class GoalResult(Schema):
    goal_number = count(required=True, validate=validate.Range(min=1))
    baseline = fields.Float(load_default=None, allow_none=True)
    measure = fields.Float(load_default=None, allow_none=True)
    attainment = count(required=True, validate=validate.Range(min=-2, max=2))  # GAS −2…+2


class RecordEvaluation(CaseRef):
    """Record a process or outcome evaluation (8.3.5)."""

    kind = one_of(EVALUATION_KINDS, required=True)
    evaluated_on = fields.Date(required=True)
    progress = optional_text()
    worker_performance = optional_text()
    reflection = optional_text()
    client_change = optional_text()
    goals = fields.List(fields.Nested(GoalResult), load_default=list)
    satisfaction = count(load_default=None, allow_none=True, validate=validate.Range(min=1, max=5))


class FollowUp(Schema):
    due_on = fields.Date(required=True)


class CloseCase(CaseRef):
    """Close a case (8.3.6)."""

    reason = one_of(CLOSING_REASONS, required=True)
    closed_on = fields.Date(required=True)
    timing_agreed = fields.Boolean(load_default=False)
    service_reviewed = fields.Boolean(load_default=False)
    relationship_ended = fields.Boolean(load_default=False)
    summary = optional_text()
    follow_up = fields.Nested(FollowUp, load_default=None, allow_none=True)


class ScheduleFollowUp(FollowUp, CaseRef):
    """Schedule a follow-up after closing (9.2b)."""

    pass


class RecordFollowUp(CaseRef):
    """Record a follow-up that was done (9.2b)."""

    follow_up_id = identifier(required=True)
    done_on = fields.Date(required=True)
    outcome = one_of(FOLLOW_UP_OUTCOMES, required=True)
    notes = optional_text()


class ReopenCase(CaseRef):
    """Reopen a closed case."""

    reopened_on = fields.Date(required=True)
    reason = optional_text()


class ReassignCase(CaseRef):
    """Assign a case to another social worker."""

    to_social_worker_id = identifier(required=True)
    reassigned_on = fields.Date(required=True)
    reason = optional_text()


# Risk register (9.6a, 4.1).


class RaiseRisk(CaseRef):
    """Register a risk in a case (9.6a)."""

    risk_type = one_of(RISK_TYPES, required=True)
    level = one_of(RISK_LEVELS, required=True)
    raised_on = fields.Date(required=True)
    description = optional_text()


class ChangeRiskLevel(CaseRef):
    """Change a risk's level (9.6b)."""

    risk_id = identifier(required=True)
    level = one_of(RISK_LEVELS, required=True)
    changed_on = fields.Date(required=True)
    reason = optional_text()


class ResolveRisk(CaseRef):
    """Resolve a risk."""

    risk_id = identifier(required=True)
    resolved_on = fields.Date(required=True)
    resolution = optional_text()


class Recipient(Schema):
    kind = one_of(RECIPIENT_KINDS, required=True)
    who = fields.String(required=True, validate=NAME)


class RecordDisclosure(CaseRef):
    """Record who was told what, when and why, under 4.1."""

    risk_id = identifier(required=True)
    recipients = fields.List(fields.Nested(Recipient), required=True,
                             validate=validate.Length(min=1))
    what = text(min_length=1, required=True)
    why = text(min_length=1, required=True)
    disclosed_at = fields.AwareDateTime(required=True)
