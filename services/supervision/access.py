"""Who may see and do what in the supervision service (DESIGN.md "Actors, access, privacy"), as
rules over an actor and a school; the application applies them."""

from __future__ import annotations

from collections.abc import Iterable

from contracts.errors import NotAllowed
from services.runtime.context import Actor

# The system actor is the subscription and the timer acting for the service itself.
SCHOOL_ADMINS = ("school_admin", "operator")
STAFF_MANAGERS = ("school_admin", "supervisor", "operator")
OVERSEERS = ("supervisor", "school_admin", "operator")
READERS = ("supervisor", "school_admin", "operator", "auditor")
# The roles that serve every school, with no school of their own: they read across schools.
EVERY_SCHOOL = ("operator", "auditor")
TIMEKEEPERS = ("system", "operator")
# 9.2c: the channel is open to everyone, through the staff who take complaints by phone, by
# letter or in person. Integrators read events only; auditors read and record nothing.
INTAKE_ROLES = ("social_worker", "supervisor", "school_admin", "operator")
EVALUATORS = ("social_worker", "supervisor", "school_admin", "operator")
# Who handles a complaint and so reads what it says; operators keep the process moving and see
# its metadata (status, dates, steps, time limits) without the sealed content.
CONTENT_READERS = ("supervisor", "school_admin")


def check_school_scope(actor: Actor, school_id: str | None) -> None:
    """An actor bound to a school acts only within it; operators and auditors have no school."""
    if actor.school_id and school_id != actor.school_id:
        raise NotAllowed(f"The actor works for school {actor.school_id}, not {school_id}.")


def check_any_school_scope(actor: Actor, school_ids: Iterable[str]) -> None:
    if actor.school_id and actor.school_id not in set(school_ids):
        raise NotAllowed(f"The actor works for school {actor.school_id}, which this record does "
                         "not belong to.")
