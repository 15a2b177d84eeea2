"""The resource register of 9.3, for the school's own team (its social workers, supervisors and
administrator): the providers with the resources they offer and the donations they gave (9.3a),
the feedback to a provider on how its resources were used (9.3c), and the volunteers with their
background checks, assignments and time served (9.3b). Every rule is the resources service's;
these pages show what it holds and send what is typed."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from contracts.events.cases import RESOURCE_KINDS
from contracts.events.resources import (
    CHECK_RESULTS,
    DONATION_KINDS,
    PARTNER_SECTORS,
    PROVIDER_KINDS,
)

# Importing the role modules puts their links first in each header (a person lands on their
# role's first link), whatever order pages.py imports the modules in.
from services.console import (
    activities,
    forms,
    school_admin,  # noqa: F401
    supervisor,  # noqa: F401
)
from services.console.forms import ALL_SERVICE_CODES, Field
from services.console.i18n import N_, today
from services.console.web import (
    Problem,
    Refused,
    Section,
    Visit,
    form_of,
    nav,
    page,
    send_section,
)
from services.resources.access import CHECKERS, FEEDBACK_ISSUERS, MANAGERS

LIST_PAGE = 20
# The register's providers a joint activity's form offers as its partners, the oldest first.
PARTNER_CHOICES = 100
# A provider's resources and donations its page shows, the first in the service's order: a
# provider offers a handful.
ON_PAGE = 50

nav(N_("Resource register"), "/providers", *MANAGERS)
nav(N_("Volunteers"), "/volunteers", *MANAGERS)

CHECK_STATES = {"unchecked": N_("Not checked"), "cleared": N_("Cleared"),
                "expired": N_("Check expired"), "failed": N_("Check failed")}


def _today() -> str:
    return today().isoformat()


CONTACT_PARTS = ("person", "phone", "email", "address")  # the service's Contact

PROVIDER = (
    Field("provider_kind", N_("Kind of provider"), "select", PROVIDER_KINDS, required=True),
    Field("sector", N_("Sector (7.3a)"), "select", PARTNER_SECTORS, required=True),
    Field("name", N_("Name of the provider"), required=True,
          hint=N_("An organisation's public name; a person's name is kept for the school's "
                  "own team only.")),
    Field("contact_person", N_("Contact person")),
    Field("contact_phone", N_("Telephone")),
    Field("contact_email", N_("Email")),
    Field("contact_address", N_("Address")),
    Field("registered_on", N_("Registered on"), "date", required=True, default=_today),
)
RESOURCE = (
    Field("kind", N_("Kind of resource"), "select", RESOURCE_KINDS, required=True),
    Field("title", N_("Title"), required=True),
    Field("capacity", N_("Capacity"), "int", required=True,
          hint=N_("How many units it has in all.")),
    Field("unit", N_("Unit"), hint=N_("What a unit is: places, hours, sessions. Leave empty "
                                      "for places.")),
    Field("max_per_request", N_("The most one request may take"), "int"),
    Field("eligible_service_codes", N_("For requests with these services (chapter 7)"),
          "multi", ALL_SERVICE_CODES, hint=N_("None chosen: any request.")),
    Field("eligibility_note", N_("Who it is for"), "textarea"),
    Field("valid_from", N_("Valid from"), "date", required=True, default=_today),
    Field("valid_until", N_("Valid until"), "date", hint=N_("Leave empty for no end.")),
)
DONATION = (
    Field("kind", N_("Kind of donation"), "select", DONATION_KINDS, required=True),
    Field("amount", N_("Amount or value, in yuan"), required=True,
          hint=N_("Up to two decimal places, as 1500 or 99.50.")),
    Field("description", N_("What was given"), "textarea"),
    Field("restricted_to_service_codes", N_("Only for these services (chapter 7)"), "multi",
          ALL_SERVICE_CODES, hint=N_("None chosen: for any service.")),
    Field("restriction_note", N_("Other restrictions, as the donor put them"), "textarea"),
    Field("received_on", N_("Donated on"), "date", required=True, default=_today),
)
PERIOD = (
    Field("period_from", N_("From"), "date", required=True),
    Field("period_to", N_("To"), "date", required=True),
)
VOLUNTEER = (
    Field("name", N_("Name"), required=True),
    Field("contact_phone", N_("Telephone")),
    Field("contact_email", N_("Email")),
    Field("contact_address", N_("Address")),
    Field("skills", N_("Skills"), "lines", hint=N_("One a line.")),
    Field("registered_on", N_("Registered on"), "date", required=True, default=_today),
)
CHECK = (
    Field("result", N_("Result of the background check"), "select", CHECK_RESULTS,
          required=True),
    Field("checked_on", N_("Checked on"), "date", required=True, default=_today),
    Field("expires_on", N_("Valid until"), "date", required=True),
)
# `activity`: one of the school's groups, classes or joint activities (kind:id), picked.
ASSIGNMENT = (
    Field("activity", N_("Activity"), "select", required=True),
    Field("with_students", N_("Works with students"),  "bool",
          hint=N_("Only a volunteer whose background check is valid may (9.3b).")),
    Field("starts_on", N_("Starts on"), "date", required=True, default=_today),
)
HOURS = (
    Field("assignment_id", N_("For the assignment"), "select", required=True),
    Field("served_on", N_("Served on"), "date", required=True, default=_today),
    Field("minutes", N_("Minutes"), "int", required=True, hint=N_("15 to 1440.")),
)
# An activity held with partners of the register (7.3a, 7.5); `partner_ids` offers the
# providers serving the school.
JOINT_ACTIVITY = (
    Field("partner_ids", N_("Partners"), "multi", required=True),
    Field("theme", N_("Theme"), required=True),
    Field("service_codes", N_("Services (chapter 7)"), "multi", ALL_SERVICE_CODES,
          required=True),
    Field("held_on", N_("Date held"), "date", required=True, default=_today),
    Field("participant_count", N_("Participants"), "int", required=True,
          hint=N_("How many took part.")),
)
# Work a volunteer is assigned to that has no record of its own (9.3b): the assignment names it,
# by an id made for it.
WORK_OF_ITS_OWN = ("tutoring", "event", "administration", "other")
NEW_WORK = "new"
WORK_IDS = uuid.UUID("5b0f3c1e-2d4a-4f6b-9c8d-7e1a2b3c4d5e")
PROVIDER_SECTIONS = {"resources": RESOURCE, "donations": DONATION}
VOLUNTEER_SECTIONS = {"checks": CHECK, "assignments": ASSIGNMENT, "hours": HOURS}

# Yuan, with commas only between thousands (1,500; "1,5" is no amount), and up to two places
# of fen.
YUAN = re.compile(r"(?P<yuan>\d{1,3}(?:[,，]\d{3})+|\d+)(?:\.(?P<fen>\d{1,2}))?")


def cents(typed: str) -> int | str:
    """An amount in yuan as typed (1500, 1,500, 99.5, 99.50) as whole cents; anything else as
    typed, for the service's rule to name."""
    matched = YUAN.fullmatch(typed.strip())
    if matched is None:
        return typed
    yuan = int(matched["yuan"].replace(",", "").replace("，", ""))
    return yuan * 100 + int((matched["fen"] or "0").ljust(2, "0"))


