"""Who may see and do what in the cases service (DESIGN.md "Actors, access, privacy"), as
rules over an actor and a record; the application applies them."""

from __future__ import annotations

from contracts.errors import NotAllowed
from services.cases.domain import Case
from services.runtime.context import Actor
from services.runtime.domain import CasebookAggregate

# A social worker acts on the cases assigned to them; a supervisor on those of their supervisees
# (6.2.2.1), as supervision last said who supervises whom. A worker with no supervisor yet has
# no supervisor acting on their cases: the school admin assigns one first.
CASE_WRITERS = ("social_worker", "supervisor")
# Who may read a case's history (no personal content): its worker, the worker's supervisor,
# and the roles that keep and check records.
HISTORY_READERS = ("social_worker", "supervisor", "archivist", "auditor", "school_admin")


def school_in_scope(actor: Actor, school_id: str | None) -> str:
    school = school_id or actor.school_id
    if not school:
        raise NotAllowed("The actor has no school; give school_id.")
    if actor.school_id and school != actor.school_id:
        raise NotAllowed(f"The actor works for school {actor.school_id}, not {school}.")
    return school


def check_school(actor: Actor, record: CasebookAggregate, what: str) -> None:
    if actor.school_id and actor.school_id != record.school_id:  # type: ignore[attr-defined]
        raise NotAllowed(f"The {what} belongs to another school.")


def reads_without_grant(actor: Actor, case: Case) -> bool:
    """The case's own worker and the worker's supervisor (the only ones past
    `_history_readable_case` in those roles) read an open case's personal content directly; a
    closed case, or any other reader, goes through the archive's grants (9.4d)."""
    if case.status == "closed":
        return False
    if actor.role == "supervisor":
        return True
    return actor.role == "social_worker" and actor.id == case.social_worker_id
