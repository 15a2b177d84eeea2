"""The console's forms, as data: each field's kind, label and options, and how the posted form
becomes the command's JSON. Validation is the services' alone (one set of rules, the same as
over the API); a form only shapes what was typed, leaving out what was left empty so that the
command's defaults and its "required" rule apply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from werkzeug.datastructures import MultiDict

from contracts.events.cases import (
    AGENCY_KINDS,
    CLIENT_TYPES,
    CLOSING_REASONS,
    CONSENT_PARTIES,
    DECLINE_REASONS,
    FOLLOW_UP_OUTCOMES,
    INTERVENTION_FORMS,
    INTERVENTION_METHODS,
    RESOURCE_KINDS,
    RISK_LEVELS,
    RISK_TYPES,
)
from contracts.events.resources import LINK_DECLINE_REASONS, REFERRAL_OUTCOMES, USAGE_OUTCOMES
from contracts.taxonomy import SERVICE_CODES
from services.cases.schemas import (
    INFORMED_OF,
    RECIPIENT_KINDS,
    REFERRAL_REASONS,
    RELATED_PARTY_KINDS,
)
from services.console.i18n import N_, today, zone
from services.runtime.clock import clock

ALL_SERVICE_CODES = tuple(entry.code for entry in SERVICE_CODES)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    # date, datetime (a local time in the schools' zone), text, textarea, lines (one item a
    # line), select, multi (checkboxes), bool, int,
    # fixed (a hidden value the form always sends), attainment (a goal attainment score for each
    # goal of the plan, 10.2.2), client (one of the worker's clients, activities_form.html),
    # provider (one of the resource register's providers, case_referrals.html)
    kind: str = "text"
    options: tuple[str, ...] = ()
    required: bool = False
    hint: str = ""
    default: Callable[[], Any] | None = None

    def initial(self) -> Any:
        return self.default() if self.default else None


def service_day(name: str, label: str) -> Field:
    """A date left empty unless typed: the service then dates it today, by its own clock."""
    return Field(name, label, "date", hint=N_("Leave empty for today."))


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
    if field.kind == "datetime":
        return _instant(raw)
    return raw  # a date or a number as typed: the service's schema says what is wrong with it


def _instant(raw: str) -> str:
    """A local time as the browser sends it (2026-12-02T10:30) as an instant on Beijing time;
    anything else as typed, for the service to refuse."""
    try:
        local = datetime.fromisoformat(raw)
    except ValueError:
        return raw
    return (local if local.tzinfo else local.replace(tzinfo=zone())).isoformat()


def _now() -> str:
    return clock.now().astimezone(zone()).strftime("%Y-%m-%dT%H:%M")


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
        if field.kind == "lines":
            value = "\n".join(value)
        elif field.kind == "datetime":
            value = form.get(field.name, "").strip()  # shown as typed, without its zone
        shown[field.name] = value
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

# On the case page, about its client: a guardian added after registration (4.2), and the people
# and agencies of the client's ecosystem (4.6), the service's fields as they are.
ADD_GUARDIAN = (
    Field("name", N_("Guardian's name"), required=True),
    Field("relation", N_("Relation to the client"), required=True,
          hint=N_("For example: mother")),
    Field("contact", N_("Guardian's contact")),
)
RELATED_PARTY = (
    Field("kind", N_("Who they are"), "select", RELATED_PARTY_KINDS, required=True),
    Field("name", N_("Name"), required=True),
    Field("relation", N_("Relation to the client")),
    Field("contact", N_("Contact")),
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


def opening(form: MultiDict[str, str]) -> dict[str, Any]:
    """The open-case command's own fields, the intake items of 8.3.1a–c under `intake`."""
    body = payload(OPEN_CASE, form)
    body["intake"] = {name: body.pop(name) for name in
                      ("worker_introduced", "respect_and_empathy", "initial_information")
                      if name in body}
    return body


# Outside help at any step of a live case: the client referred to an agency (7.1.4b), a resource
# asked of the resources service (8.3.4b). Life-safety work goes on at intake and without
# consent while the case has an open risk to life or safety (4.1).
LIFE_SAFETY = Field("life_safety", N_("For the client's life or safety (4.1)"), "bool",
                    hint=N_("Also at intake or without consent, while the case has an open "
                            "risk to life or safety."))
