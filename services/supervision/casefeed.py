"""What supervision does with the cases stream: it keeps the dates of each case's process steps
(for the 9.5 control points), the §7 codes of delivered services (for the compliance report),
and opens and closes risk escalations (9.6b).

Handlers are pure functions of the envelope and the store: everything they produce is saved with
the cursor in one transaction (`save_processed`), so each envelope has its effect exactly once.
Events that concern supervision in no way return nothing; the runtime then moves the cursor alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from contracts.events.cases import RISK_LEVELS
from services.runtime.persistence import Cursor
from services.supervision.escalation import Escalation, escalation_key, ladder_for
from services.supervision.oversight import OversightDesk
from services.supervision.quality import CaseWatch, Delivery, LetterWatch, watch_key
from services.supervision.settings import settings

Produced = list[Any]


def _day(value: str) -> date:
    return date.fromisoformat(value)


class CaseFeed(OversightDesk):
    def handle_cases_event(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        handler = self._case_handlers().get(envelope["type"])
        if handler is None:
            return
        produced = [a for a in handler(envelope) if a is not None]
        if produced:
            self.save_processed(*produced, cursor=cursor)

    def _case_handlers(self) -> dict[str, Callable[[dict[str, Any]], Produced]]:
        def step(apply: Callable[[CaseWatch, dict[str, Any]], None]) -> Callable[
                [dict[str, Any]], Produced]:
            return lambda envelope: self._case_step(envelope, apply)

        return {
            "CaseOpened": self._case_opened,
            "IntakeCompleted": step(lambda w, p: w.intake_accepted(
                accepted_on=_day(p["accepted_on"]))),
            "IntakeDeclined": step(lambda w, p: w.declined(declined_on=_day(p["declined_on"]))),
            "AssessmentRecorded": step(lambda w, p: w.assessed(
                assessed_on=_day(p["assessed_on"]))),
            "PlanAdopted": step(lambda w, p: w.plan_adopted(adopted_on=_day(p["adopted_on"]))),
            "InterventionLogged": self._intervention_logged,
            "EvaluationRecorded": step(lambda w, p: w.evaluated(kind=p["kind"])),
            "CaseClosed": step(lambda w, p: w.closed(closed_on=_day(p["closed_on"]))),
            "CaseReopened": step(lambda w, p: w.reopened(reopened_on=_day(p["reopened_on"]))),
            "CaseReassigned": step(lambda w, p: w.reassigned(
                social_worker_id=p["to_social_worker_id"])),
            "FollowUpScheduled": step(lambda w, p: w.follow_up_scheduled(
                follow_up_id=p["follow_up_id"], due_on=_day(p["due_on"]))),
            "FollowUpRecorded": step(lambda w, p: w.follow_up_done(
                follow_up_id=p["follow_up_id"], done_on=_day(p["done_on"]))),
            "LetterReceived": self._letter_received,
            "LetterAnswered": self._letter_answered,
            "GroupFormed": lambda e: [self._delivery(e, "group", e["payload"]["group_id"], None,
                                                     e["payload"]["formed_on"])],
            "ClassHeld": lambda e: [self._delivery(e, "class", e["payload"]["class_id"], None,
                                                   e["payload"]["held_on"])],
            "RiskEscalated": self._risk_escalated,
            "RiskResolved": self._risk_resolved,
        }

    # Cases and their control points (9.5c)

    def _case_opened(self, envelope: dict[str, Any]) -> Produced:
        payload = envelope["payload"]
        case_id = envelope["aggregate_id"]
        if self._find(watch_key("case", case_id)) is not None:
            return []
        return [CaseWatch(school_id=envelope["school_id"], case_id=case_id,
                          social_worker_id=payload["social_worker_id"],
                          opened_on=_day(payload["opened_on"]))]

    def _case_step(self, envelope: dict[str, Any],
                   apply: Callable[[CaseWatch, dict[str, Any]], None]) -> Produced:
        payload = envelope["payload"]
        watch = self._find(watch_key("case", payload.get("case_id") or envelope["aggregate_id"]))
        if not isinstance(watch, CaseWatch):
            return []
        apply(watch, payload)
        return [watch, *self.findings_for(watch, watch.breaches(settings(), None))]

    def _intervention_logged(self, envelope: dict[str, Any]) -> Produced:
        payload = envelope["payload"]
        delivered_on = _day(payload["delivered_on"])
        produced = self._case_step(
            envelope, lambda w, p: w.intervention_noted(delivered_on=delivered_on))
        return [*produced, self._delivery(envelope, "intervention", payload["intervention_id"],
                                          envelope["aggregate_id"], payload["delivered_on"])]

    def _letter_received(self, envelope: dict[str, Any]) -> Produced:
        payload = envelope["payload"]
        if self._find(watch_key("letter", payload["letter_id"])) is not None:
            return []
        return [LetterWatch(school_id=envelope["school_id"], letter_id=payload["letter_id"],
                            received_on=_day(payload["received_on"]))]

    def _letter_answered(self, envelope: dict[str, Any]) -> Produced:
        payload = envelope["payload"]
        watch = self._find(watch_key("letter", payload["letter_id"]))
        if not isinstance(watch, LetterWatch):
            return []
        watch.answered(answered_on=_day(payload["answered_on"]))
        return [watch, *self.findings_for(watch, watch.breaches(settings(), None))]

    def _delivery(self, envelope: dict[str, Any], kind: str, item_id: str, case_id: str | None,
                  delivered_on: str) -> Delivery | None:
        if self._find_delivery(kind, item_id):
            return None
        return Delivery(school_id=envelope["school_id"], kind=kind, item_id=item_id,
                        case_id=case_id, service_codes=list(envelope["payload"]["service_codes"]),
                        delivered_on=_day(delivered_on))

    def _find_delivery(self, kind: str, item_id: str) -> bool:
        return self._find(Delivery.create_id(kind, item_id)) is not None

    # Risks (9.6b, 4.1)

    def _risk_escalated(self, envelope: dict[str, Any]) -> Produced:
        payload = envelope["payload"]
        risk_id, level = payload["risk_id"], payload["level"]
        if self._find(escalation_key(risk_id, level)) is not None:
            return []
        opened_at = datetime.fromisoformat(envelope["occurred_at"])
        escalation = Escalation(
            school_id=envelope["school_id"], risk_id=risk_id, case_id=payload["case_id"],
            risk_type=payload["risk_type"], level=level, life_safety=payload["life_safety"],
            social_worker_id=payload["social_worker_id"],
            ladder=ladder_for(payload["risk_type"], level, payload["life_safety"]),
            opened_at=opened_at)
        # The risk's lower-level escalations give way to this one and its faster ladder.
        superseded = self._open_escalations(risk_id, exclude=level)
        for lower in superseded:
            lower.resolve("superseded", opened_at)
        return [escalation, *superseded]

    def _risk_resolved(self, envelope: dict[str, Any]) -> Produced:
        payload = envelope["payload"]
        resolved_at = datetime.fromisoformat(envelope["occurred_at"])
        escalations = self._open_escalations(payload["risk_id"])
        for escalation in escalations:
            escalation.resolve("risk_resolved", resolved_at)
        return list(escalations)

    def _open_escalations(self, risk_id: str, exclude: str | None = None) -> list[Escalation]:
        found = []
        for level in RISK_LEVELS:
            escalation = self._find(escalation_key(risk_id, level))
            if level != exclude and isinstance(escalation, Escalation) and \
                    escalation.status == "open":
                found.append(escalation)
        return found
