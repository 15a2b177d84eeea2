"""What the cases service's reads take and answer: every query's payload and its typed answer
(the gateway's OpenAPI documents both), and the answers of its commands."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.events.cases import CLIENT_TYPES
from contracts.fields import identifier, one_of, some_ids
from services.runtime.paging import PageQuery, page_of
from services.runtime.publishing import Step

STAGES = ("intake", "assessment", "plan", "intervention", "evaluation", "closing", "declined",
          "closed")
# `live`: the cases still being worked (intake, active); `any`: every case.
STATUSES = ("live", "intake", "active", "declined", "closed", "any")
OVERDUE_KINDS = ("assessment", "plan", "follow_up", "letter")

# Payloads of reads.


class CaseRef(Schema):
    # A read by id answers 404 for an id that is no case's, however odd: as for any path.
    case_id = identifier(required=True)


class ReadCase(CaseRef):
    """A case with its personal content; a closed case is read under an archive grant (9.4d),
    for the `purpose` given, which the archive logs."""

    purpose = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class CaseTimeline(CaseRef):
    """What happened in a case, in order: codes, dates and counts, no personal content."""


class ReadClient(Schema):
    """A client with guardians and related parties; archived clients are read under a grant."""

    client_id = identifier(required=True)


class ReadGroup(Schema):
    """A group, its members and sessions."""

    group_id = identifier(required=True)


class ReadLetter(Schema):
    """A letter of the mailbox, and its answer."""

    letter_id = identifier(required=True)


class ReadClass(Schema):
    """An experiential class."""

    class_id = identifier(required=True)


class ListCaseload(PageQuery):
    """The cases the caller may see, newest first: a worker's own, a supervisor's supervisees',
    the school's for the other roles; by worker, step of 8.2.1.1 and status."""

    social_worker_id = identifier(load_default=None)
    stage = one_of(STAGES, load_default=None, allow_none=True)
    status = one_of(STATUSES, load_default="live")
    case_id = some_ids()


class CountByStage(Schema):
    """Open cases the caller may see, counted by their step of 8.2.1.1."""


class ListOverdue(PageQuery):
    """Key control points overdue today (9.5c, 9.2b, 8.2.2), oldest first within each kind."""

    kind = one_of(OVERDUE_KINDS, load_default=None, allow_none=True)


class ListFollowUpsDue(PageQuery):
    """Follow-ups after closing not yet done that fall due from today to `due_within_days` days
    on (9.2b), soonest first: what to prepare for. The ones past their day are overdue
    (`list_overdue`)."""

    due_within_days = fields.Integer(load_default=30, strict=True,
                                     validate=validate.Range(min=0, max=366))


class ListClients(PageQuery):
    """The clients the caller's work reaches, newest first (9.2a); of those, the ones named
    by `client_id` when given."""

    client_type = one_of(CLIENT_TYPES, load_default=None, allow_none=True)
    client_id = some_ids()


class ListLetters(PageQuery):
    """The school's mailbox (8.2.2), oldest first; `unanswered` for those awaiting a reply."""

    unanswered = fields.Boolean(load_default=False)


class ListGroups(PageQuery):
    """Groups the caller leads or oversees (8.2.1.3), newest first."""

    status = one_of(("open", "closed"), load_default=None, allow_none=True)


class ListClasses(PageQuery):
    """Experiential classes the caller held or oversees (8.2.3), newest first."""


# Answers of commands.


class ClientAnswer(Schema):
    client_id = fields.String(required=True)


class CaseAnswer(Schema):
    """The case a command was about, and what it made."""

    case_id = fields.String(required=True)
    referral_id = fields.String(allow_none=True)
    assessment_number = fields.Integer()
    plan_version = fields.Integer()
    intervention_id = fields.String()
    request_id = fields.String()
    follow_up_id = fields.String(allow_none=True)
    risk_id = fields.String()
    disclosure_id = fields.String()


