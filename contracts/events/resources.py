"""Events the resources service publishes (9.3, 8.3.4b, 8.3.1e, 7.3a, 7.5). Identifiers, codes,
dates, amounts and counts only: names and contact details of providers and volunteers, and
anything about a client, stay sealed in the resources store."""

from marshmallow import Schema, fields, validate

from contracts.events.cases import AGENCY_KINDS, RESOURCE_KINDS
from contracts.fields import identifier, one_of, service_codes
from contracts.registry import contract

PROVIDER_KINDS = ("organisation", "individual", "government")
# The partner types of the family–school–community network (7.3a, 7.5), as people read them.
SECTOR_LABELS: dict[str, dict[str, str]] = {
    "family": {"label_zh": "家庭", "label_en": "Family"},
    "school": {"label_zh": "学校", "label_en": "School"},
    "community": {"label_zh": "社区", "label_en": "Community"},
    "social_organisation": {"label_zh": "社会组织", "label_en": "Social organisation"},
    "enterprise": {"label_zh": "企业", "label_en": "Enterprise"},
    "government": {"label_zh": "政府部门", "label_en": "Government body"},
    "medical": {"label_zh": "医疗机构", "label_en": "Medical institution"},
    "legal": {"label_zh": "法律服务机构", "label_en": "Legal service"},
    "education": {"label_zh": "教育机构", "label_en": "Educational institution"},
    "other": {"label_zh": "其他", "label_en": "Other"},
}
PARTNER_SECTORS = tuple(SECTOR_LABELS)
DONATION_KINDS = ("funds", "goods", "services")  # 9.3a
CHECK_RESULTS = ("passed", "failed")  # 9.3b
ACTIVITY_KINDS = (
    "group",
    "class",
    "tutoring",
    "event",
    "joint_activity",
    "administration",
    "other",
)
LINK_DECLINE_REASONS = (
    "client_refused",
    "not_suitable",
    "provider_unavailable",
    "need_met_otherwise",
    "other",
)
USAGE_OUTCOMES = ("need_met", "partly_met", "not_met", "not_used")  # 9.3c
REFERRAL_OUTCOMES = (
    "service_provided",
    "partly_provided",
    "not_taken_up",
    "agency_declined",
    "client_withdrew",
)  # 8.3.1e, 7.1.4b


@contract("ProviderRegistered", 1, source="resources")
class ProviderRegisteredV1(Schema):
    """A resource provider (organisation, individual or government body) joined the social
    resource register (9.3a) as a partner of the given sector (7.3a)."""

    provider_id = identifier(required=True)
    provider_kind = one_of(PROVIDER_KINDS, required=True)
    sector = one_of(PARTNER_SECTORS, required=True)
    registered_on = fields.Date(required=True)


@contract("ResourceRegistered", 1, source="resources")
class ResourceRegisteredV1(Schema):
    """A provider's resource was registered (9.3a): its kind, capacity, the schools it covers and
    its validity dates."""

    resource_id = identifier(required=True)
    provider_id = identifier(required=True)
    kind = one_of(RESOURCE_KINDS, required=True)
    capacity = fields.Integer(required=True, validate=validate.Range(min=1))
    school_ids = fields.List(identifier(), required=True, validate=validate.Length(min=1))
    eligible_service_codes = fields.List(fields.String(), required=True)
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True, allow_none=True)


@contract("DonationRecorded", 1, source="resources")
class DonationRecordedV1(Schema):
    """Raised resources were recorded (9.3a): a donation of funds, goods or services by a
    provider, with its amount in cents and any restriction on its use."""

    donation_id = identifier(required=True)
    provider_id = identifier(required=True)
    kind = one_of(DONATION_KINDS, required=True)
    amount_cents = fields.Integer(required=True, validate=validate.Range(min=1))
    currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{3}$"))
    restricted = fields.Boolean(required=True)
    restricted_to_service_codes = fields.List(fields.String(), required=True)
    restricted_to_school_ids = fields.List(identifier(), required=True)
    received_on = fields.Date(required=True)


@contract("VolunteerRegistered", 1, source="resources")
class VolunteerRegisteredV1(Schema):
    """A volunteer was registered (9.3b). The person's name and contact stay sealed."""

    volunteer_id = identifier(required=True)
    skill_count = fields.Integer(required=True, validate=validate.Range(min=0))
    registered_on = fields.Date(required=True)


@contract("VolunteerCheckRecorded", 1, source="resources")
class VolunteerCheckRecordedV1(Schema):
    """A volunteer's background check was recorded (9.3b): its result and expiry. Only a passed,
    unexpired check lets a volunteer work with students."""

    volunteer_id = identifier(required=True)
    result = one_of(CHECK_RESULTS, required=True)
    checked_on = fields.Date(required=True)
    expires_on = fields.Date(required=True)


@contract("VolunteerAssigned", 1, source="resources")
class VolunteerAssignedV1(Schema):
    """A volunteer was assigned to an activity (9.3b), with or without work with students."""

    volunteer_id = identifier(required=True)
    assignment_id = identifier(required=True)
    activity_id = identifier(required=True)
    activity_kind = one_of(ACTIVITY_KINDS, required=True)
    with_students = fields.Boolean(required=True)
    starts_on = fields.Date(required=True)


