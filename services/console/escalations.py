"""The risk escalations of 9.6b, for everyone on their ladders: the case's social worker (the
first step of a medium or low risk), the supervisor, the school administrator and the operator
(the top of every ladder, who lists every school's or one school's). A list with each
escalation's deadline, one escalation's trail, and taking charge of it: acknowledging it while
it waits for one's step or a lower one, recording the emergency response, and, for the
overseers, resolving it. Each role's header links here
from its own module; the supervision service decides what each sees and may do, and the pages
offer no form the service would refuse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from contracts.events.supervision import ACKNOWLEDGING_ROLES, ESCALATION_ACTIONS, acknowledgers
from services.cases.access import CASE_WRITERS
from services.console import forms
from services.console.forms import Field
from services.console.i18n import N_
from services.console.web import Section, Visit, page, sections_of, send_form, unless_away
from services.runtime.clock import clock
from services.supervision.access import OVERSEERS

ESCALATION_PAGE = 20
# The most of a case's escalations its page shows: one opens when a risk is registered and
# again each time its level is raised (9.6b), so a case has a handful.
CASE_ESCALATIONS = 50
ESCALATION_STATES = ("awaiting acknowledgement", "acknowledged", "resolved")
# The roles whose header links to the escalations (each from its own module), and what their
# list holds: the supervision service scopes it by role.
SCOPES: dict[str, str] = {
    "social_worker": N_("The risk escalations of your cases, oldest first."),
    "supervisor": N_("The risk escalations of your supervisees' cases, oldest first."),
    "school_admin": N_("The risk escalations of your school's cases, oldest first."),
    "operator": N_("The risk escalations of the school's cases, oldest first."),
    "auditor": N_("The risk escalations of the school's cases, oldest first, each with its "
                  "trail: who took charge of it, and whether in time."),
}
# The list of every school's, for the roles with no school of their own.
EVERY_SCHOOL_SCOPES: dict[str, str] = {
    "operator": N_("The risk escalations of every school, oldest first: the operator is the "
                   "last step of every ladder."),
    "auditor": N_("The risk escalations of every school, oldest first, each with its trail: "
                  "who took charge of it, and whether in time."),
}
# Who may record the emergency response taken (9.6b): the case's worker and the overseers.
ACTING = (*OVERSEERS, "social_worker")

# 9.6b: the emergency response taken, and how the escalation ended. `risk_resolved` and
# `superseded` come from the case itself, never from this form.
ACTION = (Field("action", N_("Action taken"), "select", ESCALATION_ACTIONS, required=True),)
RESOLVE = (Field("resolution", N_("How it ended"), "select", ("handled", "referred"),
                 required=True),)
# What happened to an escalation, as its trail names the stored events.
TRAIL_EVENTS: dict[str, str] = {
    "Opened": N_("Escalation opened (9.6b)"),
    "Climbed": N_("Not acknowledged in time: passed up the ladder"),
    "Acknowledged": N_("Acknowledged"),
    "ActionTaken": N_("Action recorded"),
    "Resolved": N_("Escalation resolved"),
}


@dataclass(frozen=True)
class Escalated:
    """A case's escalations by the risk that opened them, and the ids of those past their
    time."""

    by_risk: dict[str, list[dict[str, Any]]]
    late: set[str]


def overdue(escalation: dict[str, Any], now: datetime) -> bool:
    """Waiting for acknowledgement past its current step's time limit (9.6b), on the same
    settable clock the supervision service judges it by."""
    return (escalation["status"] == "awaiting acknowledgement"
            and datetime.fromisoformat(escalation["due_at"]) <= now)


def may_acknowledge(role: str, escalation: dict[str, Any]) -> bool:
    """The current step's role, one further up the ladder, or the operator (9.6b): the
    service's own rule. Only the case's own worker sees a worker's escalation at all."""
    return role in acknowledgers(escalation["ladder"], escalation["step"])


def forms_offered(role: str, escalation: dict[str, Any]) -> frozenset[str]:
    """The forms a person of `role` is offered on an escalation, by its state: acknowledging
    while it waits; once acknowledged, recording an action (the case's worker too) and
    resolving it (the overseers only)."""
    if escalation["status"] == "awaiting acknowledgement":
        return frozenset({"acknowledge"} if may_acknowledge(role, escalation) else ())
    if escalation["status"] == "acknowledged":
        return frozenset({"action", "resolve"} if role in OVERSEERS
                         else {"action"} if role in ACTING else ())
    return frozenset()


