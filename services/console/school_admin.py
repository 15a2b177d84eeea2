"""The school administrator's pages: the school's social workers and whether they may take
cases (6.2.1.2 qualification, 9.1a pre-job and 9.1b continuing training, 9.1c supervision);
registering a worker with their employment and qualification, their training and their
supervisor (6.2.1, 6.2.2, 9.1); and the school's compliance report against the standard, shown
as a table and downloaded as CSV or XLSX in the person's language, for Excel in zh-CN to open
as it is."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlencode

import xlsxwriter
from werkzeug.datastructures import MultiDict
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from contracts.events.supervision import (
    CERTIFICATE_LEVELS,
    COMPLAINT_OUTCOMES,
    COMPLAINT_STEPS,
    DEACTIVATION_REASONS,
    DIPLOMA_LEVELS,
    EMPLOYMENT,
    EVALUATION_SCOPES,
    EVALUATOR_TYPES,
    FACILITY_KINDS,
    FEEDBACK_CHANNELS,
    FEEDBACK_KINDS,
    RATINGS,
    RESPONDENT_KINDS,
    SERVICE_MODES,
    SUPERVISOR_SETTINGS,
)
from services.console import forms
from services.console.escalations import waiting_for_me
from services.console.forms import Field
from services.console.i18n import N_, Localized, Message, today
from services.console.supervisor import TRAINING
from services.console.web import (
    Problem,
    Refused,
    Section,
    Visit,
    form_of,
    nav,
    page,
    sections_of,
    send_form,
)
from services.runtime.paging import MAX_LIMIT

STAFF_PAGE = 20
TRAININGS_PAGE = 20
COMPLAINTS_PAGE = 20
EVALUATIONS_PAGE = 20
ANSWERED_FILTERS = ("true", "false")
ELIGIBILITY_FILTERS = ("true", "false")

nav(N_("Staff and eligibility"), "/staff", "school_admin")
nav(N_("Compliance report"), "/compliance", "school_admin")
nav(N_("Complaints and feedback"), "/complaints", "school_admin")
nav(N_("Satisfaction surveys"), "/surveys", "school_admin")
# A step of every ladder but the low risks' (9.6b): the school's escalations are theirs to see.
nav(N_("Escalations"), "/escalations", "school_admin")

PERIOD = (
    Field("period_from", N_("From"), "date", required=True,
          default=lambda: date(today().year, 1, 1).isoformat()),
    Field("period_to", N_("To"), "date", required=True, default=lambda: today().isoformat()),
)


# 6.2.1.2: what the standard asks of a social worker's qualification; the service judges from
# it whether they may take cases.
QUALIFICATION = (
    Field("certificate_level", N_("Social-worker certificate"), "select", CERTIFICATE_LEVELS,
          required=True),
    Field("diploma_level", N_("Highest diploma"), "select", DIPLOMA_LEVELS, required=True),
    Field("diploma_in_social_work", N_("The diploma is in social work"), "bool"),
    Field("projects_led", N_("School or youth projects led"), "int", required=True,
          default=lambda: 0),
    Field("ethics_commitment",
          N_("Committed to the values and ethics of the profession (6.2.1.2)"), "bool"),
)
# 6.2.1: a social worker of this school, their employment (6.2.1.1) and qualification.
REGISTER_WORKER = (
    Field("social_worker_id", N_("Staff id"), required=True,
          hint=N_("The id they sign in with; never a name.")),
    Field("employment", N_("Employment"), "select", EMPLOYMENT, required=True,
          default=lambda: "full_time"),
    *QUALIFICATION,
    # Empty for today on the service's clock, which refuses a day after its own today.
    forms.service_day("registered_on", N_("Registered on")),
)
# 6.1: the school's service spaces, a social-work office and rooms for case and group work
# (6.1.1, 6.1.2), recorded as they now are: the compliance report checks that there is one.
FACILITIES = (
    Field("facility_kinds", N_("Service spaces (6.1)"), "multi", FACILITY_KINDS, required=True),
    forms.service_day("recorded_on", N_("Recorded on")),
)
# 8.1, 6.1: the admin's own school as it is registered, before its staff: how it is served,
# and its service spaces.
REGISTER_SCHOOL = (
    Field("name", N_("School name"), required=True),
    Field("district", N_("District code"), required=True,
          hint=N_("The code of the school's district, for example JD.")),
    Field("service_mode", N_("How the school is served"), "select", SERVICE_MODES,
          required=True),
    Field("facility_kinds", N_("Service spaces (6.1)"), "multi", FACILITY_KINDS),
    forms.service_day("registered_on", N_("Registered on")),
)
# A worker's later changes: a new qualification (6.2.1.2), serving this school too, no longer
# serving it, and leaving the service (which ends their eligibility to take cases).
RECORD_QUALIFICATION = (
    *QUALIFICATION,
    forms.service_day("recorded_on", N_("Recorded on")),
)
ASSIGN_WORKER = (
    Field("social_worker_id", N_("Staff id"), required=True,
          hint=N_("A social worker already registered, for example at another school.")),
    forms.service_day("assigned_on", N_("Assigned on")),
)
END_ASSIGNMENT = (
    forms.service_day("ended_on", N_("Ended on")),
)
LEAVING = (
    Field("reason", N_("Why they left"), "select", DEACTIVATION_REASONS, required=True),
    forms.service_day("left_on", N_("Left on")),
)
# 6.2.2.1: a supervisor of this school, internal or external (10.1.1), with the certificate and
# years of practice the service checks.
REGISTER_SUPERVISOR = (
    Field("supervisor_id", N_("Staff id"), required=True,
          hint=N_("The id they sign in with; never a name.")),
    Field("employment", N_("Employment"), "select", EMPLOYMENT, required=True,
          default=lambda: "full_time"),
    Field("setting", N_("Internal or external"), "select", SUPERVISOR_SETTINGS, required=True,
          default=lambda: "internal"),
    Field("certificate_level", N_("Social-worker certificate"), "select", CERTIFICATE_LEVELS,
          required=True),
    Field("years_of_practice", N_("Years of practice"), "int", required=True),
    forms.service_day("registered_on", N_("Registered on")),
)
# A worker's history of changes, as the supervision service published each (6.2.1, 6.2.2, 9.1).
WORKER_CHANGES = {
    "SocialWorkerRegistered": N_("Registered"),
    "SocialWorkerQualificationRecorded": N_("New qualification recorded (6.2.1.2)"),
    "SocialWorkerEligibilityChanged": N_("Whether they may take cases changed"),
    "SocialWorkerAssigned": N_("Assigned to a school"),
    "SocialWorkerAssignmentEnded": N_("Service at a school ended"),
    "SupervisorAssigned": N_("Supervisor assigned (6.2.2)"),
    "TrainingRecorded": N_("Training recorded (9.1)"),
    "SocialWorkerDeactivated": N_("Left the service"),
}
# 6.2.2: the worker's supervisor, chosen among the school's (`assign_supervisor_fields`).
ASSIGN_SUPERVISOR = (
    Field("supervisor_id", N_("Supervisor"), "select", required=True,
          hint=N_("The school's supervisors, and those of no one school (6.2.2.1).")),
    forms.service_day("assigned_on", N_("Assigned on")),
)
# 9.2c: a complaint, feedback or suggestion as it came in, also anonymous (then without a
# contact); 10.1.2: handled in steps and answered within the service's time limits.
RECEIVE_COMPLAINT = (
    Field("kind", N_("Kind"), "select", FEEDBACK_KINDS, required=True,
          default=lambda: "complaint"),
    Field("channel", N_("How it came in"), "select", FEEDBACK_CHANNELS, required=True),
    Field("anonymous", N_("Anonymous"), "bool"),
    Field("content", N_("What it says"), "textarea", required=True),
    Field("contact", N_("Contact"), hint=N_("Leave empty when anonymous.")),
    Field("about_social_worker_id", N_("About the social worker"),
          hint=N_("Their staff id, if it is about one.")),
    forms.service_day("received_on", N_("Date received")),
)
COMPLAINT_STEP = (
    Field("step", N_("Handling step"), "select", COMPLAINT_STEPS, required=True),
    Field("note", N_("Note"), "textarea"),
    forms.service_day("taken_on", N_("Taken on")),
)
ANSWER_COMPLAINT = (
    Field("outcome", N_("Outcome"), "select", COMPLAINT_OUTCOMES, required=True),
    Field("answer", N_("Answer"), "textarea", required=True),
    forms.service_day("answered_on", N_("Answered on")),
)
# 10.2.1: a satisfaction survey's figures over a period, and who ran it (10.2.3). The mean
# score is typed as it is read (4.25) and sent in thousandths, as the service keeps it.
SURVEY = (
    Field("respondent_kind", N_("Respondents"), "select", RESPONDENT_KINDS, required=True),
    Field("respondent_count", N_("Number of respondents"), "int", required=True),
    Field("satisfied_count", N_("Satisfied respondents"), "int", required=True),
    Field("mean_score_permille", N_("Mean score"), required=True,
          hint=N_("From 1 to 5, for example 4.25.")),
    Field("evaluator_type", N_("Who ran the survey"), "select", EVALUATOR_TYPES, required=True),
    Field("social_worker_id", N_("About the social worker"),
          hint=N_("Their staff id, if it is about one.")),
    Field("period_from", N_("From"), "date", required=True),
    Field("period_to", N_("To"), "date", required=True),
)
# 10.2.3: a service evaluation of a worker, the school or a project, and who evaluated; the
# signed-in person is recorded as the evaluator.
EVALUATION = (
    Field("scope", N_("What is evaluated"), "select", EVALUATION_SCOPES, required=True),
    Field("social_worker_id", N_("About the social worker"),
          hint=N_("Their staff id, if it is about one.")),
    Field("evaluator_type", N_("Who evaluated"), "select", EVALUATOR_TYPES, required=True),
    Field("rating", N_("Rating"), "select", RATINGS, required=True),
    Field("findings", N_("Findings"), "textarea"),
    forms.service_day("evaluated_on", N_("Evaluated on")),
)
# The report's table, as the page shows it and the downloads hold it: a row per check met,
# and a row per gap of a check not met (the service's own CSV has the same rows, in English).
HEADERS = (N_("Clause"), N_("Check"), N_("Met"), N_("Concerns"), N_("What is missing"))
# The gaps' details as the supervision service words them (services/supervision/compliance.py),
# each to its translation; `role` is shown by its label and `date` in the locale's form.
GAP_DETAILS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"The school has no service space\."), N_("The school has no service space.")),
    (re.compile(r"No active full-time worker meets 6\.2\.1\.2\."),
     N_("No active full-time worker meets 6.2.1.2.")),
    (re.compile(r"No pre-job training recorded\."), N_("No pre-job training recorded.")),
    (re.compile(r"(?P<year>\d{4}): (?P<done>\d+) of (?P<needed>\d+) minutes, "
                r"(?P<missing>\d+) missing\."),
     N_("%(year)s: %(done)s of %(needed)s minutes, %(missing)s missing.")),
    (re.compile(r"(?P<days>\d+) days without supervision \(limit (?P<limit>\d+)\)\."),
     N_("%(days)s days without supervision (at most %(limit)s).")),
    (re.compile(r"Not delivered: .*"), N_("Not delivered in the period.")),
    (re.compile(r"Acknowledged late, at step (?P<step>\d+)\."),
     N_("Acknowledged late, at step %(step)s.")),
    (re.compile(r"Not acknowledged; now waiting for (?P<role>\w+)\."),
     N_("Not acknowledged; now waiting for %(role)s.")),
    (re.compile(r"Closed without acknowledgement after its time limit\."),
     N_("Closed without acknowledgement after its time limit.")),
    (re.compile(r"Answered late\."), N_("Answered late.")),
    (re.compile(r"Not answered; due (?P<date>\d{4}-\d{2}-\d{2})\."),
     N_("Not answered; due %(date)s.")),
)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@page("/staff")
def staff(visit: Visit) -> Response:
    return _staff_page(visit, None)


@page("/staff/assignments", "POST")
def assign_worker(visit: Visit) -> Response:
    """A social worker registered elsewhere comes to serve this school too: the admin's own
    school, the only one they may assign to."""
    form = visit.request.form
    body = forms.payload(ASSIGN_WORKER, form)
    worker_id = str(body.pop("social_worker_id", ""))
    if not worker_id:
        # The staff id names the record in the route's path: without one there is no route.
        problem = Problem.of({"code": "invalid_input", "errors": {
            "social_worker_id": ["Missing data for required field."]}}, ASSIGN_WORKER)
        return _staff_page(visit, Section(ASSIGN_WORKER, name="assign",
                                          values=forms.values(ASSIGN_WORKER, form),
                                          problem=problem), 400)
    return send_form(visit, f"/social-workers/{quote(worker_id, safe='')}/assignments",
                     {**body, "school_id": visit.actor.school_id},
                     Section(ASSIGN_WORKER, name="assign"),
                     lambda sent, status: _staff_page(visit, sent, status),
                     f"/staff/{quote(worker_id, safe='')}")


@page("/staff/facilities", "POST")
def record_facilities(visit: Visit) -> Response:
    """The admin's own school's service spaces as they now are (6.1), replacing those recorded."""
    body = forms.payload(FACILITIES, visit.request.form)
    return send_form(visit, f"/schools/{visit.actor.school_id}/facilities", body,
                     Section(FACILITIES, name="facilities"),
                     lambda sent, status: _staff_page(visit, sent, status), "/staff")


def _staff_page(visit: Visit, sent: Section | None, status: int = 200) -> Response:
    args = visit.request.args
    school_id = visit.actor.school_id
    school = _school(visit)
    if school is None:
        return redirect("/school/new")
    eligible = args.get("eligible") if args.get("eligible") in ELIGIBILITY_FILTERS else None
    workers = visit.api.get(f"/schools/{school_id}/social-workers", eligible=eligible,
                            after=args.get("after"), limit=STAFF_PAGE)
    year = today().year
    training = {line["social_worker_id"]: line for line in
                visit.api.get(f"/schools/{school_id}/training-report", year=year)["lines"]}
    supervision = {line["social_worker_id"]: line for line in
                   visit.api.get(f"/schools/{school_id}/supervision-report")["lines"]}
    sections = {**sections_of(sent, assign=ASSIGN_WORKER),
                "facilities": facilities_form(sent, school)}
    return visit.render("school_admin_staff.html", status, page=workers, eligible=eligible,
                        year=year, training=training, supervision=supervision, school=school,
                        sections=sections, waiting=waiting_for_me(visit))


def facilities_form(sent: Section | None, school: dict[str, Any]) -> Section:
    """The form of a school's service spaces (6.1): as sent and refused, else started from the
    spaces on record, since a change is made to them. The administrator's staff page and the
    operator's page of a school."""
    section = form_of(sent, "facilities", FACILITIES)
    if section is not sent:
        section.values["facility_kinds"] = school["facility_kinds"]
    return section