@contract("VolunteerHoursLogged", 1, source="resources")
class VolunteerHoursLoggedV1(Schema):
    """Hours a volunteer served on an assignment were logged (9.3b)."""

    volunteer_id = identifier(required=True)
    assignment_id = identifier(required=True)
    served_on = fields.Date(required=True)
    hours = fields.Float(required=True, validate=validate.Range(min=0.25, max=24))


@contract("VolunteerHoursLogged", 2, source="resources")
class VolunteerHoursLoggedV2(Schema):
    """Time a volunteer served on an assignment was logged (9.3b), in whole minutes: v1 gave
    hours as a float, which languages write differently and so cannot be hashed the same."""

    volunteer_id = identifier(required=True)
    assignment_id = identifier(required=True)
    served_on = fields.Date(required=True)
    minutes = fields.Integer(required=True, validate=validate.Range(min=1, max=1440))


@contract("ResourceOffered", 1, source="resources")
class ResourceOfferedV1(Schema):
    """A resource was offered for a case's resource request (8.3.4b); its capacity is held for
    the offer until it is declined or delivered."""

    link_id = identifier(required=True)
    request_id = identifier(required=True)
    case_id = identifier(required=True)
    resource_id = identifier(required=True)
    provider_id = identifier(required=True)
    kind = one_of(RESOURCE_KINDS, required=True)
    quantity = fields.Integer(required=True, validate=validate.Range(min=1))
    offered_on = fields.Date(required=True)


@contract("ResourceLinkAccepted", 1, source="resources")
class ResourceLinkAcceptedV1(Schema):
    """The client (through their social worker) accepted the offered resource."""

    link_id = identifier(required=True)
    case_id = identifier(required=True)
    resource_id = identifier(required=True)
    accepted_on = fields.Date(required=True)


@contract("ResourceLinkDeclined", 1, source="resources")
class ResourceLinkDeclinedV1(Schema):
    """The offered resource was declined, for a coded reason; its held capacity is released and
    another resource may be offered."""

    link_id = identifier(required=True)
    case_id = identifier(required=True)
    resource_id = identifier(required=True)
    reason = one_of(LINK_DECLINE_REASONS, required=True)
    declined_on = fields.Date(required=True)


@contract("ResourceDelivered", 1, source="resources")
class ResourceDeliveredV1(Schema):
    """An accepted resource was delivered to the client (8.3.4b)."""

    link_id = identifier(required=True)
    case_id = identifier(required=True)
    resource_id = identifier(required=True)
    provider_id = identifier(required=True)
    quantity = fields.Integer(required=True, validate=validate.Range(min=1))
    delivered_on = fields.Date(required=True)


@contract("ResourceUsageRecorded", 1, source="resources")
class ResourceUsageRecordedV1(Schema):
    """How a delivered resource was used, and with what outcome (9.3c)."""

    link_id = identifier(required=True)
    case_id = identifier(required=True)
    resource_id = identifier(required=True)
    units_used = fields.Integer(required=True, validate=validate.Range(min=0))
    outcome = one_of(USAGE_OUTCOMES, required=True)
    recorded_on = fields.Date(required=True)


@contract("ReferralAccepted", 1, source="resources")
class ReferralAcceptedV1(Schema):
    """The outside agency accepted a referral made in a case (8.3.1e, 7.1.4b)."""

    referral_id = identifier(required=True)
    case_id = identifier(required=True)
    agency_kind = one_of(AGENCY_KINDS, required=True)
    agency_id = identifier(required=True, allow_none=True)
    accepted_on = fields.Date(required=True)


@contract("ReferralCompleted", 1, source="resources")
class ReferralCompletedV1(Schema):
    """A referral ended with a coded outcome (8.3.1e, 7.1.4b)."""

    referral_id = identifier(required=True)
    case_id = identifier(required=True)
    agency_kind = one_of(AGENCY_KINDS, required=True)
    agency_id = identifier(required=True, allow_none=True)
    outcome = one_of(REFERRAL_OUTCOMES, required=True)
    completed_on = fields.Date(required=True)


@contract("JointActivityHeld", 1, source="resources")
class JointActivityHeldV1(Schema):
    """A joint activity with community partners was held (7.3a, 7.5)."""

    activity_id = identifier(required=True)
    partner_ids = fields.List(identifier(), required=True, validate=validate.Length(min=1))
    service_codes = service_codes(required=True)
    held_on = fields.Date(required=True)
    participant_count = fields.Integer(required=True, validate=validate.Range(min=0))


@contract("ProviderFeedbackIssued", 1, source="resources")
class ProviderFeedbackIssuedV1(Schema):
    """Feedback on how a provider's resources were used in a period was issued to it (9.3c):
    counts of clients served, deliveries and outcomes, never who."""

    feedback_id = identifier(required=True)
    provider_id = identifier(required=True)
    period_from = fields.Date(required=True)
    period_to = fields.Date(required=True)
    clients_served = fields.Integer(required=True, validate=validate.Range(min=0))
    deliveries = fields.Integer(required=True, validate=validate.Range(min=0))
    units_delivered = fields.Integer(required=True, validate=validate.Range(min=0))
    outcomes = fields.Dict(
        keys=one_of((*USAGE_OUTCOMES, "not_recorded")),
        values=fields.Integer(validate=validate.Range(min=0)),
        required=True,
    )
