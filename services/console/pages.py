"""The console's pages: one request, start to finish (session, CSRF, route, the services'
answer, the page in the person's language).

Every read and command goes through the gateway's own pipeline (`Gateway.handle`) with the
signed-in person as the actor: the same routes, arguments, refusals and exactly-once handling as
over the HTTP API, so every permission rule and audit event is the same too.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.test import EnvironBuilder
from werkzeug.utils import redirect, safe_join
from werkzeug.wrappers import Request, Response

from contracts.errors import CasebookError
from services.console import forms, oidc
from services.console.forms import Field
from services.console.i18n import (
    N_,
    PROBLEMS,
    UNKNOWN_PROBLEM,
    Localized,
    Message,
    field_message,
    negotiate,
)
from services.console.session import Session, load, store
from services.gateway.dispatch import Call, Gateway
from services.runtime.cli.demo import SCHOOL, WORKER
from services.runtime.context import Actor
from services.runtime.settings import Console as Settings
from services.runtime.settings import settings

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
STATIC = HERE / "static"
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css"}
CASELOAD_PAGE = 20
# The development sign-in offers the people `casebook demo` staffs its school with.
DEMO_PEOPLE: tuple[Actor, ...] = (
    Actor(id=WORKER, role="social_worker", school_id=SCHOOL),
    Actor(id="demo-admin", role="school_admin", school_id=SCHOOL),
)
# Where a nested field error of a command is shown on its form.
ERROR_PLACES = {"guardians.0.name": "guardian_name", "guardians.0.relation": "guardian_relation",
                "guardians.0.contact": "guardian_contact"}
# Keys of a refusal's `errors` that list what is not yet done rather than what is wrong.
UNDONE_KEYS = ("missing_step", "consent")
# What the browser may load and run: this console's own files, nothing inline, no frames.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

URLS = Map([
    Rule("/", endpoint="index", methods=["GET"]),
    Rule("/healthz", endpoint="healthz", methods=["GET"]),
    Rule("/static/<name>", endpoint="static", methods=["GET"]),
    Rule("/sign-in", endpoint="sign_in_form", methods=["GET"]),
    Rule("/sign-in", endpoint="sign_in", methods=["POST"]),
    Rule("/sign-in/provider", endpoint="provider_sign_in", methods=["GET"]),
    Rule("/sign-in/callback", endpoint="provider_callback", methods=["GET"]),
    Rule("/sign-out", endpoint="sign_out", methods=["POST"]),
    Rule("/language", endpoint="language", methods=["POST"]),
    Rule("/caseload", endpoint="caseload", methods=["GET"]),
    Rule("/clients/new", endpoint="new_client", methods=["GET"]),
    Rule("/clients/new", endpoint="register_client", methods=["POST"]),
    Rule("/cases/new", endpoint="new_case", methods=["GET"]),
    Rule("/cases/new", endpoint="open_case", methods=["POST"]),
    Rule("/cases/<case_id>", endpoint="case", methods=["GET"]),
    Rule("/cases/<case_id>/steps/<step>", endpoint="step_form", methods=["GET"]),
    Rule("/cases/<case_id>/steps/<step>", endpoint="record_step", methods=["POST"]),
    Rule("/cases/<case_id>/risks", endpoint="raise_risk", methods=["POST"]),
    Rule("/cases/<case_id>/risks/<risk_id>/resolution", endpoint="resolve_risk",
         methods=["POST"]),
])
PUBLIC = ("index", "healthz", "static", "sign_in_form", "sign_in", "language",
          "provider_sign_in", "provider_callback")


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
                    shown.beside.setdefault(place, []).append(field_message(rule))
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
class Visit:
    """One request to the console: who, in which language, and how to reach the services."""

    request: Request
    session: Session
    text: Localized
    api: Api | None


class Console:
    def __init__(self, gateway: Gateway, settings: Settings, key: bytes) -> None:
        self.gateway = gateway
        self.settings = settings
        self.key = key
        self.environments: dict[str, Environment] = {}

    def handle(self, request: Request, call: Call) -> Response:
        session = load(request, self.key)
        visit = Visit(request, session, Localized(session.locale), None)
        try:
            response = self._route(visit, call)
        except NotFound:
            response = self._error(visit, Problem(Message(PROBLEMS["not_found"]), ""), 404)
        except MethodNotAllowed:
            response = self._error(visit, Problem(Message(UNKNOWN_PROBLEM), ""), 405)
        except Refused as refusal:
            response = self._error(visit, Problem.of(refusal.problem), refusal.status)
        store(response, visit.session, self.key, _secure(request))
        response.headers.update(SECURITY_HEADERS)
        return response

    def _route(self, visit: Visit, call: Call) -> Response:
        endpoint, values = URLS.bind_to_environ(visit.request.environ).match()
        request = visit.request
        if request.method == "POST" and not visit.session.accepts(request.form.get("csrf")):
            problem = Problem(Message(N_("This form has expired. Open the page and send it "
                                         "again.")), "")
            return self._error(visit, problem, 403)
        if endpoint not in PUBLIC:
            if visit.session.actor is None:
                return redirect("/sign-in")
            visit.api = Api(self.gateway, call, visit.session.actor, str(uuid.uuid4()))
        page: Callable[..., Response] = getattr(self, endpoint)
        return page(visit, **values)

    # Rendering.

    def _environment(self, text: Localized) -> Environment:
        if text.locale not in self.environments:
            environment = Environment(loader=FileSystemLoader(HERE / "templates"),
                                      autoescape=select_autoescape(),
                                      extensions=["jinja2.ext.i18n", "jinja2.ext.do"])
            environment.install_gettext_translations(text.translations,  # type: ignore[attr-defined]
                                                     newstyle=True)
            self.environments[text.locale] = environment
        return self.environments[text.locale]

    def _render(self, visit: Visit, template: str, status: int = 200,
                **context: Any) -> Response:
        environment = self._environment(visit.text)
        page = environment.get_template(template).render(
            t=visit.text, session=visit.session, actor=visit.session.actor,
            path=visit.request.full_path.rstrip("?"), new_key=lambda: str(uuid.uuid4()),
            **context)
        return Response(page, status, content_type="text/html; charset=utf-8")

    def _error(self, visit: Visit, problem: Problem, status: int) -> Response:
        return self._render(visit, "error.html", status, problem=problem)

    # Public pages.

    def index(self, visit: Visit) -> Response:
        return redirect("/caseload" if visit.session.actor else "/sign-in")

    def healthz(self, visit: Visit) -> Response:
        return Response('{"status": "ok"}', content_type="application/json")

    def static(self, visit: Visit, name: str) -> Response:
        path = safe_join(str(STATIC), name)
        if path is None or not Path(path).is_file():
            raise NotFound()
        content_type = CONTENT_TYPES.get(Path(path).suffix, "application/octet-stream")
        return Response(Path(path).read_bytes(), content_type=f"{content_type}; charset=utf-8")

    def sign_in_form(self, visit: Visit) -> Response:
        return self._render(visit, "sign_in.html", people=self._people(),
                            provider=oidc.configured(self.settings))

    def provider_sign_in(self, visit: Visit) -> Response:
        if not oidc.configured(self.settings):
            raise NotFound()
        url, pending = oidc.start(self.settings, _callback_uri(visit.request))
        visit.session = replace(visit.session, pending=asdict(pending))
        return redirect(url)

    def provider_callback(self, visit: Visit) -> Response:
        args = visit.request.args
        pending = visit.session.pending
        if not oidc.configured(self.settings) or pending is None or "code" not in args:
            problem = Problem(Message(PROBLEMS["unauthenticated"]), args.get("error", ""))
            return self._render(visit, "sign_in.html", 401, people=self._people(),
                                provider=oidc.configured(self.settings), problem=problem)
        visit.session = replace(visit.session, pending=None)
        try:
            actor = oidc.finish(self.settings, oidc.Pending(**pending), args.get("state", ""),
                                args["code"], _callback_uri(visit.request))
        except CasebookError as refusal:
            log.warning("provider sign-in refused: %s", refusal.detail)
            problem = Problem(Message(PROBLEMS["unauthenticated"]), refusal.detail)
            return self._render(visit, "sign_in.html", 401, people=self._people(),
                                provider=True, problem=problem)
        visit.session = visit.session.signed_in(actor, self.settings.session_hours)
        return redirect("/caseload")

    def sign_in(self, visit: Visit) -> Response:
        people = self._people()
        chosen = visit.request.form.get("person", "")
        if not chosen.isdigit() or int(chosen) >= len(people):
            problem = Problem(Message(N_("Choose a person to sign in as.")), "")
            return self._render(visit, "sign_in.html", 400, people=people, problem=problem)
        visit.session = visit.session.signed_in(people[int(chosen)], self.settings.session_hours)
        return redirect("/caseload")

    def sign_out(self, visit: Visit) -> Response:
        visit.session = visit.session.signed_out()
        return redirect("/sign-in")

    def language(self, visit: Visit) -> Response:
        locale = negotiate(visit.request.form.get("locale"))
        visit.session = replace(visit.session, locale=locale)
        back = visit.request.form.get("next", "/")
        return redirect(back if back.startswith("/") and not back.startswith("//") else "/")

    def _people(self) -> tuple[Actor, ...]:
        # Never in production, whatever the setting says: it lets anyone be anyone.
        wanted = self.settings.dev_sign_in and not settings().runtime.production
        return DEMO_PEOPLE if wanted else ()

    # The social worker's pages.

    def caseload(self, visit: Visit) -> Response:
        assert visit.api is not None
        args = visit.request.args
        stage = args.get("stage") or None
        page = visit.api.get("/cases", stage=stage, after=args.get("after"),
                             limit=CASELOAD_PAGE)
        overdue = visit.api.get("/cases/overdue", limit=200)["items"]
        late = {item["case_id"]: item for item in overdue if item.get("case_id")}
        clients = {client["client_id"]: client.get("name")
                   for client in visit.api.get("/clients", limit=200)["items"]}
        context = {"page": page, "late": late, "clients": clients, "stage": stage}
        if visit.request.headers.get("HX-Request"):
            return self._render(visit, "caseload_rows.html", **context)
        counts = visit.api.get("/cases/by-stage")
        return self._render(visit, "caseload.html", counts=counts, **context)

    def new_client(self, visit: Visit) -> Response:
        return self._client_form(visit, None, None)

    def register_client(self, visit: Visit) -> Response:
        assert visit.api is not None
        form = visit.request.form
        body = forms.payload(forms.CLIENT, form)
        guardian = forms.payload(forms.GUARDIAN, form)
        if guardian:
            body["guardians"] = [{"name": guardian.get("guardian_name", ""),
                                  "relation": guardian.get("guardian_relation", ""),
                                  "contact": guardian.get("guardian_contact")}]
        try:
            answer = visit.api.post("/clients", body, form.get("idempotency_key"))
        except Refused as refusal:
            problem = Problem.of(refusal.problem, forms.CLIENT + forms.GUARDIAN)
            return self._client_form(visit, form, problem, refusal.status)
        return redirect(f"/cases/new?{urlencode({'client_id': answer['client_id']})}")

    def _client_form(self, visit: Visit, form: MultiDict[str, str] | None,
                     problem: Problem | None, status: int = 200) -> Response:
        fields = forms.CLIENT + forms.GUARDIAN
        return self._render(visit, "client_new.html", status, fields=forms.CLIENT,
                            guardian=forms.GUARDIAN, values=forms.values(fields, form),
                            problem=problem)

    def new_case(self, visit: Visit) -> Response:
        return self._case_form(visit, visit.request.args.get("client_id", ""), None, None)

    def open_case(self, visit: Visit) -> Response:
        assert visit.api is not None and visit.session.actor is not None
        form = visit.request.form
        client_id = form.get("client_id", "")
        body = forms.payload(forms.OPEN_CASE, form)
        intake = {name: body.pop(name) for name in
                  ("worker_introduced", "respect_and_empathy", "initial_information")
                  if name in body}
        body.update(client_id=client_id, social_worker_id=visit.session.actor.id, intake=intake)
        try:
            answer = visit.api.post("/cases", body, form.get("idempotency_key"))
        except Refused as refusal:
            problem = Problem.of(refusal.problem, forms.OPEN_CASE)
            return self._case_form(visit, client_id, form, problem, refusal.status)
        return redirect(f"/cases/{answer['case_id']}")

    def _case_form(self, visit: Visit, client_id: str, form: MultiDict[str, str] | None,
                   problem: Problem | None, status: int = 200) -> Response:
        assert visit.api is not None
        client = visit.api.get(f"/clients/{client_id}") if client_id else None
        return self._render(visit, "case_new.html", status, client=client, client_id=client_id,
                            fields=forms.OPEN_CASE, values=forms.values(forms.OPEN_CASE, form),
                            problem=problem)

    def case(self, visit: Visit, case_id: str) -> Response:
        return self._case_page(visit, case_id, None)

    def step_form(self, visit: Visit, case_id: str, step: str) -> Response:
        chosen = _step(step)
        return self._case_page(visit, case_id, Section(
            chosen.fields, step=chosen, values=forms.values(chosen.fields, None)))

    def record_step(self, visit: Visit, case_id: str, step: str) -> Response:
        chosen = _step(step)
        # A closed case leaves the caseload and is read only under an archive grant (9.4d).
        done = "/caseload" if chosen.name == "closing" else f"/cases/{case_id}"
        body = forms.command(chosen, visit.request.form)
        return self._case_command(visit, case_id, chosen.path, body, done,
                                  Section(chosen.fields, step=chosen))

    def raise_risk(self, visit: Visit, case_id: str) -> Response:
        body = forms.payload(forms.RISK, visit.request.form)
        return self._case_command(visit, case_id, "risks", body, f"/cases/{case_id}",
                                  Section(forms.RISK, name="risk"))

    def resolve_risk(self, visit: Visit, case_id: str, risk_id: str) -> Response:
        body = forms.payload(forms.RESOLVE_RISK, visit.request.form)
        return self._case_command(visit, case_id, f"risks/{risk_id}/resolution", body,
                                  f"/cases/{case_id}",
                                  Section(forms.RESOLVE_RISK, name=f"resolve-{risk_id}"))

    def _case_command(self, visit: Visit, case_id: str, path: str, body: dict[str, Any],
                      done: str, section: Section) -> Response:
        """Carry out a command on the case; on a refusal (400, 409), the case page again with
        the form as it was sent and the reasons beside its fields."""
        assert visit.api is not None
        form = visit.request.form
        try:
            visit.api.post(f"/cases/{case_id}/{path}", body, form.get("idempotency_key"))
        except Refused as refusal:
            if refusal.status not in (400, 409):
                raise
            section.values = forms.values(section.fields, form)
            section.problem = Problem.of(refusal.problem, section.fields)
            return self._case_page(visit, case_id, section, refusal.status)
        return redirect(done)

    def _case_page(self, visit: Visit, case_id: str, sent: Section | None,
                   status: int = 200) -> Response:
        assert visit.api is not None
        record = visit.api.get(f"/cases/{case_id}")
        timeline = visit.api.get(f"/cases/{case_id}/timeline")["steps"]
        client = visit.api.get(f"/clients/{record['client_id']}")
        upcoming = forms.next_step(record)
        step = sent if sent and sent.step else None
        if step is None and upcoming is not None:
            step = Section(upcoming.fields, step=upcoming,
                           values=forms.values(upcoming.fields, None))
        risk = sent if sent and sent.name == "risk" else Section(
            forms.RISK, name="risk", values=forms.values(forms.RISK, None))
        resolving = sent if sent and sent.name.startswith("resolve-") else None
        goals = record["plans"][-1]["parts"].get("goals", []) if record["plans"] else []
        return self._render(visit, "case.html", status, case=record, client=client, goals=goals,
                            timeline=timeline, steps=forms.STEPS, upcoming=upcoming, step=step,
                            risk=risk, resolving=resolving, resolve_fields=forms.RESOLVE_RISK,
                            resolve_values=forms.values(forms.RESOLVE_RISK, None))


@dataclass
class Section:
    """One form of the case page, with what was sent and why it was refused."""

    fields: tuple[Field, ...]
    step: forms.Step | None = None
    name: str = "step"
    values: dict[str, Any] = field(default_factory=dict)
    problem: Problem | None = None


def _step(name: str) -> forms.Step:
    if name not in forms.STEP_BY_NAME:
        raise NotFound()
    return forms.STEP_BY_NAME[name]


def _callback_uri(request: Request) -> str:
    """Where the provider sends the person back: it must be registered with the provider."""
    return f"{'https' if _secure(request) else 'http'}://{request.host}/sign-in/callback"


def _secure(request: Request) -> bool:
    """Reached over TLS: directly, or through the TLS proxy in front of the console."""
    return request.is_secure or request.headers.get("X-Forwarded-Proto") == "https"
