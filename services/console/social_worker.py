"""The social worker's pages: the caseload, registering a client, opening a case and taking it
through the steps of 8.3 (or declining its intake with a referral, 8.3.1e), risks and their
levels (9.6), disclosures despite confidentiality (4.1), follow-ups after closing (9.2b), and help
from outside at any step: referrals to agencies (7.1.4b) and resource requests (8.3.4b), carried on
in the resources service (the agency's acceptance and the outcome; an offer accepted or declined,
and its delivery)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from services.cases.rules import LIVE
from services.console import forms
from services.console.escalations import of_case, waiting_for_me
from services.console.forms import Field
from services.console.i18n import N_
from services.console.web import (
    Problem,
    Refused,
    Section,
    Visit,
    carry_out,
    form_of,
    nav,
    page,
    sent_back,
)
from services.resources.schemas import LINK_STATES

CASELOAD_PAGE = 20
# How far ahead the follow-ups coming due are shown, in days (9.2b): a week, a month, a term.
COMING_WITHIN = ("7", "30", "90")
DEFAULT_WITHIN = 30
# A case's referrals and resource requests are few: their states are read in one page.
OUTSIDE_PAGE = 200
# One page of a supervisor's supervisees fills their pickers; the service pages at 200.
SUPERVISEES_PAGE = 200
# The page a refused form is shown on again, given the form's section and the refusal's status.
Again = Callable[["Section", int], Response]

nav(N_("My caseload"), "/caseload", "social_worker")
nav(N_("Register a client"), "/clients/new", "social_worker")
nav(N_("Resource requests"), "/resource-requests", "social_worker")
# The first step of a medium or low risk's escalation is the case's worker (9.6b).
nav(N_("Escalations"), "/escalations", "social_worker")


@page("/caseload")
def caseload(visit: Visit) -> Response:
    args = visit.request.args
    stage = args.get("stage") or None
    cases = visit.api.get("/cases", stage=stage, after=args.get("after"),
                          limit=CASELOAD_PAGE)
    clients = client_names(visit, (case["client_id"] for case in cases["items"]))
    context = {"page": cases, "clients": clients, "stage": stage}
    if visit.request.headers.get("HX-Request"):
        return visit.render("caseload_rows.html", **context)
    counts = visit.api.get("/cases/by-stage")
    return visit.render("caseload.html", counts=counts, waiting=waiting_for_me(visit), **context)


def client_names(visit: Visit, client_ids: Iterable[str]) -> dict[str, str | None]:
    """The names of a page's clients, read by their ids; one out of the caller's reach is not
    named, nor one archived (9.4d) or destroyed (9.4e)."""
    asked = sorted(set(client_ids))
    if not asked:
        return {}
    found = visit.api.get("/clients", client_id=asked, limit=len(asked))["items"]
    return {client["client_id"]: client.get("name") for client in found}


@page("/clients/new")
def new_client(visit: Visit) -> Response:
    return _client_form(visit, None, None)


@page("/clients/new", "POST")
def register_client(visit: Visit) -> Response:
    form = visit.request.form
    body = forms.payload(forms.CLIENT, form)
    guardian = forms.payload(forms.GUARDIAN, form)
    if guardian:
        body["guardians"] = [{"name": guardian.get("guardian_name", ""),
                              "relation": guardian.get("guardian_relation", ""),
                              "contact": guardian.get("guardian_contact")}]
    return carry_out(
        visit, "/clients", body,
        lambda refusal: _client_form(visit, form, Problem.of(
            refusal.problem, forms.CLIENT + forms.GUARDIAN), refusal.status),
        lambda answer: f"/cases/new?{urlencode({'client_id': answer['client_id']})}",
        answerable=_any_refusal)


def _client_form(visit: Visit, form: MultiDict[str, str] | None,
                 problem: Problem | None, status: int = 200) -> Response:
    fields = forms.CLIENT + forms.GUARDIAN
    return visit.render("client_new.html", status, fields=forms.CLIENT,
                        guardian=forms.GUARDIAN, values=forms.values(fields, form),
                        problem=problem)


@page("/cases/new")
def new_case(visit: Visit) -> Response:
    return _case_form(visit, visit.request.args.get("client_id", ""), None, None)


@page("/cases/new", "POST")
def open_case(visit: Visit) -> Response:
    form = visit.request.form
    client_id = form.get("client_id", "")
    body = {**forms.opening(form), "client_id": client_id, "social_worker_id": visit.actor.id}
    return carry_out(
        visit, "/cases", body,
        lambda refusal: _case_form(visit, client_id, form, Problem.of(
            refusal.problem, forms.OPEN_CASE), refusal.status),
        lambda answer: f"/cases/{answer['case_id']}", answerable=_any_refusal)


def _any_refusal(refusal: Refused) -> bool:
    """The forms that start a record show every refusal on the form (a 403 too)."""
    return True


def _case_form(visit: Visit, client_id: str, form: MultiDict[str, str] | None,
               problem: Problem | None, status: int = 200) -> Response:
    client = visit.api.get(f"/clients/{client_id}") if client_id else None
    return visit.render("case_new.html", status, client=client, client_id=client_id,
                        fields=forms.OPEN_CASE, values=forms.values(forms.OPEN_CASE, form),
                        problem=problem)


@page("/cases/<case_id>")
def case(visit: Visit, case_id: str) -> Response:
    return _case_page(visit, case_id, None)


@page("/cases/<case_id>/steps/<step>")
def step_form(visit: Visit, case_id: str, step: str) -> Response:
    chosen = _step(step)
    return _case_page(visit, case_id, Section(
        chosen.fields, step=chosen, values=forms.values(chosen.fields, None)))


@page("/cases/<case_id>/steps/<step>", "POST")
def record_step(visit: Visit, case_id: str, step: str) -> Response:
    chosen = _step(step)
    # A closed case leaves the caseload and is read only under an archive grant (9.4d).
    done = "/caseload" if chosen.name == "closing" else f"/cases/{case_id}"
    body = forms.command(chosen, visit.request.form)
    return _case_command(visit, case_id, chosen.path, body, done,
                         Section(chosen.fields, step=chosen))


@page("/cases/<case_id>/reassignment", "POST")
def reassign_case(visit: Visit, case_id: str) -> Response:
    """A supervisor hands the case to another of their supervisees (6.2.2)."""
    return _form_command(visit, case_id, "reassignment", forms.REASSIGN, "reassign")


@page("/cases/<case_id>/guardians", "POST")
def add_guardian(visit: Visit, case_id: str) -> Response:
    return _client_command(visit, case_id, "guardians", forms.ADD_GUARDIAN, "guardian")


@page("/cases/<case_id>/related-parties", "POST")
def add_related_party(visit: Visit, case_id: str) -> Response:
    return _client_command(visit, case_id, "related-parties", forms.RELATED_PARTY, "party")


def _client_command(visit: Visit, case_id: str, path: str, fields: tuple[Field, ...],
                    name: str) -> Response:
    """A form of the case page about the case's client (4.2, 4.6), sent to the client's
    record, back to the case page."""
    client_id = visit.api.get(f"/cases/{case_id}")["client_id"]
    section = Section(fields, name=name)
    return carry_out(
        visit, f"/clients/{client_id}/{path}", forms.payload(fields, visit.request.form),
        lambda refusal: _case_page(visit, case_id, sent_back(
            visit, section, Problem.of(refusal.problem, fields)), refusal.status),
        f"/cases/{case_id}")


@page("/cases/<case_id>/risks", "POST")
def raise_risk(visit: Visit, case_id: str) -> Response:
    return _form_command(visit, case_id, "risks", forms.RISK, "risk")


@page("/cases/<case_id>/risks/<risk_id>/resolution", "POST")
def resolve_risk(visit: Visit, case_id: str, risk_id: str) -> Response:
    return _form_command(visit, case_id, f"risks/{risk_id}/resolution", forms.RESOLVE_RISK,
                         f"resolve-{risk_id}")


@page("/cases/<case_id>/risks/<risk_id>/level", "POST")
def change_risk_level(visit: Visit, case_id: str, risk_id: str) -> Response:
    return _form_command(visit, case_id, f"risks/{risk_id}/level", forms.CHANGE_RISK_LEVEL,
                         f"level-{risk_id}")


@page("/cases/<case_id>/risks/<risk_id>/disclosures", "POST")
def record_disclosure(visit: Visit, case_id: str, risk_id: str) -> Response:
    body = forms.disclosure(risk_id, visit.request.form)
    return _case_command(visit, case_id, "disclosures", body, f"/cases/{case_id}",
                         Section(forms.DISCLOSURE, name=f"disclose-{risk_id}"),
                         forms.disclosure_problem)


@page("/cases/<case_id>/intake/decline", "POST")
def decline_intake(visit: Visit, case_id: str) -> Response:
    # A declined case takes no more steps and leaves the live caseload.
    return _case_command(visit, case_id, "intake/decline", forms.decline(visit.request.form),
                         f"/cases/{case_id}", Section(forms.DECLINE, name="decline"))


@page("/cases/<case_id>/consent-withdrawals", "POST")
def withdraw_consent(visit: Visit, case_id: str) -> Response:
    return _form_command(visit, case_id, "consent-withdrawals", forms.WITHDRAW_CONSENT,
                         "withdraw")


@page("/cases/<case_id>/plan/revisions", "POST")
def revise_plan(visit: Visit, case_id: str) -> Response:
    return _case_command(visit, case_id, "plan/revisions", forms.revision(visit.request.form),
                         f"/cases/{case_id}", Section(forms.REVISE_PLAN, name="revise"))


@page("/follow-ups")
def follow_ups(visit: Visit) -> Response:
    """The follow-ups past their date and not yet done (9.2b): the cases service lists them
    without reading the closed case, which needs an archive grant (9.4d)."""
    after = visit.request.args.get("after")
    due = visit.api.get("/cases/overdue", kind="follow_up", after=after, limit=CASELOAD_PAGE)
    return visit.render("case_follow_ups.html", page=due, after=after)


@page("/follow-ups/coming")
def follow_ups_coming(visit: Visit) -> Response:
    """The follow-ups not yet done that fall due from today within a few days (9.2b), soonest
    first, to prepare for; past their day they are on `/follow-ups`."""
    args = visit.request.args
    within = int(args["within"]) if args.get("within") in COMING_WITHIN else DEFAULT_WITHIN
    after = args.get("after")
    coming = visit.api.get("/follow-ups", due_within_days=within, after=after,
                           limit=CASELOAD_PAGE)
    return visit.render("case_follow_ups_coming.html", page=coming, after=after, within=within,
                        choices=[int(days) for days in COMING_WITHIN])


@page("/cases/<case_id>/follow-ups/<follow_up_id>")
def follow_up_form(visit: Visit, case_id: str, follow_up_id: str) -> Response:
    return _follow_up_page(visit, case_id, follow_up_id, None)


@page("/cases/<case_id>/follow-ups/<follow_up_id>", "POST")
def record_follow_up(visit: Visit, case_id: str, follow_up_id: str) -> Response:
    body = {**forms.payload(forms.FOLLOW_UP, visit.request.form), "follow_up_id": follow_up_id}
    return _case_command(visit, case_id, f"follow-ups/{follow_up_id}", body, "/follow-ups",
                         Section(forms.FOLLOW_UP, name="done"),
                         again=_follow_up_again(visit, case_id, follow_up_id))


@page("/cases/<case_id>/follow-ups/<follow_up_id>/next", "POST")
def schedule_follow_up(visit: Visit, case_id: str, follow_up_id: str) -> Response:
    body = forms.payload(forms.SCHEDULE_FOLLOW_UP, visit.request.form)
    return _case_command(visit, case_id, "follow-ups", body, "/follow-ups",
                         Section(forms.SCHEDULE_FOLLOW_UP, name="next"),
                         again=_follow_up_again(visit, case_id, follow_up_id))


@page("/cases/<case_id>/follow-ups/<follow_up_id>/reopening", "POST")
def reopen_case(visit: Visit, case_id: str, follow_up_id: str) -> Response:
    body = forms.payload(forms.REOPEN, visit.request.form)
    return _case_command(visit, case_id, "reopening", body, f"/cases/{case_id}",
                         Section(forms.REOPEN, name="reopen"),
                         again=_follow_up_again(visit, case_id, follow_up_id))


def _follow_up_again(visit: Visit, case_id: str, follow_up_id: str) -> Again:
    return lambda section, status: _follow_up_page(visit, case_id, follow_up_id, section, status)


def _follow_up_page(visit: Visit, case_id: str, follow_up_id: str, sent: Section | None,
                    status: int = 200) -> Response:
    """The forms of one follow-up, without the closed case's record (9.4d)."""
    shown = {name: form_of(sent, name, fields)
             for name, fields in (("done", forms.FOLLOW_UP), ("next", forms.SCHEDULE_FOLLOW_UP),
                                  ("reopen", forms.REOPEN))}
    return visit.render("case_follow_up.html", status, case_id=case_id,
                        follow_up_id=follow_up_id, **shown)