def _school(visit: Visit) -> dict[str, Any] | None:
    """The admin's own school as the supervision service has it, or None before it is
    registered: its staff, reports and forms all hang on it."""
    try:
        school: dict[str, Any] = visit.api.get(f"/schools/{visit.actor.school_id}")
    except Refused as refusal:
        if refusal.status != 404:
            raise
        return None
    return school


@page("/school/new")
def new_school(visit: Visit) -> Response:
    """Where a school administrator lands while their school is not registered (8.1)."""
    if _school(visit) is not None:
        return redirect("/staff")
    return _staff_form(visit, "school", None, None)


@page("/school/new", "POST")
def register_school(visit: Visit) -> Response:
    """The admin's own school, the one their sign-in names (8.1, 6.1)."""
    body = {**forms.payload(REGISTER_SCHOOL, visit.request.form),
            "school_id": visit.actor.school_id}
    return _register(visit, "/schools", body, "school", lambda answer: "/staff")


@page("/staff/new")
def new_worker(visit: Visit) -> Response:
    if _school(visit) is None:
        return redirect("/school/new")
    return _staff_form(visit, "worker", None, None)


@page("/staff/new", "POST")
def register_worker(visit: Visit) -> Response:
    """A worker of the admin's own school; their training and supervisor are recorded next, on
    their page."""
    body = {**forms.payload(REGISTER_WORKER, visit.request.form),
            "school_ids": [visit.actor.school_id]}
    return _register(visit, "/social-workers", body, "worker",
                     lambda answer: f"/staff/{answer['social_worker_id']}")