def contact_of(body: dict[str, Any]) -> dict[str, Any]:
    """The `contact_*` fields as the service's contact (sealed in its store)."""
    contact = {part: body.pop(f"contact_{part}") for part in CONTACT_PARTS
               if f"contact_{part}" in body}
    return {**body, "contact": contact}


def _refusable(refusal: Refused) -> bool:
    """A refusal a register form answers itself: bad input, a wrong state, and a volunteer
    not cleared to work with students (`check_required`, 9.3b), said above the form."""
    return refusal.status in (400, 409) or refusal.problem.get("code") == "check_required"


NEW_PROVIDER = activities.NewRecord(
    N_("Register a provider"), "9.3a", "/providers/new", "/providers",
    N_("Register the provider"), PROVIDER, "provider_id")
NEW_VOLUNTEER = activities.NewRecord(
    N_("Register a volunteer"), "9.3b", "/volunteers/new", "/volunteers",
    N_("Register the volunteer"), VOLUNTEER, "volunteer_id")


def _new(visit: Visit, record: activities.NewRecord, form: MultiDict[str, str] | None,
         problem: Problem | None, status: int = 200) -> Response:
    return visit.render("record_new.html", status, record=record,
                        values=forms.values(record.fields, form), problem=problem,
                        choices=_sector_choices(visit))