def _form_command(visit: Visit, case_id: str, path: str, fields: tuple[Field, ...],
                  name: str) -> Response:
    """A form of the case page sent as its command as typed, back to the case page."""
    body = forms.payload(fields, visit.request.form)
    return _case_command(visit, case_id, path, body, f"/cases/{case_id}",
                         Section(fields, name=name))


def _case_command(visit: Visit, case_id: str, path: str, body: dict[str, Any],
                  done: str, section: Section,
                  placed: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                  again: Again | None = None) -> Response:
    """Carry out a command on the case; on a refusal (400, 409), the case page (or `again`)
    with the form as it was sent and the reasons beside its fields."""

    def refused(refusal: Refused) -> Response:
        problem = placed(refusal.problem) if placed else refusal.problem
        sent = sent_back(visit, section, Problem.of(problem, section.fields))
        if again is not None:
            return again(sent, refusal.status)
        return _case_page(visit, case_id, sent, refusal.status)

    return carry_out(visit, f"/cases/{case_id}/{path}", body, refused, done)


def supervisee_records(visit: Visit) -> list[dict[str, Any]] | None:
    """The signed-in supervisor's own social workers (6.2.2), or None while the supervision
    service has no such supervisor: one who signs in before the school administrator registers
    them (6.2.2.1) is told so on their pages, which otherwise show nothing of theirs."""
    try:
        found = visit.api.get(f"/supervisors/{visit.actor.id}/supervisees", active="true",
                              limit=SUPERVISEES_PAGE)
    except Refused as refusal:
        if refusal.status != 404:
            raise
        return None
    items: list[dict[str, Any]] = found["items"]
    return items


