"""The client register (9.2a, 5, 4.6): clients, their guardians and related parties, with every
personal detail sealed under the client; and whether a registered client is a minor, which the
case process asks at intake (4.2)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from contracts.errors import Conflict
from services.cases.access import CASE_WRITERS, CasesBase, check_school, school_in_scope
from services.cases.clients import ADULT_AGE, Client, age_on, check_new_client
from services.runtime.clock import clock
from services.runtime.context import require_role


class ClientRegister(CasesBase):
    def register_client(
        self,
        client_type: str,
        name: str,
        client_id: str | None = None,
        school_id: str | None = None,
        date_of_birth: date | None = None,
        grade: int | None = None,
        contact: str | None = None,
        guardians: list[dict[str, Any]] | None = None,
        related_parties: list[dict[str, Any]] | None = None,
    ) -> str:
        actor = require_role(*CASE_WRITERS)
        school = school_in_scope(actor, school_id)
        check_new_client(client_type, grade, date_of_birth)
        client_id = client_id or str(uuid.uuid4())
        if Client.create_id(client_id) in self.repository:
            raise Conflict(f"Client {client_id} is already registered.", code="conflict")
        self._require_not_destroyed(client_id)
        details = {"name": name, "date_of_birth": date_of_birth, "contact": contact}
        is_minor = date_of_birth is not None and age_on(date_of_birth, clock.today()) < ADULT_AGE
        client = Client(
            client_id=client_id,
            school_id=school,
            client_type=client_type,
            grade=grade,
            is_minor=is_minor,
            details=self.vault.seal(client_id, _json_ready(details)),
            guardians=[self.vault.seal(client_id, g) for g in guardians or []],
            related_parties=[
                {"kind": p["kind"], "details": self.vault.seal(client_id, p)}
                for p in related_parties or []
            ],
            registered_by=actor.id,
        )
        self._save(client)
        return client_id

    def add_guardian(self, client_id: str, **guardian: Any) -> None:
        client = self._writable_client(client_id)
        client.add_guardian(self.vault.seal(client_id, guardian))
        self._save(client)

    def add_related_party(self, client_id: str, kind: str, **party: Any) -> None:
        client = self._writable_client(client_id)
        client.add_related_party(kind, self.vault.seal(client_id, {"kind": kind, **party}))
        self._save(client)

    def _writable_client(self, client_id: str) -> Client:
        actor = require_role(*CASE_WRITERS)
        client = self._client(client_id)
        check_school(actor, client, "client")
        self._require_client_in_reach(actor, client)
        self._require_not_destroyed(client_id)
        return client

    def _is_minor(self, client: Client, on: date) -> bool:
        details = self.vault.open(client.details)
        born = details.get("date_of_birth") if isinstance(details, dict) else None
        if born is None:
            return False
        return age_on(date.fromisoformat(born), on) < ADULT_AGE


def _json_ready(details: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if isinstance(value, date) else value
            for key, value in details.items()}