REFERRAL = (
    Field("agency_kind", N_("Kind of agency"), "select", AGENCY_KINDS, required=True),
    Field("agency_id", N_("Agency in the resource register"), "provider",
          hint=N_("Optional: the provider of the register (9.3a) the client is referred to.")),
    Field("reason_code", N_("Why the client is referred"), "select", REFERRAL_REASONS,
          required=True),
    Field("referred_on", N_("Referred on"), "date", required=True, default=_today),
    Field("note", N_("Note for the agency"), "textarea"),
    LIFE_SAFETY,
)
RESOURCE_REQUEST = (
    Field("kind", N_("Kind of resource"), "select", RESOURCE_KINDS, required=True),
    Field("service_codes", N_("Services (chapter 7)"), "multi", ALL_SERVICE_CODES,
          required=True),
    Field("quantity", N_("Quantity"), "int", default=lambda: 1),
    Field("needed_by", N_("Needed by"), "date"),
    Field("description", N_("What is needed, and why"), "textarea"),
    LIFE_SAFETY,
)


# Outside help carried on in the resources service. A referral (7.1.4b): the agency accepted it,
# and it ended with its outcome (also without an acceptance: the agency declined, or the client
# never went). An offered resource (8.3.4b): accepted or declined with the reason, then
# delivered.
ACCEPT_REFERRAL = (
    Field("accepted_on", N_("Accepted by the agency on"), "date", required=True, default=_today),
)
COMPLETE_REFERRAL = (
    Field("outcome", N_("Outcome"), "select", REFERRAL_OUTCOMES, required=True),
    Field("completed_on", N_("Completed on"), "date", required=True, default=_today),
)
ACCEPT_RESOURCE = (
    Field("accepted_on", N_("Offer accepted on"), "date", required=True, default=_today),
)
DECLINE_RESOURCE = (
    Field("reason", N_("Why the offer is declined"), "select", LINK_DECLINE_REASONS,
          required=True),
    Field("declined_on", N_("Offer declined on"), "date", required=True, default=_today),
)
# 8.3.4b: a resource of the register that fits the request, offered for it (the page gives the
# resources service's proposals as the choices).
OFFER = (
    Field("resource_id", N_("Resource of the register"), "select", required=True),
    Field("quantity", N_("Units offered"), "int", hint=N_("Leave empty for the units asked for.")),
)
DELIVERY = (
    Field("delivered_on", N_("Delivered to the client on"), "date", required=True,
          default=_today),
    Field("quantity", N_("Units delivered"), "int",
          hint=N_("Leave empty for the units offered.")),
)

