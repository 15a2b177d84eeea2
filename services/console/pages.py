"""The console's pages: one request, start to finish (session, CSRF, route, the services'
answer, the page in the person's language), and the public pages (sign-in, sign-out, language).

Each role's pages live in a module of their own (social_worker.py, ...), registered with
`web.page`. Every read and command goes through the gateway's own pipeline (`Gateway.handle`)
with the signed-in person as the actor: the same routes, arguments, refusals and exactly-once
handling as over the HTTP API, so every permission rule and audit event is the same too.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map
from werkzeug.utils import redirect, safe_join
from werkzeug.wrappers import Request, Response

from contracts.errors import CasebookError

# The modules register their pages.
from services.console import (  # noqa: F401
    activities,
    archivist,
    auditor,
    escalations,
    oidc,
    operator,
    register,
    school_admin,
    social_worker,
    supervisor,
)
from services.console.i18n import N_, PROBLEMS, UNKNOWN_PROBLEM, Localized, Message, negotiate
from services.console.session import load, store
from services.console.web import PAGES, RULES, Api, Problem, Refused, Visit, home_of, links_of, page
from services.gateway.dispatch import Call, Gateway
from services.runtime.cli.demo import SCHOOL, SUPERVISOR, WORKER
from services.runtime.context import Actor
from services.runtime.settings import Console as Settings
from services.runtime.settings import settings

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
STATIC = HERE / "static"
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
# The development sign-in offers a person of each role, in the school `casebook demo` staffs.
DEMO_PEOPLE: tuple[Actor, ...] = (
    Actor(id=WORKER, role="social_worker", school_id=SCHOOL),
    Actor(id=SUPERVISOR, role="supervisor", school_id=SCHOOL),
    Actor(id="demo-admin", role="school_admin", school_id=SCHOOL),
    Actor(id="demo-archivist", role="archivist", school_id=SCHOOL),
    Actor(id="demo-auditor", role="auditor"),
    Actor(id="demo-operator", role="operator"),
)
# What the browser may load and run: this console's own files, nothing inline, no frames. Sent
# with every answer of the console's web server (services/console/service.py).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Console:
    def __init__(self, gateway: Gateway, settings: Settings, key: bytes) -> None:
        self.gateway = gateway
        self.settings = settings
        self.key = key
        self.urls = Map([rule.empty() for rule in RULES])  # a rule binds to one map only
        self.environments: dict[str, Environment] = {}

    def handle(self, request: Request, call: Call) -> Response:
        session = load(request, self.key, self.settings.idle_minutes)
        visit = Visit(request, session, Localized(session.locale), self)
        try:
            response = self._route(visit, call)
        except NotFound:
            response = visit.error(Problem(Message(PROBLEMS["not_found"]), ""), 404)
        except MethodNotAllowed:
            response = visit.error(Problem(Message(UNKNOWN_PROBLEM), ""), 405)
        except Refused as refusal:
            response = visit.error(Problem.of(refusal.problem), refusal.status)
        store(response, visit.session, self.key, _secure(request))
        return response

    def _route(self, visit: Visit, call: Call) -> Response:
        endpoint, values = self.urls.bind_to_environ(visit.request.environ).match()
        request = visit.request
        if request.method == "POST" and not visit.session.accepts(request.form.get("csrf")):
            problem = Problem(Message(N_("This form has expired. Open the page and send it "
                                         "again.")), "")
            return visit.error(problem, 403)
        chosen = PAGES[endpoint]
        if not chosen.public:
            if visit.session.actor is None:
                return redirect("/sign-in")
            visit.api_ = Api(self.gateway, call, visit.session.actor, str(uuid.uuid4()))
        return chosen.handler(visit, **values)

    def _environment(self, text: Localized) -> Environment:
        if text.locale not in self.environments:
            environment = Environment(loader=FileSystemLoader(HERE / "templates"),
                                      autoescape=select_autoescape(),
                                      extensions=["jinja2.ext.i18n", "jinja2.ext.do"])
            environment.install_gettext_translations(text.translations,  # type: ignore[attr-defined]
                                                     newstyle=True)
            self.environments[text.locale] = environment
        return self.environments[text.locale]

    def render(self, visit: Visit, template: str, status: int = 200,
               **context: Any) -> Response:
        environment = self._environment(visit.text)
        actor = visit.session.actor
        page = environment.get_template(template).render(
            t=visit.text, session=visit.session, actor=actor, nav=links_of(actor),
            idle_seconds=round(self.settings.idle_minutes * 60),
            path=visit.request.full_path.rstrip("?"), new_key=lambda: str(uuid.uuid4()),
            **context)
        return Response(page, status, content_type="text/html; charset=utf-8")

    def people(self) -> tuple[Actor, ...]:
        # Never in production, whatever the setting says: it lets anyone be anyone.
        wanted = self.settings.dev_sign_in and not settings().runtime.production
        return DEMO_PEOPLE if wanted else ()


# Public pages.


@page("/", public=True)
def index(visit: Visit) -> Response:
    actor = visit.session.actor
    return redirect(home_of(actor) if actor else "/sign-in")


@page("/healthz", public=True)
def healthz(visit: Visit) -> Response:
    return Response('{"status": "ok"}', content_type="application/json")


@page("/static/<name>", public=True)
def static(visit: Visit, name: str) -> Response:
    path = safe_join(str(STATIC), name)
    if path is None or not Path(path).is_file():
        raise NotFound()
    content_type = CONTENT_TYPES.get(Path(path).suffix, "application/octet-stream")
    return Response(Path(path).read_bytes(), content_type=f"{content_type}; charset=utf-8")


@page("/sign-in", public=True)
def sign_in_form(visit: Visit) -> Response:
    return visit.render("sign_in.html", people=visit.console.people(),
                        provider=oidc.configured(visit.console.settings))


@page("/sign-in", "POST", public=True)
def sign_in(visit: Visit) -> Response:
    people = visit.console.people()
    chosen = visit.request.form.get("person", "")
    if not chosen.isdigit() or int(chosen) >= len(people):
        problem = Problem(Message(N_("Choose a person to sign in as.")), "")
        return visit.render("sign_in.html", 400, people=people, problem=problem)
    person = people[int(chosen)]
    visit.session = visit.session.signed_in(person, visit.console.settings.session_hours)
    return redirect(home_of(person))


@page("/sign-in/provider", public=True)
def provider_sign_in(visit: Visit) -> Response:
    config = visit.console.settings
    if not oidc.configured(config):
        raise NotFound()
    url, pending = oidc.start(config, _callback_uri(visit.request),
                              log_in_again=visit.session.log_in_again)
    visit.session = replace(visit.session, pending=asdict(pending))
    return redirect(url)


@page("/sign-in/callback", public=True)
def provider_callback(visit: Visit) -> Response:
    config = visit.console.settings
    args = visit.request.args
    pending = visit.session.pending
    if not oidc.configured(config) or pending is None or "code" not in args:
        problem = Problem(Message(PROBLEMS["unauthenticated"]), args.get("error", ""))
        return visit.render("sign_in.html", 401, people=visit.console.people(),
                            provider=oidc.configured(config), problem=problem)
    visit.session = replace(visit.session, pending=None)
    try:
        actor = oidc.finish(config, oidc.Pending(**pending), args.get("state", ""),
                            args["code"], _callback_uri(visit.request))
    except CasebookError as refusal:
        log.warning("provider sign-in refused: %s", refusal.detail)
        problem = Problem(Message(PROBLEMS["unauthenticated"]), refusal.detail)
        return visit.render("sign_in.html", 401, people=visit.console.people(),
                            provider=True, problem=problem)
    visit.session = visit.session.signed_in(actor, config.session_hours, at_provider=True)
    return redirect(home_of(actor))


@page("/sign-out", "POST", public=True)
def sign_out(visit: Visit) -> Response:
    config = visit.console.settings
    at_provider = visit.session.at_provider and oidc.configured(config)
    visit.session = visit.session.signed_out()
    there = oidc.end_session(config, _signed_out_uri(visit.request)) if at_provider else None
    response = redirect(there or "/sign-in")
    # The next person at this computer finds nothing of the visit in the browser: its cache
    # (the back button's pages with it) and its storage, for this origin. Not its cookies:
    # those are cleared for the whole site, which may sign people out of others' services.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@page("/still-here")
def still_here(visit: Visit) -> Response:
    """The person at the page is still there (static/idle.js asks, when they say so or type):
    like every request of a sign-in, this one keeps it from ending for want of use."""
    return Response(status=204)


@page("/language", "POST", public=True)
def language(visit: Visit) -> Response:
    locale = negotiate(visit.request.form.get("locale"))
    visit.session = replace(visit.session, locale=locale)
    back = visit.request.form.get("next", "/")
    return redirect(back if back.startswith("/") and not back.startswith("//") else "/")


@page("/welcome")
def welcome(visit: Visit) -> Response:
    """Where a person whose role has no pages in the console yet lands: who they are, and that
    the HTTP API serves them."""
    return visit.render("welcome.html")


def _callback_uri(request: Request) -> str:
    """Where the provider sends the person back: it must be registered with the provider."""
    return _own_uri(request, "/sign-in/callback")


def _signed_out_uri(request: Request) -> str:
    """Where the provider sends a person who signed out: registered with it as well."""
    return _own_uri(request, "/sign-in")


def _own_uri(request: Request, path: str) -> str:
    return f"{'https' if _secure(request) else 'http'}://{request.host}{path}"


def _secure(request: Request) -> bool:
    """Reached over TLS: directly, or through the TLS proxy in front of the console."""
    return request.is_secure or request.headers.get("X-Forwarded-Proto") == "https"
