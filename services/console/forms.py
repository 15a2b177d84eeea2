"""The console's forms, as data: each field's kind, label and options, and how the posted form
becomes the command's JSON. Validation is the services' alone (one set of rules, the same as
over the API); a form only shapes what was typed, leaving out what was left empty so that the
command's defaults and its "required" rule apply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from contracts.events.cases import (
    CLIENT_TYPES,
    CLOSING_REASONS,
    CONSENT_PARTIES,
    INTERVENTION_FORMS,
    INTERVENTION_METHODS,
    RISK_LEVELS,
    RISK_TYPES,
)
from contracts.taxonomy import SERVICE_CODES
from services.cases.schemas import INFORMED_OF
from services.console.i18n import N_, today

ALL_SERVICE_CODES = tuple(entry.code for entry in SERVICE_CODES)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    # date, text, textarea, lines (one item a line), select, multi (checkboxes), bool, int,
    # fixed (a hidden value the form always sends), attainment (a goal attainment score for each
    # goal of the plan, 10.2.2)
    kind: str = "text"
    options: tuple[str, ...] = ()
    required: bool = False
    hint: str = ""
    default: Callable[[], Any] | None = None

    def initial(self) -> Any:
        return self.default() if self.default else None


def _today() -> str:
    return today().isoformat()


def value_of(field: Field, form: MultiDict[str, str]) -> Any:
    """The JSON value of one field, or None when it was left empty."""
    if field.kind == "bool":
        return field.name in form
    if field.kind == "multi":
        return form.getlist(field.name)
    if field.kind == "attainment":
        return _attainments(field.name, form)
    raw = form.get(field.name, "").strip()
    if field.kind == "lines":
        return [line.strip() for line in raw.splitlines() if line.strip()]
    if not raw:
        return None
    if field.kind == "int" and raw.lstrip("-").isdigit():
        return int(raw)
    return raw  # a date or a number as typed: the service's schema says what is wrong with it


def _attainments(name: str, form: MultiDict[str, str]) -> list[dict[str, Any]]:
    """`goals.1`, `goals.2`, … as the goal results of an outcome evaluation (GAS, −2…+2)."""
    scores = []
    for key, score in form.items():
        prefix, _, number = key.partition(".")
        if prefix == name and number.isdigit() and score:
            attainment: Any = int(score) if score.lstrip("-").isdigit() else score
            scores.append({"goal_number": int(number), "attainment": attainment})
    return sorted(scores, key=lambda result: result["goal_number"])


def payload(fields: tuple[Field, ...], form: MultiDict[str, str]) -> dict[str, Any]:
    shaped = {field.name: value_of(field, form) for field in fields}
    return {name: value for name, value in shaped.items() if value is not None}


def values(fields: tuple[Field, ...], form: MultiDict[str, str] | None) -> dict[str, Any]:
    """What each field shows: what was posted, else its default."""
    if form is None:
        return {field.name: field.initial() for field in fields}
    shown = {}
    for field in fields:
        value = value_of(field, form)
        shown[field.name] = "\n".join(value) if field.kind == "lines" else value
    return shown


# Register a client (9.2a), with one guardian for a minor (4.2).
CLIENT = (
    Field("client_type", N_("Client type"), "select", CLIENT_TYPES, required=True,
          default=lambda: "student"),
    Field("name", N_("Name"), required=True),
    Field("date_of_birth", N_("Date of birth"), "date"),
    Field("grade", N_("Grade"), "int", hint=N_("1 to 12")),
    Field("contact", N_("Contact")),
)
GUARDIAN = (
    Field("guardian_name", N_("Guardian's name"), hint=N_("Required for a minor (4.2).")),
    Field("guardian_relation", N_("Relation to the client"), hint=N_("For example: mother")),
    Field("guardian_contact", N_("Guardian's contact")),
)

# Open a case with the intake of 8.3.1a–c.
OPEN_CASE = (
    Field("service_codes", N_("Services (chapter 7)"), "multi", ALL_SERVICE_CODES, required=True),
    Field("opened_on", N_("Opened on"), "date", required=True, default=_today),
    Field("worker_introduced", N_("Introduce yourself, the service and its methods (8.3.1a)"),
          "bool"),
    Field("respect_and_empathy", N_("Show respect, acceptance and empathy (8.3.1b)"), "bool"),
    Field("initial_information",
          N_("Initial information about the problem and needs (8.3.1c)"), "textarea"),
)


# Risks of a case (9.6a): registered at any step, resolved before closing (4.1).
RISK = (
    Field("risk_type", N_("Kind of risk"), "select", RISK_TYPES, required=True),
    Field("level", N_("Level"), "select", RISK_LEVELS, required=True),
    Field("raised_on", N_("Raised on"), "date", required=True, default=_today),
    Field("description", N_("Description"), "textarea"),
)
RESOLVE_RISK = (
    Field("resolved_on", N_("Resolved on"), "date", required=True, default=_today),
    Field("resolution", N_("Resolution"), "textarea"),
)


@dataclass(frozen=True)
class Step:
    """One step of the service process of 8.3, its form and its command's route."""

    name: str
    label: str
    clause: str
    path: str  # under /cases/<case_id>
    fields: tuple[Field, ...]
    done: Callable[[dict[str, Any]], bool]