def _case_page(visit: Visit, case_id: str, sent: Section | None,
               status: int = 200) -> Response:
    record = visit.api.get(f"/cases/{case_id}")
    timeline = visit.api.get(f"/cases/{case_id}/timeline")["steps"]
    client = visit.api.get(f"/clients/{record['client_id']}")
    upcoming = forms.next_step(record)
    step = sent if sent and sent.step else None
    if step is None and upcoming is not None:
        step = Section(upcoming.fields, step=upcoming,
                       values=forms.values(upcoming.fields, None))
    risk = form_of(sent, "risk", forms.RISK)
    # The one risk form of the risks list sent and refused, by its name (resolve-<risk_id>, …).
    risk_form = sent if sent and sent.name.split("-")[0] in RISK_FORMS else None
    decline = form_of(sent, "decline", forms.DECLINE)
    withdraw = form_of(sent, "withdraw", forms.WITHDRAW_CONSENT)
    revise = sent if sent and sent.name == "revise" else Section(
        forms.REVISE_PLAN, name="revise",
        values=forms.current_plan(record["plans"][-1]) if record["plans"] else {})
    goals = record["plans"][-1]["parts"].get("goals", []) if record["plans"] else []
    # A supervisor hands a live case to another of their supervisees (6.2.2).
    others = ({worker["social_worker_id"]: worker["social_worker_id"]
               for worker in supervisee_records(visit) or ()
               if worker["social_worker_id"] != record["social_worker_id"]}
              if visit.actor.role == "supervisor" else {})
    return visit.render("case.html", status, case=record, client=client, goals=goals,
                        timeline=timeline, steps=forms.STEPS, upcoming=upcoming, step=step,
                        risk=risk, risk_form=risk_form, decline=decline, withdraw=withdraw,
                        revise=revise, reassign=form_of(sent, "reassign", forms.REASSIGN),
                        guardian=form_of(sent, "guardian", forms.ADD_GUARDIAN),
                        party=form_of(sent, "party", forms.RELATED_PARTY),
                        reassign_to=others,
                        escalated=of_case(visit, case_id, record["school_id"]),
                        risk_forms={name: (fields, forms.values(fields, None))
                                    for name, fields in RISK_FORMS.items()})