@page("/supervisors/new")
def new_supervisor(visit: Visit) -> Response:
    if _school(visit) is None:
        return redirect("/school/new")
    return _staff_form(visit, "supervisor", None, None)


@page("/supervisors/new", "POST")
def register_supervisor(visit: Visit) -> Response:
    """A supervisor of the admin's own school (6.2.2.1); workers are assigned to them on each
    worker's page."""
    body = {**forms.payload(REGISTER_SUPERVISOR, visit.request.form),
            "school_id": visit.actor.school_id}
    return _register(visit, "/supervisors", body, "supervisor", lambda answer: "/staff")


# The registration forms: the school's (8.1), the worker's (6.2.1) and the supervisor's
# (6.2.2.1).
STAFF_FORMS: dict[str, tuple[str, tuple[Field, ...]]] = {
    "school": ("/school/new", REGISTER_SCHOOL),
    "worker": ("/staff/new", REGISTER_WORKER),
    "supervisor": ("/supervisors/new", REGISTER_SUPERVISOR),
}


def _register(visit: Visit, path: str, body: dict[str, Any], which: str,
              done: Callable[[dict[str, Any]], str]) -> Response:
    form = visit.request.form
    try:
        answer = visit.api.post(path, body, form.get("idempotency_key"))
    except Refused as refusal:
        if refusal.status not in (400, 409):
            raise
        problem = Problem.of(refusal.problem, STAFF_FORMS[which][1])
        return _staff_form(visit, which, form, problem, refusal.status)
    return redirect(done(answer))


