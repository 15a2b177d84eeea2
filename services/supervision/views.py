"""The supervision service's read models (DESIGN.md "Reads"): schools, staff, training and
supervision sessions (6.1, 6.2, 9.1), escalations (9.6b), findings and improvement actions (9.5c,
10.3), complaints and evaluations (9.2c, 10.1, 10.2), as tables kept by projections of the
service's own events; and what it learns from the cases stream (the dates of each case's process
steps, letters, delivered §7 codes) in learned tables, written by the subscription handler with
its cursor. Every list and report is SQL over these tables, scoped to the caller's school and
paged by key.

No content lies here: complaint texts and contacts stay sealed in the store; a complaint's row
holds codes, dates and time limits.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from services.runtime.context import Actor
from services.runtime.paging import DEFAULT_LIMIT, page
from services.runtime.settings import Supervision as Settings
from services.runtime.views import Table, Transaction, Views, projects
from services.supervision.domain import (
    School,
    SocialWorker,
    SupervisionSession,
    Supervisor,
    qualification_basis,
)
from services.supervision.escalation import Escalation
from services.supervision.feedback import Complaint, SatisfactionSurvey, ServiceEvaluation
from services.supervision.quality import CaseFacts, Finding, ImprovementAction

SUPERVISION_KINDS = ("administrative", "educational", "supportive")  # 6.2.2.2

SCHOOL = Table("school", """
    school_id TEXT NOT NULL, name TEXT NOT NULL, district TEXT NOT NULL,
    service_mode TEXT NOT NULL, facility_kinds TEXT NOT NULL, registered_on TEXT NOT NULL""",
    key=("school_id",), indexes=(("district",),))
SOCIAL_WORKER = Table("social_worker", """
    social_worker_id TEXT NOT NULL, employment TEXT NOT NULL, qualification TEXT NOT NULL,
    qualification_basis TEXT, supervisor_id TEXT, active BOOLEAN NOT NULL,
    registered_on TEXT NOT NULL, left_on TEXT, eligible BOOLEAN NOT NULL,
    ineligibility TEXT NOT NULL, pre_job_trained BOOLEAN NOT NULL""",
    key=("social_worker_id",), indexes=(("supervisor_id",),))
# The schools each worker serves: what lists of a school filter on.
WORKER_SCHOOL = Table("worker_school", "social_worker_id TEXT NOT NULL, school_id TEXT NOT NULL",
                      key=("social_worker_id", "school_id"), indexes=(("school_id",),))
SUPERVISOR = Table("supervisor", """
    supervisor_id TEXT NOT NULL, school_id TEXT, employment TEXT NOT NULL, setting TEXT NOT NULL,
    certificate_level TEXT NOT NULL, years_of_practice BIGINT NOT NULL,
    registered_on TEXT NOT NULL""",
    key=("supervisor_id",))
TRAINING = Table("training", """
    training_id TEXT NOT NULL, social_worker_id TEXT NOT NULL, kind TEXT NOT NULL,
    minutes BIGINT NOT NULL, topics TEXT NOT NULL, completed_on TEXT NOT NULL,
    year BIGINT NOT NULL""",
    key=("training_id",), indexes=(("social_worker_id", "year"),))
SESSION = Table("supervision_session", """
    session_id TEXT NOT NULL, school_id TEXT, supervisor_id TEXT NOT NULL,
    social_worker_ids TEXT NOT NULL, kinds TEXT NOT NULL, format TEXT NOT NULL,
    held_on TEXT NOT NULL, duration_minutes BIGINT NOT NULL""",
    key=("session_id",), indexes=(("supervisor_id",),))
# A session per supervisee, with the kinds it gave them (6.2.2.2) as flags SQL can count.
SESSION_WORKER = Table("session_worker", """
    session_id TEXT NOT NULL, social_worker_id TEXT NOT NULL, held_on TEXT NOT NULL,
    administrative BOOLEAN NOT NULL, educational BOOLEAN NOT NULL,
    supportive BOOLEAN NOT NULL""",
    key=("session_id", "social_worker_id"), indexes=(("social_worker_id", "held_on"),))
ESCALATION = Table("escalation", """
    escalation_id TEXT NOT NULL, version BIGINT NOT NULL, school_id TEXT, risk_id TEXT NOT NULL,
    case_id TEXT NOT NULL, risk_type TEXT NOT NULL, level TEXT NOT NULL,
    life_safety BOOLEAN NOT NULL, social_worker_id TEXT NOT NULL, ladder TEXT NOT NULL,
    steps BIGINT NOT NULL, step BIGINT NOT NULL, role TEXT NOT NULL, status TEXT NOT NULL,
    opened_at TEXT NOT NULL, first_due_at TEXT NOT NULL, due_at TEXT NOT NULL,
    acknowledged_by TEXT, acknowledged_role TEXT, acknowledged_at TEXT,
    acknowledged_step BIGINT, acknowledged_in_time BOOLEAN, resolution TEXT,
    resolved_at TEXT""",
    key=("escalation_id",),
    indexes=(("school_id", "opened_at"), ("status", "due_at"), ("risk_id",),
             ("opened_at", "escalation_id"), ("case_id", "opened_at")))
FINDING = Table("finding", """
    finding_id TEXT NOT NULL, school_id TEXT, subject_id TEXT NOT NULL, breach TEXT NOT NULL,
    control_point TEXT NOT NULL, case_id TEXT, letter_id TEXT, social_worker_id TEXT,
    due_on TEXT NOT NULL, detected_on TEXT NOT NULL, status TEXT NOT NULL, action_id TEXT""",
    key=("finding_id",), indexes=(("school_id", "detected_on"), ("subject_id", "breach")))
ACTION = Table("improvement_action", """
    action_id TEXT NOT NULL, school_id TEXT, finding_id TEXT NOT NULL, owner_id TEXT NOT NULL,
    plan TEXT NOT NULL, opened_on TEXT NOT NULL, due_on TEXT NOT NULL, status TEXT NOT NULL,
    completed_on TEXT, on_time BOOLEAN, result TEXT""",
    key=("action_id",), indexes=(("school_id", "opened_on"),))
COMPLAINT = Table("complaint", """
    complaint_id TEXT NOT NULL, school_id TEXT NOT NULL, kind TEXT NOT NULL,
    channel TEXT NOT NULL, anonymous BOOLEAN NOT NULL, about_social_worker_id TEXT,
    received_on TEXT NOT NULL, acknowledge_by TEXT NOT NULL, acknowledged_on TEXT,
    answer_by TEXT NOT NULL, answered_on TEXT, outcome TEXT, answer_in_time BOOLEAN,
    steps BIGINT NOT NULL""",
    key=("complaint_id",), indexes=(("school_id", "received_on"),))
COMPLAINT_STEP = Table("complaint_step", """
    complaint_id TEXT NOT NULL, number BIGINT NOT NULL, step TEXT NOT NULL,
    taken_on TEXT NOT NULL, in_time BOOLEAN NOT NULL""",
    key=("complaint_id", "number"))
SURVEY = Table("satisfaction_survey", """
    survey_id TEXT NOT NULL, school_id TEXT NOT NULL, social_worker_id TEXT,
    respondent_kind TEXT NOT NULL, respondent_count BIGINT NOT NULL,
    satisfied_count BIGINT NOT NULL, mean_score_permille BIGINT NOT NULL,
    evaluator_type TEXT NOT NULL, period_from TEXT NOT NULL, period_to TEXT NOT NULL""",
    key=("survey_id",), indexes=(("school_id",),))
EVALUATION = Table("service_evaluation", """
    evaluation_id TEXT NOT NULL, school_id TEXT NOT NULL, scope TEXT NOT NULL,
    social_worker_id TEXT, evaluator_type TEXT NOT NULL, rating TEXT NOT NULL,
    evaluated_on TEXT NOT NULL""",
    key=("evaluation_id",), indexes=(("school_id", "evaluated_on"),))

# Learned from the cases stream (9.5c control points, §7 codes): written with the cursor.
CASE_WATCH = Table("case_watch", """
    case_id TEXT NOT NULL, school_id TEXT, social_worker_id TEXT NOT NULL,
    opened_on TEXT NOT NULL, accepted_on TEXT, assessed_on TEXT, planned_on TEXT,
    anchor_on TEXT, status TEXT NOT NULL, closed_on TEXT, evaluation_kinds TEXT NOT NULL""",
    key=("case_id",), indexes=(("status",),))
CASE_INTERVENTION = Table("case_intervention", "case_id TEXT NOT NULL, delivered_on TEXT NOT NULL",
                          key=("case_id", "delivered_on"))
FOLLOW_UP_WATCH = Table("follow_up_watch", """
    follow_up_id TEXT NOT NULL, case_id TEXT NOT NULL, due_on TEXT NOT NULL, done_on TEXT""",
    key=("follow_up_id",), indexes=(("case_id",), ("done_on", "due_on")))
LETTER_WATCH = Table("letter_watch", """
    letter_id TEXT NOT NULL, school_id TEXT, received_on TEXT NOT NULL, answered_on TEXT""",
    key=("letter_id",), indexes=(("answered_on", "received_on"),))
DELIVERY_CODE = Table("delivery_code", """
    kind TEXT NOT NULL, item_id TEXT NOT NULL, code TEXT NOT NULL, school_id TEXT,
    case_id TEXT, delivered_on TEXT NOT NULL""",
    key=("kind", "item_id", "code"), indexes=(("school_id", "delivered_on"),))
# Which retired watch and delivery records were copied into the tables above (once).
RETIRED_COPIED = Table("retired_copied", "aggregate_id TEXT NOT NULL", key=("aggregate_id",))

ESCALATION_STATE = ("CASE WHEN e.status = 'resolved' THEN 'resolved' WHEN e.acknowledged_at IS "
                    "NULL THEN 'awaiting acknowledgement' ELSE 'acknowledged' END")
# Waiting for acknowledgement (9.6b), and past its step's time limit on the clock's `:now`.
ESCALATION_WAITING = "e.status = 'open' AND e.acknowledged_at IS NULL"
ESCALATION_OVERDUE = f"({ESCALATION_WAITING} AND e.due_at <= :now)"
# 10.1.2: answered in time, late, or (unanswered) late once its time is up on `:today`.
ANSWERED_IN_TIME = ("CASE WHEN c.answered_on IS NOT NULL THEN c.answer_in_time "
                    "WHEN :today > c.answer_by THEN FALSE END")


def iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class SupervisionViews(Views):
    tables = (SCHOOL, SOCIAL_WORKER, WORKER_SCHOOL, SUPERVISOR, TRAINING, SESSION,
              SESSION_WORKER, ESCALATION, FINDING, ACTION, COMPLAINT, COMPLAINT_STEP, SURVEY,
              EVALUATION)
    learned = (CASE_WATCH, CASE_INTERVENTION, FOLLOW_UP_WATCH, LETTER_WATCH, DELIVERY_CODE,
               RETIRED_COPIED)

    # Schools (6.1, 8.1).

    @projects(School.Registered)  # type: ignore[attr-defined]
    def _school(self, tx: Transaction, event: Any) -> None:
        tx.insert("school", school_id=event.school_id, name=event.name, district=event.district,
                  service_mode=event.service_mode,
                  facility_kinds=json.dumps(event.facility_kinds),
                  registered_on=iso(event.registered_on))

    @projects(School.FacilitiesRecorded)  # type: ignore[attr-defined]
    def _facilities(self, tx: Transaction, event: Any) -> None:
        tx.update("school", {"school_id": event.school_id},
                  facility_kinds=json.dumps(event.facility_kinds))

    # Social workers and supervisors (6.2).

    @projects(SocialWorker.Registered)  # type: ignore[attr-defined]
    def _worker(self, tx: Transaction, event: Any) -> None:
        q = event.qualification
        tx.insert("social_worker", social_worker_id=event.social_worker_id,
                  employment=event.employment, qualification=json.dumps(q, sort_keys=True),
                  qualification_basis=qualification_basis(
                      q["certificate_level"], q["diploma_level"], q["diploma_in_social_work"]),
                  supervisor_id=None, active=True, registered_on=iso(event.registered_on),
                  left_on=None, eligible=False, ineligibility="[]", pre_job_trained=False)
        for school_id in dict.fromkeys(event.school_ids):
            tx.insert("worker_school", social_worker_id=event.social_worker_id,
                      school_id=school_id)

    @projects(SocialWorker.QualificationRecorded)  # type: ignore[attr-defined]
    def _qualification(self, tx: Transaction, event: Any) -> None:
        q = event.qualification
        tx.update("social_worker", {"social_worker_id": event.social_worker_id},
                  qualification=json.dumps(q, sort_keys=True),
                  qualification_basis=qualification_basis(
                      q["certificate_level"], q["diploma_level"], q["diploma_in_social_work"]))

    @projects(SocialWorker.EligibilityChanged)  # type: ignore[attr-defined]
    def _eligibility(self, tx: Transaction, event: Any) -> None:
        tx.update("social_worker", {"social_worker_id": event.social_worker_id},
                  eligible=event.eligible, ineligibility=json.dumps(event.reasons))

    @projects(SocialWorker.Assigned)  # type: ignore[attr-defined]
    def _assigned(self, tx: Transaction, event: Any) -> None:
        tx.insert("worker_school", social_worker_id=event.social_worker_id,
                  school_id=event.school_id)

    @projects(SocialWorker.AssignmentEnded)  # type: ignore[attr-defined]
    def _assignment_ended(self, tx: Transaction, event: Any) -> None:
        tx.delete("worker_school", social_worker_id=event.social_worker_id,
                  school_id=event.school_id)

    @projects(SocialWorker.SupervisorAssigned)  # type: ignore[attr-defined]
    def _supervisor_assigned(self, tx: Transaction, event: Any) -> None:
        tx.update("social_worker", {"social_worker_id": event.social_worker_id},
                  supervisor_id=event.supervisor_id)

    @projects(SocialWorker.TrainingRecorded)
    def _training(self, tx: Transaction, event: Any) -> None:
        tx.insert("training", training_id=event.training_id,
                  social_worker_id=event.social_worker_id, kind=event.kind,
                  minutes=event.minutes, topics=json.dumps(event.topics),
                  completed_on=iso(event.completed_on), year=event.completed_on.year)
        if event.kind == "pre_job":
            tx.update("social_worker", {"social_worker_id": event.social_worker_id},
                      pre_job_trained=True)

    @projects(SocialWorker.Deactivated)  # type: ignore[attr-defined]
    def _deactivated(self, tx: Transaction, event: Any) -> None:
        tx.update("social_worker", {"social_worker_id": event.social_worker_id},
                  active=False, left_on=iso(event.left_on))

    @projects(Supervisor.Registered)  # type: ignore[attr-defined]
    def _supervisor(self, tx: Transaction, event: Any) -> None:
        tx.insert("supervisor", supervisor_id=event.supervisor_id, school_id=event.school_id,
                  employment=event.employment, setting=event.setting,
                  certificate_level=event.certificate_level,
                  years_of_practice=event.years_of_practice,
                  registered_on=iso(event.registered_on))

    @projects(SupervisionSession.Held)  # type: ignore[attr-defined]
    def _session(self, tx: Transaction, event: Any) -> None:
        session_id = str(event.originator_id)
        tx.insert("supervision_session", session_id=session_id, school_id=event.school_id,
                  supervisor_id=event.supervisor_id,
                  social_worker_ids=json.dumps(event.social_worker_ids),
                  kinds=json.dumps(event.kinds), format=event.format,
                  held_on=iso(event.held_on), duration_minutes=event.duration_minutes)
        for worker_id in event.social_worker_ids:
            tx.insert("session_worker", session_id=session_id, social_worker_id=worker_id,
                      held_on=iso(event.held_on),
                      **{kind: kind in event.kinds for kind in SUPERVISION_KINDS})

    # Escalations (9.6b).

    @projects(Escalation.Opened)  # type: ignore[attr-defined]
    def _escalation(self, tx: Transaction, event: Any) -> None:
        first = event.ladder[0]
        due_at = iso(event.opened_at + timedelta(minutes=first["minutes"]))
        tx.insert("escalation", escalation_id=str(event.originator_id),
                  version=event.originator_version, school_id=event.school_id,
                  risk_id=event.risk_id, case_id=event.case_id, risk_type=event.risk_type,
                  level=event.level, life_safety=event.life_safety,
                  social_worker_id=event.social_worker_id, ladder=json.dumps(event.ladder),
                  steps=len(event.ladder), step=1, role=first["role"], status="open",
                  opened_at=iso(event.opened_at), first_due_at=due_at, due_at=due_at,
                  acknowledged_by=None, acknowledged_role=None, acknowledged_at=None,
                  acknowledged_step=None, acknowledged_in_time=None, resolution=None,
                  resolved_at=None)

    @projects(Escalation.Climbed)  # type: ignore[attr-defined]
    def _climbed(self, tx: Transaction, event: Any) -> None:
        tx.update("escalation", {"escalation_id": str(event.originator_id)},
                  version=event.originator_version, step=event.step, role=event.to_role,
                  due_at=iso(event.due_at))

    @projects(Escalation.Acknowledged)  # type: ignore[attr-defined]
    def _acknowledged(self, tx: Transaction, event: Any) -> None:
        tx.update("escalation", {"escalation_id": str(event.originator_id)},
                  version=event.originator_version, acknowledged_by=event.acknowledged_by,
                  acknowledged_role=event.role, acknowledged_at=iso(event.acknowledged_at),
                  acknowledged_step=event.step, acknowledged_in_time=event.in_time)

    @projects(Escalation.ActionTaken)  # type: ignore[attr-defined]
    def _action_taken(self, tx: Transaction, event: Any) -> None:
        tx.update("escalation", {"escalation_id": str(event.originator_id)},
                  version=event.originator_version)

    @projects(Escalation.Resolved)  # type: ignore[attr-defined]
    def _resolved(self, tx: Transaction, event: Any) -> None:
        tx.update("escalation", {"escalation_id": str(event.originator_id)},
                  version=event.originator_version, status="resolved",
                  resolution=event.resolution, resolved_at=iso(event.resolved_at))

    # Findings and improvement actions (9.5c, 10.3).

    @projects(Finding.Raised)  # type: ignore[attr-defined]
    def _finding(self, tx: Transaction, event: Any) -> None:
        tx.insert("finding", finding_id=str(event.originator_id), school_id=event.school_id,
                  subject_id=event.subject_id, breach=event.key,
                  control_point=event.control_point, case_id=event.case_id,
                  letter_id=event.letter_id, social_worker_id=event.social_worker_id,
                  due_on=iso(event.due_on), detected_on=iso(event.detected_on), status="open",
                  action_id=None)

    @projects(Finding.ImprovementStarted)  # type: ignore[attr-defined]
    def _improvement_started(self, tx: Transaction, event: Any) -> None:
        tx.update("finding", {"finding_id": str(event.originator_id)},
                  status="in_improvement", action_id=event.action_id)

    @projects(Finding.Addressed)  # type: ignore[attr-defined]
    def _addressed(self, tx: Transaction, event: Any) -> None:
        tx.update("finding", {"finding_id": str(event.originator_id)}, status="addressed")

    @projects(ImprovementAction.Opened)  # type: ignore[attr-defined]
    def _action(self, tx: Transaction, event: Any) -> None:
        tx.insert("improvement_action", action_id=str(event.originator_id),
                  school_id=event.school_id, finding_id=event.finding_id,
                  owner_id=event.owner_id, plan=event.plan, opened_on=iso(event.opened_on),
                  due_on=iso(event.due_on), status="open", completed_on=None, on_time=None,
                  result=None)

    @projects(ImprovementAction.Completed)  # type: ignore[attr-defined]
    def _action_completed(self, tx: Transaction, event: Any) -> None:
        tx.update("improvement_action", {"action_id": str(event.originator_id)},
                  status="done", completed_on=iso(event.completed_on), on_time=event.on_time,
                  result=event.result)

    # Complaints and evaluations (9.2c, 10.1.2, 10.2).

    @projects(Complaint.Received)  # type: ignore[attr-defined]
    def _complaint(self, tx: Transaction, event: Any) -> None:
        tx.insert("complaint", complaint_id=event.complaint_id, school_id=event.school_id,
                  kind=event.kind, channel=event.channel, anonymous=event.anonymous,
                  about_social_worker_id=event.about_social_worker_id,
                  received_on=iso(event.received_on), acknowledge_by=iso(event.acknowledge_by),
                  acknowledged_on=None, answer_by=iso(event.answer_by), answered_on=None,
                  outcome=None, answer_in_time=None, steps=0)

    @projects(Complaint.StepRecorded)  # type: ignore[attr-defined]
    def _complaint_step(self, tx: Transaction, event: Any) -> None:
        complaint_id = str(event.originator_id)
        row = tx.fetchone("SELECT steps, acknowledged_on FROM {complaint} "
                          "WHERE complaint_id = :id", id=complaint_id)
        assert row is not None, f"no complaint {complaint_id}"
        taken_on = iso(event.taken_on)
        first = min(d for d in (row["acknowledged_on"], taken_on) if d is not None)
        tx.insert("complaint_step", complaint_id=complaint_id, number=row["steps"] + 1,
                  step=event.step, taken_on=taken_on, in_time=event.in_time)
        tx.update("complaint", {"complaint_id": complaint_id}, steps=row["steps"] + 1,
                  acknowledged_on=first)

    @projects(Complaint.Answered)  # type: ignore[attr-defined]
    def _complaint_answered(self, tx: Transaction, event: Any) -> None:
        tx.update("complaint", {"complaint_id": str(event.originator_id)},
                  answered_on=iso(event.answered_on), outcome=event.outcome,
                  answer_in_time=event.in_time)

    @projects(SatisfactionSurvey.Recorded)
    def _survey(self, tx: Transaction, event: Any) -> None:
        tx.insert("satisfaction_survey", survey_id=str(event.originator_id),
                  school_id=event.school_id, social_worker_id=event.social_worker_id,
                  respondent_kind=event.respondent_kind,
                  respondent_count=event.respondent_count,
                  satisfied_count=event.satisfied_count,
                  mean_score_permille=event.mean_score_permille,
                  evaluator_type=event.evaluator_type, period_from=iso(event.period_from),
                  period_to=iso(event.period_to))

    @projects(ServiceEvaluation.Recorded)  # type: ignore[attr-defined]
    def _evaluation(self, tx: Transaction, event: Any) -> None:
        tx.insert("service_evaluation", evaluation_id=str(event.originator_id),
                  school_id=event.school_id, scope=event.scope,
                  social_worker_id=event.social_worker_id,
                  evaluator_type=event.evaluator_type, rating=event.rating,
                  evaluated_on=iso(event.evaluated_on))

    # Reads by id.

    def school(self, school_id: str) -> dict[str, Any] | None:
        row = self.store.one("SELECT * FROM {school} WHERE school_id = :id", id=school_id)
        return None if row is None else school_row(row)

    def social_worker(self, social_worker_id: str) -> dict[str, Any] | None:
        rows = self.store.select(
            "SELECT w.*, s.school_id FROM {social_worker} w LEFT JOIN {worker_school} s "
            "ON s.social_worker_id = w.social_worker_id WHERE w.social_worker_id = :id "
            "ORDER BY s.school_id", id=social_worker_id)
        if not rows:
            return None
        schools = [r["school_id"] for r in rows if r["school_id"] is not None]
        return worker_row({**rows[0], "school_ids": ",".join(schools)})

    def supervisors(self, school_id: str, limit: int = DEFAULT_LIMIT,
                    after: str | None = None) -> dict[str, Any]:
        """The school's supervisors and those of no one school, by staff id."""
        return page(self.store, "{supervisor}", ["(school_id = :school_id OR school_id IS NULL)"],
                    {"school_id": school_id}, ("supervisor_id",), limit, after)

    def supervisor(self, supervisor_id: str) -> dict[str, Any] | None:
        return self.store.one("SELECT * FROM {supervisor} WHERE supervisor_id = :id",
                              id=supervisor_id)

    def escalation(self, escalation_id: str) -> dict[str, Any] | None:
        row = self.store.one(f"SELECT e.*, {ESCALATION_STATE} AS state FROM {{escalation}} e "
                             "WHERE e.escalation_id = :id", id=escalation_id)
        return None if row is None else escalation_row(row)

    def finding_raised(self, subject_id: str, breach: str) -> bool:
        return self.store.one("SELECT 1 AS yes FROM {finding} WHERE subject_id = :subject AND "
                              "breach = :breach", subject=subject_id, breach=breach) is not None

    # Lists: school scope first, then filters, in SQL; paged by key.

    def schools(self, actor: Actor, limit: int = DEFAULT_LIMIT, after: str | None = None,
                district: str | None = None, service_mode: str | None = None) -> dict[str, Any]:
        where, params = _scoped(actor, "s.school_id")
        _equal(where, params, "s", district=district, service_mode=service_mode)
        found = page(self.store, "{school} s", where, params, ("s.school_id",), limit, after)
        return {**found, "items": [school_row(r) for r in found["items"]]}

    def social_workers(self, school_id: str | None, limit: int = DEFAULT_LIMIT,
                       after: str | None = None, active: bool | None = None,
                       eligible: bool | None = None, employment: str | None = None,
                       supervisor_id: str | None = None,
                       serving: str | None = None) -> dict[str, Any]:
        """Workers serving `school_id` (every worker for None), or those a supervisor has of a
        school they serve (`serving`)."""
        where: list[str] = []
        params: dict[str, Any] = {}
        for name, school in (("school_id", school_id), ("serving", serving)):
            if school is not None:
                where.append("EXISTS (SELECT 1 FROM {worker_school} s WHERE s.social_worker_id "
                             f"= w.social_worker_id AND s.school_id = :{name})")
                params[name] = school
        _equal(where, params, "w", active=active, eligible=eligible, employment=employment,
               supervisor_id=supervisor_id)
        found = page(self.store, "{social_worker} w", where, params, ("w.social_worker_id",),
                     limit, after,
                     columns=f"w.*, (SELECT {self._joined('s.school_id')} FROM "
                     "{worker_school} s WHERE s.social_worker_id = w.social_worker_id) "
                     "AS school_ids")
        return {**found, "items": [worker_row(r) for r in found["items"]]}

    def trainings(self, school_id: str, limit: int = DEFAULT_LIMIT, after: str | None = None,
                  year: int | None = None, kind: str | None = None,
                  social_worker_id: str | None = None) -> dict[str, Any]:
        where = ["EXISTS (SELECT 1 FROM {worker_school} s WHERE s.social_worker_id = "
                 "t.social_worker_id AND s.school_id = :school_id)"]
        params: dict[str, Any] = {"school_id": school_id}
        _equal(where, params, "t", year=year, kind=kind, social_worker_id=social_worker_id)
        found = page(self.store, "{training} t", where, params,
                     ("t.completed_on", "t.training_id"), limit, after)
        return {**found, "items": [{**r, "topics": json.loads(r["topics"])}
                                   for r in found["items"]]}

    def sessions(self, school_id: str, limit: int = DEFAULT_LIMIT, after: str | None = None,
                 supervisor_id: str | None = None, social_worker_id: str | None = None,
                 held_from: date | None = None, held_to: date | None = None) -> dict[str, Any]:
        """Sessions with a supervisee serving the school."""
        where = ["EXISTS (SELECT 1 FROM {session_worker} v JOIN {worker_school} s ON "
                 "s.social_worker_id = v.social_worker_id WHERE v.session_id = x.session_id "
                 "AND s.school_id = :school_id)"]
        params: dict[str, Any] = {"school_id": school_id}
        _equal(where, params, "x", supervisor_id=supervisor_id)
        if social_worker_id is not None:
            where.append("EXISTS (SELECT 1 FROM {session_worker} v WHERE v.session_id = "
                         "x.session_id AND v.social_worker_id = :social_worker_id)")
            params["social_worker_id"] = social_worker_id
        _period(where, params, "x.held_on", "held", held_from, held_to)
        found = page(self.store, "{supervision_session} x", where, params,
                     ("x.held_on", "x.session_id"), limit, after)
        return {**found, "items": [{**r, "social_worker_ids": json.loads(r["social_worker_ids"]),
                                    "kinds": json.loads(r["kinds"])} for r in found["items"]]}

    def overdue_escalations(self, now: datetime) -> dict[str, int]:
        """Open escalations, by risk level, that nobody acknowledged within their current
        step's time (9.6b), in every school: for the operators' metrics."""
        rows = self.store.select(
            f"SELECT e.level, COUNT(*) AS n FROM {{escalation}} e WHERE {ESCALATION_OVERDUE} "
            "GROUP BY e.level", now=iso(now))
        return {row["level"]: int(row["n"]) for row in rows}

    def escalations(self, actor: Actor, school_id: str | None, now: datetime,
                    limit: int = DEFAULT_LIMIT, after: str | None = None,
                    status: str | None = None, level: str | None = None,
                    overdue: bool | None = None, waiting_for: str | None = None,
                    case_id: str | None = None) -> dict[str, Any]:
        """A school's escalations, or with no school every school's, as `actor` may see them;
        `waiting_for` a role: those whose current step waits for it; `case_id`: one case's."""
        where: list[str] = []
        params: dict[str, Any] = {"now": iso(now)}
        _equal(where, params, "e", school_id=school_id, level=level, role=waiting_for,
               case_id=case_id)
        if waiting_for is not None:
            where.append(ESCALATION_WAITING)
        if actor.role == "social_worker":
            where.append("e.social_worker_id = :me")
            params["me"] = actor.id
        elif actor.role == "supervisor":
            where.append(f"{SUPERVISES} = :me")
            params["me"] = actor.id
        if status is not None:
            where.append(f"{ESCALATION_STATE} = :status")
            params["status"] = status
        if overdue is not None:
            where.append(ESCALATION_OVERDUE if overdue else f"NOT {ESCALATION_OVERDUE}")
        found = page(self.store, "{escalation} e", where, params,
                     ("e.opened_at", "e.escalation_id"), limit, after,
                     columns=f"e.*, {ESCALATION_STATE} AS state")
        return {**found, "items": [escalation_row(r) for r in found["items"]]}

    def escalations_by_school(self, school_ids: list[str], now: datetime) -> dict[str, Any]:
        """How many of each school's escalations wait for acknowledgement, and how many of
        those past their step's time (9.6b)."""
        names = {f"school_{number}": school for number, school in enumerate(school_ids)}
        if not names:
            return {"schools": []}
        rows = self.store.select(
            f"SELECT e.school_id, COUNT(*) AS awaiting, SUM(CASE WHEN {ESCALATION_OVERDUE} "
            "THEN 1 ELSE 0 END) AS overdue FROM {escalation} e WHERE e.school_id IN "
            f"({', '.join(':' + name for name in names)}) AND {ESCALATION_WAITING} "
            "GROUP BY e.school_id", now=iso(now), **names)
        counted = {row["school_id"]: (int(row["awaiting"]), int(row["overdue"])) for row in rows}
        return {"schools": [
            dict(zip(("school_id", "awaiting", "overdue"), (school, *counted.get(school, (0, 0))),
                     strict=True))
            for school in dict.fromkeys(school_ids)]}

    def _joined(self, column: str) -> str:
        """The values of `column` in a group as one comma-separated text, on either store."""
        if self.store.postgres:
            return f"STRING_AGG({column}, ',')"
        return f"GROUP_CONCAT({column})"

    def supervises(self, supervisor_id: str, escalation_id: str) -> bool:
        return self.store.one(f"SELECT 1 AS yes FROM {{escalation}} e WHERE e.escalation_id = "
                              f":id AND {SUPERVISES} = :me", id=escalation_id,
                              me=supervisor_id) is not None

    def findings(self, school_id: str, limit: int = DEFAULT_LIMIT, after: str | None = None,
                 **filters: Any) -> dict[str, Any]:
        found = self._of_school("{finding} f", school_id, ("f.detected_on", "f.finding_id"),
                                limit, after, **filters)
        return {**found, "items": [{k: v for k, v in r.items()
                                    if k not in ("subject_id", "breach")}
                                   for r in found["items"]]}

    def improvement_actions(self, school_id: str, limit: int = DEFAULT_LIMIT,
                            after: str | None = None, **filters: Any) -> dict[str, Any]:
        return self._of_school("{improvement_action} a", school_id,
                               ("a.opened_on", "a.action_id"), limit, after, **filters)

    def _of_school(self, source: str, school_id: str, order: tuple[str, str], limit: int,
                   after: str | None, **filters: Any) -> dict[str, Any]:
        """A page of a table's rows of one school, each given filter a column equal to it."""
        alias = source.rsplit(" ", 1)[-1]
        where = [f"{alias}.school_id = :school_id"]
        params: dict[str, Any] = {"school_id": school_id}
        _equal(where, params, alias, **filters)
        return page(self.store, source, where, params, order, limit, after)

    def complaint(self, complaint_id: str, today: date) -> dict[str, Any] | None:
        rows = self.store.read_together(
            (f"SELECT c.*, {ANSWERED_IN_TIME} AS answered_in_time FROM {{complaint}} c "
             "WHERE c.complaint_id = :id", {"id": complaint_id, "today": iso(today)}),
            ("SELECT step, taken_on, in_time FROM {complaint_step} WHERE complaint_id = :id "
             "ORDER BY number", {"id": complaint_id}))
        if not rows[0]:
            return None
        return complaint_row(rows[0][0], rows[1])

    def complaints(self, school_id: str, today: date, limit: int = DEFAULT_LIMIT,
                   after: str | None = None, kind: str | None = None,
                   answered: bool | None = None, received_from: date | None = None,
                   received_to: date | None = None) -> dict[str, Any]:
        where = ["c.school_id = :school_id"]
        params: dict[str, Any] = {"school_id": school_id, "today": iso(today)}
        _equal(where, params, "c", kind=kind)
        if answered is not None:
            where.append(f"c.answered_on IS {'NOT ' if answered else ''}NULL")
        _period(where, params, "c.received_on", "received", received_from, received_to)
        found = page(self.store, "{complaint} c", where, params,
                     ("c.received_on", "c.complaint_id"), limit, after,
                     columns=f"c.*, {ANSWERED_IN_TIME} AS answered_in_time")
        return {**found, "items": [complaint_row(r, None) for r in found["items"]]}

    # Reports: SQL aggregates.

    def training_lines(self, school_id: str, years: range,
                       active_only: bool) -> list[dict[str, Any]]:
        """Per worker of the school and year: continuing-education minutes (9.1b), pre-job
        training (9.1a) and the topics of that year (6.2.1.3)."""
        workers = self.store.select(
            "SELECT w.social_worker_id, w.pre_job_trained FROM {social_worker} w JOIN "
            "{worker_school} s ON s.social_worker_id = w.social_worker_id WHERE s.school_id = "
            f":school_id{' AND w.active' if active_only else ''} ORDER BY w.social_worker_id",
            school_id=school_id)
        sums = self.store.select(
            "SELECT t.social_worker_id, t.year, SUM(CASE WHEN t.kind = 'continuing' THEN "
            "t.minutes ELSE 0 END) AS minutes FROM {training} t JOIN {worker_school} s ON "
            "s.social_worker_id = t.social_worker_id WHERE s.school_id = :school_id AND t.year "
            ">= :first AND t.year <= :last GROUP BY t.social_worker_id, t.year",
            school_id=school_id, first=years.start, last=years.stop - 1)
        topics = self.store.select(
            "SELECT t.social_worker_id, t.year, t.topics FROM {training} t JOIN {worker_school} "
            "s ON s.social_worker_id = t.social_worker_id WHERE s.school_id = :school_id AND "
            "t.year >= :first AND t.year <= :last",
            school_id=school_id, first=years.start, last=years.stop - 1)
        minutes = {(r["social_worker_id"], r["year"]): int(r["minutes"]) for r in sums}
        covered: dict[tuple[str, int], set[str]] = {}
        for row in topics:
            covered.setdefault((row["social_worker_id"], row["year"]), set()).update(
                json.loads(row["topics"]))
        return [{"social_worker_id": w["social_worker_id"], "year": year,
                 "continuing_minutes": minutes.get((w["social_worker_id"], year), 0),
                 "pre_job_trained": w["pre_job_trained"],
                 "topics": sorted(covered.get((w["social_worker_id"], year), set()))}
                for w in workers for year in years]

    def supervision_lines(self, school_id: str) -> list[dict[str, Any]]:
        """Per active worker of the school: their sessions, the last, and the kinds received
        (6.2.2.2, 9.1c)."""
        return self.store.select(
            "SELECT w.social_worker_id, w.supervisor_id, w.registered_on, "
            "COUNT(v.session_id) AS sessions, MAX(v.held_on) AS last_session_on, "
            + ", ".join(f"SUM(CASE WHEN v.{k} THEN 1 ELSE 0 END) AS {k}"
                        for k in SUPERVISION_KINDS)
            + " FROM {social_worker} w JOIN {worker_school} s ON s.social_worker_id = "
            "w.social_worker_id LEFT JOIN {session_worker} v ON v.social_worker_id = "
            "w.social_worker_id WHERE s.school_id = :school_id AND w.active GROUP BY "
            "w.social_worker_id, w.supervisor_id, w.registered_on ORDER BY w.social_worker_id",
            school_id=school_id)

    def session_dates(self, school_id: str, period_to: date) -> dict[str, list[str]]:
        """Each school worker's session dates up to the period's end, in order."""
        rows = self.store.select(
            "SELECT v.social_worker_id, v.held_on FROM {session_worker} v JOIN {worker_school} "
            "s ON s.social_worker_id = v.social_worker_id WHERE s.school_id = :school_id AND "
            "v.held_on <= :period_to ORDER BY v.social_worker_id, v.held_on",
            school_id=school_id, period_to=iso(period_to))
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row["social_worker_id"], []).append(row["held_on"])
        return found

    def session_kinds(self, school_id: str, period_from: date,
                      period_to: date) -> dict[str, dict[str, int]]:
        rows = self.store.select(
            "SELECT v.social_worker_id, COUNT(*) AS sessions, "
            + ", ".join(f"SUM(CASE WHEN v.{k} THEN 1 ELSE 0 END) AS {k}"
                        for k in SUPERVISION_KINDS)
            + " FROM {session_worker} v JOIN {worker_school} s ON s.social_worker_id = "
            "v.social_worker_id WHERE s.school_id = :school_id AND v.held_on >= :period_from "
            "AND v.held_on <= :period_to GROUP BY v.social_worker_id",
            school_id=school_id, period_from=iso(period_from), period_to=iso(period_to))
        return {r["social_worker_id"]: {k: int(r[k]) for k in ("sessions", *SUPERVISION_KINDS)}
                for r in rows}

    def staff_in_period(self, school_id: str, period_from: date,
                        period_to: date) -> list[dict[str, Any]]:
        """The school's workers registered by the period's end, active or left within it."""
        found = self.store.select(
            "SELECT w.*, '' AS school_ids FROM {social_worker} w JOIN {worker_school} s ON "
            "s.social_worker_id = w.social_worker_id WHERE s.school_id = :school_id AND "
            "w.registered_on <= :period_to AND (w.active OR w.left_on >= :period_from) "
            "ORDER BY w.social_worker_id",
            school_id=school_id, period_from=iso(period_from), period_to=iso(period_to))
        return [worker_row(r) for r in found]

    def delivered_codes(self, school_id: str, period_from: date, period_to: date) -> list[str]:
        rows = self.store.select(
            "SELECT DISTINCT code FROM {delivery_code} WHERE school_id = :school_id AND "
            "delivered_on >= :period_from AND delivered_on <= :period_to ORDER BY code",
            school_id=school_id, period_from=iso(period_from), period_to=iso(period_to))
        return [r["code"] for r in rows]

    def escalations_opened(self, school_id: str, period_from: date,
                           period_to: date) -> list[dict[str, Any]]:
        # opened_at is an ISO instant: the period's days run to the end of `period_to`.
        return self.store.select(
            "SELECT * FROM {escalation} WHERE school_id = :school_id AND opened_at >= :start "
            "AND opened_at < :end ORDER BY opened_at, escalation_id", school_id=school_id,
            start=period_from.isoformat(), end=(period_to + timedelta(days=1)).isoformat())

    def complaints_received(self, school_id: str, period_from: date, period_to: date,
                            today: date) -> list[dict[str, Any]]:
        return self.store.select(
            f"SELECT c.complaint_id, c.answered_on, c.answer_by, {ANSWERED_IN_TIME} AS "
            "answered_in_time FROM {complaint} c WHERE c.school_id = :school_id AND "
            "c.received_on >= :period_from AND c.received_on <= :period_to "
            "ORDER BY c.received_on, c.complaint_id", school_id=school_id,
            period_from=iso(period_from), period_to=iso(period_to), today=iso(today))

    def findings_in_period(self, school_id: str, period_from: date,
                           period_to: date) -> dict[str, int]:
        row = self.store.one(
            "SELECT COUNT(*) AS raised, SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END) AS "
            "still_open FROM {finding} WHERE school_id = :school_id AND detected_on >= "
            ":period_from AND detected_on <= :period_to", school_id=school_id,
            period_from=iso(period_from), period_to=iso(period_to))
        assert row is not None
        return {"raised": int(row["raised"]), "open": int(row["still_open"] or 0)}

    def evaluation_figures(self, school_id: str) -> tuple[list[dict[str, Any]], ...]:
        return tuple(self.store.read_together(
            ("SELECT COUNT(*) AS surveys, SUM(respondent_count) AS respondents, "
             "SUM(satisfied_count) AS satisfied, SUM(mean_score_permille * respondent_count) "
             "AS weighted FROM {satisfaction_survey} WHERE school_id = :school_id",
             {"school_id": school_id}),
            ("SELECT evaluator_type, rating, COUNT(*) AS n FROM {service_evaluation} WHERE "
             "school_id = :school_id GROUP BY evaluator_type, rating ORDER BY evaluator_type, "
             "rating", {"school_id": school_id}),
        ))

    def surveys(self, school_id: str, limit: int = DEFAULT_LIMIT, after: str | None = None,
                **filters: Any) -> dict[str, Any]:
        return self._of_school("{satisfaction_survey} s", school_id,
                               ("s.period_to", "s.survey_id"), limit, after, **filters)

    def evaluations(self, school_id: str, limit: int = DEFAULT_LIMIT, after: str | None = None,
                    **filters: Any) -> dict[str, Any]:
        return self._of_school("{service_evaluation} v", school_id,
                               ("v.evaluated_on", "v.evaluation_id"), limit, after, **filters)

    # Learned: what cases published of each case and letter (9.5c), and services delivered.

    def case_facts(self, case_id: str) -> CaseFacts | None:
        found = self.store.read_together(
            ("SELECT * FROM {case_watch} WHERE case_id = :id", {"id": case_id}),
            ("SELECT * FROM {case_intervention} WHERE case_id = :id "
             "ORDER BY delivered_on", {"id": case_id}),
            ("SELECT * FROM {follow_up_watch} WHERE case_id = :id", {"id": case_id}))
        return facts_of(*found)[0] if found[0] else None

    def overdue_cases(self, settings: Settings, today: date) -> list[CaseFacts]:
        """Cases with a control point whose deadline `today` passed undone (9.5c), and no
        finding raised for it yet: the candidates the timer raises findings for."""
        def before(days: int) -> str:
            return (today - timedelta(days=days)).isoformat()

        overdue = (
            "(c.assessed_on IS NULL AND c.closed_on IS NULL AND COALESCE(c.accepted_on, "
            "c.opened_on) < :assessment AND NOT " + _raised("c.case_id", "'assessment_overdue'")
            + ") OR (c.assessed_on IS NOT NULL AND c.planned_on IS NULL AND c.closed_on IS NULL "
            "AND c.assessed_on < :plan AND NOT " + _raised("c.case_id", "'plan_overdue'")
            + ") OR (c.status = 'open' AND c.anchor_on < :intervention AND NOT "
            + _raised("c.case_id", "'no_recent_intervention:' || c.anchor_on")
            + ") OR EXISTS (SELECT 1 FROM {follow_up_watch} u WHERE u.case_id = c.case_id AND "
            "u.done_on IS NULL AND u.due_on < :follow_up AND NOT "
            + _raised("c.case_id", "'follow_up_overdue:' || u.follow_up_id") + ")")
        params = {"assessment": before(settings.assessment_days),
                  "plan": before(settings.plan_days),
                  "intervention": before(settings.intervention_gap_days),
                  "follow_up": before(settings.follow_up_grace_days)}
        candidates = f"SELECT c.case_id FROM {{case_watch}} c WHERE {overdue}"
        cases, interventions, follow_ups = self.store.read_together(*(
            (f"SELECT * FROM {{{table}}} WHERE case_id IN ({candidates})", params)
            for table in ("case_watch", "case_intervention", "follow_up_watch")))
        return facts_of(cases, interventions, follow_ups)

    def overdue_letters(self, settings: Settings, today: date) -> list[dict[str, Any]]:
        """Letters unanswered past their time (8.2.2) with no finding raised yet."""
        return self.store.select(
            "SELECT * FROM {letter_watch} l WHERE l.answered_on IS NULL AND l.received_on < "
            ":cutoff AND NOT " + _raised("l.letter_id", "'letter_unanswered'")
            + " ORDER BY l.letter_id",
            cutoff=(today - timedelta(days=settings.letter_days)).isoformat())

    def letter(self, letter_id: str) -> dict[str, Any] | None:
        return self.store.one("SELECT * FROM {letter_watch} WHERE letter_id = :id", id=letter_id)

    def case_worker(self, case_id: str) -> str | None:
        row = self.store.one("SELECT social_worker_id FROM {case_watch} WHERE case_id = :id",
                             id=case_id)
        return None if row is None else str(row["social_worker_id"])