@page("/escalations")
def escalations(visit: Visit) -> Response:
    args = visit.request.args
    if visit.actor.role not in SCOPES:
        return redirect("/")
    # The operator serves every school: every school's list, or the one school chosen.
    chosen = "" if visit.actor.school_id else args.get("school", "")
    route = _list_route(visit, chosen)
    status = args.get("status") if args.get("status") in ESCALATION_STATES else None
    late_only = args.get("overdue") == "true"
    # Only those on a ladder are waited for; the auditor reads the escalations.
    on_ladder = visit.actor.role in ACKNOWLEDGING_ROLES
    mine = on_ladder and args.get("waiting") == "me"
    found = visit.api.get(route, status=status, overdue="true" if late_only else None,
                          waiting_for=visit.actor.role if mine else None,
                          after=args.get("after"), limit=ESCALATION_PAGE)
    now = clock.now()
    late = {item["escalation_id"] for item in found["items"] if overdue(item, now)}
    every = route == "/escalations"
    # How many wait for the person's role in what this list covers, beside the filter that
    # lists them: the supervisor's and the operator's home page is this list.
    waiting = None if not on_ladder else found["total"] if mine else visit.api.get(
        route, waiting_for=visit.actor.role, limit=1)["total"]
    shown = {"school": chosen, "status": status, "overdue": "true" if late_only else None,
             "waiting": "me" if mine else None}
    return visit.render("escalations.html", page=found, late=late, state=status,
                        late_only=late_only, mine=mine, states=ESCALATION_STATES,
                        scope=(EVERY_SCHOOL_SCOPES if every else SCOPES)[visit.actor.role],
                        school=chosen, every=every, on_ladder=on_ladder, waiting=waiting,
                        schools_page=visit.actor.role == "operator",
                        # The filters' links keep the school chosen.
                        in_school=urlencode({"school": chosen}) + "&" if chosen else "",
                        more=urlencode({**{k: v for k, v in shown.items() if v},
                                        "after": found["next"]}) if found["next"] else None)


def waiting_for_me(visit: Visit) -> int | None:
    """How many of the escalations the signed-in person sees wait for their role to take charge
    (9.6b), for their home page; None while the supervision service does not answer."""
    found = unless_away(visit, _list_route(visit, ""), waiting_for=visit.actor.role, limit=1)
    return None if found is None else int(found["total"])


def of_case(visit: Visit, case_id: str, school_id: str | None) -> Escalated | None:
    """A case's escalations (9.6b) by the risk that opened them, newest first, with the ones
    past their time, for the case's page; None while the supervision service does not answer."""
    found = unless_away(visit, _list_route(visit, school_id or ""), case_id=case_id,
                        limit=CASE_ESCALATIONS)
    if found is None:
        return None
    by_risk: dict[str, list[dict[str, Any]]] = {}
    for item in reversed(found["items"]):
        by_risk.setdefault(item["risk_id"], []).append(item)
    now = clock.now()
    return Escalated(by_risk, {item["escalation_id"] for item in found["items"]
                               if overdue(item, now)})


def _list_route(visit: Visit, chosen: str) -> str:
    """The list a person reads: their school's, or for one with no school (the operator) the
    school they chose or, with none chosen, every school's."""
    school = visit.actor.school_id or chosen
    return f"/schools/{quote(school, safe='')}/escalations" if school else "/escalations"


@page("/escalations/<escalation_id>")
def escalation(visit: Visit, escalation_id: str) -> Response:
    return _escalation_page(visit, escalation_id, None)


@page("/escalations/<escalation_id>/acknowledgement", "POST")
def acknowledge(visit: Visit, escalation_id: str) -> Response:
    return _escalation_command(visit, escalation_id, "acknowledgement", {},
                               Section((), name="acknowledge"))


@page("/escalations/<escalation_id>/actions", "POST")
def record_action(visit: Visit, escalation_id: str) -> Response:
    body = forms.payload(ACTION, visit.request.form)
    return _escalation_command(visit, escalation_id, "actions", body,
                               Section(ACTION, name="action"))


@page("/escalations/<escalation_id>/resolution", "POST")
def resolve(visit: Visit, escalation_id: str) -> Response:
    body = forms.payload(RESOLVE, visit.request.form)
    return _escalation_command(visit, escalation_id, "resolution", body,
                               Section(RESOLVE, name="resolve"))


def _escalation_command(visit: Visit, escalation_id: str, path: str, body: dict[str, Any],
                        section: Section) -> Response:
    return send_form(visit, f"/escalations/{escalation_id}/{path}", body, section,
                     lambda sent, status: _escalation_page(visit, escalation_id, sent, status),
                     f"/escalations/{escalation_id}")


def _escalation_page(visit: Visit, escalation_id: str, sent: Section | None,
                     status: int = 200) -> Response:
    record = visit.api.get(f"/escalations/{escalation_id}")
    trail = visit.api.get(f"/escalations/{escalation_id}/trail")["trail"]
    sections = sections_of(sent, acknowledge=(), action=ACTION, resolve=RESOLVE)
    school = "" if visit.actor.school_id else (record["school_id"] or "")
    return visit.render("escalation.html", status, escalation=record, trail=trail,
                        late=overdue(record, clock.now()), sections=sections,
                        offered=forms_offered(visit.actor.role, record),
                        trail_events=TRAIL_EVENTS, school=school,
                        on_ladder=visit.actor.role in ACKNOWLEDGING_ROLES,
                        # The live case's content is its worker's and their supervisor's.
                        case_link=visit.actor.role in CASE_WRITERS)