def _staff_form(visit: Visit, which: str, form: MultiDict[str, str] | None,
                problem: Problem | None, status: int = 200) -> Response:
    action, fields = STAFF_FORMS[which]
    return visit.render(f"school_admin_{which}_new.html", status, action=action, fields=fields,
                        values=forms.values(fields, form), problem=problem)


@page("/staff/<social_worker_id>")
def worker(visit: Visit, social_worker_id: str) -> Response:
    return _worker_page(visit, social_worker_id, None)


@page("/staff/<social_worker_id>/trainings", "POST")
def record_training(visit: Visit, social_worker_id: str) -> Response:
    """Pre-job training (9.1a) or continuing education (9.1b) the worker completed."""
    body = {**forms.payload(TRAINING, visit.request.form), "social_worker_id": social_worker_id}
    return _worker_command(visit, social_worker_id, "/trainings", body,
                           Section(TRAINING, name="training"))


@page("/staff/<social_worker_id>/supervisor", "POST")
def assign_supervisor(visit: Visit, social_worker_id: str) -> Response:
    body = forms.payload(ASSIGN_SUPERVISOR, visit.request.form)
    return _worker_command(visit, social_worker_id,
                           f"/social-workers/{social_worker_id}/supervisor", body,
                           Section(ASSIGN_SUPERVISOR, name="supervisor"))