# Who supervises the worker who has the escalation's case now (6.2.2.1): the case's worker as
# supervision last learned it, else the one who raised the risk.
SUPERVISES = ("(SELECT w.supervisor_id FROM {social_worker} w WHERE w.social_worker_id = "
              "COALESCE((SELECT c.social_worker_id FROM {case_watch} c WHERE c.case_id = "
              "e.case_id), e.social_worker_id))")


def _raised(subject: str, breach: str) -> str:
    return (f"EXISTS (SELECT 1 FROM {{finding}} f WHERE f.subject_id = {subject} AND "
            f"f.breach = {breach})")


def _scoped(actor: Actor, column: str) -> tuple[list[str], dict[str, Any]]:
    """Rows of the actor's school; every school's for an actor bound to none."""
    if actor.school_id is None:
        return [], {}
    return [f"{column} = :scope"], {"scope": actor.school_id}


def _equal(where: list[str], params: dict[str, Any], alias: str, **values: Any) -> None:
    """Each column of `alias` equal to the value given for it; None does not filter."""
    for name, value in values.items():
        if value is not None:
            where.append(f"{alias}.{name} = :{name}")
            params[name] = value


def _period(where: list[str], params: dict[str, Any], column: str, name: str,
            start: date | None, end: date | None) -> None:
    if start is not None:
        where.append(f"{column} >= :{name}_from")
        params[f"{name}_from"] = start.isoformat()
    if end is not None:
        where.append(f"{column} <= :{name}_to")
        params[f"{name}_to"] = end.isoformat()