# Help from outside at any step of a live case (7.1.4b, 8.3.4b): what the cases service recorded,
# in the state the resources service has carried it on to. The resources service takes each one
# up from the cases service's event, a moment later: until then it stands as just made.


@dataclass(frozen=True)
class CarryOn:
    """One way the worker carries a referral or a resource request on in the resources service:
    its route under the resources service's record (the console's path under the case's item is
    the same), its label, its form, and the states of the record it is open in."""

    route: str
    label: str
    fields: tuple[Field, ...]
    states: tuple[str, ...]


@dataclass(frozen=True)
class OutsideHelp:
    """One kind of help from outside: the case's route it is asked at (the console's path under
    the case is the API's), its form, where the case record lists it and by which id, the
    resources service's list of the same, the name of its state there, and how it is carried
    on."""

    route: str
    fields: tuple[Field, ...]
    template: str
    made: str
    key: str
    carried: str
    state: str
    carry_on: tuple[CarryOn, ...]

    def carrying(self, action: str) -> CarryOn:
        found = next((way for way in self.carry_on if way.route == action), None)
        if found is None:
            raise NotFound()
        return found


# The states of a resource link a resource may be offered in (8.3.4b).
OFFERABLE = ("requested", "declined")
OUTSIDE_HELP = {help_.route: help_ for help_ in (
    # 7.1.4b: the agency accepts a referral; it ends with its outcome, also unaccepted (the
    # agency declined, the client never went).
    OutsideHelp("referrals", forms.REFERRAL, "case_referrals.html", "referrals", "referral_id",
                "/referrals", "status", (
                    CarryOn("acceptance", N_("Record the agency's acceptance"),
                            forms.ACCEPT_REFERRAL, ("made",)),
                    CarryOn("completion", N_("Record how the referral ended"),
                            forms.COMPLETE_REFERRAL, ("made", "accepted")))),
    # 8.3.4b: a resource of the register that fits is offered for a request (again after a
    # decline); an offered resource is accepted or declined (also once accepted, before its
    # delivery), and an accepted one delivered; 9.3c: then how it was used.
    OutsideHelp("resource-requests", forms.RESOURCE_REQUEST, "case_resources.html",
                "resource_requests", "request_id", "/resource-links", "state", (
                    CarryOn("offer", N_("Offer a resource of the register"), forms.OFFER,
                            OFFERABLE),
                    CarryOn("acceptance", N_("Accept the offer"), forms.ACCEPT_RESOURCE,
                            ("offered",)),
                    CarryOn("decline", N_("Decline the offer"), forms.DECLINE_RESOURCE,
                            ("offered", "accepted")),
                    CarryOn("deliveries", N_("Record the delivery"), forms.DELIVERY,
                            ("accepted",)),
                    CarryOn("usage", N_("Record how it was used"), forms.USAGE,
                            ("delivered",)))),
)}
OUTSIDE_PATH = '/cases/<case_id>/<any(referrals, "resource-requests"):kind>'


