"""The social worker's work that is not one client's case: the school's mailbox (8.2.2), where a
letter that needs casework opens a case, group work (8.2.1.3, per MZ/T 095) and experiential
classes (8.2.3)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from contracts.events.cases import CLASS_THEMES, GROUP_KINDS

# Importing social_worker registers its header links before these ones, whatever order pages.py
# imports the modules in: the social worker lands on the first link of their role, My caseload.
from services.console import (
    forms,
    social_worker,  # noqa: F401
)
from services.console.forms import ALL_SERVICE_CODES, Field
from services.console.i18n import N_, today
from services.console.web import (
    Problem,
    Refused,
    Section,
    Visit,
    carry_out,
    form_of,
    nav,
    page,
    refused_on_form,
    send_section,
    sent_back,
)

LIST_PAGE = 20
# The worker's clients offered at a time where a form picks one (a letter's writer, a member).
CLIENT_CHOICES = 20

nav(N_("Mailbox"), "/letters", "social_worker")
nav(N_("Groups"), "/groups", "social_worker")
nav(N_("Classes"), "/classes", "social_worker")

# A group's state and kind, in words of their own rather than i18n.LABELS': there the risks'
# "open" reads "not resolved", and "educational" is a kind of supervision.
GROUP_STATES = {"open": N_("Running"), "closed": N_("Ended")}
GROUP_KIND_LABELS = {"therapeutic": N_("Therapeutic group"), "support": N_("Support group"),
                     "educational": N_("Educational group"), "growth": N_("Growth group"),
                     "social_skills": N_("Social skills group"), "other": N_("Other")}


def _today() -> str:
    return today().isoformat()


# The mailbox (8.2.2): a letter in, its reply out. `client` fields pick one of the worker's
# clients (activities_form.html), a page of them at a time.
LETTER = (
    Field("received_on", N_("Received on"), "date", required=True, default=_today),
    Field("anonymous", N_("Anonymous letter"), "bool"),
    Field("client_id", N_("Written by"), "client",
          hint=N_("A client of yours, if the letter is signed and the writer is one.")),
    Field("grade", N_("Grade"), "int", hint=N_("1 to 12")),
    Field("service_codes", N_("Services (chapter 7)"), "multi", ALL_SERVICE_CODES),
    Field("content", N_("Content of the letter"), "textarea", required=True),
)
REPLY = (
    Field("answered_on", N_("Replied on"), "date", required=True, default=_today),
    Field("reply", N_("Text of the reply"), "textarea", required=True),
)
# A letter that needs casework opens a case for its student (8.2.2): the writer, or the student
# the letter is about, with the intake of 8.3.1a–c.
CASE_CLIENT = Field("client_id", N_("The case is for"), "client", required=True,
                    hint=N_("The writer, or the student the letter is about: register them "
                            "first if they are not a client yet."))
LETTER_CASE = (CASE_CLIENT, *forms.OPEN_CASE)

# Group work (8.2.1.3): formed, members added, sessions held with attendance, evaluated, ended.
GROUP = (
    Field("kind", N_("Kind of group"), "select", GROUP_KINDS, required=True),
    Field("purpose", N_("Purpose of the group"), "textarea", required=True),
    Field("service_codes", N_("Services (chapter 7)"), "multi", ALL_SERVICE_CODES,
          required=True),
    Field("planned_sessions", N_("Planned sessions"), "int", required=True, hint=N_("1 to 100")),
    Field("formed_on", N_("Formed on"), "date", required=True, default=_today),
)
MEMBER = (
    Field("client_id", N_("Client"), "client", required=True),
    Field("joined_on", N_("Joined on"), "date", required=True, default=_today),
)
# `attended`: a checkbox for each member of the group, its options (activities_form.html).
SESSION = (
    Field("held_on", N_("Date held"), "date", required=True, default=_today),
    Field("attended", N_("Attended"), "multi"),
    Field("notes", N_("Notes"), "textarea"),
)
EVALUATE_GROUP = (
    Field("evaluated_on", N_("Evaluated on"), "date", required=True, default=_today),
    Field("goal_attainment", N_("Goal attainment, from −2 to +2 (10.2.2)"), "lines",
          required=True, hint=N_("One score a line, a line for each goal of the group.")),
    Field("notes", N_("Notes"), "textarea"),
)
CLOSE_GROUP = (
    Field("closed_on", N_("Ended on"), "date", required=True, default=_today),
)

# Experiential classes (8.2.3).
CLASS = (
    Field("theme", N_("Theme"), "select", CLASS_THEMES, required=True),
    Field("topic", N_("Topic"), required=True),
    Field("service_codes", N_("Services (chapter 7)"), "multi", ALL_SERVICE_CODES,
          required=True),
    Field("held_on", N_("Date held"), "date", required=True, default=_today),
    Field("attendance", N_("Attendance"), "int", required=True,
          hint=N_("How many took part.")),
    Field("grade", N_("Grade"), "int", hint=N_("1 to 12")),
)

SCORE = re.compile(r"[+-]?\d+")


def scores(lines: list[str]) -> list[Any]:
    """Goal attainment scores as typed, one a line: whole numbers as numbers (a typographic
    minus as well), anything else as typed, for the service's rule to name."""
    typed = [line.replace("−", "-").replace("＋", "+").replace("－", "-") for line in lines]
    return [int(score) if SCORE.fullmatch(score) else score for score in typed]


