"""Published envelopes for feeding the archive in unit tests, chained as a source would."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from contracts.envelope import GENESIS_HASH, envelope_id, seal
from contracts.registry import get as get_contract
from services.archive.app import ArchiveApplication
from services.runtime.clock import clock
from services.runtime.context import SYSTEM, acting_as
from services.runtime.persistence import Cursor


class Stream:
    """One source's stream: each `emit` makes the next envelope of its hash chain."""

    def __init__(self, source: str = "cases", school_id: str = "JD001",
                 hash_rule: str | None = None) -> None:
        self.source = source
        self.school_id = school_id
        self.hash_rule = hash_rule  # None: the first envelopes' rule, which most tests pin
        self.position = 0
        self.hash = GENESIS_HASH
        self.versions: dict[str, int] = {}

    def emit(self, type_: str, payload: dict[str, Any], aggregate_id: str | None = None,
             actor: dict[str, str] | None = None) -> dict[str, Any]:
        aggregate_id = aggregate_id or str(uuid.uuid4())
        self.versions[aggregate_id] = self.versions.get(aggregate_id, 0) + 1
        contract = get_contract(type_, 1)
        position = self.position + 1
        envelope = seal({
            "id": envelope_id(self.source, position),
            "type": type_,
            "version": 1,
            "source": self.source,
            "position": position,
            "prev_position": self.position,
            "aggregate_id": aggregate_id,
            "aggregate_version": self.versions[aggregate_id],
            "occurred_at": clock.now().astimezone(UTC).isoformat(),
            "actor": actor or {"id": "worker-1", "role": "social_worker"},
            "school_id": self.school_id,
            "correlation_id": str(uuid.uuid4()),
            "causation_id": None,
            "payload": contract.schema().dump(contract.schema().load(payload)),
            "prev_hash": self.hash,
            **({} if self.hash_rule is None else {"hash_rule": self.hash_rule}),
        })
        self.position, self.hash = position, envelope["hash"]
        return envelope


def feed(app: ArchiveApplication, *envelopes: dict[str, Any]) -> None:
    """Deliver envelopes to the ledger one at a time, as live deliveries that trickle in come."""
    feed_runs(app, *([envelope] for envelope in envelopes))


def feed_runs(app: ArchiveApplication, *runs: list[dict[str, Any]]) -> None:
    """Deliver runs of envelopes of one source to the ledger as a `batch=True` subscription
    would: each run planned from the cursor, skipping what it already holds."""
    for run in runs:
        if not run:
            continue
        head = app.cursor(run[0]["source"])
        fresh = [envelope for envelope in run if envelope["position"] > head.position]
        if not fresh:
            continue
        last = fresh[-1]
        with acting_as(SYSTEM):
            app.record_envelopes(fresh, Cursor(last["source"], last["position"], last["hash"],
                                               head.position))


class CasesStream(Stream):
    """The cases events an archive file is made of, in the words of the process."""

    def register_client(self, client_id: str, grade: int | None = 5, is_minor: bool = True,
                        client_type: str = "student") -> dict[str, Any]:
        return self.emit("ClientRegistered", {
            "client_id": client_id, "client_type": client_type, "grade": grade,
            "is_minor": is_minor, "guardian_count": 1 if is_minor else 0})

    def open_case(self, client_id: str, opened_on: date = date(2026, 9, 1)) -> dict[str, Any]:
        return self.emit("CaseOpened", {
            "client_id": client_id, "client_type": "student", "social_worker_id": "worker-1",
            "service_codes": ["7.1.3a"], "opened_on": opened_on.isoformat()})

    def accept_intake(self, case_id: str) -> dict[str, Any]:
        return self.emit("IntakeCompleted", {"case_id": case_id, "accepted_on": "2026-09-02",
                                             "emergency": False}, case_id)

    def intervene(self, case_id: str, on: str = "2026-09-10") -> dict[str, Any]:
        return self.emit("InterventionLogged", {
            "intervention_id": str(uuid.uuid4()), "form": "direct", "method": "case_work",
            "service_codes": ["7.1.3a"], "delivered_on": on, "duration_minutes": 45,
            "participant_count": 1}, case_id)

    def evaluate(self, case_id: str) -> dict[str, Any]:
        return self.emit("EvaluationRecorded", {
            "case_id": case_id, "kind": "outcome", "evaluated_on": "2026-10-20",
            "goal_attainment": [1], "satisfaction": 4}, case_id)

    def close_case(self, case_id: str, closed_on: date = date(2026, 10, 30)) -> dict[str, Any]:
        return self.emit("CaseClosed", {"reason": "goals_met", "closed_on": closed_on.isoformat(),
                                        "intervention_count": 1}, case_id)


def at(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)