@page("/staff/<social_worker_id>/qualification", "POST")
def record_qualification(visit: Visit, social_worker_id: str) -> Response:
    """A qualification gained since registration (6.2.1.2): the worker's record holds the
    latest, from which the service judges again whether they may take cases."""
    body = forms.payload(RECORD_QUALIFICATION, visit.request.form)
    return _worker_command(visit, social_worker_id,
                           f"/social-workers/{social_worker_id}/qualifications", body,
                           Section(RECORD_QUALIFICATION, name="qualification"))


@page("/staff/<social_worker_id>/assignment-end", "POST")
def end_assignment(visit: Visit, social_worker_id: str) -> Response:
    """The worker no longer serves this school; no longer the admin's to see, they leave the
    list of staff."""
    body = {**forms.payload(END_ASSIGNMENT, visit.request.form),
            "school_id": visit.actor.school_id}
    return _worker_command(visit, social_worker_id,
                           f"/social-workers/{social_worker_id}/assignment-end", body,
                           Section(END_ASSIGNMENT, name="assignment_end"), "/staff")


@page("/staff/<social_worker_id>/leaving", "POST")
def record_leaving(visit: Visit, social_worker_id: str) -> Response:
    """The worker left the service: their record stays, and they may take no more cases."""
    body = forms.payload(LEAVING, visit.request.form)
    return _worker_command(visit, social_worker_id,
                           f"/social-workers/{social_worker_id}/deactivation", body,
                           Section(LEAVING, name="leaving"))


