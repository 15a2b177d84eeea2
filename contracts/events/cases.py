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
