"""Risk escalations (9.6b, 4.1), quality findings and improvement actions (9.5, 10.3): the
commands people give, the queries they read, and the timer's duties on the settable clock."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date
from typing import Any

from eventsourcing.persistence import IntegrityError

from contracts.errors import InvalidInput, NotAllowed
from services.runtime.clock import clock
from services.runtime.context import Actor, current_actor, require_role
from services.runtime.plain import plain
from services.supervision.domain import SocialWorker, social_worker_key
from services.supervision.escalation import Escalation, EscalationEvents
from services.supervision.quality import (
    ActionEvents,
    Breach,
    CaseWatch,
    CaseWatchEvents,
    Finding,
    FindingEvents,
    ImprovementAction,
    LetterWatch,
    LetterWatchEvents,
    watch_key,
)
from services.supervision.settings import settings
from services.supervision.store import (
    OVERSEERS,
    READERS,
    TIMEKEEPERS,
    SupervisionStore,
    check_school_scope,
)

EVENT_BOOKKEEPING = ("originator_id", "originator_version", "originator_topic", "timestamp",
                     "meta")


class OversightDesk(SupervisionStore):
    # Escalations

    def acknowledge_escalation(self, escalation_id: str) -> dict[str, Any]:
        actor = current_actor()
        escalation = self._escalation(escalation_id)
        check_school_scope(actor, escalation.school_id)
        self._check_supervises(actor, escalation)
        escalation.acknowledge(actor.id, actor.role, clock.now())
        self.save(escalation)
        return plain(escalation.summary())

    def record_escalation_action(self, escalation_id: str, action: str) -> None:
        actor = require_role(*OVERSEERS, "social_worker")
        escalation = self._escalation(escalation_id)
        check_school_scope(actor, escalation.school_id)
        if actor.role == "social_worker" and actor.id != escalation.social_worker_id:
            raise NotAllowed("Only the case's own social worker records actions in it.")
        self._check_supervises(actor, escalation)
        escalation.take_action(action, clock.now())
        self.save(escalation)

    def resolve_escalation(self, escalation_id: str, resolution: str) -> None:
        actor = require_role(*OVERSEERS)
        escalation = self._escalation(escalation_id)
        check_school_scope(actor, escalation.school_id)
        self._check_supervises(actor, escalation)
        escalation.resolve(resolution, clock.now())
        self.save(escalation)

    def get_escalation(self, escalation_id: str) -> dict[str, Any]:
        escalation = self._readable_escalation(escalation_id)
        return plain(escalation.summary())

    def escalation_trail(self, escalation_id: str) -> list[dict[str, Any]]:
        """Everything that happened to one escalation, in order: opening, each climb, the
        acknowledgement, actions taken, the resolution, with when and who."""
        escalation = self._readable_escalation(escalation_id)
        trail = []
        for domain_event in self._history(escalation.id):
            details = {k: v for k, v in vars(domain_event).items() if k not in EVENT_BOOKKEEPING}
            actor = domain_event.meta["actor"]
            trail.append({"event": type(domain_event).__name__,
                          "at": domain_event.timestamp,
                          "version": domain_event.originator_version,
                          "actor": {"id": actor["id"], "role": actor["role"]},
                          "details": details})
        return plain(trail)

    def list_escalations(self, school_id: str, status: str | None = None) -> list[dict[str, Any]]:
        actor = require_role(*READERS, "social_worker")
        check_school_scope(actor, school_id)
        found = []
        for escalation in self._all(EscalationEvents.Opened, Escalation):
            if escalation.school_id != school_id:
                continue
            if actor.role == "social_worker" and escalation.social_worker_id != actor.id:
                continue
            if actor.role == "supervisor" and not self._supervises(actor, escalation):
                continue
            summary = escalation.summary()
            if status is None or summary["status"] == status:
                found.append(summary)
        return plain(found)

    def climb_overdue(self) -> list[str]:
        """Climb every unacknowledged escalation whose time limit passed on the clock; return the
        ids that climbed. Run by the timer; tests call it after `clock.set(...)`."""
        require_role(*TIMEKEEPERS)
        now = clock.now()
        climbed = []
        for escalation in self._all(EscalationEvents.Opened, Escalation):
            if escalation.climb_overdue(now):
                try:
                    self.save(escalation)
                except IntegrityError:
                    continue  # another instance climbed it at the same instant, the same way
                climbed.append(str(escalation.id))
        return climbed

    def overdue_escalations(self) -> dict[str, int]:
        """How many open escalations, by risk level, nobody acknowledged within their current
        step's time (9.6b): past the top of their ladder, or not climbed because the timer is
        not running. For the operators' metrics (services/runtime/metrics.py)."""
        now = clock.now()
        overdue = Counter(escalation.level
                          for escalation in self._all(EscalationEvents.Opened, Escalation)
                          if escalation.awaiting_acknowledgement and escalation.due_at <= now)
        return dict(overdue)

    def _escalation(self, escalation_id: str) -> Escalation:
        return self.get_aggregate(Escalation, escalation_id, "escalation")

    def _readable_escalation(self, escalation_id: str) -> Escalation:
        actor = require_role(*READERS, "social_worker")
        escalation = self._escalation(escalation_id)
        check_school_scope(actor, escalation.school_id)
        if actor.role == "social_worker" and actor.id != escalation.social_worker_id:
            raise NotAllowed("The escalation concerns another social worker's case.")
        self._check_supervises(actor, escalation)
        return escalation

    def _supervises(self, actor: Actor, escalation: Escalation) -> bool:
        """Whether the actor supervises the worker who has the case now (6.2.2.1): the one
        supervision watches since the last reassignment, or the one who raised the risk."""
        watch = self._find(watch_key("case", escalation.case_id))
        worker_id = watch.social_worker_id if isinstance(watch, CaseWatch) \
            else escalation.social_worker_id
        worker = self._find(social_worker_key(worker_id))
        return isinstance(worker, SocialWorker) and worker.supervisor_id == actor.id

    def _check_supervises(self, actor: Actor, escalation: Escalation) -> None:
        """A supervisor oversees the escalations of their supervisees' cases only; one whose
        worker has no supervisor is for the school admin and the operator."""
        if actor.role == "supervisor" and not self._supervises(actor, escalation):
            raise NotAllowed("The escalation concerns the case of a social worker whom "
                             f"{actor.id} does not supervise (6.2.2.1).")

    # Quality findings (9.5c)

    def raise_overdue_findings(self) -> list[str]:
        """Raise a finding for every control point whose deadline the clock has passed; return
        the new findings' ids. Run by the timer; tests call it after `clock.set(...)`."""
        require_role(*TIMEKEEPERS)
        today = clock.today()
        raised: list[str] = []
        current = settings()
        watches: list[CaseWatch | LetterWatch] = [
            *self._all(CaseWatchEvents.Started, CaseWatch),
            *self._all(LetterWatchEvents.Started, LetterWatch)]
        for watch in watches:
            findings = self.findings_for(watch, watch.breaches(current, today))
            if findings:
                try:
                    self.save(watch, *findings)
                except IntegrityError:
                    continue  # the cases stream or another instance raised them just now
                raised.extend(str(f.id) for f in findings)
        return raised

    def findings_for(self, watch: CaseWatch | LetterWatch,
                     breaches: list[Breach]) -> list[Finding]:
        """New findings for `breaches`, noted on the watch so that none is raised twice."""
        if not breaches:
            return []
        is_case = isinstance(watch, CaseWatch)
        subject_id = watch.case_id if isinstance(watch, CaseWatch) else watch.letter_id
        findings = [
            Finding(school_id=watch.school_id, subject_id=subject_id, key=b.key,
                    control_point=b.control_point,
                    case_id=subject_id if is_case else None,
                    letter_id=None if is_case else subject_id,
                    social_worker_id=watch.social_worker_id if isinstance(watch, CaseWatch)
                    else None,
                    due_on=b.due_on, detected_on=b.detected_on)
            for b in breaches]
        watch.findings_noted(keys=[b.key for b in breaches])
        return findings

    def list_findings(self, school_id: str, status: str | None = None) -> list[dict[str, Any]]:
        check_school_scope(require_role(*READERS), school_id)
        return plain([f.summary() for f in self._all(FindingEvents.Raised, Finding)
                      if f.school_id == school_id and (status is None or f.status == status)])

    # Improvement actions (10.3)

    def open_improvement_action(self, finding_id: str, owner_id: str, plan: str,
                                due_on: date) -> str:
        actor = require_role(*OVERSEERS)
        finding = self.get_aggregate(Finding, finding_id, "finding")
        check_school_scope(actor, finding.school_id)
        today = clock.today()
        ImprovementAction.check_due(today, due_on)
        action_id = str(uuid.uuid4())
        finding.start_improvement(action_id)
        action = ImprovementAction(action_id=action_id, school_id=finding.school_id,
                                   finding_id=finding_id, owner_id=owner_id, plan=plan,
                                   opened_on=today, due_on=due_on)
        self.save(finding, action)
        return action_id

    def complete_improvement_action(self, action_id: str, result: str,
                                    completed_on: date | None = None) -> None:
        actor = require_role(*OVERSEERS)
        action = self.get_aggregate(ImprovementAction, action_id, "improvement action")
        check_school_scope(actor, action.school_id)
        completed_on = completed_on or clock.today()
        if completed_on > clock.today():
            raise InvalidInput.from_messages(
                {"completed_on": [f"Must not be in the future ({completed_on})."]})
        action.complete(completed_on, result)
        finding = self.get_aggregate(Finding, action.finding_id, "finding")
        finding.addressed(addressed_on=completed_on)
        self.save(action, finding)

    def list_improvement_actions(self, school_id: str) -> list[dict[str, Any]]:
        check_school_scope(require_role(*READERS), school_id)
        return plain([a.summary() for a in self._all(ActionEvents.Opened, ImprovementAction)
                      if a.school_id == school_id])
