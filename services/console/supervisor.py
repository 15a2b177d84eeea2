"""The supervisor's pages: the risk escalations of their supervisees' cases first (escalations.py,
9.6b); the supervisees' cases by worker and step (6.2.2.1, 8.2.1.1); the key control points found
unmet and their improvement actions (9.5c, 10.3); supervision and training (6.2.2.2, 9.1)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from contracts.events.supervision import (
    SUPERVISION_FORMATS,
    SUPERVISION_KINDS,
    TRAINING_KINDS,
    TRAINING_TOPICS,
)
from services.console import forms
from services.console.forms import Field
from services.console.i18n import N_, today
from services.console.social_worker import client_names, supervisee_records
from services.console.web import (
    Section,
    Visit,
    nav,
    page,
    sections_of,
    send_form,
)

CASES_PAGE = 20
STAGES = ("intake", "assessment", "plan", "intervention", "evaluation", "closing")

nav(N_("Escalations"), "/escalations", "supervisor")
nav(N_("Supervisees' cases"), "/supervisees", "supervisor")
nav(N_("Quality"), "/quality", "supervisor")
nav(N_("Supervision and training"), "/supervision", "supervisor")

# 10.3: a finding's improvement action, owned and tracked to done.
OPEN_ACTION = (
    Field("owner_id", N_("Owner"), required=True, hint=N_("The staff id of who carries it out.")),
    Field("plan", N_("What is to be done"), "textarea", required=True),
    Field("due_on", N_("Due on"), "date", required=True),
)
COMPLETE_ACTION = (
    Field("result", N_("What was done"), "textarea", required=True),
    # Empty for today on the service's clock, which judges whether it was in time.
    forms.service_day("completed_on", N_("Completed on")),
)
FINDING_STATES: dict[str, str] = {
    "open": N_("Not yet addressed"),
    "in_improvement": N_("Being improved"),
    "addressed": N_("Addressed"),
}
ACTION_STATES: dict[str, str] = {"open": N_("Under way"), "done": N_("Done")}
QUALITY_PAGE = 20
def _today() -> str:
    return today().isoformat()


# 6.2.2.2: a session of one or more kinds, with one supervisee (individual) or several (group);
# the supervisees are the supervisor's own, which the form offers to choose from.
def session_fields(supervisees: tuple[str, ...]) -> tuple[Field, ...]:
    return (
        Field("social_worker_ids", N_("Supervisees"), "multi", supervisees, required=True),
        Field("kinds", N_("Kinds"), "multi", SUPERVISION_KINDS, required=True),
        Field("format", N_("Format"), "select", SUPERVISION_FORMATS, required=True,
              default=lambda: "individual"),
        Field("held_on", N_("Held on"), "date", required=True, default=_today),
        Field("duration_minutes", N_("Duration in minutes"), "int", required=True,
              hint=N_("1 to 480")),
    )


# 9.1a pre-job training and 9.1b continuing education, its topics those of 6.2.1.3.
TRAINING = (
    Field("kind", N_("Kind of training"), "select", TRAINING_KINDS, required=True,
          default=lambda: "continuing"),
    Field("minutes", N_("Minutes"), "int", required=True,
          hint=N_("At least 30; 36 hours a year are 2160 minutes (9.1b).")),
    Field("topics", N_("Topics"), "multi", TRAINING_TOPICS, required=True),
    Field("completed_on", N_("Completed on"), "date", required=True, default=_today),
)


def training_fields(workers: tuple[str, ...]) -> tuple[Field, ...]:
    return (Field("social_worker_id", N_("Social worker"), "select", workers, required=True),
            *TRAINING)


@page("/supervisees")
def supervisees_cases(visit: Visit) -> Response:
    """The cases of the supervisor's supervisees, newest first, by worker and step; a case
    with a key control point overdue (9.5c) is marked."""
    args = visit.request.args
    supervisees = supervisee_records(visit)
    workers = supervisees or []
    known = {worker["social_worker_id"] for worker in workers}
    worker = args.get("worker") if args.get("worker") in known else None
    stage = args.get("stage") if args.get("stage") in STAGES else None
    cases = visit.api.get("/cases", social_worker_id=worker, stage=stage,
                          after=args.get("after"), limit=CASES_PAGE)
    clients = client_names(visit, (case["client_id"] for case in cases["items"]))
    return visit.render("supervisor_cases.html", page=cases, workers=workers, worker=worker,
                        stage=stage, stages=STAGES, clients=clients,
                        registered=supervisees is not None)


@page("/quality")
def quality(visit: Visit) -> Response:
    return _quality_page(visit, None)


@page("/quality/findings/<finding_id>/action", "POST")
def open_improvement_action(visit: Visit, finding_id: str) -> Response:
    body = {**forms.payload(OPEN_ACTION, visit.request.form), "finding_id": finding_id}
    return _quality_command(visit, "/improvement-actions", body,
                            Section(OPEN_ACTION, name=f"open-{finding_id}"))


@page("/quality/actions/<action_id>/completion", "POST")
def complete_improvement_action(visit: Visit, action_id: str) -> Response:
    body = forms.payload(COMPLETE_ACTION, visit.request.form)
    return _quality_command(visit, f"/improvement-actions/{action_id}/completion", body,
                            Section(COMPLETE_ACTION, name=f"complete-{action_id}"))


def _quality_command(visit: Visit, path: str, body: dict[str, Any],
                     section: Section) -> Response:
    return send_form(visit, path, body, section,
                    lambda sent, status: _quality_page(visit, sent, status), "/quality")


def _quality_page(visit: Visit, sent: Section | None, status: int = 200) -> Response:
    """The school's key control points found unmet (9.5c), oldest first, each open one with the
    form of its improvement action; the improvement actions under way (10.3)."""
    args = visit.request.args
    school = visit.actor.school_id
    state = args.get("status") if args.get("status") in FINDING_STATES else None
    findings = visit.api.get(f"/schools/{school}/findings", status=state,
                             after=args.get("after"), limit=QUALITY_PAGE)
    actions = visit.api.get(f"/schools/{school}/improvement-actions", status="open",
                            after=args.get("actions_after"), limit=QUALITY_PAGE)
    return visit.render("supervisor_quality.html", status, findings=findings, actions=actions,
                        state=state, sent=sent, open_fields=OPEN_ACTION,
                        open_values=forms.values(OPEN_ACTION, None),
                        complete_fields=COMPLETE_ACTION,
                        complete_values=forms.values(COMPLETE_ACTION, None),
                        finding_states=FINDING_STATES, action_states=ACTION_STATES)


@page("/supervision")
def supervision(visit: Visit) -> Response:
    return _supervision_page(visit, None)


@page("/supervision/sessions", "POST")
def record_session(visit: Visit) -> Response:
    """A session the supervisor held (6.2.2.2): they record only their own."""
    fields = session_fields(_supervisees(visit))
    body = {**forms.payload(fields, visit.request.form), "supervisor_id": visit.actor.id}
    return send_form(visit, "/supervision-sessions", body, Section(fields, name="session"),
                     lambda sent, status: _supervision_page(visit, sent, status),
                     "/supervision")


@page("/supervision/trainings", "POST")
def record_training(visit: Visit) -> Response:
    """Training a supervisee completed (9.1a, 9.1b)."""
    fields = training_fields(_supervisees(visit))
    return send_form(visit, "/trainings", forms.payload(fields, visit.request.form),
                     Section(fields, name="training"),
                     lambda sent, status: _supervision_page(visit, sent, status),
                     "/supervision")


def _supervisees(visit: Visit) -> tuple[str, ...]:
    return _ids(supervisee_records(visit))


def _ids(records: list[dict[str, Any]] | None) -> tuple[str, ...]:
    return tuple(worker["social_worker_id"] for worker in records or ())


def _supervision_page(visit: Visit, sent: Section | None, status: int = 200) -> Response:
    """Supervision per worker against the longest time allowed without it (9.1c), the sessions
    held (6.2.2.2), and each worker's continuing education this year (9.1b); the forms that
    record a session and a training."""
    args = visit.request.args
    school = visit.actor.school_id
    report = visit.api.get(f"/schools/{school}/supervision-report")
    sessions = visit.api.get(f"/schools/{school}/supervision-sessions",
                             after=args.get("after"), limit=QUALITY_PAGE)
    year = today().year
    training = visit.api.get(f"/schools/{school}/training-report", year=year)
    records = supervisee_records(visit)
    supervisees = _ids(records)
    sections = sections_of(sent, session=session_fields(supervisees),
                           training=training_fields(supervisees))
    return visit.render("supervisor_supervision.html", status, report=report,
                        sessions=sessions, training=training, year=year, sections=sections,
                        registered=records is not None)