def overdue_days(letter: dict[str, Any], on: date) -> int:
    """How many days an unanswered letter is past its reply deadline on `on` (8.2.2); 0 for a
    letter answered or still in time."""
    if letter.get("answered_on") or letter.get("answer"):
        return 0
    return max(0, (on - date.fromisoformat(letter["reply_due_on"])).days)


@dataclass(frozen=True)
class NewRecord:
    """The form that records a new letter, group or class (or a provider or volunteer of the
    register, register.py): its page, the service's route it posts to, and the record's own
    page (the console's path of the route) it leads to."""

    title: str
    clause: str
    action: str
    route: str
    button: str
    fields: tuple[Field, ...]
    made: str  # the key of the answer that holds the new record's id


NEW_LETTER = NewRecord(N_("Record a letter"), "8.2.2", "/letters/new", "/letters",
                       N_("Record the letter"), LETTER, "letter_id")
NEW_GROUP = NewRecord(N_("Form a group"), "8.2.1.3", "/groups/new", "/groups",
                      N_("Form the group"), GROUP, "group_id")
NEW_CLASS = NewRecord(N_("Record a class"), "8.2.3", "/classes/new", "/classes",
                      N_("Record the class"), CLASS, "class_id")


def _new_form(visit: Visit, record: NewRecord, form: MultiDict[str, str] | None,
              problem: Problem | None, status: int = 200) -> Response:
    picks = any(field.kind == "client" for field in record.fields)
    if picks and _more_clients(visit):
        return _client_choices(visit, record.action, ())
    return visit.render("activities_new.html", status, record=record,
                        values=forms.values(record.fields, form), problem=problem,
                        choices=_clients(visit, ()) if picks else None,
                        picking=record.action, labels={"kind": GROUP_KIND_LABELS})


def _create(visit: Visit, record: NewRecord, **given: Any) -> Response:
    body = {**forms.payload(record.fields, visit.request.form), **given}
    return send_typed(visit, record.route, record.fields, body,
                 lambda answer: f"{record.route}/{answer[record.made]}",
                 lambda form, problem, status: _new_form(visit, record, form, problem, status))


def send_typed(visit: Visit, route: str, fields: tuple[Field, ...], body: dict[str, Any],
               done: str | Callable[[dict[str, Any]], str],
               again: Callable[[MultiDict[str, str], Problem, int], Response],
               answerable: Callable[[Refused], bool] = refused_on_form) -> Response:
    """Carry out a command, then go where `done` says; on a refusal the form answers (400,
    409, or what `answerable` says), the page again with the form as it was sent and the
    reasons beside its fields."""
    return carry_out(visit, route, body, lambda refusal: again(
        visit.request.form, Problem.of(refusal.problem, fields), refusal.status), done,
        answerable)


# The mailbox (8.2.2).


