"""The cases service's read models (DESIGN.md "Reads"): every list it answers is a query over
these tables, kept by the projection of its own events (`services.runtime.views`), plus what it
learns from supervision (who may take cases, who supervises whom).

Personal content never lies here in clear: a client's row holds the sealed token of their
details, opened only for a permitted reader when a list is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from services.cases.classes import ExperientialClass
from services.cases.clients import Client, WorkerEligibility, WorkerSupervisor
from services.cases.domain import Case
from services.cases.groups import Group
from services.cases.mailbox import Letter
from services.cases.query_schemas import OVERDUE_KINDS
from services.cases.risks import decided_life_safety
from services.cases.rules import stage_of
from services.runtime.clock import local_date
from services.runtime.context import Actor
from services.runtime.paging import page, page_in_parts
from services.runtime.views import Table, Transaction, Views, counter, projects

CASE = Table(
    "case_row",
    """case_id TEXT NOT NULL, school_id TEXT NOT NULL, client_id TEXT NOT NULL,
    client_type TEXT NOT NULL, client_is_minor BOOLEAN NOT NULL,
    social_worker_id TEXT NOT NULL, status TEXT NOT NULL, stage TEXT NOT NULL,
    opened_on TEXT NOT NULL, accepted_on TEXT, closed_on TEXT, letter_id TEXT,
    assessments BIGINT NOT NULL, plans BIGINT NOT NULL, interventions BIGINT NOT NULL,
    round BIGINT NOT NULL, process_done BOOLEAN NOT NULL, outcome_done BOOLEAN NOT NULL,
    client_consent BOOLEAN NOT NULL, guardian_consent BOOLEAN NOT NULL,
    open_risks BIGINT NOT NULL""",
    key=("case_id",),
    # Each caseload's filters, then its order (newest first, the key last): a page reads its
    # rows in index order and stops, whatever the history.
    indexes=(("school_id", "social_worker_id", "opened_on", "case_id"),
             ("school_id", "social_worker_id", "stage", "opened_on", "case_id"),
             ("school_id", "opened_on", "case_id"), ("school_id", "stage", "opened_on", "case_id"),
             ("opened_on", "case_id"), ("client_id",)),
    lookups=(("client_id",),),  # whether a worker's open case reaches a client
)
# How many cases each worker has in each status and step: a caseload's total and the counts by
# step are sums over a school's few rows here, not counts of its every case.
CASE_COUNT = counter("case_count", "school_id", "social_worker_id", "status", "stage")
# What is waiting for a key control point (9.5c: a case's assessment and plan, a follow-up; 8.2.2:
# a letter's reply), from when: what is overdue today is the part waiting since before its
# cutoff. A row lives while the step waits, so the list never reads what is done.
PENDING = Table(
    "pending_step",
    """kind TEXT NOT NULL, item_id TEXT NOT NULL, case_id TEXT, school_id TEXT NOT NULL,
    social_worker_id TEXT, since TEXT NOT NULL""",
    key=("kind", "item_id"),
    indexes=(("school_id", "kind", "since", "item_id"),
             ("school_id", "social_worker_id", "kind", "since", "item_id"),
             ("kind", "since", "item_id"), ("case_id",)),
    lookups=(("case_id",),),  # a reassigned case's follow-ups
)
# How many steps wait, per worker, kind and day (a letter's worker is ''): the overdue list's
# total sums a row per worker, kind and day before the cutoff, not one per step.
PENDING_COUNT = counter("pending_count", "school_id", "social_worker_id", "kind", "since")
RISK = Table(
    "risk_row",
    """risk_id TEXT NOT NULL, case_id TEXT NOT NULL, school_id TEXT NOT NULL,
    risk_type TEXT NOT NULL, level TEXT NOT NULL, life_safety BOOLEAN NOT NULL,
    status TEXT NOT NULL, raised_on TEXT NOT NULL, resolved_on TEXT""",
    key=("risk_id",),
    indexes=(("case_id",),),
)
FOLLOW_UP = Table(
    "follow_up_row",
    """follow_up_id TEXT NOT NULL, case_id TEXT NOT NULL, school_id TEXT NOT NULL,
    social_worker_id TEXT NOT NULL, due_on TEXT NOT NULL, done_on TEXT""",
    key=("follow_up_id",),
    indexes=(("case_id",), ("school_id", "due_on")),
    lookups=(("case_id",),),  # a reassigned case's follow-ups
)
CLIENT = Table(
    "client_row",
    """client_id TEXT NOT NULL, aggregate_id TEXT NOT NULL, school_id TEXT NOT NULL,
    client_type TEXT NOT NULL,
    grade BIGINT, registered_by TEXT NOT NULL, registered_on TEXT NOT NULL,
    details TEXT NOT NULL, cases BIGINT NOT NULL, unclosed_cases BIGINT NOT NULL,
    latest_closed_case_id TEXT, latest_closed_on TEXT, destroyed_on TEXT""",
    key=("client_id",),
    indexes=(("school_id", "registered_on", "client_id"), ("registered_by",),
             ("aggregate_id",)),
    lookups=(("aggregate_id",),),  # a client's record changed by its aggregate's events
)
# How many clients each worker's work reaches (registered by them, or with a case of theirs not
# closed), per client type: a worker's client list's total, whatever the history.
CLIENT_COUNT = counter("client_count", "school_id", "social_worker_id", "client_type")
# Whom each retired eligibility or supervisor record was about (their later events name none).
RETIRED_WORKER = Table(
    "retired_worker_record",
    "aggregate_id TEXT NOT NULL, social_worker_id TEXT NOT NULL, school_id TEXT",
    key=("aggregate_id",),
)
LETTER = Table(
    "letter_row",
    """letter_id TEXT NOT NULL, school_id TEXT NOT NULL, received_on TEXT NOT NULL,
    anonymous BOOLEAN NOT NULL, client_id TEXT, grade BIGINT, answered_on TEXT,
    opened_case_id TEXT""",
    key=("letter_id",),
    indexes=(("school_id", "received_on"),),
)
GROUP = Table(
    "group_row",
    """group_id TEXT NOT NULL, school_id TEXT NOT NULL, kind TEXT NOT NULL,
    social_worker_id TEXT NOT NULL, status TEXT NOT NULL, formed_on TEXT NOT NULL,
    planned_sessions BIGINT NOT NULL, members BIGINT NOT NULL, sessions BIGINT NOT NULL,
    closed_on TEXT""",
    key=("group_id",),
    indexes=(("school_id", "formed_on"),),
)
CLASS = Table(
    "class_row",
    """class_id TEXT NOT NULL, school_id TEXT NOT NULL, theme TEXT NOT NULL,
    held_on TEXT NOT NULL, attendance BIGINT NOT NULL, grade BIGINT,
    social_worker_id TEXT NOT NULL""",
    key=("class_id",),
    indexes=(("school_id", "held_on"),),
)
ELIGIBILITY = Table(
    "worker_eligibility",
    """social_worker_id TEXT NOT NULL, school_id TEXT, eligible BOOLEAN NOT NULL,
    reasons TEXT NOT NULL, position BIGINT NOT NULL""",
    key=("social_worker_id",),
)
SUPERVISOR = Table(
    "worker_supervisor",
    """social_worker_id TEXT NOT NULL, supervisor_id TEXT NOT NULL, school_id TEXT,
    position BIGINT NOT NULL""",
    key=("social_worker_id",),
    indexes=(("supervisor_id",),),
)

# The key control points a case waits for (a letter's reply waits in the school's mailbox).
CASE_STEPS = tuple(kind for kind in OVERDUE_KINDS if kind != "letter")


@dataclass(frozen=True)
class Due:
    """When each key control point is late (9.5c: a case's assessment and plan; 9.2b: a
    follow-up; 8.2.2: a letter's reply): so many days after it began to wait, as of `today`."""

    today: date
    assessment_days: int
    plan_days: int
    letter_days: int

    def days(self, kind: str) -> int:
        return {"assessment": self.assessment_days, "follow_up": 0,
                "letter": self.letter_days, "plan": self.plan_days}[kind]

    def cutoff(self, kind: str) -> str:
        """A step of `kind` waiting since before this day is overdue today."""
        return (self.today - timedelta(days=self.days(kind))).isoformat()

    def dated(self, step: dict[str, Any]) -> dict[str, Any]:
        """A waiting step with the day it fell due and how many days it is overdue."""
        due = date.fromisoformat(step["since"]) + timedelta(days=self.days(step["kind"]))
        return {**step, "due_on": due.isoformat(), "days_overdue": (self.today - due).days}


SUMMARY_COLUMNS = ("case_id, client_id, client_type, social_worker_id, status, stage, opened_on, "
                   "closed_on, open_risks, client_consent, guardian_consent, client_is_minor")


class CaseViews(Views):
    tables = (CASE, CASE_COUNT, PENDING, PENDING_COUNT, RISK, FOLLOW_UP, CLIENT, CLIENT_COUNT,
              LETTER, GROUP, CLASS, RETIRED_WORKER)
    learned = (ELIGIBILITY, SUPERVISOR)

    def prefetch(self, tx: Transaction, events: Sequence[Any]) -> None:
        cases = {str(event.originator_id) for event in events if isinstance(event, Case.Event)}
        tx.prefetch("case_row", cases)
        opened = Case.Opened  # type: ignore[attr-defined]
        clients = {event.client_id for event in events if isinstance(event, opened)}
        rows = (tx.get("case_row", case_id=case_id) for case_id in cases)
        tx.prefetch("client_row", clients | {row["client_id"] for row in rows if row})

    # The case (8.2.1.1): its step, consents, risks and follow-ups.

    @projects(Case.Opened)  # type: ignore[attr-defined]
    def _opened(self, tx: Transaction, event: Any) -> None:
        reached = _reaches(tx, event.social_worker_id, event.client_id)
        tx.insert("case_row", case_id=str(event.originator_id), school_id=event.school_id,
                  client_id=event.client_id, client_type=event.client_type,
                  client_is_minor=event.client_is_minor,
                  social_worker_id=event.social_worker_id, status="intake", stage="intake",
                  opened_on=event.opened_on.isoformat(), accepted_on=None, closed_on=None,
                  letter_id=event.letter_id, assessments=0, plans=0, interventions=0, round=0,
                  process_done=False, outcome_done=False, client_consent=False,
                  guardian_consent=False, open_risks=0)
        tx.tally("case_count", 1, school_id=event.school_id,
                 social_worker_id=event.social_worker_id, status="intake", stage="intake")
        for kind in ("assessment", "plan"):
            _wait(tx, kind, str(event.originator_id), str(event.originator_id),
                  event.school_id, event.social_worker_id, event.opened_on.isoformat())
        _count_reach(tx, event.client_id, {event.social_worker_id: reached})
        _client_cases(tx, event.client_id, cases=1, unclosed_cases=1)

    @projects(Case.IntakeAccepted)  # type: ignore[attr-defined]
    def _accepted(self, tx: Transaction, event: Any) -> None:
        self._case(tx, event, status="active", accepted_on=event.accepted_on.isoformat())

    @projects(Case.IntakeDeclined)  # type: ignore[attr-defined]
    def _declined(self, tx: Transaction, event: Any) -> None:
        self._case(tx, event, status="declined")

    @projects(Case.ConsentRecorded, Case.ConsentWithdrawn)  # type: ignore[attr-defined]
    def _consent(self, tx: Transaction, event: Any) -> None:
        given = type(event).__name__ == "ConsentRecorded"
        self._case(tx, event, **{f"{event.party}_consent": given})

    @projects(Case.AssessmentRecorded)  # type: ignore[attr-defined]
    def _assessed(self, tx: Transaction, event: Any) -> None:
        self._count(tx, event, "assessments")

    @projects(Case.PlanAdopted, Case.PlanRevised)  # type: ignore[attr-defined]
    def _planned(self, tx: Transaction, event: Any) -> None:
        self._count(tx, event, "plans")

    @projects(Case.InterventionLogged)  # type: ignore[attr-defined]
    def _intervened(self, tx: Transaction, event: Any) -> None:
        self._count(tx, event, "interventions")

    @projects(Case.EvaluationRecorded)  # type: ignore[attr-defined]
    def _evaluated(self, tx: Transaction, event: Any) -> None:
        row = self._row(tx, event)
        if event.round == row["round"]:
            self._case(tx, event, **{f"{event.kind}_done": True})

    @projects(Case.Closed)  # type: ignore[attr-defined]
    def _closed(self, tx: Transaction, event: Any) -> None:
        case_id = str(event.originator_id)
        closed_on = event.closed_on.isoformat()
        row = self._case(tx, event, status="closed", closed_on=closed_on)
        _client_cases(tx, row["client_id"], unclosed_cases=-1, latest_closed_case_id=case_id,
                      latest_closed_on=closed_on)

    @projects(Case.Reopened)  # type: ignore[attr-defined]
    def _reopened(self, tx: Transaction, event: Any) -> None:
        row = self._row(tx, event)
        self._case(tx, event, status="active", round=row["round"] + 1, process_done=False,
                   outcome_done=False)
        _client_cases(tx, row["client_id"], unclosed_cases=1)

    @projects(Case.Reassigned)  # type: ignore[attr-defined]
    def _reassigned(self, tx: Transaction, event: Any) -> None:
        self._case(tx, event, social_worker_id=event.to_social_worker_id)
        tx.update("follow_up_row", {"case_id": str(event.originator_id)},
                  social_worker_id=event.to_social_worker_id)
        for step in tx.fetchall("SELECT * FROM {pending_step} WHERE case_id = :case_id "
                                "AND kind = 'follow_up'", case_id=str(event.originator_id)):
            _done(tx, "follow_up", step["item_id"])
            _wait(tx, "follow_up", step["item_id"], step["case_id"], step["school_id"],
                  event.to_social_worker_id, step["since"])

    @projects(Case.FollowUpScheduled)  # type: ignore[attr-defined]
    def _follow_up(self, tx: Transaction, event: Any) -> None:
        row = self._row(tx, event)
        tx.insert("follow_up_row", follow_up_id=event.follow_up_id, case_id=row["case_id"],
                  school_id=row["school_id"], social_worker_id=row["social_worker_id"],
                  due_on=event.due_on.isoformat(), done_on=None)
        _wait(tx, "follow_up", event.follow_up_id, row["case_id"], row["school_id"],
              row["social_worker_id"], event.due_on.isoformat())

    @projects(Case.FollowUpRecorded)  # type: ignore[attr-defined]
    def _followed_up(self, tx: Transaction, event: Any) -> None:
        tx.update("follow_up_row", {"follow_up_id": event.follow_up_id},
                  done_on=event.done_on.isoformat())
        _done(tx, "follow_up", event.follow_up_id)

    @projects(Case.RiskRaised)  # type: ignore[attr-defined]
    def _risk(self, tx: Transaction, event: Any) -> None:
        row = self._row(tx, event)
        tx.insert("risk_row", risk_id=event.risk_id, case_id=row["case_id"],
                  school_id=row["school_id"], risk_type=event.risk_type, level=event.level,
                  life_safety=_life_safety(event), status="open",
                  raised_on=event.raised_on.isoformat(), resolved_on=None)
        self._case(tx, event, open_risks=row["open_risks"] + 1)

    @projects(Case.RiskLevelRaised, Case.RiskLevelLowered)  # type: ignore[attr-defined]
    def _risk_level(self, tx: Transaction, event: Any) -> None:
        tx.update("risk_row", {"risk_id": event.risk_id}, level=event.level,
                  life_safety=_life_safety(event))

    @projects(Case.RiskResolved)  # type: ignore[attr-defined]
    def _risk_resolved(self, tx: Transaction, event: Any) -> None:
        tx.update("risk_row", {"risk_id": event.risk_id}, status="resolved",
                  resolved_on=event.resolved_on.isoformat())
        self._case(tx, event, open_risks=self._row(tx, event)["open_risks"] - 1)

    def _row(self, tx: Transaction, event: Any) -> dict[str, Any]:
        row = tx.get("case_row", case_id=str(event.originator_id))
        assert row is not None, f"case {event.originator_id} has no row"
        return row

    def _count(self, tx: Transaction, event: Any, column: str) -> None:
        self._case(tx, event, **{column: self._row(tx, event)[column] + 1})

    def _case(self, tx: Transaction, event: Any, **changes: Any) -> dict[str, Any]:
        """Apply `changes` to the case's row, and the step of 8.2.1.1 they lead to; move the
        case between its worker's counts."""
        before = self._row(tx, event)
        row = {**before, **changes}
        reach_moves = (before["status"] == "closed") != (row["status"] == "closed") or (
            before["social_worker_id"] != row["social_worker_id"])
        reached = {worker: _reaches(tx, worker, row["client_id"])
                   for worker in {before["social_worker_id"], row["social_worker_id"]}
                   if reach_moves}
        missing = [kind for kind in ("process", "outcome") if not row[f"{kind}_done"]]
        row["stage"] = stage_of(row["status"], bool(row["assessments"]), bool(row["plans"]),
                                bool(row["interventions"]), missing)
        tx.update("case_row", {"case_id": row["case_id"]}, **{
            name: row[name] for name in (*changes, "stage")})
        counted = ("school_id", "social_worker_id", "status", "stage")
        if any(before[name] != row[name] for name in counted):
            tx.tally("case_count", -1, **{name: before[name] for name in counted})
            tx.tally("case_count", 1, **{name: row[name] for name in counted})
        waited, waits = _steps_waiting(before), _steps_waiting(row)
        moved = before["social_worker_id"] != row["social_worker_id"]
        for kind in sorted(waited - waits if not moved else waited):
            _done(tx, kind, row["case_id"])
        for kind in sorted(waits - waited if not moved else waits):
            _wait(tx, kind, row["case_id"], row["case_id"], row["school_id"],
                  row["social_worker_id"], row["opened_on"])
        _count_reach(tx, row["client_id"], reached)
        return row

    # The client register (9.2a).

    @projects(Client.Registered)  # type: ignore[attr-defined]
    def _registered(self, tx: Transaction, event: Any) -> None:
        tx.insert("client_row", client_id=event.client_id,
                  aggregate_id=str(event.originator_id), school_id=event.school_id,
                  client_type=event.client_type, grade=event.grade,
                  registered_by=event.registered_by,
                  registered_on=local_date(event.timestamp).isoformat(), details=event.details,
                  cases=0, unclosed_cases=0, latest_closed_case_id=None, latest_closed_on=None,
                  destroyed_on=None)
        # Registered by them: the client is in their clients from now.
        tx.tally("client_count", 1, school_id=event.school_id,
                 social_worker_id=event.registered_by, client_type=event.client_type)

    @projects(Client.PersonalContentDestroyed)  # type: ignore[attr-defined]
    def _destroyed(self, tx: Transaction, event: Any) -> None:
        tx.update("client_row", {"aggregate_id": str(event.originator_id)},
                  destroyed_on=event.disposed_on.isoformat())

    # The mailbox (8.2.2), groups (8.2.1.3), classes (8.2.3).

    @projects(Letter.Received)  # type: ignore[attr-defined]
    def _letter(self, tx: Transaction, event: Any) -> None:
        tx.insert("letter_row", letter_id=str(event.originator_id), school_id=event.school_id,
                  received_on=event.received_on.isoformat(), anonymous=event.anonymous,
                  client_id=event.client_id, grade=event.grade, answered_on=None,
                  opened_case_id=None)
        _wait(tx, "letter", str(event.originator_id), None, event.school_id, None,
              event.received_on.isoformat())

    @projects(Letter.CaseOpened)  # type: ignore[attr-defined]
    def _letter_opened_case(self, tx: Transaction, event: Any) -> None:
        tx.update("letter_row", {"letter_id": str(event.originator_id)},
                  opened_case_id=event.case_id)

    @projects(Letter.Answered)  # type: ignore[attr-defined]
    def _answered(self, tx: Transaction, event: Any) -> None:
        tx.update("letter_row", {"letter_id": str(event.originator_id)},
                  answered_on=event.answered_on.isoformat())
        _done(tx, "letter", str(event.originator_id))

    @projects(Group.Formed)  # type: ignore[attr-defined]
    def _group(self, tx: Transaction, event: Any) -> None:
        tx.insert("group_row", group_id=str(event.originator_id), school_id=event.school_id,
                  kind=event.kind, social_worker_id=event.social_worker_id, status="open",
                  formed_on=event.formed_on.isoformat(),
                  planned_sessions=event.planned_sessions, members=0, sessions=0,
                  closed_on=None)

    @projects(Group.MemberAdded, Group.SessionHeld)  # type: ignore[attr-defined]
    def _group_grew(self, tx: Transaction, event: Any) -> None:
        column = "members" if type(event).__name__ == "MemberAdded" else "sessions"
        tx.execute(f"UPDATE {{group_row}} SET {column} = {column} + 1 WHERE group_id = :id",
                   id=str(event.originator_id))

    @projects(Group.Closed)  # type: ignore[attr-defined]
    def _group_closed(self, tx: Transaction, event: Any) -> None:
        tx.update("group_row", {"group_id": str(event.originator_id)}, status="closed",
                  closed_on=event.closed_on.isoformat())

    @projects(ExperientialClass.Held)  # type: ignore[attr-defined]
    def _class(self, tx: Transaction, event: Any) -> None:
        tx.insert("class_row", class_id=str(event.originator_id), school_id=event.school_id,
                  theme=event.theme, held_on=event.held_on.isoformat(),
                  attendance=event.attendance, grade=event.grade,
                  social_worker_id=event.social_worker_id)

    # What stores from before this was a view learned as events of its own (retired classes):
    # they fill the learned tables once, on the first catch-up, never over a newer position.

    @projects(WorkerEligibility.Learned, WorkerSupervisor.Learned)  # type: ignore[attr-defined]
    def _old_record(self, tx: Transaction, event: Any) -> None:
        tx.insert("retired_worker_record", aggregate_id=str(event.originator_id),
                  social_worker_id=event.social_worker_id, school_id=event.school_id)
        self._old_change(tx, event)

    @projects(WorkerEligibility.Changed, WorkerSupervisor.Changed)  # type: ignore[attr-defined]
    def _old_change(self, tx: Transaction, event: Any) -> None:
        record = tx.fetchone("SELECT * FROM {retired_worker_record} WHERE aggregate_id = :id",
                             id=str(event.originator_id))
        assert record is not None, f"no first event of record {event.originator_id}"
        if hasattr(event, "eligible"):
            learn_eligibility(tx, record["social_worker_id"], record["school_id"],
                              event.eligible, event.reasons, event.position)
        else:
            learn_supervisor(tx, record["social_worker_id"], event.supervisor_id,
                             record["school_id"], event.position)

    # Queries: scope first, in SQL.

    def summary(self, case_id: str) -> dict[str, Any] | None:
        return self.store.one(f"SELECT {SUMMARY_COLUMNS}, school_id FROM {{case_row}} "
                              "WHERE case_id = :case_id", case_id=case_id)

    def caseload(self, actor: Actor, social_worker_id: str | None, stage: str | None,
                 status: str, case_ids: list[str] | None, due: Due, limit: int,
                 after: str | None) -> dict[str, Any]:
        where, params = self._case_scope(actor)
        if status == "live":
            where.append("status IN ('intake', 'active')")
        elif status != "any":
            where.append("status = :status")
            params["status"] = status
        for column, value in (("social_worker_id", social_worker_id), ("stage", stage)):
            if value is not None:
                where.append(f"{column} = :{column}")
                params[column] = value
        # The counters hold no case ids: cases picked by id are counted among themselves.
        counted: str | None = ("SELECT COALESCE(SUM(n), 0) AS n FROM {case_count} WHERE "
                               + " AND ".join(where))
        if case_ids is not None:
            where.append(_among("case_id", case_ids, params))
            counted = None
        result = page(self.store, "{case_row}", where, params, ("opened_on", "case_id"), limit,
                      after, descending=True, columns=SUMMARY_COLUMNS, total=counted)
        late = self._overdue_of([item["case_id"] for item in result["items"]], due)
        for item in result["items"]:
            item["overdue"] = late.get(item["case_id"], [])
        return result

    def by_stage(self, actor: Actor) -> dict[str, int]:
        where, params = self._case_scope(actor)
        where.append("status IN ('intake', 'active')")
        rows = self.store.select(f"SELECT stage, SUM(n) AS n FROM {{case_count}} WHERE "
                                 f"{' AND '.join(where)} GROUP BY stage", **params)
        return {row["stage"]: int(row["n"]) for row in rows}

    def overdue(self, actor: Actor, kind: str | None, due: Due, limit: int,
                after: str | None) -> dict[str, Any]:
        """9.5c, 9.2b, 8.2.2: what is late today, oldest first within each kind."""
        scope, params = self._case_scope(actor)
        parts = []
        for name in sorted(OVERDUE_KINDS) if kind is None else [kind]:
            if name == "letter":
                if actor.role not in ("social_worker", "supervisor"):
                    continue
                # The mailbox is the school's (8.2.2): its workers and their supervisors answer it.
                where = ["school_id = :school_id"]
                params["school_id"] = actor.school_id
            else:
                where = list(scope)
            params[f"{name}_cutoff"] = due.cutoff(name)
            parts.append((name, [*where, f"kind = '{name}'", f"since < :{name}_cutoff"]))
        waiting = " OR ".join(f"({' AND '.join(where)})" for _, where in parts) or "1 = 0"
        result = page_in_parts(
            self.store, "{pending_step}", parts, params, ("kind", "since", "item_id"), limit,
            after, f"SELECT COALESCE(SUM(n), 0) AS n FROM {{pending_count}} WHERE {waiting}",
            columns="kind, item_id, case_id, social_worker_id, since")
        result["items"] = [due.dated(item) for item in result["items"]]
        return result

    def follow_ups_due(self, actor: Actor, due: Due, within_days: int, limit: int,
                       after: str | None) -> dict[str, Any]:
        """9.2b: the follow-ups waiting that fall due from today to `within_days` days on,
        soonest first (before today they are `overdue`'s), read by the steps' indexes."""
        where, params = self._case_scope(actor)
        where = [*where, "kind = 'follow_up'", "since >= :today", "since <= :until"]
        params.update(today=due.today.isoformat(),
                      until=(due.today + timedelta(days=within_days)).isoformat())
        result = page(self.store, "{pending_step}", where, params, ("since", "item_id"), limit,
                      after, columns="item_id, case_id, social_worker_id, since")
        result["items"] = [
            {"follow_up_id": step["item_id"], "case_id": step["case_id"],
             "social_worker_id": step["social_worker_id"], "due_on": step["since"],
             "days_left": (date.fromisoformat(step["since"]) - due.today).days}
            for step in result["items"]]
        return result

    def _overdue_of(self, case_ids: list[str], due: Due) -> dict[str, list[dict[str, Any]]]:
        """The key control points overdue today of each of these cases (a page's, read by the
        steps' case index), the most overdue first."""
        if not case_ids:
            return {}
        params: dict[str, Any] = {}
        among = _among("case_id", case_ids, params)
        cutoffs = {kind: due.cutoff(kind) for kind in CASE_STEPS}
        # The page's cases' few waiting steps, read by the case index and judged here: with
        # the cutoffs in the SQL, SQLite reads by the kind index instead, every step of
        # every case that waits too long, which grows with the history.
        steps = [due.dated(step) for step in self.store.select(
            f"SELECT kind, item_id, case_id, since FROM {{pending_step}} WHERE {among}",
            **params) if step["kind"] in cutoffs and step["since"] < cutoffs[step["kind"]]]
        found: dict[str, list[dict[str, Any]]] = {}
        for step in sorted(steps, key=lambda s: (s["due_on"], s["kind"], s["item_id"])):
            found.setdefault(step["case_id"], []).append(step)
        return found

    def clients(self, actor: Actor, supervisees: list[str], client_type: str | None,
                client_ids: list[str] | None, limit: int, after: str | None) -> dict[str, Any]:
        """The clients the actor's work reaches: registered by them or one of their
        supervisees, or with an open case of theirs; of those, the `client_ids` when given."""
        workers = [actor.id, *supervisees]
        names = ", ".join(f":w{n}" for n in range(len(workers)))
        params: dict[str, Any] = {f"w{n}": worker for n, worker in enumerate(workers)}
        params["school_id"] = actor.school_id
        # A case of theirs is looked up per client as the page is read (by the client's
        # index), never as a set of every case first: PostgreSQL would hash an EXISTS into
        # that set, whose cost grows with the history; a scalar subquery it cannot hash.
        where = ["r.school_id = :school_id",
                 f"(r.registered_by IN ({names}) OR (SELECT 1 FROM {{case_row}} c "
                 f"WHERE c.client_id = r.client_id AND c.status <> 'closed' "
                 f"AND c.social_worker_id IN ({names}) LIMIT 1) IS NOT NULL)"]
        if client_type is not None:
            where.append("r.client_type = :client_type")
            params["client_type"] = client_type
        # One worker's reach is counted as it changes; a supervisor's is their supervisees'
        # together, where one client can be reached twice, so it is counted here, as are
        # clients picked by id (the counters hold no ids).
        if client_ids is not None:
            where.append(_among("r.client_id", client_ids, params))
        counted = None if supervisees or client_ids is not None else (
            "SELECT COALESCE(SUM(n), 0) AS n FROM {client_count} WHERE school_id = :school_id "
            "AND social_worker_id = :w0"
            + ("" if client_type is None else " AND client_type = :client_type"))
        return page(self.store, "{client_row} r", where, params,
                    ("r.registered_on", "r.client_id"), limit, after, descending=True,
                    columns="r.*", total=counted)

    def client(self, client_id: str) -> dict[str, Any] | None:
        return self.store.one("SELECT * FROM {client_row} WHERE client_id = :client_id",
                              client_id=client_id)

    def reaches_client(self, client_id: str, workers: list[str]) -> bool:
        """Whether one of `workers` has an open (not closed) case of the client."""
        names = ", ".join(f":w{n}" for n in range(len(workers)))
        return self.store.one(
            f"SELECT 1 AS found FROM {{case_row}} WHERE client_id = :client_id "
            f"AND status <> 'closed' AND social_worker_id IN ({names})",
            client_id=client_id, **{f"w{n}": w for n, w in enumerate(workers)}) is not None

    def letters(self, actor: Actor, unanswered: bool, limit: int,
                after: str | None) -> dict[str, Any]:
        where = ["school_id = :school_id"]
        if unanswered:
            where.append("answered_on IS NULL")
        return page(self.store, "{letter_row}", where, {"school_id": actor.school_id},
                    ("received_on", "letter_id"), limit, after)

    def groups(self, actor: Actor, supervisees: list[str], status: str | None, limit: int,
               after: str | None) -> dict[str, Any]:
        where, params = self._led_by(actor, supervisees)
        if status is not None:
            where.append("status = :status")
            params["status"] = status
        return page(self.store, "{group_row}", where, params, ("formed_on", "group_id"),
                    limit, after, descending=True)

    def classes(self, actor: Actor, supervisees: list[str], limit: int,
                after: str | None) -> dict[str, Any]:
        where, params = self._led_by(actor, supervisees)
        return page(self.store, "{class_row}", where, params, ("held_on", "class_id"), limit,
                    after, descending=True)

    def eligibility(self, social_worker_id: str) -> dict[str, Any] | None:
        return self.store.one("SELECT * FROM {worker_eligibility} "
                              "WHERE social_worker_id = :worker", worker=social_worker_id)

    def supervisor_of(self, social_worker_id: str) -> str | None:
        row = self.store.one("SELECT supervisor_id FROM {worker_supervisor} "
                             "WHERE social_worker_id = :worker", worker=social_worker_id)
        return None if row is None else str(row["supervisor_id"])

    def supervisees(self, supervisor_id: str) -> list[str]:
        rows = self.store.select("SELECT social_worker_id FROM {worker_supervisor} "
                                 "WHERE supervisor_id = :supervisor ORDER BY social_worker_id",
                                 supervisor=supervisor_id)
        return [str(row["social_worker_id"]) for row in rows]

    def _case_scope(self, actor: Actor, alias: str = "") -> tuple[list[str], dict[str, Any]]:
        """The cases the actor may list: their own as a worker, their supervisees' as a
        supervisor, the school's for the other school roles, all for auditors."""
        prefix = f"{alias}." if alias else ""
        where: list[str] = []
        params: dict[str, Any] = {}
        if actor.school_id is not None:
            where.append(f"{prefix}school_id = :actor_school")
            params["actor_school"] = actor.school_id
        if actor.role == "social_worker":
            where.append(f"{prefix}social_worker_id = :actor_id")
            params["actor_id"] = actor.id
        elif actor.role == "supervisor":
            where.append(f"{prefix}social_worker_id IN (SELECT social_worker_id FROM "
                         "{worker_supervisor} WHERE supervisor_id = :actor_id)")
            params["actor_id"] = actor.id
        return where or ["1 = 1"], params

    def _led_by(self, actor: Actor, supervisees: list[str]) -> tuple[list[str], dict[str, Any]]:
        where = ["school_id = :school_id"]
        params: dict[str, Any] = {"school_id": actor.school_id}
        if actor.role in ("social_worker", "supervisor"):
            workers = [actor.id, *supervisees]
            where.append("social_worker_id IN (" + ", ".join(
                f":w{n}" for n in range(len(workers))) + ")")
            params.update({f"w{n}": worker for n, worker in enumerate(workers)})
        return where, params


def learn_eligibility(tx: Transaction, social_worker_id: str, school_id: str | None,
                      eligible: bool, reasons: list[str], position: int) -> None:
    """6.2.1.2, 9.1a: what supervision last said of a worker; an older word never wins."""
    tx.execute(
        "INSERT INTO {worker_eligibility} (social_worker_id, school_id, eligible, reasons, "
        "position) VALUES (:worker, :school_id, :eligible, :reasons, :position) "
        "ON CONFLICT (social_worker_id) DO UPDATE SET eligible = excluded.eligible, "
        "reasons = excluded.reasons, position = excluded.position "
        "WHERE excluded.position > {worker_eligibility}.position",
        worker=social_worker_id, school_id=school_id, eligible=eligible,
        reasons=",".join(reasons), position=position)


def learn_supervisor(tx: Transaction, social_worker_id: str, supervisor_id: str,
                     school_id: str | None, position: int) -> None:
    """6.2.2.1: who supervises a worker, as supervision last said; an older word never wins."""
    tx.execute(
        "INSERT INTO {worker_supervisor} (social_worker_id, supervisor_id, school_id, "
        "position) VALUES (:worker, :supervisor, :school_id, :position) "
        "ON CONFLICT (social_worker_id) DO UPDATE SET supervisor_id = excluded.supervisor_id, "
        "position = excluded.position WHERE excluded.position > {worker_supervisor}.position",
        worker=social_worker_id, supervisor=supervisor_id, school_id=school_id,
        position=position)


def _client_cases(tx: Transaction, client_id: str, cases: int = 0, unclosed_cases: int = 0,
                  **values: Any) -> None:
    """Count a case in or out of its client's row (a client of a store from before the
    register kept no row: nothing to count)."""
    client = tx.get("client_row", client_id=client_id)
    if client is not None:
        tx.update("client_row", {"client_id": client_id}, cases=client["cases"] + cases,
                  unclosed_cases=client["unclosed_cases"] + unclosed_cases, **values)


def _reaches(tx: Transaction, worker: str, client_id: str) -> bool:
    """Whether a worker's work reaches a client: they registered the client, or have a case of
    theirs not closed (what `CaseViews.clients` lists)."""
    client = tx.get("client_row", client_id=client_id)
    if client is None:
        return False
    return client["registered_by"] == worker or tx.fetchone(
        "SELECT 1 AS found FROM {case_row} WHERE client_id = :client_id "
        "AND status <> 'closed' AND social_worker_id = :worker",
        client_id=client_id, worker=worker) is not None


def _count_reach(tx: Transaction, client_id: str, reached: dict[str, bool]) -> None:
    """Count the client in or out of each worker's clients whose reach changed from
    `reached` (what it was before the event)."""
    if not reached:
        return
    client = tx.get("client_row", client_id=client_id)
    if client is None:
        return
    for worker, before in sorted(reached.items()):
        now = _reaches(tx, worker, client_id)
        if now != before:
            tx.tally("client_count", 1 if now else -1, school_id=client["school_id"],
                     social_worker_id=worker, client_type=client["client_type"])


def _among(column: str, values: list[str], params: dict[str, Any]) -> str:
    """`column IN (…)` of `values`, bound into `params`."""
    names = [f"{column.rsplit('.', 1)[-1]}_{n}" for n in range(len(values))]
    params.update(zip(names, values, strict=True))
    return f"{column} IN ({', '.join(':' + name for name in names)})"


def _steps_waiting(row: dict[str, Any]) -> set[str]:
    """9.5c: a live case waits for its assessment and its plan until each is recorded."""
    if row["status"] not in ("intake", "active"):
        return set()
    return {kind for kind, column in (("assessment", "assessments"), ("plan", "plans"))
            if not row[column]}


def _wait(tx: Transaction, kind: str, item_id: str, case_id: str | None, school_id: str,
          social_worker_id: str | None, since: str) -> None:
    tx.insert("pending_step", kind=kind, item_id=item_id, case_id=case_id, school_id=school_id,
              social_worker_id=social_worker_id, since=since)
    tx.tally("pending_count", 1, school_id=school_id, social_worker_id=social_worker_id or "",
             kind=kind, since=since)


def _done(tx: Transaction, kind: str, item_id: str) -> None:
    step = tx.get("pending_step", kind=kind, item_id=item_id)
    if step is None:
        return
    tx.delete("pending_step", kind=kind, item_id=item_id)
    tx.tally("pending_count", -1, school_id=step["school_id"],
             social_worker_id=step["social_worker_id"] or "", kind=kind, since=step["since"])


def _life_safety(event: Any) -> bool:
    return decided_life_safety(event.level, getattr(event, "life_safety", None))
