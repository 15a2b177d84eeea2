"""What every page of the console stands on: the visit (who, in which language, the services as
that person), refusals as forms show them, and the register of pages and navigation links that
each role's module (social_worker.py, supervisor.py, ...) fills with its own.

A page is a function of a `Visit` (and the values of its path) to a `Response`, registered with
`@page(path, method)`; `nav(label, href, roles)` puts a link in the header of the roles it
serves, the first link of a role being where its people land after signing in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.exceptions import NotFound
from werkzeug.routing import Rule
from werkzeug.test import EnvironBuilder
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from services.console import forms
from services.console.forms import Field
from services.console.i18n import N_, PROBLEMS, UNKNOWN_PROBLEM, Localized, Message, field_message
from services.console.session import Session
from services.gateway.dispatch import Call, Gateway
from services.runtime.context import Actor

if TYPE_CHECKING:
    from services.console.pages import Console

# Where a nested field error of a command is shown on its form.
ERROR_PLACES = {"guardians.0.name": "guardian_name", "guardians.0.relation": "guardian_relation",
                "guardians.0.contact": "guardian_contact",
                # The register's (register.py): a contact's parts, an amount typed in yuan,
                # an activity's kind and id picked as one.
                **{f"contact.{part}": f"contact_{part}"
                   for part in ("person", "phone", "email", "address")},
                "amount_cents": "amount", "activity_kind": "activity",
                "activity_id": "activity"}
# Keys of a refusal's `errors` that list what is not yet done rather than what is wrong.
UNDONE_KEYS = ("missing_step", "consent")


class Refused(Exception):
    """A service refused a read or a command: its problem document, as the gateway answers it."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(problem.get("detail", ""))
        self.status = status
        self.problem = problem


class Api:
    """The services, through the gateway's pipeline, as the signed-in person."""

    def __init__(self, gateway: Gateway, call: Call, actor: Actor, correlation_id: str) -> None:
        self.gateway, self.call, self.actor = gateway, call, actor
        self.correlation_id = correlation_id

    def get(self, path: str, **query: Any) -> Any:
        present = {name: value for name, value in query.items() if value not in (None, "")}
        return self._send(EnvironBuilder(path=path, method="GET",
                                         query_string=urlencode(present, doseq=True)))

    def post(self, path: str, body: dict[str, Any], idempotency_key: str | None) -> Any:
        headers = [("Idempotency-Key", idempotency_key)] if idempotency_key else []
        return self._send(EnvironBuilder(path=path, method="POST", headers=headers,
                                         data=json.dumps(body, ensure_ascii=False),
                                         content_type="application/json"))

    def _send(self, builder: EnvironBuilder) -> Any:
        builder.headers["X-Correlation-Id"] = self.correlation_id
        response = self.gateway.handle(Request(builder.get_environ()), self.call, self.actor)
        answer = json.loads(response.get_data(as_text=True) or "null")
        if response.status_code >= 400:
            raise Refused(response.status_code, answer)
        return answer


@dataclass
class Problem:
    """A refusal as a form shows it: a summary, messages beside fields, steps not yet done."""

    summary: Message
    detail: str
    beside: dict[str, list[Message]] = field(default_factory=dict)
    undone: list[tuple[str, str]] = field(default_factory=list)  # (key, code)
    elsewhere: list[tuple[str, Message]] = field(default_factory=list)

    @classmethod
    def of(cls, problem: dict[str, Any], fields: tuple[Field, ...] = ()) -> Problem:
        names = {f.name for f in fields}
        shown = cls(Message(PROBLEMS.get(problem.get("code", ""), UNKNOWN_PROBLEM)),
                    str(problem.get("detail", "")))
        for key, rules in _flatten(problem.get("errors") or {}).items():
            if key in UNDONE_KEYS:
                for code in rules:
                    if code in names:
                        shown.beside.setdefault(code, []).append(Message(N_("Not yet done.")))
                    else:
                        shown.undone.append((key, code))
                continue
            place = ERROR_PLACES.get(key, key.split(".")[0])
            for rule in rules:
                if place in names:
                    beside = shown.beside.setdefault(place, [])
                    if field_message(rule) not in beside:  # two keys of one field, one rule
                        beside.append(field_message(rule))
                else:
                    shown.elsewhere.append((key, field_message(rule)))
        return shown


