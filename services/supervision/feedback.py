"""Complaints and feedback (9.2c, 10.1.2) and evaluations (10.2.1, 10.2.3).

A complaint's content, the complainant's contact and the answer may be about a minor: the
application seals them (subject: the complaint) before they reach an event, and only codes,
dates and whether time limits were kept are published.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from eventsourcing.domain import event

from contracts.errors import Conflict, InvalidInput
from services.runtime.domain import CasebookAggregate


def complaint_key(complaint_id: str) -> uuid.UUID:
    """A complaint's id is its aggregate's id, so every published event carries it."""
    return uuid.UUID(complaint_id)


class Complaint(CasebookAggregate):
    @staticmethod
    def create_id(complaint_id: str, **_: Any) -> uuid.UUID:
        return complaint_key(complaint_id)

    @event("Received")
    def __init__(
        self,
        complaint_id: str,
        school_id: str,
        kind: str,
        channel: str,
        anonymous: bool,
        about_social_worker_id: str | None,
        content: str,
        contact: str | None,
        received_on: date,
        acknowledge_by: date,
        answer_by: date,
    ) -> None:
        self.school_id = school_id
        self.complaint_id = complaint_id
        self.kind = kind
        self.channel = channel
        self.anonymous = anonymous
        self.about_social_worker_id = about_social_worker_id
        self.content = content
        self.contact = contact
        self.received_on = received_on
        self.acknowledge_by = acknowledge_by
        self.answer_by = answer_by
        self.steps: list[dict[str, Any]] = []
        self.answer: dict[str, Any] | None = None

    @staticmethod
    def check_intake(anonymous: bool, contact: str | None) -> None:
        if anonymous and contact:
            raise InvalidInput.from_messages(
                {"contact": ["An anonymous complaint carries no contact; leave it out or set "
                             "anonymous to false."]})

    def record_step(self, step: str, taken_on: date, note: str) -> None:
        self._require_unanswered("record a handling step")
        self._check_not_before_receipt("taken_on", taken_on)
        # The first step of any kind acknowledges the complaint (10.1.2 time limits).
        limit = self.acknowledge_by if not self.steps else self.answer_by
        self._step_recorded(step=step, taken_on=taken_on, note=note, in_time=taken_on <= limit)

    @event("StepRecorded")
    def _step_recorded(self, step: str, taken_on: date, note: str, in_time: bool) -> None:
        self.steps.append({"step": step, "taken_on": taken_on, "note": note, "in_time": in_time})

    def answer_complaint(self, outcome: str, answered_on: date, answer: str) -> None:
        self._require_unanswered("answer it again")
        self._check_not_before_receipt("answered_on", answered_on)
        self._answered(outcome=outcome, answered_on=answered_on, answer=answer,
                       days_to_answer=(answered_on - self.received_on).days,
                       in_time=answered_on <= self.answer_by)

    @event("Answered")
    def _answered(self, outcome: str, answered_on: date, answer: str, days_to_answer: int,
                  in_time: bool) -> None:
        self.answer = {"outcome": outcome, "answered_on": answered_on, "answer": answer,
                       "days_to_answer": days_to_answer, "in_time": in_time}

    def _require_unanswered(self, action: str) -> None:
        if self.answer is not None:
            raise Conflict(f"The complaint was answered on {self.answer['answered_on']}: cannot "
                           f"{action}.", code="wrong_state")

    def _check_not_before_receipt(self, field: str, day: date) -> None:
        if day < self.received_on:
            raise InvalidInput.from_messages(
                {field: [f"Must not be before the complaint was received ({self.received_on})."]})


class SatisfactionSurvey(CasebookAggregate):
    """10.2.1 satisfaction survey, as counts and a mean in thousandths; who evaluated per
    10.2.3."""

    class Recorded(CasebookAggregate.Created):
        """Version 1 held the mean as a float `mean_score`: such events are read in thousandths
        and keep their float, which their published envelopes (contract v1) were made of."""

        class_version = 2
        school_id: str
        social_worker_id: str | None
        respondent_kind: str
        respondent_count: int
        satisfied_count: int
        mean_score_permille: int
        evaluator_type: str
        period_from: date
        period_to: date

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["mean_score_permille"] = round(state["mean_score"] * 1000)

    @event("Recorded")
    def __init__(self, school_id: str, social_worker_id: str | None, respondent_kind: str,
                 respondent_count: int, satisfied_count: int, mean_score_permille: int,
                 evaluator_type: str, period_from: date, period_to: date) -> None:
        self.school_id = school_id
        self.social_worker_id = social_worker_id
        self.respondent_kind = respondent_kind
        self.respondent_count = respondent_count
        self.satisfied_count = satisfied_count
        self.mean_score_permille = mean_score_permille
        self.evaluator_type = evaluator_type
        self.period_from = period_from
        self.period_to = period_to

    @staticmethod
    def check(respondent_count: int, satisfied_count: int, period_from: date,
              period_to: date) -> None:
        errors: dict[str, list[str]] = {}
        if satisfied_count > respondent_count:
            errors["satisfied_count"] = [
                f"Must not exceed respondent_count ({respondent_count})."]
        if period_to < period_from:
            errors["period_to"] = [f"Must not be before period_from ({period_from})."]
        if errors:
            raise InvalidInput.from_messages(errors)


class ServiceEvaluation(CasebookAggregate):
    """10.2.1 service evaluation of a worker, a school's service or a project, by self, peer or
    third party (10.2.3). The findings text stays in the store."""

    @event("Recorded")
    def __init__(self, school_id: str, scope: str, social_worker_id: str | None,
                 evaluator_type: str, evaluator_id: str, rating: str, findings: str,
                 evaluated_on: date) -> None:
        self.school_id = school_id
        self.scope = scope
        self.social_worker_id = social_worker_id
        self.evaluator_type = evaluator_type
        self.evaluator_id = evaluator_id
        self.rating = rating
        self.findings = findings
        self.evaluated_on = evaluated_on

    @staticmethod
    def check(scope: str, social_worker_id: str | None, evaluator_type: str,
              evaluator_id: str) -> None:
        if scope == "social_worker" and not social_worker_id:
            raise InvalidInput.from_messages(
                {"social_worker_id": ["Required when the scope is social_worker."]})
        is_self = evaluator_type == "self" and scope == "social_worker"
        if is_self and evaluator_id != social_worker_id:
            raise InvalidInput.from_messages(
                {"evaluator_type": ["A self-evaluation of a worker is made by that worker."]})


# The event classes are made by @event at runtime; mypy reads them through these untyped names.
ComplaintEvents: Any = Complaint
SurveyEvents: Any = SatisfactionSurvey
EvaluationEvents: Any = ServiceEvaluation