def facts_of(cases: list[dict[str, Any]], interventions: list[dict[str, Any]],
             follow_ups: list[dict[str, Any]]) -> list[CaseFacts]:
    by_case = {row["case_id"]: CaseFacts(
        case_id=row["case_id"], school_id=row["school_id"],
        social_worker_id=row["social_worker_id"], opened_on=_day(row["opened_on"]),
        accepted_on=_maybe_day(row["accepted_on"]), assessed_on=_maybe_day(row["assessed_on"]),
        planned_on=_maybe_day(row["planned_on"]), status=row["status"],
        closed_on=_maybe_day(row["closed_on"]),
        evaluation_kinds=json.loads(row["evaluation_kinds"])) for row in cases}
    for row in interventions:
        if row["case_id"] in by_case:
            by_case[row["case_id"]].intervention_dates.append(_day(row["delivered_on"]))
    for row in follow_ups:
        if row["case_id"] in by_case:
            by_case[row["case_id"]].follow_ups[row["follow_up_id"]] = {
                "due_on": _day(row["due_on"]), "done_on": _maybe_day(row["done_on"])}
    return list(by_case.values())


def _day(value: str) -> date:
    return date.fromisoformat(value)


def _maybe_day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


# Learning: rows written by the subscription handler in its cursor's transaction.