def _worker_command(visit: Visit, social_worker_id: str, path: str, body: dict[str, Any],
                    section: Section, done: str | None = None) -> Response:
    return send_form(visit, path, body, section,
                     lambda sent, status: _worker_page(visit, social_worker_id, sent, status),
                     done or f"/staff/{social_worker_id}")


def _worker_page(visit: Visit, social_worker_id: str, sent: Section | None,
                 status: int = 200) -> Response:
    """One worker: whether they may take cases and why not, the training recorded (9.1), and
    the forms that record a training and assign their supervisor."""
    record = visit.api.get(f"/social-workers/{social_worker_id}")
    trainings = visit.api.get(f"/schools/{visit.actor.school_id}/trainings",
                              social_worker_id=social_worker_id,
                              after=visit.request.args.get("after"), limit=TRAININGS_PAGE)
    sections = sections_of(sent, training=TRAINING, supervisor=ASSIGN_SUPERVISOR,
                           qualification=RECORD_QUALIFICATION, assignment_end=END_ASSIGNMENT,
                           leaving=LEAVING)
    if sent is None or sent.name != "qualification":
        # The form starts from the qualification on record: a change is made to it.
        sections["qualification"].values.update(record["qualification"])
    history = visit.api.get(f"/social-workers/{social_worker_id}/history")["steps"]
    supervisors = visit.api.get(f"/schools/{visit.actor.school_id}/supervisors",
                                limit=MAX_LIMIT)
    sections["supervisor"] = replace(sections["supervisor"], fields=assign_supervisor_fields(
        [item["supervisor_id"] for item in supervisors["items"]]))
    return visit.render("school_admin_worker.html", status, worker=record,
                        trainings=trainings, sections=sections, history=history,
                        changes=WORKER_CHANGES)


def assign_supervisor_fields(supervisor_ids: list[str]) -> tuple[Field, ...]:
    """The supervisor's form with the school's supervisors to choose from: a school has a few,
    within one page of the list."""
    choose, *rest = ASSIGN_SUPERVISOR
    return (replace(choose, options=tuple(supervisor_ids)), *rest)


@page("/complaints")
def complaints(visit: Visit) -> Response:
    return _complaints_page(visit, None)


@page("/complaints", "POST")
def receive_complaint(visit: Visit) -> Response:
    body = {**forms.payload(RECEIVE_COMPLAINT, visit.request.form),
            "school_id": visit.actor.school_id}
    return send_form(visit, "/complaints", body, Section(RECEIVE_COMPLAINT, name="receive"),
                     lambda sent, status: _complaints_page(visit, sent, status), "/complaints")


def _complaints_page(visit: Visit, sent: Section | None, status: int = 200) -> Response:
    """The school's complaints and feedback (9.2c), answered or not, and the form that records
    one as it came in."""
    args = visit.request.args
    answered = args.get("answered") if args.get("answered") in ANSWERED_FILTERS else None
    found = visit.api.get(f"/schools/{visit.actor.school_id}/complaints", answered=answered,
                          after=args.get("after"), limit=COMPLAINTS_PAGE)
    return visit.render("school_admin_complaints.html", status, page=found, answered=answered,
                        sections=sections_of(sent, receive=RECEIVE_COMPLAINT))


@page("/complaints/<complaint_id>")
def complaint(visit: Visit, complaint_id: str) -> Response:
    return _complaint_page(visit, complaint_id, None)


@page("/complaints/<complaint_id>/steps", "POST")
def record_complaint_step(visit: Visit, complaint_id: str) -> Response:
    return _complaint_command(visit, complaint_id, "steps", Section(COMPLAINT_STEP, name="step"))


