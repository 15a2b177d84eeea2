"""Who may do and see what: the roles of each kind of work, school scope for the register, and
for records that belong to a case (links, referrals) the same rule as the case itself (DESIGN.md
"Actors, access, privacy"). Lists apply the same rules in SQL (`views.py`)."""

from __future__ import annotations

from contracts.errors import NotAllowed
from services.runtime.context import Actor

# Who keeps the register and the volunteers: the school's social-work team and its admin.
MANAGERS = ("social_worker", "supervisor", "school_admin")
# Clearing volunteers to work with students is a supervisor's or the school's decision.
CHECKERS = ("supervisor", "school_admin")
# Auditors read the register without personal fields.
REGISTER_READERS = (*MANAGERS, "auditor")
# Who may read names and contacts of providers and volunteers: the school's own team.
PERSONAL_READERS = MANAGERS
FEEDBACK_ISSUERS = ("supervisor", "school_admin")
FEEDBACK_READERS = (*FEEDBACK_ISSUERS, "auditor")
# Links and referrals belong to cases: their workers and supervisors act on them.
LINK_WORKERS = ("social_worker", "supervisor")
LINK_READERS = (*LINK_WORKERS, "school_admin")


def in_scope(actor: Actor, school_id: str | None) -> bool:
    """A record of `school_id` is the actor's to see: their school's, or any for an actor bound
    to no school (the runtime's `Actor` refuses a school-scoped role without one)."""
    return actor.school_id is None or actor.school_id == school_id


def school_in_scope(actor: Actor, school_id: str | None) -> str | None:
    """The school a command or report is for: the one named, else the actor's own; another
    school than the actor's is refused."""
    school = school_id or actor.school_id
    if actor.school_id and school != actor.school_id:
        raise NotAllowed(f"The actor works for school {actor.school_id}, not {school}.")
    return school


def check_case_record_access(actor: Actor, school_id: str | None, started_by: str) -> None:
    # Like the case itself: a worker acts on what they started, others on their school's.
    if not in_scope(actor, school_id):
        raise NotAllowed("The case belongs to another school.")
    if actor.role == "social_worker" and started_by != actor.id:
        raise NotAllowed("The case's request was made by another social worker.")