def learn_case(tx: Transaction, case: CaseFacts) -> None:
    tx.upsert("case_watch", case_id=case.case_id, school_id=case.school_id,
              social_worker_id=case.social_worker_id, opened_on=iso(case.opened_on),
              accepted_on=iso(case.accepted_on), assessed_on=iso(case.assessed_on),
              planned_on=iso(case.planned_on), anchor_on=iso(case.last_anchor),
              status=case.status, closed_on=iso(case.closed_on),
              evaluation_kinds=json.dumps(case.evaluation_kinds))
    for day in case.intervention_dates:
        tx.upsert("case_intervention", case_id=case.case_id, delivered_on=iso(day))
    for follow_up_id, follow_up in case.follow_ups.items():
        tx.upsert("follow_up_watch", follow_up_id=follow_up_id, case_id=case.case_id,
                  due_on=iso(follow_up["due_on"]), done_on=iso(follow_up["done_on"]))


def learn_letter(tx: Transaction, letter_id: str, school_id: str | None, received_on: date,
                 answered_on: date | None) -> None:
    tx.upsert("letter_watch", letter_id=letter_id, school_id=school_id,
              received_on=iso(received_on), answered_on=iso(answered_on))


def learn_delivery(tx: Transaction, kind: str, item_id: str, school_id: str | None,
                   case_id: str | None, service_codes: list[str], delivered_on: date) -> None:
    for code in dict.fromkeys(service_codes):
        tx.upsert("delivery_code", kind=kind, item_id=item_id, code=code, school_id=school_id,
                  case_id=case_id, delivered_on=iso(delivered_on))


