"""The audit ledger: every envelope of every service, as it arrived (DESIGN.md "Events").

Each envelope is its own small aggregate, keyed by (source, position), so appending never loads
history and a second copy of the same envelope cannot be stored. A break in a source's chain is
recorded beside it as an alarm: the ledger keeps what it was given and says what is wrong.
"""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import event

from services.runtime.domain import CasebookAggregate

LEDGER_NAMESPACE = uuid.UUID("3c1f5d0a-6a7e-4f0e-9d7b-2b1e8c4a9f10")


def ledger_entry_id(source: str, position: int) -> uuid.UUID:
    return uuid.uuid5(LEDGER_NAMESPACE, f"entry:{source}:{position}")


def chain_alarm_id(source: str, position: int) -> uuid.UUID:
    return uuid.uuid5(LEDGER_NAMESPACE, f"alarm:{source}:{position}")


class LedgerEntry(CasebookAggregate):
    @staticmethod
    def create_id(source: str, position: int, **_: Any) -> uuid.UUID:
        return ledger_entry_id(source, position)

    @event("Recorded")
    def __init__(self, source: str, position: int, envelope: dict[str, Any]) -> None:
        self.school_id = envelope.get("school_id")
        self.source = source
        self.position = position
        self.envelope = envelope


class ChainAlarm(CasebookAggregate):
    @staticmethod
    def create_id(source: str, position: int, **_: Any) -> uuid.UUID:
        return chain_alarm_id(source, position)

    @event("Raised")
    def __init__(
        self,
        source: str,
        position: int,
        expected_prev_position: int,
        expected_prev_hash: str,
        problems: list[str],
    ) -> None:
        self.school_id = None
        self.source = source
        self.position = position
        self.expected_prev_position = expected_prev_position
        self.expected_prev_hash = expected_prev_hash
        self.problems = list(problems)


class LedgerCheckpoint(CasebookAggregate):
    """A signed statement of the ledger: the head of every source chain and the number of
    entries, through ledger notification `through`. Keyed by its sequence number, so two
    instances signing at once cannot both store checkpoint n."""

    @staticmethod
    def create_id(sequence: int, **_: Any) -> uuid.UUID:
        return uuid.uuid5(LEDGER_NAMESPACE, f"checkpoint:{sequence}")

    @event("Signed")
    def __init__(
        self,
        sequence: int,
        entry_count: int,
        through: int,
        heads: list[dict[str, Any]],
        signed_at: str,
        key_id: str,
        public_key: str,
        signature: str,
    ) -> None:
        self.school_id = None
        self.sequence = sequence
        self.entry_count = entry_count
        self.through = through
        self.heads = heads
        self.signed_at = signed_at
        self.key_id = key_id
        self.public_key = public_key
        self.signature = signature


class LedgerVerification(CasebookAggregate):
    """A verification of the ledger as it was answered to whoever asked for it: when it was
    checked, how far (everything, or what follows a signed checkpoint), whether against the
    sources' own stores, and the whole report, every problem at its position. Kept so that a
    verification is itself on the record (who checked the ledger, when, and what they were
    told), and a failed one can be shown again after the page that ran it is closed. Each is
    its own aggregate, a new id each time: a command carried out once keeps one."""

    @event("Reported")
    def __init__(self, verified_by: str, report: dict[str, Any]) -> None:
        self.school_id = None
        self.verified_by = verified_by
        self.report = report
