"""Volunteer management (9.3b): registration, background checks, assignments and time served.

Only a volunteer whose latest background check passed and has not expired may work with
students: an assignment with students, or hours logged on one, is refused otherwise. The latest
check decides, so a failed re-check withdraws an earlier clearance.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from eventsourcing.domain import event

from contracts.errors import InvalidInput, NotAllowed, NotFound
from services.runtime.domain import CasebookAggregate


class Volunteer(CasebookAggregate):
    @event("Registered")
    def __init__(
        self,
        id: uuid.UUID,
        school_id: str | None,
        sealed_details: str,
        skills: list[str],
        registered_on: date,
    ) -> None:
        self.school_id = school_id
        self.sealed_details = sealed_details
        self.skills = list(skills)
        self.registered_on = registered_on
        self.checks: list[dict[str, Any]] = []
        self.assignments: dict[str, dict[str, Any]] = {}
        # Time served, in whole minutes: no floats in events or views (DESIGN.md "Events").
        self.served: list[dict[str, Any]] = []

    @property
    def latest_check(self) -> dict[str, Any] | None:
        if not self.checks:
            return None
        # Stable sort: of two checks on one day, the one recorded later wins.
        return sorted(self.checks, key=lambda check: check["checked_on"])[-1]

    def clearance_problem(self, day: date) -> str | None:
        """Why the volunteer may not work with students on `day`, or None if they may."""
        check = self.latest_check
        if check is None:
            return "has no background check on record"
        if check["result"] != "passed":
            return f"failed the latest background check ({check['checked_on'].isoformat()})"
        if day > check["expires_on"]:
            return f"has a background check that expired on {check['expires_on'].isoformat()}"
        if day < check["checked_on"]:
            return f"was not checked yet on {day.isoformat()}"
        return None

    def check_state(self, day: date) -> str:
        """The latest check as a word: unchecked, failed, expired, or cleared."""
        check = self.latest_check
        if check is None:
            return "unchecked"
        if check["result"] != "passed":
            return "failed"
        return "expired" if day > check["expires_on"] else "cleared"

    def record_check(self, result: str, checked_on: date, expires_on: date, today: date) -> None:
        if checked_on > today:
            raise InvalidInput.from_messages({"checked_on": ["Must not be in the future."]})
        if expires_on <= checked_on:
            raise InvalidInput.from_messages({"expires_on": ["Must be after checked_on."]})
        self._check_recorded(result=result, checked_on=checked_on, expires_on=expires_on)

    @event("CheckRecorded")
    def _check_recorded(self, result: str, checked_on: date, expires_on: date) -> None:
        self.checks.append(
            {"result": result, "checked_on": checked_on, "expires_on": expires_on}
        )

    def assign(
        self,
        assignment_id: str,
        activity_id: str,
        activity_kind: str,
        with_students: bool,
        starts_on: date,
        today: date,
    ) -> None:
        if with_students:
            # Cleared now, and still cleared when the work starts.
            for day in (today, max(today, starts_on)):
                problem = self.clearance_problem(day)
                if problem:
                    raise NotAllowed(
                        f"Volunteer {self.id} {problem} (on {day.isoformat()}): they cannot "
                        "be assigned to work with students.",
                        code="check_required",
                    )
        self._assigned(
            assignment_id=assignment_id, activity_id=activity_id, activity_kind=activity_kind,
            with_students=with_students, starts_on=starts_on,
        )

    @event("Assigned")
    def _assigned(
        self,
        assignment_id: str,
        activity_id: str,
        activity_kind: str,
        with_students: bool,
        starts_on: date,
    ) -> None:
        self.assignments[assignment_id] = {
            "assignment_id": assignment_id,
            "activity_id": activity_id,
            "activity_kind": activity_kind,
            "with_students": with_students,
            "starts_on": starts_on,
        }

    def log_time(self, assignment_id: str, served_on: date, minutes: int, today: date) -> None:
        assignment = self.assignments.get(assignment_id)
        if assignment is None:
            raise NotFound(f"Volunteer {self.id} has no assignment {assignment_id}.")
        if served_on > today:
            raise InvalidInput.from_messages({"served_on": ["Must not be in the future."]})
        if served_on < assignment["starts_on"]:
            raise InvalidInput.from_messages(
                {"served_on": [
                    f"Must not be before the assignment starts ({assignment['starts_on']})."
                ]}
            )
        if assignment["with_students"]:
            problem = self.clearance_problem(served_on)
            if problem:
                raise NotAllowed(
                    f"Volunteer {self.id} {problem} (on {served_on.isoformat()}): hours with "
                    "students cannot be served without a valid check.",
                    code="check_required",
                )
        self._minutes_logged(assignment_id=assignment_id, served_on=served_on, minutes=minutes)

    @event("MinutesLogged")
    def _minutes_logged(self, assignment_id: str, served_on: date, minutes: int) -> None:
        self.served.append(
            {"assignment_id": assignment_id, "served_on": served_on, "minutes": minutes})

    @event("HoursLogged")
    def _hours_logged(self, assignment_id: str, served_on: date, hours: float) -> None:
        # Time logged before whole minutes: no longer triggered, its stored events still load
        # (and publish with the hours they hold); the record keeps the nearest minute.
        self.served.append({"assignment_id": assignment_id, "served_on": served_on,
                            "minutes": minutes_of(hours)})

    @property
    def total_minutes(self) -> int:
        return sum(entry["minutes"] for entry in self.served)


def minutes_of(hours: float) -> int:
    """Hours as a v1 event gave them, in whole minutes."""
    return round(hours * 60)