# Rows as queries answer them: JSON lists decoded.


def school_row(row: dict[str, Any]) -> dict[str, Any]:
    kinds = json.loads(row["facility_kinds"])
    # 6.1.1: an own or shared service space; any recorded room counts as one.
    return {**row, "facility_kinds": kinds, "has_service_space": bool(kinds)}


def worker_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "qualification": json.loads(row["qualification"]),
            "ineligibility": json.loads(row["ineligibility"]),
            "school_ids": sorted(s for s in (row["school_ids"] or "").split(",") if s)}


def escalation_row(row: dict[str, Any]) -> dict[str, Any]:
    acknowledgement = None if row["acknowledged_at"] is None else {
        "acknowledged_by": row["acknowledged_by"], "role": row["acknowledged_role"],
        "acknowledged_at": row["acknowledged_at"], "step": row["acknowledged_step"],
        "in_time": bool(row["acknowledged_in_time"])}
    resolution = None if row["resolution"] is None else {
        "resolution": row["resolution"], "resolved_at": row["resolved_at"]}
    return {"escalation_id": row["escalation_id"], "version": row["version"],
            "school_id": row["school_id"], "risk_id": row["risk_id"],
            "case_id": row["case_id"], "risk_type": row["risk_type"], "level": row["level"],
            "life_safety": row["life_safety"], "social_worker_id": row["social_worker_id"],
            "status": row["state"], "step": row["step"], "role": row["role"],
            "opened_at": row["opened_at"], "due_at": row["due_at"],
            "ladder": json.loads(row["ladder"]), "acknowledgement": acknowledgement,
            "resolution": resolution}


def complaint_row(row: dict[str, Any], steps: list[dict[str, Any]] | None) -> dict[str, Any]:
    answered = row["answered_in_time"]
    view = {k: v for k, v in row.items()
            if k not in ("answer_in_time", "answered_in_time", "steps")}
    view["answered_in_time"] = None if answered is None else bool(answered)
    view["step_count"] = row["steps"]
    if steps is not None:
        view["steps"] = [{**s, "in_time": bool(s["in_time"])} for s in steps]
    return view