def _evaluated(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda case: any(e.get("kind") == kind for e in case["evaluations"])


STEPS: tuple[Step, ...] = (
    Step("acceptance", N_("Accept the intake"), "8.3.1e", "intake/acceptance", (
        Field("accepted_on", N_("Accepted on"), "date", required=True, default=_today),
    ), lambda case: case["status"] != "intake"),
    Step("consent", N_("Record informed consent"), "4.2", "consents", (
        Field("party", N_("Who consents"), "select", CONSENT_PARTIES, required=True),
        Field("given_on", N_("Given on"), "date", required=True, default=_today),
        Field("informed_of", N_("Informed of"), "multi", INFORMED_OF, required=True,
              default=lambda: list(INFORMED_OF)),
        Field("given_by", N_("Given by (name)")),
    ), lambda case: bool(case["consent_given"])),
    Step("assessment", N_("Record the assessment"), "8.3.2", "assessments", (
        Field("assessed_on", N_("Assessed on"), "date", required=True, default=_today),
        Field("environment", N_("The client's environment"), "textarea", required=True),
        Field("problems", N_("Problems"), "lines", required=True, hint=N_("One a line.")),
        Field("causes", N_("Causes"), "lines", required=True, hint=N_("One a line.")),
        Field("priorities", N_("Priorities"), "lines", required=True, hint=N_("One a line.")),
        Field("strengths", N_("Strengths"), "lines", required=True, hint=N_("One a line.")),
        Field("preliminary_plan", N_("Preliminary plan"), "textarea"),
    ), lambda case: bool(case["assessments"])),
    Step("plan", N_("Adopt the service plan"), "8.3.3", "plan", (
        Field("adopted_on", N_("Adopted on"), "date", required=True, default=_today),
        Field("goals", N_("Service goals"), "lines", required=True, hint=N_("One a line.")),
        Field("content", N_("Service content"), "textarea", required=True),
        Field("methods", N_("Service methods"), "lines", required=True, hint=N_("One a line.")),
        Field("action_steps", N_("Action steps"), "lines", required=True,
              hint=N_("One a line.")),
        Field("schedule", N_("Schedule"), required=True),
        Field("evaluation_participants", N_("Who takes part in the evaluation"), "lines",
              required=True, hint=N_("One a line.")),
        Field("evaluation_methods", N_("Evaluation methods"), "lines", required=True,
              hint=N_("One a line.")),
        Field("review_by", N_("Review by"), "date"),
    ), lambda case: bool(case["plans"])),
    Step("intervention", N_("Log an intervention"), "8.3.4", "interventions", (
        Field("form", N_("Form of service"), "select", INTERVENTION_FORMS, required=True),
        Field("method", N_("Method"), "select", INTERVENTION_METHODS, required=True),
        Field("service_codes", N_("Services (chapter 7)"), "multi", ALL_SERVICE_CODES,
              required=True),
        Field("delivered_on", N_("Delivered on"), "date", required=True, default=_today),
        Field("duration_minutes", N_("Duration in minutes"), "int", required=True),
        Field("notes", N_("Notes"), "textarea"),
    ), lambda case: bool(case["interventions"])),
    Step("process_evaluation", N_("Evaluate the process"), "8.3.5a", "evaluations", (
        Field("kind", "", "fixed", default=lambda: "process"),
        Field("evaluated_on", N_("Evaluated on"), "date", required=True, default=_today),
        Field("progress", N_("Progress"), "textarea", required=True),
        Field("worker_performance", N_("The worker's performance"), "textarea", required=True),
        Field("reflection", N_("Reflection"), "textarea", required=True),
    ), _evaluated("process")),
    Step("outcome_evaluation", N_("Evaluate the outcome"), "8.3.5b", "evaluations", (
        Field("kind", "", "fixed", default=lambda: "outcome"),
        Field("evaluated_on", N_("Evaluated on"), "date", required=True, default=_today),
        Field("client_change", N_("The client's change"), "textarea", required=True),
        Field("goals", N_("Goal attainment, from −2 to +2 (10.2.2)"), "attainment",
              ("-2", "-1", "0", "1", "2"), required=True),
        Field("satisfaction", N_("Satisfaction"), "int", hint=N_("1 to 5")),
    ), _evaluated("outcome")),
    Step("closing", N_("Close the case"), "8.3.6", "closing", (
        Field("reason", N_("Reason"), "select", CLOSING_REASONS, required=True),
        Field("closed_on", N_("Closed on"), "date", required=True, default=_today),
        Field("timing_agreed", N_("Timing of closing agreed with the client (8.3.6a)"), "bool"),
        Field("service_reviewed", N_("Service reviewed with the client (8.3.6b)"), "bool"),
        Field("relationship_ended", N_("Relationship ended and parting handled (8.3.6c)"),
              "bool"),
        Field("summary", N_("Summary"), "textarea"),
    ), lambda case: case["status"] == "closed"),
)
STEP_BY_NAME = {step.name: step for step in STEPS}


def command(step: Step, form: MultiDict[str, str]) -> dict[str, Any]:
    """The step's command from its posted form (a plan's goals are objects of their own)."""
    body = payload(step.fields, form)
    fixed = {field.name: field.initial() for field in step.fields if field.kind == "fixed"}
    if "goals" in body and step.name == "plan":
        body["goals"] = [{"goal": goal} for goal in body["goals"]]
    return {**body, **fixed}


def next_step(case: dict[str, Any]) -> Step | None:
    """The first step of 8.3 not yet done; None for a case that takes no more (closed or
    declined)."""
    if case["status"] in ("closed", "declined"):
        return None
    return next((step for step in STEPS if not step.done(case)), None)
