"""The operator's pages. The operator runs Casebook for every school it serves and is the top
step of every risk escalation's ladder (9.6b): every school's escalations, where they land
(escalations.py); the schools, each with its own; and where each service's pipe stands (what
`casebook status` prints). The operator's other work (backups, keys, the dead letters) is the
command line's (docs/operators.md)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import eventlet
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from contracts.events.supervision import SERVICE_MODES
from services.console import activities, forms
from services.console.forms import Field
from services.console.i18n import N_
from services.console.school_admin import FACILITIES, REGISTER_SCHOOL, facilities_form
from services.console.web import (
    Problem,
    Refused,
    Section,
    Visit,
    nav,
    page,
    send_form,
)
from services.runtime.launcher import PUBLISHERS
from services.runtime.service import behind_source

SCHOOLS_PAGE = 50

# The top of every escalation's ladder (9.6b): where the operator lands.
nav(N_("Escalations"), "/escalations", "operator")
nav(N_("Schools"), "/schools", "operator")
nav(N_("Service status"), "/services", "operator")

# 8.1, 6.1: a school the operator brings into Casebook, by the code it will be known by; its
# administrator then registers its staff.
NEW_SCHOOL = activities.NewRecord(
    N_("Register a school"), "8.1, 6.1", "/schools/new", "/schools", N_("Register the school"),
    (Field("school_id", N_("School code"), required=True,
           hint=N_("The code the school is known by in Casebook, for example JD001.")),
     *REGISTER_SCHOOL), "school_id")


@page("/schools")
def schools(visit: Visit) -> Response:
    """The schools Casebook serves (8.1), by service mode, each linked to its escalations."""
    args = visit.request.args
    mode = args.get("service_mode") if args.get("service_mode") in SERVICE_MODES else None
    found = visit.api.get("/schools", service_mode=mode, after=args.get("after"),
                          limit=SCHOOLS_PAGE)
    return visit.render("operator_schools.html", page=found, mode=mode, modes=SERVICE_MODES,
                        escalated=_escalated(visit, [item["school_id"]
                                                     for item in found["items"]]))


def _escalated(visit: Visit, school_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each school's escalations waiting for acknowledgement and overdue (9.6b), by school: of
    the service that lists the schools, so asked as surely."""
    if not school_ids:
        return {}
    counted = visit.api.get("/escalations/by-school", school_id=school_ids)
    return {row["school_id"]: row for row in counted["schools"]}


@page("/schools/new")
def new_school(visit: Visit) -> Response:
    return _new_school(visit, None, None)


@page("/schools/new", "POST")
def register_school(visit: Visit) -> Response:
    return activities.send_typed(
        visit, NEW_SCHOOL.route, NEW_SCHOOL.fields,
        forms.payload(NEW_SCHOOL.fields, visit.request.form), NEW_SCHOOL.route,
        lambda form, problem, status: _new_school(visit, form, problem, status))


def _new_school(visit: Visit, form: MultiDict[str, str] | None, problem: Problem | None,
                status: int = 200) -> Response:
    return visit.render("record_new.html", status, record=NEW_SCHOOL,
                        values=forms.values(NEW_SCHOOL.fields, form), problem=problem,
                        choices={})


@page("/schools/<school_id>")
def school(visit: Visit, school_id: str) -> Response:
    return _school_page(visit, school_id, None)


@page("/schools/<school_id>/facilities", "POST")
def record_facilities(visit: Visit, school_id: str) -> Response:
    """A school's service spaces as they now are (6.1), replacing those recorded: its
    administrator's to record on their staff page, the operator's for any school."""
    path = f"/schools/{quote(school_id, safe='')}"
    return send_form(visit, f"{path}/facilities", forms.payload(FACILITIES, visit.request.form),
                     Section(FACILITIES, name="facilities"),
                     lambda sent, status: _school_page(visit, school_id, sent, status), path)


def _school_page(visit: Visit, school_id: str, sent: Section | None,
                 status: int = 200) -> Response:
    record = visit.api.get(f"/schools/{quote(school_id, safe='')}")
    return visit.render("operator_school.html", status, school=record,
                        section=facilities_form(sent, record))


@page("/services")
def services(visit: Visit) -> Response:
    """Each service's pipe (`GET /services/<service>/status`): its store, what its relay
    published and the broker confirmed, its subscriptions' cursors and any halt. The gateway's
    readiness check pings them all at once, each for a moment only: a service that does not
    answer it is said so at once, with why, and only those that answer are asked their status."""
    ready = _readiness(visit)
    answering = [name for name in PUBLISHERS if ready.get(name) == "ok"]
    # All at once: a service stuck past the status route's deadline holds the page that long
    # once, not once for each service after it.
    pool = eventlet.GreenPool(len(PUBLISHERS))
    statuses = dict(zip(answering, pool.imap(lambda name: _status(visit, name), answering),
                        strict=True))
    # Each subscription's lag: what its source published that it has not handled yet.
    for state in statuses.values():
        for sub in state.get("subscriptions", ()):
            sub["lag"] = behind_source(statuses, sub["source"], sub["position"])
    return visit.render("operator_services.html", states={
        name: statuses.get(name) or {"error": ready.get(name, "unknown")}
        for name in PUBLISHERS})


def _readiness(visit: Visit) -> dict[str, str]:
    """Each service's answer to the gateway's ping (`GET /readyz`): "ok", or why not."""
    try:
        answer: dict[str, str] = visit.api.get("/readyz")["services"]
    except Refused as refusal:
        if "services" not in refusal.problem:
            raise
        answer = refusal.problem["services"]
    return answer


def _status(visit: Visit, service: str) -> dict[str, Any]:
    """A service's status, its subscriptions by source (where each has read to, and why it
    halted if it did: a subscription may halt before it has read anything)."""
    try:
        state: dict[str, Any] = visit.api.get(f"/services/{service}/status")
    except Refused as refusal:
        return {"error": refusal.problem.get("detail") or str(refusal.status)}
    cursors, halted, dead = state["cursors"], state["halted"], state["dead_letters"]
    state["subscriptions"] = [
        {"source": source, "position": cursors.get(source, {}).get("position"),
         "halted": halted.get(source), "dead_letters": dead.get(source, 0)}
        for source in sorted({*cursors, *halted, *dead})]
    return state