@page("/complaints/<complaint_id>/answer", "POST")
def answer_complaint(visit: Visit, complaint_id: str) -> Response:
    return _complaint_command(visit, complaint_id, "answer",
                              Section(ANSWER_COMPLAINT, name="answer"))


def _complaint_command(visit: Visit, complaint_id: str, path: str,
                       section: Section) -> Response:
    return send_form(visit, f"/complaints/{complaint_id}/{path}",
                     forms.payload(section.fields, visit.request.form), section,
                     lambda sent, status: _complaint_page(visit, complaint_id, sent, status),
                     f"/complaints/{complaint_id}")


def _complaint_page(visit: Visit, complaint_id: str, sent: Section | None,
                    status: int = 200) -> Response:
    """What a complaint says, its handling steps and its answer, with their time limits
    (10.1.2); the forms of a step and of the answer while it is unanswered."""
    record = visit.api.get(f"/complaints/{complaint_id}")
    return visit.render("school_admin_complaint.html", status, complaint=record,
                        sections=sections_of(sent, step=COMPLAINT_STEP,
                                             answer=ANSWER_COMPLAINT))


@page("/surveys")
def surveys(visit: Visit) -> Response:
    return _surveys_page(visit, None)


@page("/surveys", "POST")
def record_survey(visit: Visit) -> Response:
    form = visit.request.form
    body = {**forms.payload(SURVEY, form), "school_id": visit.actor.school_id}
    if "mean_score_permille" in body:
        body["mean_score_permille"] = permille(body["mean_score_permille"])
    try:
        visit.api.post("/satisfaction-surveys", body, form.get("idempotency_key"))
    except Refused as refusal:
        if refusal.status not in (400, 409):
            raise
        problem = Problem.of(refusal.problem, SURVEY)
        if "mean_score_permille" in problem.beside:
            # The service's range is in thousandths; the person typed the score itself.
            problem.beside["mean_score_permille"] = [Message(N_("From 1 to 5, for example "
                                                                "4.25."))]
        return _surveys_page(visit, Section(SURVEY, name="survey",
                                            values=forms.values(SURVEY, form), problem=problem),
                             refusal.status)
    return redirect("/surveys")


@page("/surveys/evaluations", "POST")
def record_evaluation(visit: Visit) -> Response:
    body = {**forms.payload(EVALUATION, visit.request.form), "school_id": visit.actor.school_id}
    return send_form(visit, "/service-evaluations", body, Section(EVALUATION, name="evaluation"),
                     lambda sent, status: _surveys_page(visit, sent, status), "/surveys")


def permille(score: str) -> int | str:
    """A score as typed (4.25) in thousandths (4250); what is not a number is sent as it is,
    for the service to refuse."""
    try:
        return int((Decimal(score) * 1000).to_integral_value())
    except InvalidOperation:
        return score


def _surveys_page(visit: Visit, sent: Section | None, status: int = 200) -> Response:
    """The school's satisfaction surveys and service evaluations summed up (10.2), the
    surveys and the evaluations themselves, each paged on its own, and the forms that record a
    survey and an evaluation."""
    school, args = visit.actor.school_id, visit.request.args
    summary = visit.api.get(f"/schools/{school}/evaluation-summary")
    surveys = visit.api.get(f"/schools/{school}/satisfaction-surveys",
                            after=args.get("surveys_after"), limit=EVALUATIONS_PAGE)
    evaluations = visit.api.get(f"/schools/{school}/service-evaluations",
                                after=args.get("after"), limit=EVALUATIONS_PAGE)
    return visit.render("school_admin_surveys.html", status, summary=summary,
                        surveys=surveys, evaluations=evaluations,
                        sections=sections_of(sent, survey=SURVEY, evaluation=EVALUATION))


@page("/compliance")
def compliance(visit: Visit) -> Response:
    args = visit.request.args
    sent = args if any(f.name in args for f in PERIOD) else None
    values = forms.values(PERIOD, sent)
    try:
        report = _report(visit, values)
    except Refused as refusal:
        if refusal.status == 404 and _school(visit) is None:
            return redirect("/school/new")
        if refusal.status != 400:
            raise
        return visit.render("school_admin_compliance.html", 400, fields=PERIOD, values=values,
                            problem=Problem.of(refusal.problem, PERIOD), report=None, rows=[])
    return visit.render("school_admin_compliance.html", fields=PERIOD, values=values,
                        problem=None, report=report, rows=report_rows(report, visit.text),
                        query=_period_query(values))


