"""The conditions of the resources service's lists in SQL: who sees which rows (the same rules
as `access.py`), and the filters a caller may give. Table names in braces, parameters as
`:name` (`services.runtime.views`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.runtime.context import Actor

# A provider serves a school it was registered with, every school when registered with none,
# and each school one of its resources covers (docs/permissions.md).
SERVES = ("(p.school_id IS NULL OR p.school_id = :scope OR EXISTS (SELECT 1 FROM "
          "{resource_school} rs WHERE rs.provider_id = p.provider_id AND rs.school_id = :scope))")
# A resource is seen by the schools it covers and by the school that registered it.
RESOURCE_SEEN = ("(r.school_id = :scope OR EXISTS (SELECT 1 FROM {resource_school} rs "
                 "WHERE rs.resource_id = r.resource_id AND rs.school_id = :scope))")
# A resource's eligibility: no codes means any request; otherwise one of its codes.
ELIGIBLE_FOR = ("(NOT EXISTS (SELECT 1 FROM {{resource_code}} c WHERE c.resource_id = "
                "r.resource_id) OR EXISTS (SELECT 1 FROM {{resource_code}} c WHERE "
                "c.resource_id = r.resource_id AND c.service_code IN ({codes})))")
VALID_ON = ("r.valid_from <= :{day} AND (r.valid_until IS NULL OR r.valid_until >= :{day})")
# A volunteer's clearance to work with students today, from the latest check (9.3b), as
# `Volunteer.check_state` says it.
CHECK_STATE = ("CASE WHEN v.check_result IS NULL THEN 'unchecked' "
               "WHEN v.check_result <> 'passed' THEN 'failed' "
               "WHEN v.check_expires_on < :today THEN 'expired' ELSE 'cleared' END")


class Filters:
    """The WHERE conditions of one list and their parameters; a filter the caller left out
    (None) does not filter."""

    def __init__(self, condition: str | None = None, **params: Any) -> None:
        self.where: list[str] = []
        self.params: dict[str, Any] = {}
        if condition is not None:
            self.add(condition, **params)

    def add(self, condition: str, **params: Any) -> None:
        self.where.append(condition)
        self.params.update(params)

    def given(self, value: Any, condition: str, name: str) -> None:
        """`condition` on `:name`, when the caller gave a value for it."""
        if value is not None:
            self.add(condition, **{name: iso(value)})

    def equal(self, alias: str, **values: Any) -> None:
        """Each column of `alias` equal to the value given for it."""
        for name, value in values.items():
            self.given(value, f"{alias}.{name} = :{name}", name)

    def period(self, column: str, name: str, start: date | None, end: date | None) -> None:
        """`column` (an ISO date) from `start` to `end`, both included."""
        self.given(start, f"{column} >= :{name}_from", f"{name}_from")
        self.given(end, f"{column} <= :{name}_to", f"{name}_to")


def serving(school_id: str | None) -> Filters:
    """The providers a school uses; every provider for no school."""
    return Filters() if school_id is None else Filters(SERVES, scope=school_id)


def of_school(actor: Actor, alias: str) -> Filters:
    """Records of the actor's school; every school's for an actor bound to none."""
    return (Filters() if actor.school_id is None
            else Filters(f"{alias}.school_id = :scope", scope=actor.school_id))


def of_case(actor: Actor, alias: str, started_by: str) -> Filters:
    # Like the case itself: a worker sees what they started, others their school's.
    filters = of_school(actor, alias)
    if actor.role == "social_worker":
        filters.add(f"{alias}.{started_by} = :worker", worker=actor.id)
    return filters


def donations_of(actor: Actor, provider_id: str | None = None, kind: str | None = None,
               currency: str | None = None, school_id: str | None = None,
               received_from: date | None = None, received_to: date | None = None,
               restricted: bool | None = None) -> Filters:
    filters = of_school(actor, "d")
    filters.equal("d", provider_id=provider_id, kind=kind, currency=currency,
                  school_id=school_id, restricted=restricted)
    filters.period("d.received_on", "received", received_from, received_to)
    return filters


def iso(value: Any) -> Any:
    """Dates as ISO text, which sorts; everything else as it is."""
    return value.isoformat() if isinstance(value, date) else value
