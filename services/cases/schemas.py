"""Command payloads of the cases service, as callers send them over RPC and HTTP."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.events.cases import (
    CLIENT_TYPES,
    CLOSING_REASONS,
    INTERVENTION_FORMS,
    INTERVENTION_METHODS,
)
from contracts.fields import identifier, one_of, service_codes

FREE_TEXT = validate.Length(max=20000)


class OpenCase(Schema):
    school_id = identifier(load_default=None)
    client_id = identifier(required=True)
    client_type = one_of(CLIENT_TYPES, required=True)
    social_worker_id = identifier(required=True)
    service_codes = service_codes(required=True)
    opened_on = fields.Date(required=True)


class LogIntervention(Schema):
    case_id = fields.UUID(required=True)
    form = one_of(INTERVENTION_FORMS, required=True)
    method = one_of(INTERVENTION_METHODS, required=True)
    service_codes = service_codes(required=True)
    delivered_on = fields.Date(required=True)
    duration_minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1440))
    participant_count = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1))
    notes = fields.String(load_default="", validate=FREE_TEXT)


class CloseCase(Schema):
    case_id = fields.UUID(required=True)
    reason = one_of(CLOSING_REASONS, required=True)
    closed_on = fields.Date(required=True)
    summary = fields.String(load_default="", validate=FREE_TEXT)