@page("/compliance.csv")
def compliance_csv(visit: Visit) -> Response:
    report = _report(visit, forms.values(PERIOD, visit.request.args))
    return _download(as_csv(report_rows(report, visit.text)), _file_name(report, "csv"),
                     "text/csv; charset=utf-8")


@page("/compliance.xlsx")
def compliance_xlsx(visit: Visit) -> Response:
    report = _report(visit, forms.values(PERIOD, visit.request.args))
    sheet = visit.text.gettext(N_("Compliance report"))
    return _download(as_xlsx(report_rows(report, visit.text), sheet),
                     _file_name(report, "xlsx"),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _report(visit: Visit, values: dict[str, Any]) -> dict[str, Any]:
    report: dict[str, Any] = visit.api.get(
        f"/schools/{visit.actor.school_id}/compliance-report", **values)
    return report


def _period_query(values: dict[str, Any]) -> str:
    return urlencode({name: value for name, value in values.items() if value})


def _file_name(report: dict[str, Any], extension: str) -> str:
    return (f"compliance-{report['school_id']}-{report['period_from']}-"
            f"{report['period_to']}.{extension}")


def _download(content: bytes, name: str, content_type: str) -> Response:
    return Response(content, content_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def report_rows(report: dict[str, Any], text: Localized) -> list[tuple[str, ...]]:
    """The report as a table, its headers first, every cell a string in the locale."""
    gaps: dict[str, list[dict[str, Any]]] = {}
    for gap in report["gaps"]:
        gaps.setdefault(gap["check"], []).append(gap)
    rows: list[tuple[str, ...]] = [tuple(text.gettext(header) for header in HEADERS)]
    yes, no = text.gettext(N_("Yes")), text.gettext(N_("No"))
    for check in report["checks"]:
        if not gaps.get(check["check"]):
            rows.append((check["clause"], text.label(check["check"]), yes, "", ""))
        for gap in gaps.get(check["check"], []):
            rows.append((gap["clause"], text.label(gap["check"]), no, _subject(gap, text),
                         gap_detail(gap["detail"], text)))
    return rows


def _subject(gap: dict[str, Any], text: Localized) -> str:
    subject = gap.get("subject_id") or ""
    # §7: the subject of a service not delivered is its code, shown with its label.
    return text.service_code(subject) if gap["check"] == "shall_services_delivered" else subject


def gap_detail(detail: str, text: Localized) -> str:
    """A gap's detail in the locale; one the console does not know stays as the service said
    it."""
    for pattern, message in GAP_DETAILS:
        matched = pattern.fullmatch(detail)
        if matched:
            params = matched.groupdict()
            if "role" in params:
                params["role"] = text.label(params["role"])
            if "date" in params:
                params["date"] = text.date(params["date"])
            return text.gettext(message, **params)
    return detail


def as_csv(rows: list[tuple[str, ...]]) -> bytes:
    """CSV as Excel in zh-CN opens it: UTF-8 with a byte-order mark (without it Excel reads
    the file as GBK), CRLF line ends, and no cell a spreadsheet would run as a formula."""
    out = io.StringIO()
    csv.writer(out).writerows([tuple(_inert(cell) for cell in row) for row in rows])
    return out.getvalue().encode("utf-8-sig")


def _inert(cell: str) -> str:
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def as_xlsx(rows: list[tuple[str, ...]], sheet_name: str) -> bytes:
    """One worksheet, headers bold and frozen; every cell written as a string, never read as
    a number or a formula."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(sheet_name[:31])
    bold = book.add_format({"bold": True})
    for number, row in enumerate(rows):
        for column, cell in enumerate(row):
            sheet.write_string(number, column, cell, bold if number == 0 else None)
    for column in range(len(rows[0]) if rows else 0):
        widest = max(len(row[column]) for row in rows)
        # A Chinese character takes about two columns of Excel's width unit.
        sheet.set_column(column, column, min(60, 2 * widest + 2))
    sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()