def _flatten(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(errors, dict):
        flat: dict[str, list[str]] = {}
        for key, value in errors.items():
            flat.update(_flatten(value, f"{prefix}{key}" if not prefix else f"{prefix}.{key}"))
        return flat
    return {prefix: [str(rule) for rule in errors] if isinstance(errors, list) else [str(errors)]}


@dataclass
class Section:
    """One form of a page, with what was sent and why it was refused."""

    fields: tuple[Field, ...]
    step: forms.Step | None = None  # the case page's form of a step of 8.3
    name: str = "step"
    values: dict[str, Any] = field(default_factory=dict)
    problem: Problem | None = None


def unless_away(visit: Visit, path: str, **query: Any) -> Any:
    """What the service answers, or None while it does not answer (5xx): for the part of a page
    another service's records carry on without. A refusal (4xx) is not hidden."""
    try:
        return visit.api.get(path, **query)
    except Refused as refusal:
        if refusal.status < 500:
            raise
        return None


def form_of(sent: Section | None, name: str, fields: tuple[Field, ...]) -> Section:
    """The form `name` of a page: as it was sent and refused, else empty with its defaults."""
    if sent is not None and sent.name == name:
        return sent
    return Section(fields, name=name, values=forms.values(fields, None))


def refused_on_form(refusal: Refused) -> bool:
    """A refusal a form answers beside its fields: bad input (400) or a wrong state (409)."""
    return refusal.status in (400, 409)


def carry_out(visit: Visit, path: str, body: dict[str, Any],
              again: Callable[[Refused], Response], done: str | Callable[[Any], str],
              answerable: Callable[[Refused], bool] = refused_on_form) -> Response:
    """Carry out a command, then go where `done` says (a path, or one made of the answer); on
    a refusal the form can answer, the page `again` makes of it (the form as it was sent, the
    reasons beside its fields). Any other refusal is shown as an error page."""
    try:
        answer = visit.api.post(path, body, visit.request.form.get("idempotency_key"))
    except Refused as refusal:
        if not answerable(refusal):
            raise
        return again(refusal)
    return redirect(done(answer) if callable(done) else done)


def send_section(visit: Visit, sections: Mapping[str, tuple[Field, ...]], section: str,
                 route: str, done: str, page_again: Callable[[Section, int], Response],
                 shape: Callable[[dict[str, Any]], dict[str, Any]] = lambda body: body,
                 answerable: Callable[[Refused], bool] = refused_on_form) -> Response:
    """Send the form `section` of a page with several (`sections`, by name) to `route`, its
    payload shaped by `shape`, then go to `done`; refused, the page again with that form as it
    was sent and the reasons beside its fields. A section the page has not is no page."""
    fields = sections.get(section)
    if fields is None:
        raise NotFound()
    body = shape(forms.payload(fields, visit.request.form))
    return carry_out(visit, route, body, lambda refusal: page_again(
        Section(fields, name=section, values=forms.values(fields, visit.request.form),
                problem=Problem.of(refusal.problem, fields)), refusal.status),
        done, answerable)


def sections_of(sent: Section | None, **forms_of_page: tuple[Field, ...]) -> dict[str, Section]:
    """The forms of a page by name, empty but for the one `sent` and refused."""
    sections = {name: form_of(sent, name, fields) for name, fields in forms_of_page.items()}
    if sent is not None:
        sections[sent.name] = sent
    return sections


def send_form(visit: Visit, path: str, body: dict[str, Any], section: Section,
              again: Callable[[Section, int], Response], done: str) -> Response:
    """Carry out a command; on a refusal (400, 403, 404, 409), the page `again` with the form
    as it was sent and the reasons beside its fields (the service's rules worded as
    i18n.FIELD_RULES words them)."""
    return carry_out(visit, path, body, lambda refusal: again(sent_back(
        visit, section, Problem.of(refusal.problem, section.fields)), refusal.status),
        done, answerable=_answerable)


def _answerable(refusal: Refused) -> bool:
    # 403 too: the escalation may have climbed past the supervisor's step meanwhile; 404: a
    # record the form names by a typed id (a supervisor's) does not exist.
    return refusal.status in (400, 403, 404, 409)


def sent_back(visit: Visit, section: Section, problem: Problem) -> Section:
    """`section` as its form was sent, refused for `problem`."""
    section.values = forms.values(section.fields, visit.request.form)
    section.problem = problem
    return section


@dataclass
class Visit:
    """One request to the console: who, in which language, and how to reach the services."""

    request: Request
    session: Session
    text: Localized
    console: Console
    api_: Api | None = None

    @property
    def api(self) -> Api:
        """The services as the signed-in person (every page but the public ones has one)."""
        assert self.api_ is not None, "a public page has no signed-in person"
        return self.api_

    @property
    def actor(self) -> Actor:
        assert self.session.actor is not None, "a public page has no signed-in person"
        return self.session.actor

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        return self.console.render(self, template, status, **context)

    def error(self, problem: Problem, status: int) -> Response:
        return self.render("error.html", status, problem=problem)


Handler = Callable[..., Response]


@dataclass(frozen=True)
class Page:
    handler: Handler
    public: bool


@dataclass(frozen=True)
class NavLink:
    label: str  # a source string, marked with N_ where it is registered
    href: str
    roles: frozenset[str]


PAGES: dict[str, Page] = {}
RULES: list[Rule] = []
NAV: list[NavLink] = []


def page(path: str, method: str = "GET", public: bool = False) -> Callable[[Handler], Handler]:
    """Registers a page at `path` for `method`; only public pages are served before sign-in."""

    def register(handler: Handler) -> Handler:
        endpoint = f"{handler.__module__.rsplit('.', 1)[-1]}.{handler.__name__}"
        assert endpoint not in PAGES, f"two pages are called {endpoint}"
        RULES.append(Rule(path, endpoint=endpoint, methods=[method]))
        PAGES[endpoint] = Page(handler, public)
        return handler

    return register


def nav(label: str, href: str, *roles: str) -> None:
    """A link in the header of the people with one of `roles`."""
    NAV.append(NavLink(label, href, frozenset(roles)))


def links_of(actor: Actor | None) -> list[NavLink]:
    return [link for link in NAV if actor is not None and actor.role in link.roles]


def home_of(actor: Actor) -> str:
    """Where a person lands after signing in: the first link of their role."""
    links = links_of(actor)
    return links[0].href if links else "/welcome"