@page("/letters")
def letters(visit: Visit) -> Response:
    args = visit.request.args
    unanswered = args.get("unanswered") == "1"
    mailbox = visit.api.get("/letters", unanswered="true" if unanswered else None,
                            after=args.get("after"), limit=LIST_PAGE)
    day = today()
    late = {item["letter_id"]: overdue_days(item, day) for item in mailbox["items"]}
    return visit.render("activities_letters.html", page=mailbox, late=late,
                        unanswered=unanswered, after=args.get("after"))


@page("/letters/new")
def new_letter(visit: Visit) -> Response:
    return _new_form(visit, NEW_LETTER, None, None)


@page("/letters/new", "POST")
def receive_letter(visit: Visit) -> Response:
    return _create(visit, NEW_LETTER)


@page("/letters/<letter_id>")
def letter(visit: Visit, letter_id: str) -> Response:
    return _letter_page(visit, letter_id, None)


@page("/letters/<letter_id>/reply", "POST")
def answer_letter(visit: Visit, letter_id: str) -> Response:
    return send_typed(visit, f"/letters/{letter_id}/reply", REPLY,
                 forms.payload(REPLY, visit.request.form), lambda _: f"/letters/{letter_id}",
                 _letter_again(visit, letter_id, "reply", REPLY))


@page("/letters/<letter_id>/case", "POST")
def open_case_from_letter(visit: Visit, letter_id: str) -> Response:
    """The letter's student taken into casework: a case opened at intake, linked to the letter
    (8.2.2), for the signed-in worker; then its case page."""
    form = visit.request.form
    body = {**forms.opening(form), **forms.payload((CASE_CLIENT,), form),
            "letter_id": letter_id, "social_worker_id": visit.actor.id}
    return send_typed(visit, "/cases", LETTER_CASE, body,
                 lambda answer: f"/cases/{answer['case_id']}",
                 _letter_again(visit, letter_id, "case", LETTER_CASE))


def _letter_again(visit: Visit, letter_id: str, name: str, fields: tuple[Field, ...]
                  ) -> Callable[[MultiDict[str, str], Problem, int], Response]:
    return lambda _, problem, status: _letter_page(
        visit, letter_id, sent_back(visit, Section(fields, name=name), problem), status)


def _letter_page(visit: Visit, letter_id: str, sent: Section | None,
                 status: int = 200) -> Response:
    picking = f"/letters/{letter_id}"
    if _more_clients(visit):
        return _client_choices(visit, picking, ())
    record = visit.api.get(f"/letters/{letter_id}")
    writer = _listed(visit, record["client_id"]) if record["client_id"] else None
    case = form_of(sent, "case", LETTER_CASE)
    if case is not sent:  # a new case is for the writer, in the services the letter asks for
        case.values.update(client_id=record["client_id"], service_codes=record["service_codes"])
    choices = None if record["opened_case_id"] else _clients(visit, ())
    if choices is not None and writer is not None and writer["client_id"] not in {
            item["client_id"] for item in choices["items"]}:
        choices["items"].insert(0, writer)
    return visit.render("activities_letter.html", status, letter=record,
                        writer=writer["name"] if writer else None,
                        reply=form_of(sent, "reply", REPLY), case=case, choices=choices,
                        picking=picking)


# Group work (8.2.1.3).


@page("/groups")
def groups(visit: Visit) -> Response:
    args = visit.request.args
    state = args.get("status") if args.get("status") in GROUP_STATES else None
    listed = visit.api.get("/groups", status=state, after=args.get("after"), limit=LIST_PAGE)
    return visit.render("activities_groups.html", page=listed, state=state,
                        after=args.get("after"), states=GROUP_STATES,
                        kinds=GROUP_KIND_LABELS)


@page("/groups/new")
def new_group(visit: Visit) -> Response:
    return _new_form(visit, NEW_GROUP, None, None)


@page("/groups/new", "POST")
def form_group(visit: Visit) -> Response:
    # The signed-in worker leads the groups they form here.
    return _create(visit, NEW_GROUP, social_worker_id=visit.actor.id)


