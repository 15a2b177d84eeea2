"""Complaints and feedback (9.2c, 10.1.2), satisfaction surveys and service evaluations
(10.2.1, 10.2.3): the commands and queries."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from contracts.errors import NotAllowed
from services.runtime.clock import clock
from services.runtime.context import current_actor, require_role
from services.runtime.plain import plain
from services.supervision.feedback import (
    Complaint,
    ComplaintEvents,
    EvaluationEvents,
    SatisfactionSurvey,
    ServiceEvaluation,
    SurveyEvents,
)
from services.supervision.settings import settings
from services.supervision.staffing import not_in_future
from services.supervision.store import (
    OVERSEERS,
    READERS,
    SupervisionStore,
    check_school_scope,
)

# 9.2c: the channel is open to everyone, through the staff who take complaints by phone, by
# letter or in person. Integrators read events only; auditors read and record nothing.
INTAKE_ROLES = ("social_worker", "supervisor", "school_admin", "operator")
EVALUATORS = ("social_worker", "supervisor", "school_admin", "operator")
# Who handles a complaint and so reads what it says; operators keep the process moving and see
# its metadata (status, dates, steps, time limits) without the sealed content.
CONTENT_READERS = ("supervisor", "school_admin")


class FeedbackDesk(SupervisionStore):
    def receive_complaint(self, school_id: str, kind: str, channel: str, anonymous: bool,
                          content: str, contact: str | None = None,
                          about_social_worker_id: str | None = None,
                          received_on: date | None = None) -> str:
        actor = require_role(*INTAKE_ROLES)
        check_school_scope(actor, school_id)
        Complaint.check_intake(anonymous, contact)
        received_on = not_in_future("received_on", received_on or clock.today())
        limits = settings()
        complaint_id = str(uuid.uuid4())
        complaint = Complaint(
            complaint_id=complaint_id, school_id=school_id, kind=kind, channel=channel,
            anonymous=anonymous, about_social_worker_id=about_social_worker_id,
            content=self.vault.seal(complaint_id, content),
            contact=self.vault.seal(complaint_id, contact) if contact else None,
            received_on=received_on,
            acknowledge_by=received_on + timedelta(days=limits.complaint_acknowledge_days),
            answer_by=received_on + timedelta(days=limits.complaint_answer_days))
        self.save(complaint)
        return complaint_id

    def record_complaint_step(self, complaint_id: str, step: str, note: str = "",
                              taken_on: date | None = None) -> None:
        complaint = self._handled_complaint(complaint_id)
        complaint.record_step(step, not_in_future("taken_on", taken_on or clock.today()),
                              self.vault.seal(complaint_id, note))
        self.save(complaint)

    def answer_complaint(self, complaint_id: str, outcome: str, answer: str,
                         answered_on: date | None = None) -> None:
        complaint = self._handled_complaint(complaint_id)
        complaint.answer_complaint(
            outcome, not_in_future("answered_on", answered_on or clock.today()),
            self.vault.seal(complaint_id, answer))
        self.save(complaint)

    def get_complaint(self, complaint_id: str) -> dict[str, Any]:
        """With the sealed content opened for those who handle complaints, never the worker a
        complaint is about; an operator gets the metadata alone."""
        actor = require_role(*OVERSEERS)
        complaint = self._handled_complaint(complaint_id)
        view = self.complaint_summary(complaint)
        if actor.role not in CONTENT_READERS:
            return plain(view)
        view["content"] = self.vault.open(complaint.content)
        view["contact"] = self.vault.open(complaint.contact) if complaint.contact else None
        view["steps"] = [{**s, "note": self.vault.open(s["note"])} for s in complaint.steps]
        if complaint.answer is not None:
            view["answer"] = {**complaint.answer,
                              "answer": self.vault.open(complaint.answer["answer"])}
        return plain(view)

    def list_complaints(self, school_id: str) -> list[dict[str, Any]]:
        check_school_scope(require_role(*READERS), school_id)
        return plain([self.complaint_summary(c) for c in self._complaints(school_id)])

    def _complaints(self, school_id: str) -> list[Complaint]:
        return [c for c in self._all(ComplaintEvents.Received, Complaint)
                if c.school_id == school_id]

    def complaint_summary(self, complaint: Complaint) -> dict[str, Any]:
        """Codes, dates and timing: what auditors and the compliance report see."""
        today = clock.today()
        return {
            "complaint_id": complaint.complaint_id, "school_id": complaint.school_id,
            "kind": complaint.kind, "channel": complaint.channel,
            "anonymous": complaint.anonymous,
            "about_social_worker_id": complaint.about_social_worker_id,
            "received_on": complaint.received_on, "acknowledge_by": complaint.acknowledge_by,
            "acknowledged_on": complaint.acknowledged_on, "answer_by": complaint.answer_by,
            "answered_on": complaint.answer["answered_on"] if complaint.answer else None,
            "outcome": complaint.answer["outcome"] if complaint.answer else None,
            "answered_in_time": complaint.answered_in_time(today),
            "steps": [{"step": s["step"], "taken_on": s["taken_on"], "in_time": s["in_time"]}
                      for s in complaint.steps],
        }

    def _complaint(self, complaint_id: str) -> Complaint:
        return self.get_aggregate(Complaint, complaint_id, "complaint")

    def _handled_complaint(self, complaint_id: str) -> Complaint:
        actor = require_role(*OVERSEERS)
        complaint = self._complaint(complaint_id)
        check_school_scope(actor, complaint.school_id)
        if actor.id == complaint.about_social_worker_id:
            raise NotAllowed("A complaint about you is handled by someone else.")
        return complaint

    # Evaluations (10.2.1, 10.2.3)

    def record_satisfaction_survey(self, school_id: str, respondent_kind: str,
                                   respondent_count: int, satisfied_count: int,
                                   mean_score: float, evaluator_type: str, period_from: date,
                                   period_to: date, social_worker_id: str | None = None) -> str:
        actor = require_role(*EVALUATORS)
        check_school_scope(actor, school_id)
        SatisfactionSurvey.check(respondent_count, satisfied_count, period_from, period_to)
        survey = SatisfactionSurvey(
            school_id=school_id, social_worker_id=social_worker_id,
            respondent_kind=respondent_kind, respondent_count=respondent_count,
            satisfied_count=satisfied_count, mean_score=mean_score,
            evaluator_type=evaluator_type, period_from=period_from,
            period_to=not_in_future("period_to", period_to))
        self.save(survey)
        return str(survey.id)

    def record_service_evaluation(self, school_id: str, scope: str, evaluator_type: str,
                                  rating: str, findings: str = "",
                                  social_worker_id: str | None = None,
                                  evaluated_on: date | None = None) -> str:
        actor = require_role(*EVALUATORS)
        check_school_scope(actor, school_id)
        ServiceEvaluation.check(scope, social_worker_id, evaluator_type, actor.id)
        evaluation = ServiceEvaluation(
            school_id=school_id, scope=scope, social_worker_id=social_worker_id,
            evaluator_type=evaluator_type, evaluator_id=actor.id, rating=rating,
            findings=findings,
            evaluated_on=not_in_future("evaluated_on", evaluated_on or clock.today()))
        self.save(evaluation)
        return str(evaluation.id)

    def evaluation_summary(self, school_id: str) -> dict[str, Any]:
        """Surveys and evaluations of a school, per worker and evaluator type (10.2.1)."""
        actor = current_actor()
        if actor.role not in READERS:
            raise NotAllowed(f"Role {actor.role!r} may not read evaluations.")
        check_school_scope(actor, school_id)
        surveys = [s for s in self._all(SurveyEvents.Recorded, SatisfactionSurvey)
                   if s.school_id == school_id]
        evaluations = [e for e in self._all(EvaluationEvents.Recorded, ServiceEvaluation)
                       if e.school_id == school_id]
        respondents = sum(s.respondent_count for s in surveys)
        return plain({
            "school_id": school_id,
            "surveys": len(surveys),
            "respondents": respondents,
            "satisfied_share": (sum(s.satisfied_count for s in surveys) / respondents
                                if respondents else None),
            "mean_score": (sum(s.mean_score * s.respondent_count for s in surveys) / respondents
                           if respondents else None),
            "evaluations": [{"evaluation_id": str(e.id), "scope": e.scope,
                             "social_worker_id": e.social_worker_id,
                             "evaluator_type": e.evaluator_type, "rating": e.rating,
                             "evaluated_on": e.evaluated_on} for e in evaluations],
        })
