"""The cases application: commands and queries in plain types."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from contracts.errors import NotAllowed, NotFound
from services.cases.domain import Case
from services.runtime.context import Actor, current_actor, require_role
from services.runtime.store import CasebookApplication

CASE_WRITERS = ("social_worker", "supervisor")


class CasesApplication(CasebookApplication):
    service = "cases"

    def open_case(
        self,
        client_id: str,
        client_type: str,
        social_worker_id: str,
        service_codes: list[str],
        opened_on: date,
        school_id: str | None = None,
    ) -> str:
        actor = require_role(*CASE_WRITERS)
        school_id = _school_in_scope(actor, school_id)
        if actor.role == "social_worker" and social_worker_id != actor.id:
            raise NotAllowed(
                "A social worker opens cases for themselves; a supervisor assigns to others."
            )
        case = Case(
            school_id=school_id,
            client_id=client_id,
            client_type=client_type,
            social_worker_id=social_worker_id,
            service_codes=service_codes,
            opened_on=opened_on,
        )
        self.save(case)
        return str(case.id)

    def log_intervention(self, case_id: str, **intervention: Any) -> str:
        case = self._writable_case(case_id)
        intervention_id = str(uuid.uuid4())
        case.log_intervention(intervention_id=intervention_id, **intervention)
        self.save(case)
        return intervention_id

    def close_case(self, case_id: str, reason: str, closed_on: date, summary: str) -> None:
        case = self._writable_case(case_id)
        case.close(reason=reason, closed_on=closed_on, summary=summary)
        self.save(case)

    def get_case(self, case_id: str) -> dict[str, Any]:
        case = self._readable_case(case_id)
        return {
            "case_id": str(case.id),
            "version": case.version,
            "school_id": case.school_id,
            "client_id": case.client_id,
            "client_type": case.client_type,
            "social_worker_id": case.social_worker_id,
            "service_codes": case.service_codes,
            "opened_on": case.opened_on,
            "status": case.status,
            "interventions": case.interventions,
            "closing": case.closing,
        }

    def _load(self, case_id: str) -> Case:
        try:
            case: Case = self.repository.get(UUID(str(case_id)))
        except (AggregateNotFoundError, ValueError):
            raise NotFound(f"No case {case_id}.") from None
        return case

    def _readable_case(self, case_id: str) -> Case:
        actor = current_actor()
        case = self._load(case_id)
        _check_case_access(actor, case)
        return case

    def _writable_case(self, case_id: str) -> Case:
        actor = require_role(*CASE_WRITERS)
        case = self._load(case_id)
        _check_case_access(actor, case)
        return case


def _school_in_scope(actor: Actor, school_id: str | None) -> str:
    school = school_id or actor.school_id
    if not school:
        raise NotAllowed("The actor has no school; give school_id.")
    if actor.school_id and school != actor.school_id:
        raise NotAllowed(f"The actor works for school {actor.school_id}, not {school}.")
    return school


def _check_case_access(actor: Actor, case: Case) -> None:
    # A worker sees the cases assigned to them; supervisors and archivists their school's.
    if actor.school_id and actor.school_id != case.school_id:
        raise NotAllowed("The case belongs to another school.")
    if actor.role == "social_worker" and case.social_worker_id != actor.id:
        raise NotAllowed("The case is assigned to another social worker.")
    if actor.role not in ("social_worker", "supervisor", "archivist", "school_admin"):
        raise NotAllowed(f"Role {actor.role!r} may not read case records.")
