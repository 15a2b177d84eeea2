"""Risk escalation (T/JHSX 001—2026 9.6b, 4.1): the escalation aggregate.

9.6b asks for risk plans with emergency responses by risk type and impact level. The policy
(risk type × level → a ladder of steps, each a role that must acknowledge and the time it has;
and which risks threaten life or safety) is `services.runtime.risk_policy`, shared with cases,
which decides life safety by it. A `RiskEscalated` event from cases opens an escalation at the
first step; if nobody in that role (or a role further up the ladder) acknowledges in time, it
climbs to the next step.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.domain import event

from contracts.errors import Conflict, InvalidInput, NotAllowed
from contracts.events.supervision import acknowledgers
from services.runtime.domain import CasebookAggregate
from services.runtime.risk_policy import risk_policy

ESCALATION_NAMESPACE = uuid.UUID("a7d3c2b1-5e4f-4d6a-9b8c-1f2e3d4c5b6a")


def ladder_for(risk_type: str, level: str, life_safety: bool) -> list[dict[str, Any]]:
    return risk_policy().ladder(risk_type, level, life_safety)


def escalation_key(risk_id: str, level: str) -> uuid.UUID:
    return uuid.uuid5(ESCALATION_NAMESPACE, f"{risk_id}:{level}")


class Escalation(CasebookAggregate):
    """One risk at one level. A risk raised to a higher level opens a new escalation and
    supersedes the lower one, because the higher level has its own ladder."""

    @staticmethod
    def create_id(risk_id: str, level: str, **_: Any) -> uuid.UUID:
        return escalation_key(risk_id, level)

    @event("Opened")
    def __init__(
        self,
        school_id: str | None,
        risk_id: str,
        case_id: str,
        risk_type: str,
        level: str,
        life_safety: bool,
        social_worker_id: str,
        ladder: list[dict[str, Any]],
        opened_at: datetime,
    ) -> None:
        self.school_id = school_id
        self.risk_id = risk_id
        self.case_id = case_id
        self.risk_type = risk_type
        self.level = level
        self.life_safety = life_safety
        self.social_worker_id = social_worker_id
        self.ladder = [dict(step) for step in ladder]
        self.opened_at = opened_at
        self.step = 0
        self.step_started_at = opened_at
        self.status = "open"
        self.acknowledgement: dict[str, Any] | None = None
        self.resolution: dict[str, Any] | None = None

    @property
    def role(self) -> str:
        return str(self.ladder[self.step]["role"])

    @property
    def due_at(self) -> datetime:
        return self.step_started_at + timedelta(minutes=self.ladder[self.step]["minutes"])

    @property
    def first_due_at(self) -> datetime:
        return self.opened_at + timedelta(minutes=self.ladder[0]["minutes"])

    @property
    def awaiting_acknowledgement(self) -> bool:
        return self.status == "open" and self.acknowledgement is None

    def climb_overdue(self, now: datetime) -> int:
        """Climb one step per time limit that passed unacknowledged; each climb happens at the
        instant the limit ran out, so a timer that was down catches up to the same trail."""
        climbed = 0
        while (self.awaiting_acknowledgement and self.step + 1 < len(self.ladder)
               and self.due_at <= now):
            following = self.ladder[self.step + 1]
            self._climbed(from_role=self.role, to_role=following["role"], step=self.step + 2,
                          climbed_at=self.due_at,
                          due_at=self.due_at + timedelta(minutes=following["minutes"]))
            climbed += 1
        return climbed

    @event("Climbed")
    def _climbed(self, from_role: str, to_role: str, step: int, climbed_at: datetime,
                 due_at: datetime) -> None:
        self.step += 1
        self.step_started_at = climbed_at

    def acknowledge(self, actor_id: str, role: str, at: datetime) -> None:
        if not self.awaiting_acknowledgement:
            raise Conflict(f"The escalation is {self.state}: nothing to acknowledge.",
                           code="wrong_state")
        allowed = acknowledgers(self.ladder, self.step + 1)
        if role not in allowed:
            raise NotAllowed(f"This escalation waits for {self.role}; role {role!r} may not "
                             f"acknowledge it (allowed: {', '.join(sorted(allowed))}).")
        if role == "social_worker" and actor_id != self.social_worker_id:
            raise NotAllowed("Only the case's own social worker acknowledges at that step.")
        if at < self.opened_at:
            raise InvalidInput.from_messages(
                {"acknowledged_at": [f"Must not be before the escalation opened "
                                     f"({self.opened_at.isoformat()})."]})
        self._acknowledged(acknowledged_by=actor_id, role=role, step=self.step + 1,
                           acknowledged_at=at,
                           in_time=self.step == 0 and at <= self.first_due_at)

    @event("Acknowledged")
    def _acknowledged(self, acknowledged_by: str, role: str, step: int,
                      acknowledged_at: datetime, in_time: bool) -> None:
        self.acknowledgement = {"acknowledged_by": acknowledged_by, "role": role,
                                "acknowledged_at": acknowledged_at, "step": step,
                                "in_time": in_time}

    def take_action(self, action: str, at: datetime) -> None:
        if self.status != "open" or self.acknowledgement is None:
            raise Conflict(f"The escalation is {self.state}: acknowledge it before recording "
                           "actions.", code="wrong_state")
        self._action_taken(action=action, taken_at=at)

    @event("ActionTaken")
    def _action_taken(self, action: str, taken_at: datetime) -> None:
        pass

    def resolve(self, resolution: str, at: datetime) -> None:
        if self.status != "open":
            raise Conflict(f"The escalation is {self.state}.", code="wrong_state")
        # Only cases (risk resolved) or a higher escalation may close one nobody took charge of.
        if self.acknowledgement is None and resolution not in ("risk_resolved", "superseded"):
            raise Conflict("The escalation was never acknowledged: acknowledge it first.",
                           code="wrong_state")
        self._resolved(resolution=resolution, resolved_at=at)

    @event("Resolved")
    def _resolved(self, resolution: str, resolved_at: datetime) -> None:
        self.status = "resolved"
        self.resolution = {"resolution": resolution, "resolved_at": resolved_at}

    @property
    def state(self) -> str:
        if self.status != "open":
            return self.status
        return "acknowledged" if self.acknowledgement else "awaiting acknowledgement"


# The event classes are made by @event at runtime; mypy reads them through this untyped name.
EscalationEvents: Any = Escalation