class GroupAnswer(Schema):
    group_id = fields.String(required=True)
    session_number = fields.Integer()


class LetterAnswer(Schema):
    letter_id = fields.String(required=True)
    days_to_answer = fields.Integer()


class ClassAnswer(Schema):
    class_id = fields.String(required=True)


# Answers of reads.


class OverdueStep(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(OVERDUE_KINDS))
    item_id = fields.String(required=True)
    due_on = fields.String(required=True)
    days_overdue = fields.Integer(required=True)


class CaseSummary(Schema):
    case_id = fields.String(required=True)
    client_id = fields.String(required=True)
    client_type = fields.String(required=True)
    social_worker_id = fields.String(required=True)
    status = fields.String(required=True)
    stage = fields.String(required=True)
    opened_on = fields.String(required=True)
    closed_on = fields.String(allow_none=True)
    open_risks = fields.Integer(required=True)
    consent_given = fields.Method("consent", dump_only=True)
    # 9.5c, 9.2b: the case's key control points overdue today, the most overdue first.
    overdue = fields.List(fields.Nested(OverdueStep), required=True)

    def consent(self, row: dict[str, object]) -> bool:
        """4.2: the client's consent, and a guardian's for a minor."""
        return bool(row["client_consent"]) and (
            not row["client_is_minor"] or bool(row["guardian_consent"]))


class StageCounts(Schema):
    intake = fields.Integer(required=True)
    assessment = fields.Integer(required=True)
    plan = fields.Integer(required=True)
    intervention = fields.Integer(required=True)
    evaluation = fields.Integer(required=True)
    closing = fields.Integer(required=True)


class OverdueItem(OverdueStep):
    case_id = fields.String(allow_none=True)
    social_worker_id = fields.String(allow_none=True)


class FollowUpDue(Schema):
    follow_up_id = fields.String(required=True)
    case_id = fields.String(required=True)
    social_worker_id = fields.String(required=True)
    due_on = fields.String(required=True)
    days_left = fields.Integer(required=True)


class ClientItem(Schema):
    client_id = fields.String(required=True)
    client_type = fields.String(required=True)
    grade = fields.Integer(allow_none=True)
    registered_on = fields.String(required=True)
    name = fields.String(allow_none=True)
    open_cases = fields.Integer(required=True)
    archived = fields.Boolean(required=True)
    personal_content_destroyed_on = fields.String(allow_none=True)


class LetterItem(Schema):
    letter_id = fields.String(required=True)
    received_on = fields.String(required=True)
    anonymous = fields.Boolean(required=True)
    client_id = fields.String(allow_none=True)
    grade = fields.Integer(allow_none=True)
    answered_on = fields.String(allow_none=True)
    opened_case_id = fields.String(allow_none=True)
    reply_due_on = fields.String(required=True)


class GroupItem(Schema):
    group_id = fields.String(required=True)
    kind = fields.String(required=True)
    social_worker_id = fields.String(required=True)
    status = fields.String(required=True)
    formed_on = fields.String(required=True)
    planned_sessions = fields.Integer(required=True)
    members = fields.Integer(required=True)
    sessions = fields.Integer(required=True)
    closed_on = fields.String(allow_none=True)


class ClassItem(Schema):
    class_id = fields.String(required=True)
    theme = fields.String(required=True)
    held_on = fields.String(required=True)
    attendance = fields.Integer(required=True)
    grade = fields.Integer(allow_none=True)
    social_worker_id = fields.String(required=True)


CaseloadPage = page_of(CaseSummary)
OverduePage = page_of(OverdueItem)
FollowUpsDuePage = page_of(FollowUpDue)
ClientsPage = page_of(ClientItem)
LettersPage = page_of(LetterItem)
GroupsPage = page_of(GroupItem)
ClassesPage = page_of(ClassItem)