GROUP_SECTIONS = {"members": MEMBER, "sessions": SESSION, "evaluation": EVALUATE_GROUP,
                  "closing": CLOSE_GROUP}


@page("/groups/<group_id>")
def group(visit: Visit, group_id: str) -> Response:
    return _group_page(visit, group_id, None)


@page("/groups/<group_id>/<section>", "POST")
def group_command(visit: Visit, group_id: str, section: str) -> Response:
    """Add a member, hold a session, evaluate or end the group."""

    def shape(body: dict[str, Any]) -> dict[str, Any]:
        if "goal_attainment" in body:
            body["goal_attainment"] = scores(body["goal_attainment"])
        return body

    return send_section(visit, GROUP_SECTIONS, section, f"/groups/{group_id}/{section}",
                        f"/groups/{group_id}",
                        lambda sent, status: _group_page(visit, group_id, sent, status), shape)


def _group_page(visit: Visit, group_id: str, sent: Section | None,
                status: int = 200) -> Response:
    record = visit.api.get(f"/groups/{group_id}")
    members = [member["client_id"] for member in record["members"]]
    if _more_clients(visit):
        return _client_choices(visit, f"/groups/{group_id}", members)
    names = {client_id: _name_of(visit, client_id) for client_id in members}
    sections = {name: form_of(sent, name, fields) for name, fields in GROUP_SECTIONS.items()}
    choices = _clients(visit, members) if record["status"] == "open" else None
    return visit.render("activities_group.html", status, group=record, members=members,
                        names=names, sections=sections, choices=choices,
                        picking=f"/groups/{group_id}", states=GROUP_STATES,
                        kinds=GROUP_KIND_LABELS)


# Experiential classes (8.2.3).


@page("/classes")
def classes(visit: Visit) -> Response:
    args = visit.request.args
    listed = visit.api.get("/classes", after=args.get("after"), limit=LIST_PAGE)
    return visit.render("activities_classes.html", page=listed, after=args.get("after"))


@page("/classes/new")
def new_class(visit: Visit) -> Response:
    return _new_form(visit, NEW_CLASS, None, None)


@page("/classes/new", "POST")
def hold_class(visit: Visit) -> Response:
    return _create(visit, NEW_CLASS)


@page("/classes/<class_id>")
def held_class(visit: Visit, class_id: str) -> Response:
    return visit.render("activities_class.html", held=visit.api.get(f"/classes/{class_id}"))


# Picking one of the worker's clients, a page of them at a time.


def _more_clients(visit: Visit) -> bool:
    """htmx asks for the next page of a picker's clients, to add them in place."""
    return bool(visit.request.headers.get("HX-Request")
                and visit.request.args.get("clients_after"))


def _clients(visit: Visit, leaving_out: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """A page of the worker's clients (newest first), without those `leaving_out`."""
    found = visit.api.get("/clients", after=visit.request.args.get("clients_after"),
                          limit=CLIENT_CHOICES)
    items = [item for item in found["items"] if item["client_id"] not in leaving_out]
    more = (f"?{urlencode({'clients_after': found['next']})}" if found["next"] else None)
    return {"items": items, "more": more, "total": found["total"]}


def _client_choices(visit: Visit, picking: str,
                    leaving_out: list[str] | tuple[str, ...]) -> Response:
    return visit.render("activities_client_choices.html", choices=_clients(visit, leaving_out),
                        picking=picking, chosen=None)


def _name_of(visit: Visit, client_id: str) -> str | None:
    """A client's name, or None where it cannot be read (archived, 9.4d; destroyed, 9.4e)."""
    listed = _listed(visit, client_id)
    return listed["name"] if listed else None


def _listed(visit: Visit, client_id: str) -> dict[str, Any] | None:
    """A client as the client list shows one, or None where the record cannot be read."""
    try:
        record = visit.api.get(f"/clients/{client_id}")
    except Refused as refusal:
        if refusal.status >= 500:
            raise
        return None
    details = record["details"] if isinstance(record["details"], dict) else {}
    return {"client_id": client_id, "name": details.get("name"),
            "client_type": record["client_type"], "grade": record["grade"]}