@page(OUTSIDE_PATH)
def outside_help(visit: Visit, case_id: str, kind: str) -> Response:
    return _outside_page(visit, case_id, OUTSIDE_HELP[kind], None)


@page(OUTSIDE_PATH, "POST")
def ask_outside(visit: Visit, case_id: str, kind: str) -> Response:
    """Refer the client to an agency, or ask for a resource; then the case's list of them."""
    help_ = OUTSIDE_HELP[kind]
    return _case_command(visit, case_id, help_.route,
                         forms.payload(help_.fields, visit.request.form),
                         f"/cases/{case_id}/{help_.route}", Section(help_.fields, name=help_.route),
                         again=lambda sent, status: _outside_page(visit, case_id, help_, sent,
                                                                  status))


@page(f"{OUTSIDE_PATH}/<item_id>/<action>", "POST")
def carry_on(visit: Visit, case_id: str, kind: str, item_id: str, action: str) -> Response:
    """Carry a referral or a resource request on in the resources service; then the case's list
    of them, or on a refusal that list with the form as it was sent."""
    help_ = OUTSIDE_HELP[kind]
    way = help_.carrying(action)
    section = Section(way.fields, name=f"{action}-{item_id}")
    return carry_out(
        visit, f"{help_.carried}/{item_id}/{action}",
        forms.payload(way.fields, visit.request.form),
        lambda refusal: _outside_page(visit, case_id, help_, sent_back(
            visit, section, Problem.of(refusal.problem, way.fields)), refusal.status),
        f"/cases/{case_id}/{help_.route}")


