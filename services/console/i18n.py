"""Chinese first: the console's catalogs (Babel, zh_CN by default, English on request), the
labels of the codes it shows, its dates in Asia/Shanghai, and the services' problems in words.

Source strings are English and marked with `N_` where they are data (labels, messages), `_` in
templates; `tests/unit/console/test_catalog.py` fails when one has no zh_CN translation. English
is the source language, so `en` needs no catalog of its own.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency
from babel.support import Translations

from contracts.events.resources import SECTOR_LABELS
from contracts.taxonomy import SERVICE_CODES
from services.runtime.clock import clock
from services.runtime.settings import settings

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
CATALOG_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


def N_(message: str) -> str:  # the name the gettext extractor looks for
    """Marks a source string for the catalog; it is translated where it is shown."""
    return message


def catalog(locale: str) -> Catalog:
    """Every catalog file of `locale` as one: each role's pages keep their strings in a file of
    their own (messages.po holds what all pages share), so the files are merged here."""
    merged = Catalog(locale=locale, domain=DOMAIN)
    for path in sorted((CATALOG_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as po:
            for message in read_po(po, locale=locale):
                if message.id:
                    assert message.id not in merged, (
                        f"{path.name} translates {message.id!r} a second time")
                    merged[message.id] = message
    return merged


@cache
def translations(locale: str) -> NullTranslations:
    """The catalog of `locale`, compiled in memory (no .mo to go stale)."""
    if locale == "en":
        return NullTranslations()
    compiled = io.BytesIO()
    write_mo(compiled, catalog(locale))
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def negotiate(requested: str | None) -> str:
    return requested if requested in LOCALES else DEFAULT_LOCALE


# The codes of the services' enumerations, by what they are called in the standard.
LABELS: dict[str, str] = {
    # Steps of the service process (8.2.1.1), as the caseload's stage.
    "intake": N_("Intake"),
    "assessment": N_("Assessment"),
    "plan": N_("Service plan"),
    "intervention": N_("Intervention"),
    "evaluation": N_("Evaluation"),
    "closing": N_("Closing"),
    "declined": N_("Declined"),
    "closed": N_("Closed"),
    "active": N_("Active"),
    # Client types (5).
    "student": N_("Student"),
    "teacher": N_("Teacher"),
    "family": N_("Family"),
    "school": N_("School"),
    "community": N_("Community"),
    # Intervention forms and methods (8.2.1.2, 8.2.4).
    "direct": N_("Direct service"),
    "indirect": N_("Indirect service"),
    "case_work": N_("Case work"),
    "group_work": N_("Group work"),
    "administration": N_("Social work administration"),
    "research": N_("Social work research"),
    "crisis_intervention": N_("Crisis intervention"),
    "family_therapy": N_("Family therapy"),
    "outreach": N_("Outreach"),
    "adventure_based_counselling": N_("Adventure-based counselling"),
    "resource_linking": N_("Resource linking"),
    "home_visit": N_("Home visit"),
    "consultation": N_("Consultation"),
    # Consent (4.2).
    "client": N_("Client"),
    "guardian": N_("Guardian"),
    "rights": N_("Rights"),
    "responsibilities": N_("Responsibilities"),
    "obligations": N_("Obligations"),
    "service_plan": N_("Service plan"),
    # Evaluations (8.3.5) and closing reasons (8.3.6).
    "process": N_("Process evaluation"),
    "outcome": N_("Outcome evaluation"),
    "goals_met": N_("Goals met"),
    "client_request": N_("At the client's request"),
    "referred": N_("Referred"),
    "transferred": N_("Transferred"),
    "left_school": N_("Left the school"),
    "other": N_("Other"),
    # The steps a refusal names as missing (8.2.1.1, 8.3.1a–c, 8.3.5, 8.3.6a–c).
    "process_evaluation": N_("Process evaluation (8.3.5a)"),
    "outcome_evaluation": N_("Outcome evaluation (8.3.5b)"),
    "worker_introduced": N_("Introduce yourself, the service and its methods (8.3.1a)"),
    "respect_and_empathy": N_("Show respect, acceptance and empathy (8.3.1b)"),
    "initial_information": N_("Initial information about the problem and needs (8.3.1c)"),
    "timing_agreed": N_("Timing of closing agreed with the client (8.3.6a)"),
    "service_reviewed": N_("Service reviewed with the client (8.3.6b)"),
    "relationship_ended": N_("Relationship ended and parting handled (8.3.6c)"),
    # Risks (8.3.1d, 9.6a) and their levels (9.6b).
    "abuse": N_("Abuse"),
    "violence": N_("Violence"),
    "bullying": N_("Bullying"),
    "self_harm": N_("Self-harm"),
    "suicide": N_("Suicide"),
    "trauma": N_("Trauma"),
    "substance_abuse": N_("Substance abuse"),
    "severe_psychological_disorder": N_("Severe psychological disorder"),
    "family_crisis": N_("Family crisis"),
    "campus_emergency": N_("Campus emergency"),
    "low": N_("Low"),
    "medium": N_("Medium"),
    "high": N_("High"),
    "critical": N_("Critical"),
    "open": N_("Open"),
    "resolved": N_("Resolved"),
    # Overdue control points (9.5c, 9.2b, 8.2.2).
    "follow_up": N_("Follow-up"),
    "letter": N_("Letter reply"),
    # Roles.
    "social_worker": N_("Social worker"),
    "supervisor": N_("Supervisor"),
    "school_admin": N_("School administrator"),
    "archivist": N_("Archivist"),
    "auditor": N_("Auditor"),
    # The supervisor's and the school admin's pages (supervisor.py, school_admin.py).
    "operator": N_("Operator"),
    # Risk escalations (9.6b): states, emergency responses, how they end.
    "awaiting acknowledgement": N_("Awaiting acknowledgement"),
    "acknowledged": N_("Acknowledged"),
    "contacted_guardian": N_("Contacted the guardian"),
    "safety_plan": N_("Safety plan made"),
    "counselling": N_("Counselling"),
    "medical_help": N_("Medical help"),
    "police_notified": N_("Police notified"),
    "child_protection_notified": N_("Child protection notified"),
    "school_informed": N_("School informed"),
    "handled": N_("Handled"),
    "risk_resolved": N_("The risk was resolved"),
    "superseded": N_("Superseded by a higher level"),
    # Staff (6.2.1): employment, qualification and why a worker may not take cases.
    "full_time": N_("Full-time"),
    "part_time": N_("Part-time"),
    "certificate": N_("Certificate"),
    "diploma": N_("Social-work diploma"),
    "not_qualified": N_("Not qualified (6.2.1.2)"),
    "no_project_experience": N_("Has not led a project (6.2.1.2)"),
    "no_ethics_commitment": N_("No ethics commitment (6.2.1.2)"),
    "no_pre_job_training": N_("No pre-job training (9.1a)"),
    "inactive": N_("Left the service"),
    # Why a worker left (contracts.events.supervision.DEACTIVATION_REASONS; transferred and
    # other are the closing reasons' labels above).
    "left_service": N_("Left the job"),
    "suspended": N_("Suspended"),
    # The checks of the compliance report.
    "service_space": N_("Service space"),
    "qualified_full_time_worker": N_("A qualified full-time social worker"),
    "pre_job_training": N_("Pre-job training"),
    "continuing_education_hours": N_("36 hours of continuing education a year"),
    "supervision_interval": N_("Regular supervision"),
    "shall_services_delivered": N_("The services the standard requires"),
    "escalations_acknowledged_in_time": N_("Risk escalations acknowledged in time"),
    "complaints_answered_in_time": N_("Complaints answered in time"),
    # Key control points found unmet (9.5c) and the kinds of supervision (6.2.2.2).
    "assessment_overdue": N_("Assessment overdue"),
    "plan_overdue": N_("Service plan overdue"),
    "no_recent_intervention": N_("No recent intervention"),
    "closed_without_evaluations": N_("Closed without evaluations"),
    "follow_up_overdue": N_("Follow-up overdue"),
    "letter_unanswered": N_("Letter unanswered"),
    "administrative": N_("Administrative"),
    "educational": N_("Educational"),
    "supportive": N_("Supportive"),
    # Auditor: the sources of the ledger (contracts.registry.SOURCES).
    "cases": N_("Cases service"),
    "archive": N_("Archive service"),
    "resources": N_("Resources service"),
    "supervision": N_("Supervision service"),
    # activities: themes of classes (8.2.3), and the steps a group's refusal names as missing.
    "life_education": N_("Life education"),
    "study_or_career_planning": N_("Study or career planning"),
    "adolescence_education": N_("Adolescence education"),
    "session": N_("A group session"),
    "group_evaluation": N_("The group evaluation"),
    # The archivist's pages: file categories (9.4a) and states, legal hold authorities, and the
    # reasons of access denials and revocations (9.4d) and of disposal rejections (9.4e).
    "GA": N_("Case file"),
    "XZ": N_("Group file"),
    "XX": N_("Letter file"),
    "KT": N_("Class file"),
    "disposed": N_("Disposed"),
    "court": N_("Court"),
    "procuratorate": N_("Procuratorate"),
    "police": N_("Police"),
    "education_bureau": N_("Education bureau"),
    "purpose_insufficient": N_("The purpose is not sufficient"),
    "not_need_to_know": N_("No need to know"),
    "duration_too_long": N_("Asked for too long"),
    "purpose_fulfilled": N_("The purpose is fulfilled"),
    "misuse_suspected": N_("Misuse suspected"),
    "role_changed": N_("The reader's role changed"),
    "still_needed": N_("Still needed"),
    "pending_dispute": N_("A dispute is pending"),
    "policy_review": N_("Under policy review"),
    # case page: who was told under 4.1, the agencies a client is referred to, why an intake
    # was declined (8.3.1e) and how a follow-up found the client (9.2b).
    "medical": N_("Medical services"),
    "child_protection": N_("Child protection"),
    "mental_health": N_("Mental health services"),
    "legal_aid": N_("Legal aid"),
    "civil_affairs": N_("Civil affairs"),
    "education": N_("Education services"),
    "community_service": N_("Community services"),
    "beyond_scope": N_("Beyond the service's scope"),
    "not_eligible": N_("Not eligible"),
    "client_refused": N_("The client refused"),
    "duplicate": N_("Duplicate"),
    "stable": N_("Stable"),
    "improved": N_("Improved"),
    "needs_support": N_("Needs support again"),
    "reopened": N_("Case reopened"),
    "unreachable": N_("Could not be reached"),
    # The supervisor's and the school admin's staff forms (staff_forms.po): certificate and
    # diploma levels (6.2.1.2), training kinds and topics (9.1, 6.2.1.3), session formats.
    "none": N_("None"),
    "assistant": N_("Assistant social worker"),
    "intermediate": N_("Intermediate social worker"),
    "senior": N_("Senior social worker"),
    "secondary": N_("Secondary school"),
    "college": N_("College"),
    "bachelor": N_("Bachelor's degree"),
    "master": N_("Master's degree"),
    "doctorate": N_("Doctorate"),
    "pre_job": N_("Pre-job training (9.1a)"),
    "continuing": N_("Continuing education (9.1b)"),
    "child_development": N_("Child development"),
    "law_and_policy": N_("Law and policy"),
    "education_administration": N_("Education administration"),
    "social_work_methods": N_("Social work methods"),
    "ethics": N_("Professional ethics"),
    "risk_and_crisis": N_("Risk and crisis"),
    "individual": N_("Individual"),
    "group": N_("Group"),
    # Complaints and feedback (9.2c, 10.1.2): kinds, channels, handling steps and outcomes.
    "complaint": N_("Complaint"),
    "feedback": N_("Feedback"),
    "suggestion": N_("Suggestion"),
    "mailbox": N_("Mailbox"),
    "phone": N_("Phone"),
    "online": N_("Online"),
    "in_person": N_("In person"),
    "investigating": N_("Investigating"),
    "meeting_held": N_("Meeting held"),
    "upheld": N_("Upheld"),
    "partly_upheld": N_("Partly upheld"),
    "not_upheld": N_("Not upheld"),
    "noted": N_("Noted"),
    # Satisfaction surveys and service evaluations (10.2.1, 10.2.3): respondents, evaluators,
    # ratings.
    "parent": N_("Parents"),
    "mixed": N_("Mixed"),
    "self": N_("Self-evaluation"),
    "peer": N_("Peer evaluation"),
    "third_party": N_("Third party"),
    "excellent": N_("Excellent"),
    "good": N_("Good"),
    "fair": N_("Fair"),
    "poor": N_("Poor"),
    "project": N_("Project"),
    # Supervisors (6.2.2.1, 10.1.1).
    "internal": N_("Internal"),
    "external": N_("External"),
    # Help from outside (referrals.po): why a client is referred (7.1.4b, 8.3.1e), the kinds of
    # resource asked for (8.3.4b, 9.3a), and the states the resources service carries a referral
    # and a request through, prefixed because both have an "accepted"; why an offered resource
    # is declined.
    "specialist_need": N_("Needs a specialist"),
    "intake_declined": N_("Intake declined (8.3.1e)"),
    "financial_aid": N_("Financial aid"),
    "tutoring": N_("Tutoring"),
    "psychological_service": N_("Psychological service"),
    "materials": N_("Materials"),
    "venue": N_("Venue"),
    "volunteer_support": N_("Volunteer support"),
    "referral_made": N_("Referred, awaiting the agency"),
    "referral_accepted": N_("Accepted by the agency"),
    "referral_completed": N_("Completed"),
    "service_provided": N_("Service provided"),
    "partly_provided": N_("Partly provided"),
    "not_taken_up": N_("Not taken up"),
    "agency_declined": N_("The agency declined"),
    "client_withdrew": N_("The client withdrew"),
    "link_requested": N_("Requested, awaiting an offer"),
    "link_offered": N_("Offered"),
    "link_accepted": N_("Offer accepted"),
    "link_declined": N_("Offer declined"),
    "link_delivered": N_("Delivered"),
    "link_used": N_("Used"),
    "not_suitable": N_("Not suitable"),
    "provider_unavailable": N_("The provider is unavailable"),
    "need_met_otherwise": N_("The need was met otherwise"),
    # How far a delivered resource met the need (9.3c).
    "need_met": N_("The need was met"),
    "partly_met": N_("The need was partly met"),
    "not_met": N_("The need was not met"),
    "not_used": N_("Not used"),
    # The school's service spaces (6.1.1, 6.1.2; school_admin.po).
    "office": N_("Social work office"),
    "case_room": N_("Casework room"),
    "group_room": N_("Group work room"),
    "multi_function_room": N_("Multi-function room"),
    "shared_service_space": N_("Shared service space"),
    # How the school is served (8.1.1 驻校, 8.1.2 入校; school_admin.po).
    "resident": N_("A social worker resident in the school (8.1.1)"),
    "visiting": N_("Social workers visiting the school (8.1.2)"),
    # The resource register (9.3; register.po): kinds of provider and donation, background
    # checks, and what a volunteer is assigned to.
    "organisation": N_("Organisation"),
    "government": N_("Government body"),
    "funds": N_("Funds"),
    "goods": N_("Goods"),
    "services": N_("Services"),
    "passed": N_("Passed"),
    "failed": N_("Failed"),
    "class": N_("Class"),
    "event": N_("Event"),
    "joint_activity": N_("Joint activity"),
}
# Codes that mean another thing as the value of one field: a complaint that came in by
# "letter" (10.1.1) is a letter, where the same code among overdue control points (8.2.2) is
# a letter's reply.
FIELD_LABELS: dict[str, dict[str, str]] = {
    "channel": {"letter": N_("Letter")},
    "activity_kind": {"administration": N_("Administrative work"), "group": N_("Group work")},
    # A client's related parties (4.6), where "peer" is a classmate, not a peer's evaluation.
    "kind": {"family_member": N_("Family member"), "peer": N_("Peer"), "agency": N_("Agency")},
}

# What happened in a case, as its timeline names the stored events.
EVENTS: dict[str, str] = {
    "Opened": N_("Case opened (8.3.1)"),
    "IntakeRecorded": N_("Intake items recorded (8.3.1)"),
    "IntakeAccepted": N_("Intake accepted (8.3.1e)"),
    "IntakeDeclined": N_("Intake declined (8.3.1e)"),
    "ConsentRecorded": N_("Informed consent recorded (4.2)"),
    "ConsentWithdrawn": N_("Consent withdrawn (4.2)"),
    "AssessmentRecorded": N_("Assessment recorded (8.3.2)"),
    "PlanAdopted": N_("Service plan adopted (8.3.3)"),
    "PlanRevised": N_("Service plan revised (8.3.3)"),
    "InterventionLogged": N_("Intervention logged (8.3.4)"),
    "ResourceRequested": N_("Resource requested (8.3.4b)"),
    "ReferralMade": N_("Referral made"),
    "EvaluationRecorded": N_("Evaluation recorded (8.3.5)"),
    "Closed": N_("Case closed (8.3.6)"),
    "FollowUpScheduled": N_("Follow-up scheduled (9.2b)"),
    "FollowUpRecorded": N_("Follow-up recorded (9.2b)"),
    "Reopened": N_("Case reopened"),
    "Reassigned": N_("Case reassigned"),
    "RiskRaised": N_("Risk registered (9.6a)"),
    "RiskLevelChanged": N_("Risk level changed (9.6b)"),
    "RiskResolved": N_("Risk resolved"),
    # case page: the events a risk's level change and a disclosure are stored as.
    "RiskLevelRaised": N_("Risk level raised (9.6b)"),
    "RiskLevelLowered": N_("Risk level lowered (9.6b)"),
    "DisclosureRecorded": N_("Disclosure recorded (4.1)"),
}

# The problems the services answer with, by their stable code (contracts.errors.CODES).
PROBLEMS: dict[str, str] = {
    "invalid_input": N_("Some fields are missing or break a rule: see the messages beside them."),
    "not_allowed": N_("Your role or assignment does not permit this."),
    "not_found": N_("No such record."),
    "wrong_state": N_("The record is not in a state that allows this."),
    "conflict": N_("This conflicts with what is already on record."),
    "missing_step": N_("A step of the service process has not been done yet (8.2.1.1)."),
    "consent_required": N_("Informed consent is missing (4.2)."),
    "guardian_required": N_("A minor client needs a guardian on record (4.2)."),
    "plan_incomplete": N_("The service plan lacks one of its seven parts (8.3.3b)."),
    "evaluations_required": N_("Closing needs both evaluations (8.3.5)."),
    "grant_required": N_("Reading this archived record needs an approved grant (9.4d)."),
    "not_qualified": N_("The social worker is not qualified (6.2.1.2) or trained (9.1a)."),
    "unavailable": N_("A service cannot be reached now. Try again in a moment."),
    "unauthenticated": N_("The sign-in did not succeed. Try again."),
    "outcome_unknown": N_("It is not yet known whether this was saved. Send the form again."),
    "deadline_exceeded": N_("This took too long and was not saved. Send the form again."),
    "gateway_timeout": N_("This took too long and was not saved. Send the form again."),
    "check_required": N_("A volunteer needs a valid background check to work with students "
                         "(9.3b)."),
}
UNKNOWN_PROBLEM = N_("The request was refused.")
# The sections of an archive file (9.4b), in their order.
FILE_SECTIONS: dict[str, str] = {
    "basic_information": N_("Basic information"),
    "service_records": N_("Service records"),
    "evaluation_reports": N_("Evaluation reports"),
    "other": N_("Other records"),
}

# marshmallow's rules and the services' own, as the field messages of a 400 say them.
FIELD_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Missing data for required field\."), N_("Required.")),
    (re.compile(r"Field may not be null\."), N_("Required.")),
    (re.compile(r"Not a valid date\."), N_("Not a valid date.")),
    (re.compile(r"Not a valid integer\."), N_("Not a whole number.")),
    (re.compile(r"Not a valid boolean\."), N_("Not yes or no.")),
    (re.compile(r"Must be one of: .*"), N_("Choose one of the options.")),
    (re.compile(r"Shorter than minimum length (?P<min>\d+)\."),
     N_("Give at least %(min)s.")),
    (re.compile(r"Longer than maximum length (?P<max>\d+)\."), N_("At most %(max)s.")),
    (re.compile(r"Length must be between (?P<min>\d+) and (?P<max>\d+)\."),
     N_("Between %(min)s and %(max)s long.")),
    (re.compile(r"Must be greater than or equal to (?P<min>-?\d+) and less than or equal to "
                r"(?P<max>-?\d+)\."), N_("From %(min)s to %(max)s.")),
    (re.compile(r"Must be greater than or equal to (?P<min>-?\d+)\."), N_("At least %(min)s.")),
    (re.compile(r"Must not be before .*\((?P<date>\d{4}-\d{2}-\d{2})\)\."),
     N_("Not before %(date)s.")),
    (re.compile(r"Unknown field\."), N_("Not a field of this form.")),
    # The cases service's own rules (app.py, groups.py).
    (re.compile(r"An anonymous letter names no client\."),
     N_("An anonymous letter names no client.")),
    (re.compile(r"The client belongs to another school\."),
     N_("The client belongs to another school.")),
    (re.compile(r"Not members of the group: (?P<who>.*)\."),
     N_("Not members of the group: %(who)s.")),
    # The resources service's, of a resource link's quantities (links.py).
    (re.compile(r"Must not exceed the (?P<count>\d+) requested\."),
     N_("At most the %(count)s requested.")),
    (re.compile(r"Must not exceed the (?P<count>\d+) offered\."),
     N_("At most the %(count)s offered.")),
    (re.compile(r"Must not exceed the (?P<count>\d+) delivered\."),
     N_("At most the %(count)s delivered.")),
    # The supervision service's, of the staff, complaint and evaluation forms (schemas.py,
    # app.py, domain.py, feedback.py).
    (re.compile(r"Give at least one kind: .*"), N_("Choose at least one kind.")),
    (re.compile(r"Give at least one topic \(6\.2\.1\.3\)\."),
     N_("Choose at least one topic (6.2.1.3).")),
    (re.compile(r"An individual session has exactly one supervisee\."),
     N_("An individual session has exactly one supervisee.")),
    (re.compile(r"Must not be in the future(?: \(.*\))?\."), N_("Not in the future.")),
    (re.compile(r"Continuing education must not predate registration "
                r"\((?P<date>\d{4}-\d{2}-\d{2})\)\."),
     N_("Continuing education is not before the registration (%(date)s).")),
    (re.compile(r"An anonymous complaint carries no contact; .*"),
     N_("An anonymous complaint carries no contact: leave it empty.")),
    (re.compile(r"Must not exceed respondent_count \((?P<count>\d+)\)\."),
     N_("At most the number of respondents (%(count)s).")),
    (re.compile(r"A supervisor needs an intermediate or senior social-worker certificate .*"),
     N_("A supervisor needs an intermediate or senior certificate (6.2.2.1).")),
    (re.compile(r"A supervisor needs at least (?P<years>\d+) years of practice .*"),
     N_("A supervisor needs at least %(years)s years of practice (6.2.2.1).")),
    (re.compile(r"Required when the scope is social_worker\."),
     N_("Required for an evaluation of a social worker.")),
    (re.compile(r"A self-evaluation of a worker is made by that worker\."),
     N_("A self-evaluation of a worker is made by that worker.")),
    # The resources service's, of the register's forms (9.3).
    (re.compile(r"Must not be before valid_from\."), N_("Not before the first valid day.")),
    (re.compile(r"Must not be before period_from\."), N_("Not before the period's first day.")),
    (re.compile(r"Must be after checked_on\."), N_("After the day of the check.")),
    (re.compile(r"Not a valid email address\."), N_("Not a valid email address.")),
    # The archive's, of an access grant's hours (9.4d).
    (re.compile(r"Must not exceed the (?P<hours>\d+) hours requested\."),
     N_("At most the %(hours)s hours requested.")),
    # The archive's, of a point in the ledger's history (schemas._AsOf, FileAsOf).
    (re.compile(r"Give a time \(at\) or a ledger position\."),
     N_("Give a ledger position or a time.")),
    (re.compile(r"Give either a time or a ledger position, not both\."),
     N_("Give a ledger position or a time, not both.")),
)
UNKNOWN_RULE = N_("Breaks a rule: %(rule)s")


@dataclass(frozen=True)
class Message:
    """A source string and its parameters, translated where it is shown."""

    text: str
    params: dict[str, Any] = field(default_factory=dict)


def field_message(rule: str) -> Message:
    for pattern, text in FIELD_RULES:
        matched = pattern.fullmatch(rule)
        if matched:
            return Message(text, matched.groupdict())
    return Message(UNKNOWN_RULE, {"rule": rule})


class Localized:
    """What a page needs of one locale: its translations, labels and dates."""

    def __init__(self, locale: str) -> None:
        self.locale = negotiate(locale)
        self.translations = translations(self.locale)

    def gettext(self, message: str, **params: Any) -> str:
        text = self.translations.gettext(message)
        return text % params if params else text

    def message(self, message: Message) -> str:
        return self.gettext(message.text, **message.params)

    def label(self, code: str, field: str | None = None) -> str:
        """The code's label, or the one it has as the value of `field` where a code means
        another thing there (FIELD_LABELS)."""
        own = FIELD_LABELS.get(field or "", {})
        if code in own:
            return self.gettext(own[code])
        return self.gettext(LABELS[code]) if code in LABELS else code

    def event(self, name: str) -> str:
        short = name.rsplit(".", 1)[-1]
        return self.gettext(EVENTS[short]) if short in EVENTS else short

    def file_sections(self, codes: Iterable[str]) -> str:
        """Sections of an archive file (9.4b) by their labels, as a list in a sentence."""
        return ("、" if self.locale == "zh_CN" else ", ").join(
            self.gettext(FILE_SECTIONS.get(code, code)) for code in codes)

    def service_code(self, code: str) -> str:
        for entry in SERVICE_CODES:
            if entry.code == code:
                label = entry.label_zh if self.locale == "zh_CN" else entry.label_en
                return f"{code} {label}"
        return code

    def sector(self, code: str) -> str:
        """A sector of the family–school–community network (7.3a), by its label."""
        labels = SECTOR_LABELS.get(code)
        if labels is None:
            return code
        return labels["label_zh"] if self.locale == "zh_CN" else labels["label_en"]

    def money(self, cents: int, currency: str) -> str:
        """An amount the services keep in whole cents, in the locale's way (¥1,500.00)."""
        return format_currency(Decimal(cents) / 100, currency, locale=self.locale)

    def date(self, value: str | date | None) -> str:
        if not value:
            return ""
        day = date.fromisoformat(value) if isinstance(value, str) else value
        return format_date(day, format="long", locale=self.locale)

    def datetime(self, value: str | datetime | None) -> str:
        if not value:
            return ""
        instant = datetime.fromisoformat(value) if isinstance(value, str) else value
        return format_datetime(instant, format="medium", tzinfo=zone(), locale=self.locale)


def zone() -> ZoneInfo:
    """The schools' time zone (`CASEBOOK_TIMEZONE`): every instant is shown in it, whatever
    the server's zone, and it is the zone the services date records in."""
    return settings().runtime.timezone


def today() -> date:
    """Today where the schools are, by the services' own clock: the default date of every
    form, the same date the services judge "not in the future" by."""
    return clock.today()
