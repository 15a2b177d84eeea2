"""Group work (8.2.1.3, per MZ/T 095): a group with its purpose and §7 codes, members, sessions
with attendance and notes, a group evaluation, and closing."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.domain import event

from contracts.errors import Conflict, InvalidInput
from services.cases.rules import not_before
from services.runtime.domain import CasebookAggregate


class Group(CasebookAggregate):
    @event("Formed")
    def __init__(
        self,
        school_id: str,
        kind: str,
        purpose: str,
        service_codes: list[str],
        social_worker_id: str,
        planned_sessions: int,
        formed_on: date,
    ) -> None:
        self.school_id = school_id
        self.kind = kind
        self.purpose = purpose
        self.service_codes = list(service_codes)
        self.social_worker_id = social_worker_id
        self.planned_sessions = planned_sessions
        self.formed_on = formed_on
        self.status = "open"
        self.members: dict[str, date] = {}
        self.sessions: list[dict[str, Any]] = []
        self.evaluation: dict[str, Any] | None = None
        self.closed_on: date | None = None

    def add_member(self, client_id: str, joined_on: date) -> None:
        self._require_open("add a member")
        if client_id in self.members:
            raise Conflict(f"{client_id} is already a member of the group.", code="conflict")
        not_before("joined_on", joined_on, self.formed_on, "the group was formed")
        self._member_added(client_id=client_id, joined_on=joined_on)

    @event("MemberAdded")
    def _member_added(self, client_id: str, joined_on: date) -> None:
        self.members[client_id] = joined_on

    def hold_session(self, held_on: date, attended: list[str], notes: str | None) -> None:
        self._require_open("hold a session")
        if not self.members:
            raise Conflict("A group needs members before it meets.", code="missing_step")
        strangers = sorted(set(attended) - set(self.members))
        if strangers:
            raise InvalidInput.from_messages(
                {"attended": [f"Not members of the group: {', '.join(strangers)}."]}
            )
        not_before("held_on", held_on, self.formed_on, "the group was formed")
        self._session_held(session_number=len(self.sessions) + 1, held_on=held_on,
                           attended=sorted(set(attended)), enrolled=len(self.members),
                           notes=notes)

    @event("SessionHeld")
    def _session_held(self, session_number: int, held_on: date, attended: list[str],
                      enrolled: int, notes: str | None) -> None:
        self.sessions.append({"session_number": session_number, "held_on": held_on,
                              "attended": list(attended), "enrolled": enrolled, "notes": notes})

    def evaluate(self, evaluated_on: date, goal_attainment: list[int], notes: str | None) -> None:
        self._require_open("evaluate the group")
        if not self.sessions:
            raise Conflict("Cannot evaluate the group yet: the missing step is a group session.",
                           code="missing_step", errors={"missing_step": ["session"]})
        not_before("evaluated_on", evaluated_on, self.sessions[-1]["held_on"], "the last session")
        self._evaluated(evaluated_on=evaluated_on, goal_attainment=goal_attainment, notes=notes)

    @event("Evaluated")
    def _evaluated(self, evaluated_on: date, goal_attainment: list[int],
                   notes: str | None) -> None:
        self.evaluation = {"evaluated_on": evaluated_on,
                           "goal_attainment": list(goal_attainment), "notes": notes}

    def close(self, closed_on: date) -> None:
        self._require_open("close the group")
        if self.evaluation is None:
            raise Conflict("Cannot close the group yet: the missing step is the group evaluation.",
                           code="missing_step", errors={"missing_step": ["group_evaluation"]})
        not_before("closed_on", closed_on, self.evaluation["evaluated_on"], "the evaluation")
        self._closed(closed_on=closed_on, sessions_held=len(self.sessions),
                     goal_attainment=self.evaluation["goal_attainment"])

    @event("Closed")
    def _closed(self, closed_on: date, sessions_held: int, goal_attainment: list[int]) -> None:
        self.status = "closed"
        self.closed_on = closed_on

    def _require_open(self, action: str) -> None:
        if self.status != "open":
            raise Conflict(f"The group is {self.status}: cannot {action}.", code="wrong_state")