def _outside_page(visit: Visit, case_id: str, help_: OutsideHelp, sent: Section | None,
                  status: int = 200) -> Response:
    record = visit.api.get(f"/cases/{case_id}")
    found = visit.api.get(help_.carried, case_id=case_id, limit=OUTSIDE_PAGE)["items"]
    carried = {item[help_.key]: item for item in found}
    choices, ways = _carrying_on(visit, help_, carried, sent)
    # A referral may name an agency of the resource register (9.3a): the register's providers.
    providers = {provider["provider_id"]: provider.get("name") or provider["provider_id"][:8]
                 for provider in visit.api.get("/providers", limit=OUTSIDE_PAGE)["items"]
                 } if any(field.kind == "provider" for field in help_.fields) else {}
    made = [(item, carried.get(item[help_.key]), ways.get(item[help_.key], []))
            for item in record[help_.made]]
    asking = [help_.route] if record["status"] in LIVE else []
    return visit.render(help_.template, status, case=record,
                        client=visit.api.get(f"/clients/{record['client_id']}"),
                        made=made, unplaced=_unplaced(sent, ways, *asking), live=LIVE,
                        choices=choices,
                        providers=providers, route=help_.route, key=help_.key,
                        form=form_of(sent, help_.route, help_.fields))


Choices = dict[tuple[str, str], dict[str, str]]


def _carrying_on(
    visit: Visit, help_: OutsideHelp, carried: dict[str, dict[str, Any]], sent: Section | None
) -> tuple[Choices, dict[str, list[tuple[CarryOn, Section]]]]:
    """The forms that carry each item the resources service holds on in its state (the one
    sent, as it was sent), and the choices of their fields by (item, field): no offer while no
    resource of the register fits."""
    # A resource is offered among those of the register that fit the request today (8.3.4b):
    # the resources service's proposals for each request awaiting an offer.
    offering = help_.route == "resource-requests"
    choices = {(item_id, "resource_id"): {
        resource["resource_id"]: _resource_choice(visit, resource) for resource in visit.api.get(
            f"/resource-links/{item_id}/proposals", limit=OUTSIDE_PAGE)["items"]}
        for item_id, item in carried.items() if offering and item[help_.state] in OFFERABLE}
    ways = {item_id: [(way, form_of(sent, f"{way.route}-{item_id}", way.fields))
                      for way in help_.carry_on if item[help_.state] in way.states
                      and (way.route != "offer" or choices.get((item_id, "resource_id")))]
            for item_id, item in carried.items()}
    return choices, ways