def _create(visit: Visit, record: activities.NewRecord) -> Response:
    """Register a provider or a volunteer, with their contact as the service keeps it."""
    body = contact_of(forms.payload(record.fields, visit.request.form))
    return activities.send_typed(
        visit, record.route, record.fields, body,
        lambda answer: f"{record.route}/{answer[record.made]}",
        lambda form, problem, status: _new(visit, record, form, problem, status))


def _sector_choices(visit: Visit) -> dict[str, dict[str, str]]:
    return {"sector": {code: visit.text.sector(code) for code in PARTNER_SECTORS}}


# Providers, their resources and donations (9.3a), and the feedback on their use (9.3c).


@page("/providers")
def providers(visit: Visit) -> Response:
    args = visit.request.args
    sector = args.get("sector") if args.get("sector") in PARTNER_SECTORS else None
    listed = visit.api.get("/providers", sector=sector, after=args.get("after"), limit=LIST_PAGE)
    totals = visit.api.get("/donations/totals")["totals"]
    return visit.render("register_providers.html", page=listed, sector=sector,
                        after=args.get("after"), sectors=PARTNER_SECTORS, totals=totals)


@page("/providers/new")
def new_provider(visit: Visit) -> Response:
    return _new(visit, NEW_PROVIDER, None, None)


@page("/providers/new", "POST")
def register_provider(visit: Visit) -> Response:
    return _create(visit, NEW_PROVIDER)


@page("/providers/<provider_id>")
def provider(visit: Visit, provider_id: str) -> Response:
    return _provider_page(visit, provider_id, None)


@page("/providers/<provider_id>/<section>", "POST")
def provider_command(visit: Visit, provider_id: str, section: str) -> Response:
    """Register a resource the provider offers, or record a donation it gave."""

    def shape(body: dict[str, Any]) -> dict[str, Any]:
        if section == "resources":
            body["school_ids"] = [visit.actor.school_id]
        if "amount" in body:
            body["amount_cents"] = cents(body.pop("amount"))
        return body

    return send_section(visit, PROVIDER_SECTIONS, section,
                        f"/providers/{provider_id}/{section}",
                        f"/providers/{provider_id}#{section}",
                        lambda sent, status: _provider_page(visit, provider_id, sent, status),
                        shape, _refusable)


def _provider_page(visit: Visit, provider_id: str, sent: Section | None,
                   status: int = 200) -> Response:
    record = visit.api.get(f"/providers/{provider_id}")
    resources = visit.api.get("/resources", provider_id=provider_id, limit=ON_PAGE)
    donations = visit.api.get("/donations", provider_id=provider_id, limit=ON_PAGE)
    sections = {name: form_of(sent, name, fields) for name, fields in PROVIDER_SECTIONS.items()}
    details = record["details"] if isinstance(record["details"], dict) else {}
    # What the provider was told of their resources' use (9.3c), for those who tell them.
    issued = (visit.api.get("/provider-feedback", provider_id=provider_id, limit=ON_PAGE)
              if visit.actor.role in FEEDBACK_ISSUERS else None)
    return visit.render("register_provider.html", status, provider=record, details=details,
                        resources=resources, donations=donations, sections=sections,
                        issued=issued, period=_last_term(today()))


def _last_term(on: date) -> dict[str, str]:
    """The period a feedback page opens with: the last 90 days up to today."""
    return {"period_from": (on - timedelta(days=89)).isoformat(), "period_to": on.isoformat()}