# 9.3c: how a delivered resource was used, and how far it met the need.
USAGE = (
    Field("units_used", N_("Units used"), "int", required=True),
    Field("outcome", N_("How far it met the need"), "select", USAGE_OUTCOMES, required=True),
    Field("recorded_on", N_("Usage recorded on"), "date", required=True, default=_today),
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
CHANGE_RISK_LEVEL = (  # 9.6b
    Field("level", N_("New level"), "select", RISK_LEVELS, required=True),
    Field("changed_on", N_("Changed on"), "date", required=True, default=_today),
    # Not "Reason": the closing form beside it on the same page has one.
    Field("reason", N_("Why the level changed"), "textarea"),
)
# Who was told what, when and why, despite confidentiality: only for a risk that threatened
# life or safety (4.1 over 4.5). One recipient a disclosure, as the form is filled in.
DISCLOSURE = (
    Field("recipient_kind", N_("Told"), "select", RECIPIENT_KINDS, required=True),
    Field("recipient_who", N_("Name of the person told"), required=True),
    Field("what", N_("What was disclosed"), "textarea", required=True),
    Field("why", N_("Why it was disclosed"), "textarea", required=True),
    Field("disclosed_at", N_("Disclosed at"), "datetime", required=True, default=_now),
)


def disclosure(risk_id: str, form: MultiDict[str, str]) -> dict[str, Any]:
    body = payload(DISCLOSURE, form)
    kind, who = body.pop("recipient_kind", None), body.pop("recipient_who", None)
    recipients = [{"kind": kind or "", "who": who or ""}] if kind or who else []
    return {**body, "risk_id": risk_id, "recipients": recipients}


def disclosure_problem(problem: dict[str, Any]) -> dict[str, Any]:
    """A refusal's reasons about `recipients.0.kind`/`.who` beside the two fields that make the
    one recipient; a missing recipient beside its name."""
    errors = dict(problem.get("errors") or {})
    recipients = errors.pop("recipients", None)
    if isinstance(recipients, dict):
        for item in recipients.values():
            for name, rules in (item.items() if isinstance(item, dict) else ()):
                errors[f"recipient_{name}"] = rules
    elif recipients is not None:
        errors["recipient_who"] = recipients
    return {**problem, "errors": errors}


# Declining an intake tells the client why and refers them on (8.3.1e, 7.1.4b).
DECLINE = (
    Field("reason_code", N_("Reason"), "select", DECLINE_REASONS, required=True),
    Field("declined_on", N_("Declined on"), "date", required=True, default=_today),
    Field("explanation", N_("Explanation to the client"), "textarea"),
    Field("referral", N_("Referred to"), "select", AGENCY_KINDS, required=True),
    Field("referral_note", N_("Note for the agency"), "textarea"),
)


def decline(form: MultiDict[str, str]) -> dict[str, Any]:
    """The decline command; without an agency chosen, no referral, which the service refuses
    beside the agency's field."""
    body = payload(DECLINE, form)
    agency, note = body.pop("referral", None), body.pop("referral_note", None)
    body["referral"] = {"agency_kind": agency, "note": note} if agency else None
    return body


# Consent withdrawn (4.2): the case then waits for consent again before the next step.
WITHDRAW_CONSENT = (
    Field("party", N_("Whose consent is withdrawn"), "select", CONSENT_PARTIES, required=True),
    Field("withdrawn_on", N_("Withdrawn on"), "date", required=True, default=_today),
    Field("reason", N_("Why it was withdrawn"), "textarea"),
)
# A live case handed by the supervisor to another of their supervisees (6.2.2), who is offered
# among them.
REASSIGN = (
    Field("to_social_worker_id", N_("To the social worker"), "select", required=True),
    Field("reassigned_on", N_("Reassigned on"), "date", required=True, default=_today),
    Field("reason", N_("Why it is reassigned"), "textarea"),
)
# A closed case reopened, from its follow-up (9.2b): the case is then live and readable again.
REOPEN = (
    Field("reopened_on", N_("Reopened on"), "date", required=True, default=_today),
    Field("reason", N_("Why it is reopened"), "textarea"),
)


# After closing (9.2b): another follow-up scheduled, and one done with how it found the client.
SCHEDULE_FOLLOW_UP = (
    Field("due_on", N_("Follow-up due on (9.2b)"), "date", required=True),
)
FOLLOW_UP = (
    Field("done_on", N_("Done on"), "date", required=True, default=_today),
    Field("outcome", N_("Outcome"), "select", FOLLOW_UP_OUTCOMES, required=True),
    Field("notes", N_("Notes"), "textarea"),
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
        # The case is read only under an archive grant once closed (9.4d): its follow-up is
        # scheduled with the closing (9.2b).
        Field("follow_up", N_("Follow-up due on (9.2b)"), "date",
              hint=N_("Optional: a closed case is read only under an archive grant (9.4d).")),
    ), lambda case: case["status"] == "closed"),
)
STEP_BY_NAME = {step.name: step for step in STEPS}

# A new version of the plan with its seven parts (8.3.3), the old one kept.
REVISE_PLAN = (
    Field("revised_on", N_("Revised on"), "date", required=True, default=_today),
    *(field for field in STEP_BY_NAME["plan"].fields
      if field.name not in ("adopted_on", "review_by")),
    Field("reason", N_("Why the plan is revised"), "textarea"),
)


def revision(form: MultiDict[str, str]) -> dict[str, Any]:
    body = payload(REVISE_PLAN, form)
    if "goals" in body:
        body["goals"] = [{"goal": goal} for goal in body["goals"]]
    return body


def current_plan(plan: dict[str, Any]) -> dict[str, Any]:
    """The revision form's values: the current plan's parts, a line an item."""
    shown: dict[str, Any] = {field.name: field.initial() for field in REVISE_PLAN}
    for name, part in plan["parts"].items():
        if name == "goals":
            part = [goal["goal"] for goal in part]
        shown[name] = "\n".join(part) if isinstance(part, list) else part
    return shown


def command(step: Step, form: MultiDict[str, str]) -> dict[str, Any]:
    """The step's command from its posted form (a plan's goals are objects of their own)."""
    body = payload(step.fields, form)
    fixed = {field.name: field.initial() for field in step.fields if field.kind == "fixed"}
    if "goals" in body and step.name == "plan":
        body["goals"] = [{"goal": goal} for goal in body["goals"]]
    if "follow_up" in body and step.name == "closing":
        body["follow_up"] = {"due_on": body["follow_up"]}
    return {**body, **fixed}


def next_step(case: dict[str, Any]) -> Step | None:
    """The first step of 8.3 not yet done; None for a case that takes no more (closed or
    declined)."""
    if case["status"] in ("closed", "declined"):
        return None
    return next((step for step in STEPS if not step.done(case)), None)
