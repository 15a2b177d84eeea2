"""Who may see and change what: school scope for the register, and for records that belong to
a case (links, referrals) the same rule as the case itself (DESIGN.md "Actors, access,
privacy")."""

from __future__ import annotations

from contracts.errors import NotAllowed
from services.runtime.context import Actor


def school_in_scope(actor: Actor, school_id: str | None) -> str | None:
    school = school_id or actor.school_id
    if actor.school_id and school != actor.school_id:
        raise NotAllowed(f"The actor works for school {actor.school_id}, not {school}.")
    return school


def same_school(actor: Actor, school_id: str | None) -> bool:
    return actor.school_id is None or school_id is None or actor.school_id == school_id


def may_see_case_record(actor: Actor, school_id: str | None, started_by: str) -> bool:
    # Like the case itself: a worker sees what they started, others their school's.
    if actor.school_id and actor.school_id != school_id:
        return False
    return not (actor.role == "social_worker" and started_by != actor.id)


def check_case_record_access(actor: Actor, school_id: str | None, started_by: str) -> None:
    if actor.school_id and actor.school_id != school_id:
        raise NotAllowed("The case belongs to another school.")
    if actor.role == "social_worker" and started_by != actor.id:
        raise NotAllowed("The case's request was made by another social worker.")