def _unplaced(sent: Section | None, ways: dict[str, list[tuple[CarryOn, Section]]],
              *also: str) -> Problem | None:
    """A form refused after its item moved on (another hand carried it on meanwhile) is no
    longer offered among `ways` (or the page's forms named in `also`): its refusal is shown
    above the list, not lost."""
    shown = {section.name for forms_of in ways.values() for _, section in forms_of}
    return sent.problem if sent is not None and sent.name not in {*shown, *also} else None


RESOURCE_CHOICE = N_("%(title)s · %(remaining)s %(unit)s left")


def _resource_choice(visit: Visit, resource: dict[str, Any]) -> str:
    """A resource of the register as an offer's choice: what it is and how much is left."""
    return visit.text.gettext(RESOURCE_CHOICE, title=resource["title"],
                              remaining=resource["remaining"], unit=resource["unit"])


@page("/resource-requests")
def resource_requests(visit: Visit) -> Response:
    return _requests_page(visit, visit.request.args, None)


@page("/resource-requests/<request_id>/<action>", "POST")
def carry_request_on(visit: Visit, request_id: str, action: str) -> Response:
    """Carry a resource request on from the list of them (8.3.4b, 9.3c), as from its case's
    page; then the list as it was filtered, or on a refusal the list with the form as sent."""
    help_ = OUTSIDE_HELP["resource-requests"]
    way = help_.carrying(action)
    section = Section(way.fields, name=f"{action}-{request_id}")
    form = visit.request.form
    # Back to the page of the list the form was sent from.
    listed = {name: form[name] for name in ("state", "after") if form.get(name)}
    return carry_out(
        visit, f"{help_.carried}/{request_id}/{action}", forms.payload(way.fields, form),
        lambda refusal: _requests_page(visit, form, sent_back(
            visit, section, Problem.of(refusal.problem, way.fields)), refusal.status),
        "/resource-requests" + (f"?{urlencode(listed)}" if listed else ""))


def _requests_page(visit: Visit, args: Mapping[str, str], sent: Section | None,
                   status: int = 200) -> Response:
    """The worker's own resource requests in every case (the resources service shows a worker
    theirs), oldest first, by state, each with the forms that carry it on in its state."""
    state = args.get("state") if args.get("state") in LINK_STATES else None
    found = visit.api.get("/resource-links", state=state, after=args.get("after"),
                          limit=CASELOAD_PAGE)
    help_ = OUTSIDE_HELP["resource-requests"]
    choices, ways = _carrying_on(visit, help_, {item[help_.key]: item
                                                for item in found["items"]}, sent)
    return visit.render("resource_requests.html", status, page=found, state=state,
                        states=LINK_STATES, after=args.get("after"), choices=choices,
                        ways=ways, unplaced=_unplaced(sent, ways),
                        clients=_clients_of_cases(visit, (item["case_id"]
                                                          for item in found["items"])))


def _clients_of_cases(visit: Visit, case_ids: Iterable[str]) -> dict[str, str]:
    """The client's name of each of a page's cases, open or not, read by their ids."""
    asked = sorted(set(case_ids))
    if not asked:
        return {}
    cases = visit.api.get("/cases", status="any", case_id=asked, limit=len(asked))["items"]
    names = client_names(visit, (case["client_id"] for case in cases))
    return {case["case_id"]: name for case in cases
            if (name := names.get(case["client_id"]))}


# The forms of each risk in the risks list, by the prefix of their section's name.
RISK_FORMS = {"resolve": forms.RESOLVE_RISK, "level": forms.CHANGE_RISK_LEVEL,
              "disclose": forms.DISCLOSURE}


def _step(name: str) -> forms.Step:
    if name not in forms.STEP_BY_NAME:
        raise NotFound()
    return forms.STEP_BY_NAME[name]
