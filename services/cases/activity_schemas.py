"""Command payloads of group work, the mailbox and classes: the cases service's records of
work that is not one client's case (8.2.1.3, 8.2.2, 8.2.3)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.events.cases import CLASS_THEMES, GROUP_KINDS
from contracts.fields import SERVICE_CODE, identifier, one_of, service_codes
from services.cases.schemas import count, optional_text, text

# Group work (8.2.1.3).


class FormGroup(Schema):
    """Form a group (8.2.1.3)."""

    school_id = identifier(load_default=None)
    kind = one_of(GROUP_KINDS, required=True)
    purpose = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    service_codes = service_codes(required=True)
    social_worker_id = identifier(required=True)
    planned_sessions = count(required=True, validate=validate.Range(min=1, max=100))
    formed_on = fields.Date(required=True)


class GroupRef(Schema):
    group_id = fields.UUID(required=True)


class AddGroupMember(GroupRef):
    """Add a member to a group (8.2.1.3)."""

    client_id = identifier(required=True)
    joined_on = fields.Date(required=True)


class HoldGroupSession(GroupRef):
    """Record a group session and its attendance (8.2.1.3)."""

    held_on = fields.Date(required=True)
    attended = fields.List(identifier(), required=True)
    notes = optional_text()


class EvaluateGroup(GroupRef):
    """Evaluate a group (8.2.1.3)."""

    evaluated_on = fields.Date(required=True)
    goal_attainment = fields.List(count(validate=validate.Range(min=-2, max=2)), required=True,
                                  validate=validate.Length(min=1))
    notes = optional_text()


class CloseGroup(GroupRef):
    """Close a group (8.2.1.3)."""

    closed_on = fields.Date(required=True)


# Mailbox (8.2.2) and classes (8.2.3).


class ReceiveLetter(Schema):
    """Record a letter to the social worker's mailbox (8.2.2)."""

    school_id = identifier(load_default=None)
    received_on = fields.Date(required=True)
    anonymous = fields.Boolean(load_default=False)
    client_id = identifier(load_default=None, allow_none=True)
    grade = count(load_default=None, allow_none=True, validate=validate.Range(min=1, max=12))
    service_codes = fields.List(fields.String(validate=SERVICE_CODE), load_default=list)
    content = text(min_length=1, required=True)


class AnswerLetter(Schema):
    """Reply to a letter (8.2.2)."""

    letter_id = fields.UUID(required=True)
    answered_on = fields.Date(required=True)
    reply = text(min_length=1, required=True)


class HoldClass(Schema):
    """Record an experiential class (8.2.3)."""

    school_id = identifier(load_default=None)
    theme = one_of(CLASS_THEMES, required=True)
    topic = fields.String(required=True, validate=validate.Length(min=1, max=200))
    service_codes = service_codes(required=True)
    held_on = fields.Date(required=True)
    attendance = count(required=True, validate=validate.Range(min=1))
    grade = count(load_default=None, allow_none=True, validate=validate.Range(min=1, max=12))


