"""The rules of the service process that several records share: step names, the seven parts of a
plan, the intake and closing items, and the guards built on them."""

from __future__ import annotations

from datetime import date

from contracts.errors import Conflict, InvalidInput

# 8.2.1.1: the steps a case walks, each named as the standard names it, for refusals.
STEPS: dict[str, str] = {
    "intake": "intake accepted (8.3.1e)",
    "assessment": "assessment (8.3.2)",
    "plan": "service plan (8.3.3)",
    "intervention": "intervention (8.3.4)",
    "process_evaluation": "process evaluation (8.3.5a)",
    "outcome_evaluation": "outcome evaluation (8.3.5b)",
}

# 8.3.1 a–c: what an intake must have done before it can be accepted (d is the emergency flag,
# e the acceptance or decline itself).
INTAKE_ITEMS: dict[str, str] = {
    "worker_introduced": "8.3.1a introduce the worker, the service and its methods",
    "respect_and_empathy": "8.3.1b show respect, acceptance and empathy; build the relationship",
    "initial_information": "8.3.1c gather initial information about the problem and needs",
}

# 8.3.3b: a service plan shall contain all seven.
PLAN_PARTS: dict[str, str] = {
    "goals": "service goals",
    "content": "service content",
    "methods": "service methods",
    "action_steps": "action steps",
    "schedule": "schedule",
    "evaluation_participants": "evaluation participants",
    "evaluation_methods": "evaluation methods",
}

# 8.3.6 a–c: closing shall do each.
CLOSING_ITEMS: dict[str, str] = {
    "timing_agreed": "8.3.6a agree the timing of closing with the client",
    "service_reviewed": "8.3.6b review the service with the client and consolidate its results",
    "relationship_ended": "8.3.6c end the relationship and handle parting",
}

# 8.3.5a: a process evaluation covers progress, the worker's performance and reflection.
PROCESS_EVALUATION_ITEMS = ("progress", "worker_performance", "reflection")

# The statuses in which a case still takes new records (consents, risks, assignments).
LIVE = ("intake", "active")

RISK_ORDER = ("low", "medium", "high", "critical")
EMERGENCY_RISK_TYPES = ("abuse", "violence", "trauma", "substance_abuse")  # 8.3.1d

# 8.2.1.2: case work and group work are direct methods; administration and research indirect;
# linking resources is indirect by 8.3.4b. The others may be either.
DIRECT_ONLY = frozenset({"case_work", "group_work"})
INDIRECT_ONLY = frozenset({"administration", "research", "resource_linking"})


def stage_of(status: str, assessed: bool, planned: bool, intervened: bool,
             missing_evaluations: list[str]) -> str:
    """Where a case stands in 8.2.1.1: the next step it needs. The case aggregate and its view
    row both answer with this one rule."""
    if status in ("intake", "declined", "closed"):
        return status
    if not assessed:
        return "assessment"
    if not planned:
        return "plan"
    if not intervened:
        return "intervention"
    if missing_evaluations:
        return "evaluation"
    return "closing"


def missing_step(step: str, action: str) -> Conflict:
    """The refusal of a command that came before its step (8.2.1.1), naming that step."""
    return Conflict(
        f"Cannot {action} yet: the missing step is {STEPS[step]}.",
        code="missing_step",
        errors={"missing_step": [step]},
    )


def not_before(field: str, value: date, earliest: date, what: str) -> None:
    if value < earliest:
        raise InvalidInput.from_messages(
            {field: [f"Must not be before {what} ({earliest.isoformat()})."]}
        )


def check_method_form(method: str, form: str) -> None:
    if method in DIRECT_ONLY and form != "direct":
        raise InvalidInput.from_messages({"form": [f"{method} is a direct method (8.2.1.2)."]})
    if method in INDIRECT_ONLY and form != "indirect":
        raise InvalidInput.from_messages(
            {"form": [f"{method} is an indirect method (8.2.1.2, 8.3.4b)."]}
        )