@page("/providers/<provider_id>/feedback")
def provider_feedback(visit: Visit, provider_id: str) -> Response:
    """How the provider's resources were used in a period (9.3c): counts, never who."""
    args = visit.request.args
    asked = {name: args.get(name) or value for name, value in _last_term(today()).items()}
    return _feedback_page(visit, provider_id, asked, None)


@page("/providers/<provider_id>/feedback", "POST")
def issue_feedback(visit: Visit, provider_id: str) -> Response:
    """Issue the period's feedback to the provider (9.3c), as the figures stand now."""
    body = forms.payload(PERIOD, visit.request.form)
    return activities.send_typed(
        visit, f"/providers/{provider_id}/feedback", PERIOD, body,
        lambda answer: f"/providers/{provider_id}/feedback?" + urlencode(
            {**body, "issued": answer["feedback_id"]}),
        lambda form, problem, status: _feedback_page(
            visit, provider_id, forms.values(PERIOD, form), problem, status))


def _feedback_page(visit: Visit, provider_id: str, period: dict[str, Any],
                   problem: Problem | None, status: int = 200) -> Response:
    record = visit.api.get(f"/providers/{provider_id}")
    report, refused = None, problem
    if problem is None:
        try:
            report = visit.api.get(f"/providers/{provider_id}/feedback", **period)
        except Refused as refusal:
            if refusal.status != 400:
                raise
            refused, status = Problem.of(refusal.problem, PERIOD), 400
    resources = visit.api.get("/resources", provider_id=provider_id, limit=ON_PAGE)
    titles = {item["resource_id"]: item["title"] for item in resources["items"]}
    # Issuing the same period again sends the figures as they stand now: said before it is done.
    before = [visit.text.date(item["issued_on"])
              for item in visit.api.get("/provider-feedback", provider_id=provider_id,
                                        limit=ON_PAGE)["items"]
              if (item["period_from"], item["period_to"]) == (period.get("period_from"),
                                                              period.get("period_to"))]
    return visit.render("register_feedback.html", status, provider=record, period=period,
                        report=report, problem=refused, fields=PERIOD, titles=titles,
                        issued=visit.request.args.get("issued"), before=before)


# Joint activities with the register's partners and the school's community network (7.3a, 7.5).


@page("/joint-activities")
def joint_activities(visit: Visit) -> Response:
    return _joint_page(visit, None)


@page("/joint-activities", "POST")
def hold_joint_activity(visit: Visit) -> Response:
    body = forms.payload(JOINT_ACTIVITY, visit.request.form)
    return activities.send_typed(
        visit, "/joint-activities", JOINT_ACTIVITY, body, "/joint-activities",
        lambda form, problem, status: _joint_page(visit, Section(
            JOINT_ACTIVITY, name="activity", values=forms.values(JOINT_ACTIVITY, form),
            problem=problem), status))


def _joint_page(visit: Visit, sent: Section | None, status: int = 200) -> Response:
    args = visit.request.args
    network = visit.api.get("/community-network")
    listed = visit.api.get("/joint-activities", after=args.get("after"), limit=LIST_PAGE)
    partners = {item["provider_id"]: item["name"] or item["provider_id"][:8]
                for item in visit.api.get("/providers", limit=PARTNER_CHOICES)["items"]}
    return visit.render("register_joint.html", status, network=network, page=listed,
                        after=args.get("after"), partners=partners,
                        section=form_of(sent, "activity", JOINT_ACTIVITY))


# Volunteers (9.3b).


@page("/volunteers")
def volunteers(visit: Visit) -> Response:
    args = visit.request.args
    state = args.get("check_state") if args.get("check_state") in CHECK_STATES else None
    listed = visit.api.get("/volunteers", check_state=state, after=args.get("after"),
                           limit=LIST_PAGE)
    return visit.render("register_volunteers.html", page=listed, state=state,
                        after=args.get("after"), states=CHECK_STATES)


@page("/volunteers/new")
def new_volunteer(visit: Visit) -> Response:
    return _new(visit, NEW_VOLUNTEER, None, None)


@page("/volunteers/new", "POST")
def register_volunteer(visit: Visit) -> Response:
    return _create(visit, NEW_VOLUNTEER)