class Timeline(Schema):
    case_id = fields.String(required=True)
    steps = fields.List(fields.Nested(Step), required=True)


class CaseRecord(Schema):
    """A case with its personal content opened, for its worker, their supervisor, or a reader
    under an archive grant. Each step's record keeps the shape the case stores it in."""

    case_id = fields.String(required=True)
    version = fields.Integer(required=True)
    school_id = fields.String(required=True)
    client_id = fields.String(required=True)
    client_type = fields.String(required=True)
    client_is_minor = fields.Boolean(required=True)
    social_worker_id = fields.String(required=True)
    service_codes = fields.List(fields.String(), required=True)
    opened_on = fields.String(required=True)
    letter_id = fields.String(allow_none=True)
    status = fields.String(required=True)
    stage = fields.String(required=True)
    intake = fields.Dict(required=True)
    declined = fields.Dict(allow_none=True)
    consents = fields.List(fields.Dict(), required=True)
    consent_given = fields.Boolean(required=True)
    assessments = fields.List(fields.Dict(), required=True)
    plans = fields.List(fields.Dict(), required=True)
    interventions = fields.List(fields.Dict(), required=True)
    resource_requests = fields.List(fields.Dict(), required=True)
    referrals = fields.List(fields.Dict(), required=True)
    evaluations = fields.List(fields.Dict(), required=True)
    closings = fields.List(fields.Dict(), required=True)
    follow_ups = fields.List(fields.Dict(), required=True)
    reopenings = fields.List(fields.Dict(), required=True)
    assignments = fields.List(fields.Dict(), required=True)
    risks = fields.List(fields.Dict(), required=True)
    disclosures = fields.List(fields.Dict(), required=True)
    grant_id = fields.String(allow_none=True)


class ClientRecord(Schema):
    """A client's record with personal content opened ("[destroyed]" after disposal)."""

    client_id = fields.String(required=True)
    version = fields.Integer(required=True)
    school_id = fields.String(required=True)
    client_type = fields.String(required=True)
    grade = fields.Integer(allow_none=True)
    is_minor_at_registration = fields.Boolean(required=True)
    details = fields.Raw(required=True)
    guardians = fields.List(fields.Raw(), required=True)
    related_parties = fields.List(fields.Raw(), required=True)
    personal_content_destroyed_on = fields.String(allow_none=True)


class GroupRecord(Schema):
    group_id = fields.String(required=True)
    version = fields.Integer(required=True)
    school_id = fields.String(required=True)
    kind = fields.String(required=True)
    purpose = fields.String(required=True)
    service_codes = fields.List(fields.String(), required=True)
    social_worker_id = fields.String(required=True)
    planned_sessions = fields.Integer(required=True)
    formed_on = fields.String(required=True)
    status = fields.String(required=True)
    members = fields.List(fields.Dict(), required=True)
    sessions = fields.List(fields.Dict(), required=True)
    evaluation = fields.Dict(allow_none=True)
    closed_on = fields.String(allow_none=True)


class LetterRecord(Schema):
    letter_id = fields.String(required=True)
    version = fields.Integer(required=True)
    school_id = fields.String(required=True)
    received_on = fields.String(required=True)
    anonymous = fields.Boolean(required=True)
    client_id = fields.String(allow_none=True)
    grade = fields.Integer(allow_none=True)
    service_codes = fields.List(fields.String(), required=True)
    content = fields.Raw(required=True)
    answer = fields.Dict(allow_none=True)
    opened_case_id = fields.String(allow_none=True)


class ClassRecord(Schema):
    class_id = fields.String(required=True)
    school_id = fields.String(required=True)
    theme = fields.String(required=True)
    topic = fields.String(required=True)
    service_codes = fields.List(fields.String(), required=True)
    held_on = fields.String(required=True)
    attendance = fields.Integer(required=True)
    grade = fields.Integer(allow_none=True)
    social_worker_id = fields.String(required=True)
