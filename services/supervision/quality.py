"""Quality control (T/JHSX 001—2026 9.5, 10.3): the key control points computed from what
supervision learns of cases and letters (learned tables of `views.py`), findings and improvement
actions.

A control point is a deadline: something must happen by `due_on`. It is missed when it happened
late (seen when the late event arrives, dated by that event) or has still not happened when the
clock passes the deadline (seen by the timer, dated by the clock). Either way the finding's id is
derived from the watched record and the point, so it is raised once, whichever sees it first.

| control point              | deadline                                             | setting      |
|----------------------------|------------------------------------------------------|--------------|
| assessment_overdue         | intake accepted (or case opened) + N days            | ASSESSMENT   |
| plan_overdue               | first assessment + N days                            | PLAN         |
| no_recent_intervention     | plan adopted or last intervention + N days, if open  | INTERVENTION |
| closed_without_evaluations | closing, without both process and outcome (8.3.5)    | —            |
| follow_up_overdue          | follow-up due date + N days of grace (9.2b)          | FOLLOW_UP    |
| letter_unanswered          | letter received + N days (8.2.2)                     | LETTER       |
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

from eventsourcing.domain import event

from contracts.errors import Conflict, InvalidInput
from services.runtime.domain import CasebookAggregate
from services.runtime.settings import Supervision as Settings

QUALITY_NAMESPACE = uuid.UUID("5d2e8f71-0c3b-4a9e-b6d4-7e1f2a3b4c5d")


def watch_key(kind: str, subject_id: str) -> uuid.UUID:
    return uuid.uuid5(QUALITY_NAMESPACE, f"watch:{kind}:{subject_id}")


def finding_key(subject_id: str, key: str) -> uuid.UUID:
    return uuid.uuid5(QUALITY_NAMESPACE, f"finding:{subject_id}:{key}")


def delivery_key(kind: str, item_id: str) -> uuid.UUID:
    return uuid.uuid5(QUALITY_NAMESPACE, f"delivery:{kind}:{item_id}")


@dataclass(frozen=True)
class Breach:
    control_point: str
    key: str
    due_on: date
    detected_on: date


def _deadline(point: str, key: str, due_on: date, done_on: date | None,
              as_of: date | None) -> Breach | None:
    if done_on is not None:
        return Breach(point, key, due_on, done_on) if done_on > due_on else None
    if as_of is not None and as_of > due_on:
        return Breach(point, key, due_on, as_of)
    return None


@dataclass
class CaseFacts:
    """What supervision knows of one case: dates of its process steps, no content."""

    case_id: str
    school_id: str | None
    social_worker_id: str
    opened_on: date
    accepted_on: date | None = None
    assessed_on: date | None = None
    planned_on: date | None = None
    intervention_dates: list[date] = field(default_factory=list)
    evaluation_kinds: list[str] = field(default_factory=list)
    status: str = "open"
    closed_on: date | None = None
    follow_ups: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def last_anchor(self) -> date | None:
        """9.5a progress control: the plan or the latest intervention since it."""
        if self.planned_on is None:
            return None
        return max([self.planned_on, *(d for d in self.intervention_dates
                                       if d >= self.planned_on)])


def case_breaches(case: CaseFacts, settings: Settings, as_of: date | None,
                  raised: set[str]) -> list[Breach]:
    """Control points missed and not raised yet. With `as_of` None only those the recorded
    dates prove missed (an event's own handling); with a date also those still undone."""
    found: list[Breach | None] = []
    # Closing stops the process deadlines: a case closed before its deadline missed nothing.
    stop = case.closed_on
    intake = case.accepted_on or case.opened_on
    found.append(_deadline("assessment_overdue", "assessment_overdue",
                           intake + timedelta(days=settings.assessment_days),
                           case.assessed_on or stop, as_of))
    if case.assessed_on is not None:
        found.append(_deadline("plan_overdue", "plan_overdue",
                               case.assessed_on + timedelta(days=settings.plan_days),
                               case.planned_on or stop, as_of))
    found.extend(_intervention_gaps(case, settings, as_of))
    if case.status == "closed" and case.closed_on is not None and not {
            "process", "outcome"} <= set(case.evaluation_kinds):
        found.append(Breach("closed_without_evaluations",
                            f"closed_without_evaluations:{case.closed_on.isoformat()}",
                            case.closed_on, case.closed_on))
    grace = timedelta(days=settings.follow_up_grace_days)
    for follow_up_id, follow_up in sorted(case.follow_ups.items()):
        found.append(_deadline("follow_up_overdue", f"follow_up_overdue:{follow_up_id}",
                               follow_up["due_on"] + grace, follow_up["done_on"], as_of))
    return [b for b in found if b is not None and b.key not in raised]


def _intervention_gaps(case: CaseFacts, settings: Settings,
                       as_of: date | None) -> list[Breach | None]:
    # 9.5a progress control: once a plan is adopted, service should not stall.
    if case.planned_on is None:
        return []
    gap = timedelta(days=settings.intervention_gap_days)
    anchors = sorted({case.planned_on, *(d for d in case.intervention_dates
                                         if d >= case.planned_on)})
    found: list[Breach | None] = []
    for anchor, following in pairwise(anchors):
        found.append(_deadline("no_recent_intervention",
                               f"no_recent_intervention:{anchor.isoformat()}",
                               anchor + gap, following, None))
    last = anchors[-1]
    still_open = as_of if case.status == "open" else None
    found.append(_deadline("no_recent_intervention",
                           f"no_recent_intervention:{last.isoformat()}",
                           last + gap, case.closed_on, still_open))
    return found


def letter_breaches(received_on: date, answered_on: date | None, settings: Settings,
                    as_of: date | None, raised: set[str]) -> list[Breach]:
    """8.2.2: a letter in the social-worker mailbox answered within its time."""
    breach = _deadline("letter_unanswered", "letter_unanswered",
                       received_on + timedelta(days=settings.letter_days), answered_on, as_of)
    return [breach] if breach is not None and breach.key not in raised else []


# Retired: what supervision learned of cases, letters and delivered services was kept as
# aggregates of its own until it became learned tables (`views.py`). Stores written before still
# hold their events: they load, and fill those tables once (`SupervisionApplication`).


class CaseWatch(CasebookAggregate):
    """Retired: the dates of one case's process steps."""

    @staticmethod
    def create_id(case_id: str, **_: Any) -> uuid.UUID:
        return watch_key("case", case_id)

    @event("Started")
    def __init__(self, school_id: str | None, case_id: str, social_worker_id: str,
                 opened_on: date) -> None:
        self.school_id = school_id
        self.facts = CaseFacts(case_id=case_id, school_id=school_id,
                               social_worker_id=social_worker_id, opened_on=opened_on)
        self.raised: list[str] = []

    @event("IntakeAccepted")
    def intake_accepted(self, accepted_on: date) -> None:
        self.facts.accepted_on = accepted_on

    @event("Assessed")
    def assessed(self, assessed_on: date) -> None:
        if self.facts.assessed_on is None or assessed_on < self.facts.assessed_on:
            self.facts.assessed_on = assessed_on

    @event("PlanAdopted")
    def plan_adopted(self, adopted_on: date) -> None:
        if self.facts.planned_on is None or adopted_on < self.facts.planned_on:
            self.facts.planned_on = adopted_on

    @event("InterventionNoted")
    def intervention_noted(self, delivered_on: date) -> None:
        self.facts.intervention_dates = sorted([*self.facts.intervention_dates, delivered_on])

    @event("Evaluated")
    def evaluated(self, kind: str) -> None:
        if kind not in self.facts.evaluation_kinds:
            self.facts.evaluation_kinds.append(kind)

    @event("Closed")
    def closed(self, closed_on: date) -> None:
        self.facts.status = "closed"
        self.facts.closed_on = closed_on

    @event("Declined")
    def declined(self, declined_on: date) -> None:
        self.facts.status = "declined"
        self.facts.closed_on = declined_on

    @event("Reopened")
    def reopened(self, reopened_on: date) -> None:
        self.facts.status = "open"
        self.facts.closed_on = None
        self.facts.evaluation_kinds = []

    @event("Reassigned")
    def reassigned(self, social_worker_id: str) -> None:
        self.facts.social_worker_id = social_worker_id

    @event("FollowUpScheduled")
    def follow_up_scheduled(self, follow_up_id: str, due_on: date) -> None:
        self.facts.follow_ups[follow_up_id] = {"due_on": due_on, "done_on": None}

    @event("FollowUpDone")
    def follow_up_done(self, follow_up_id: str, done_on: date) -> None:
        if follow_up_id in self.facts.follow_ups:
            self.facts.follow_ups[follow_up_id]["done_on"] = done_on

    @event("FindingsNoted")
    def findings_noted(self, keys: list[str]) -> None:
        self.raised.extend(keys)


class LetterWatch(CasebookAggregate):
    """Retired: a letter in the social-worker mailbox (8.2.2), received and answered."""

    @staticmethod
    def create_id(letter_id: str, **_: Any) -> uuid.UUID:
        return watch_key("letter", letter_id)

    @event("Started")
    def __init__(self, school_id: str | None, letter_id: str, received_on: date) -> None:
        self.school_id = school_id
        self.letter_id = letter_id
        self.received_on = received_on
        self.answered_on: date | None = None
        self.raised: list[str] = []

    @event("Answered")
    def answered(self, answered_on: date) -> None:
        self.answered_on = answered_on

    @event("FindingsNoted")
    def findings_noted(self, keys: list[str]) -> None:
        self.raised.extend(keys)


class Delivery(CasebookAggregate):
    """Retired: a delivered service with its §7 codes (an intervention, a group, a class)."""

    @staticmethod
    def create_id(kind: str, item_id: str, **_: Any) -> uuid.UUID:
        return delivery_key(kind, item_id)

    @event("Noted")
    def __init__(self, school_id: str | None, kind: str, item_id: str, case_id: str | None,
                 service_codes: list[str], delivered_on: date) -> None:
        self.school_id = school_id
        self.kind = kind
        self.item_id = item_id
        self.case_id = case_id
        self.service_codes = list(service_codes)
        self.delivered_on = delivered_on


class Finding(CasebookAggregate):
    @staticmethod
    def create_id(subject_id: str, key: str, **_: Any) -> uuid.UUID:
        return finding_key(subject_id, key)

    @event("Raised")
    def __init__(self, school_id: str | None, subject_id: str, key: str, control_point: str,
                 case_id: str | None, letter_id: str | None, social_worker_id: str | None,
                 due_on: date, detected_on: date) -> None:
        self.school_id = school_id
        self.subject_id = subject_id
        self.key = key
        self.control_point = control_point
        self.case_id = case_id
        self.letter_id = letter_id
        self.social_worker_id = social_worker_id
        self.due_on = due_on
        self.detected_on = detected_on
        self.status = "open"
        self.action_id: str | None = None

    def start_improvement(self, action_id: str) -> None:
        if self.status != "open":
            raise Conflict(f"The finding is {self.status}: it already has improvement action "
                           f"{self.action_id}.", code="wrong_state")
        self._improvement_started(action_id=action_id)

    @event("ImprovementStarted")
    def _improvement_started(self, action_id: str) -> None:
        self.status = "in_improvement"
        self.action_id = action_id

    @event("Addressed")
    def addressed(self, addressed_on: date) -> None:
        self.status = "addressed"



class ImprovementAction(CasebookAggregate):
    """10.3: the response to a finding, owned by someone and tracked to done. `plan` and
    `result` describe practice, not clients, and are never published."""

    @staticmethod
    def create_id(action_id: str, **_: Any) -> uuid.UUID:
        return uuid.UUID(action_id)

    @event("Opened")
    def __init__(self, action_id: str, school_id: str | None, finding_id: str, owner_id: str,
                 plan: str, opened_on: date, due_on: date) -> None:
        self.school_id = school_id
        self.finding_id = finding_id
        self.owner_id = owner_id
        self.plan = plan
        self.opened_on = opened_on
        self.due_on = due_on
        self.status = "open"
        self.completed_on: date | None = None
        self.result: str | None = None

    @staticmethod
    def check_due(opened_on: date, due_on: date) -> None:
        if due_on < opened_on:
            raise InvalidInput.from_messages(
                {"due_on": [f"Must not be before the action is opened ({opened_on})."]})

    def complete(self, completed_on: date, result: str) -> None:
        if self.status != "open":
            raise Conflict("The improvement action is already done.", code="wrong_state")
        if completed_on < self.opened_on:
            raise InvalidInput.from_messages(
                {"completed_on": [f"Must not be before the action was opened "
                                  f"({self.opened_on})."]})
        self._completed(finding_id=self.finding_id, completed_on=completed_on, result=result,
                        on_time=completed_on <= self.due_on)

    @event("Completed")
    def _completed(self, finding_id: str, completed_on: date, result: str,
                   on_time: bool) -> None:
        self.status = "done"
        self.completed_on = completed_on
        self.result = result


# The event classes are made by @event at runtime; mypy reads them through these untyped names.
CaseWatchEvents: Any = CaseWatch
LetterWatchEvents: Any = LetterWatch
DeliveryEvents: Any = Delivery
FindingEvents: Any = Finding
ActionEvents: Any = ImprovementAction