@page("/volunteers/<volunteer_id>")
def volunteer(visit: Visit, volunteer_id: str) -> Response:
    return _volunteer_page(visit, volunteer_id, None)


@page("/volunteers/<volunteer_id>/<section>", "POST")
def volunteer_command(visit: Visit, volunteer_id: str, section: str) -> Response:
    """Record a background check, assign the volunteer to an activity, or log time served."""

    def shape(body: dict[str, Any]) -> dict[str, Any]:
        if section == "assignments":
            # The activity is picked as one (kind:id); the service keeps its two parts.
            kind, _, activity_id = body.pop("activity", "").partition(":")
            if activity_id == NEW_WORK:
                # Named by the form's idempotency key: the form sent again names it again.
                activity_id = str(uuid.uuid5(WORK_IDS, visit.request.form.get(
                    "idempotency_key") or str(uuid.uuid4())))
            body.update({name: value for name, value in (("activity_kind", kind),
                                                         ("activity_id", activity_id)) if value})
            body["with_students"] = "with_students" in visit.request.form
        return body

    return send_section(visit, VOLUNTEER_SECTIONS, section,
                        f"/volunteers/{volunteer_id}/{section}",
                        f"/volunteers/{volunteer_id}#{section}",
                        lambda sent, status: _volunteer_page(visit, volunteer_id, sent, status),
                        shape, _refusable)


def _volunteer_page(visit: Visit, volunteer_id: str, sent: Section | None,
                    status: int = 200) -> Response:
    record = visit.api.get(f"/volunteers/{volunteer_id}")
    details = record["details"] if isinstance(record["details"], dict) else {}
    offered = _activities(visit)
    sections = {name: form_of(sent, name, fields)
                for name, fields in VOLUNTEER_SECTIONS.items()}
    assignments = {item["assignment_id"]: _activity_name(visit, offered, item)
                   for item in record["assignments"]}
    return visit.render("register_volunteer.html", status, volunteer=record, details=details,
                        sections=sections, states=CHECK_STATES, assignments=assignments,
                        choices={"activity": offered, "assignment_id": assignments},
                        checks=visit.actor.role in CHECKERS)


def _activity_name(visit: Visit, known: dict[str, str], assignment: dict[str, Any]) -> str:
    """An assignment by its activity's name, or by its kind and the start of its id where the
    activity is not among those offered (ended, or of a page further back)."""
    key = f"{assignment['activity_kind']}:{assignment['activity_id']}"
    return known.get(key) or visit.text.gettext(
        "%(kind)s %(id)s", kind=visit.text.label(assignment["activity_kind"], "activity_kind"),
        id=assignment["activity_id"][:8])


def _activities(visit: Visit) -> dict[str, str]:
    """What a volunteer can be assigned to, as `kind:id` by what names it: the groups still
    running and the classes the signed-in person sees, and the school's joint activities
    (7.5), the most recent page of each."""
    text = visit.text
    named: dict[str, str] = {}
    for item in visit.api.get("/groups", status="open", limit=LIST_PAGE)["items"]:
        kind = activities.GROUP_KIND_LABELS.get(item["kind"], item["kind"])
        named[f"group:{item['group_id']}"] = text.gettext(
            "%(kind)s, formed on %(date)s", kind=text.gettext(kind),
            date=text.date(item["formed_on"]))
    for item in visit.api.get("/classes", limit=LIST_PAGE)["items"]:
        named[f"class:{item['class_id']}"] = text.gettext(
            "Class: %(theme)s, %(date)s", theme=text.label(item["theme"]),
            date=text.date(item["held_on"]))
    for item in visit.api.get("/joint-activities", limit=LIST_PAGE)["items"]:
        named[f"joint_activity:{item['activity_id']}"] = text.gettext(
            "Joint activity: %(theme)s, %(date)s", theme=item["theme"],
            date=text.date(item["held_on"]))
    for kind in WORK_OF_ITS_OWN:
        named[f"{kind}:{NEW_WORK}"] = text.gettext(
            "%(kind)s, work of its own", kind=text.label(kind, "activity_kind"))
    return named
