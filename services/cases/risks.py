"""The case's risk register (9.6a, 4.1, 8.3.1d): risks raised, their levels changed and
resolved, and disclosures despite confidentiality when a risk threatens life or safety.

The register is part of the Case aggregate (closing and life-safety work depend on it), written
here as a mixin. eventsourcing makes an event class only for the `@event` methods in an
aggregate's own class body, named after that class; so the mixin puts its event methods into
the body of the aggregate that includes it, and their stored topics stay the aggregate's
(`services.cases.domain:Case.RiskRaised`, as before the register had its own module).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import CommandMethodDecorator, event

from contracts.errors import Conflict, InvalidInput, NotAllowed
from services.cases.rules import LIVE, RISK_ORDER, not_before
from services.runtime.clock import local_date
from services.runtime.risk_policy import LEGACY_LIFE_SAFETY_LEVEL


def decided_life_safety(level: str, life_safety: bool | None) -> bool:
    """Whether a risk event found its risk threatening life or safety (4.1). Events recorded
    before the risk policy decided it carry None, and were judged by the one rule of that time."""
    return level == LEGACY_LIFE_SAFETY_LEVEL if life_safety is None else life_safety


class RiskRegister:
    if TYPE_CHECKING:
        # Set by the Case aggregate, which includes this mixin.
        opened_on: date
        social_worker_id: str
        risks: dict[str, dict[str, Any]]
        disclosures: list[dict[str, Any]]

        def _require_status(self, allowed: tuple[str, ...], action: str) -> None: ...

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Only into the aggregate that names this mixin as a base: an event method in two
        # aggregate classes would trigger the event class of the last one made.
        if RiskRegister in cls.__bases__:
            for name, value in vars(RiskRegister).items():
                if isinstance(value, CommandMethodDecorator):
                    setattr(cls, name, value)
        super().__init_subclass__(**kwargs)

    def has_life_safety_risk(self) -> bool:
        return any(
            risk["status"] == "open" and risk["life_safety"] for risk in self.risks.values()
        )

    def raise_risk(self, risk_id: str, risk_type: str, level: str, raised_on: date,
                   description: str | None, emergency: bool, life_safety: bool) -> None:
        """`life_safety`: whether the risk policy finds this type at this level a threat to
        life or safety; the decision is recorded with the risk, so replay never re-decides it."""
        self._require_status(LIVE, "raise a risk")
        not_before("raised_on", raised_on, self.opened_on, "the case was opened")
        self._risk_raised(risk_id=risk_id, risk_type=risk_type, level=level, raised_on=raised_on,
                          description=description, emergency=emergency,
                          social_worker_id=self.social_worker_id, life_safety=life_safety)

    @event("RiskRaised")
    def _risk_raised(self, risk_id: str, risk_type: str, level: str, raised_on: date,
                     description: str | None, emergency: bool, social_worker_id: str,
                     life_safety: bool | None = None) -> None:
        decided = decided_life_safety(level, life_safety)
        self.risks[risk_id] = {"risk_id": risk_id, "risk_type": risk_type, "level": level,
                               "status": "open", "raised_on": raised_on,
                               "description": description, "emergency": emergency,
                               "life_safety": decided, "reached_life_safety": decided,
                               "history": [{"level": level, "on": raised_on}],
                               "resolved_on": None, "resolution": None}

    def change_risk_level(self, risk_id: str, level: str, changed_on: date,
                          reason: str | None, life_safety: bool) -> None:
        risk = self._open_risk(risk_id)
        if level == risk["level"]:
            raise Conflict(f"The risk is already at level {level}.", code="conflict")
        not_before("changed_on", changed_on, risk["raised_on"], "the risk was raised")
        change = {"risk_id": risk_id, "risk_type": risk["risk_type"], "level": level,
                  "previous_level": risk["level"], "changed_on": changed_on, "reason": reason,
                  "social_worker_id": self.social_worker_id, "life_safety": life_safety}
        if RISK_ORDER.index(level) > RISK_ORDER.index(risk["level"]):
            self._risk_level_raised(**change)
        else:
            self._risk_level_lowered(**change)

    @event("RiskLevelRaised")
    def _risk_level_raised(self, risk_id: str, risk_type: str, level: str, previous_level: str,
                           changed_on: date, reason: str | None, social_worker_id: str,
                           life_safety: bool | None = None) -> None:
        self._apply_level(risk_id, level, changed_on, decided_life_safety(level, life_safety))

    @event("RiskLevelLowered")
    def _risk_level_lowered(self, risk_id: str, risk_type: str, level: str, previous_level: str,
                            changed_on: date, reason: str | None, social_worker_id: str,
                            life_safety: bool | None = None) -> None:
        self._apply_level(risk_id, level, changed_on, decided_life_safety(level, life_safety))

    def _apply_level(self, risk_id: str, level: str, changed_on: date,
                     life_safety: bool) -> None:
        risk = self.risks[risk_id]
        risk["level"] = level
        risk["life_safety"] = life_safety
        risk["reached_life_safety"] = risk["reached_life_safety"] or life_safety
        risk["history"].append({"level": level, "on": changed_on})

    def resolve_risk(self, risk_id: str, resolved_on: date, resolution: str | None) -> None:
        risk = self._open_risk(risk_id)
        not_before("resolved_on", resolved_on, risk["raised_on"], "the risk was raised")
        self._risk_resolved(risk_id=risk_id, resolved_on=resolved_on, resolution=resolution)

    @event("RiskResolved")
    def _risk_resolved(self, risk_id: str, resolved_on: date, resolution: str | None) -> None:
        self.risks[risk_id].update(status="resolved", resolved_on=resolved_on,
                                   resolution=resolution)

    def record_disclosure(self, disclosure_id: str, risk_id: str, recipient_kinds: list[str],
                          disclosed_at: datetime, details: str) -> None:
        risk = self.risks.get(risk_id)
        if risk is None:
            raise InvalidInput.from_messages({"risk_id": [f"No risk {risk_id} in this case."]})
        # 4.1 over 4.5: confidentiality yields only to a threat to life or safety.
        if not risk["reached_life_safety"]:
            raise NotAllowed(
                "Disclosure despite confidentiality needs a risk that threatens life or safety "
                f"(4.1, by the risk policy); this {risk['risk_type']} risk at level "
                f"{risk['level']} never did."
            )
        not_before("disclosed_at", local_date(disclosed_at), risk["raised_on"],
                   "the risk was raised")
        self._disclosure_recorded(disclosure_id=disclosure_id, risk_id=risk_id,
                                  recipient_kinds=recipient_kinds, disclosed_at=disclosed_at,
                                  details=details)

    @event("DisclosureRecorded")
    def _disclosure_recorded(self, disclosure_id: str, risk_id: str, recipient_kinds: list[str],
                             disclosed_at: datetime, details: str) -> None:
        self.disclosures.append({"disclosure_id": disclosure_id, "risk_id": risk_id,
                                 "recipient_kinds": list(recipient_kinds),
                                 "disclosed_at": disclosed_at, "details": details})

    def _open_risk(self, risk_id: str) -> dict[str, Any]:
        self._require_status(LIVE, "change a risk")
        risk = self.risks.get(risk_id)
        if risk is None:
            raise InvalidInput.from_messages({"risk_id": [f"No risk {risk_id} in this case."]})
        if risk["status"] != "open":
            raise Conflict("The risk is already resolved.", code="wrong_state")
        return risk
