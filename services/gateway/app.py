"""The gateway's one piece of state: the idempotency store for retried commands.

It is an eventsourcing application like every service's, not a table of its own, because the
store then works the same on SQLite and PostgreSQL with no new code, and its optimistic
concurrency does the hard part: a key is reserved by creating an aggregate with an id derived
from (actor, key), so two requests racing with the same key cannot both reserve it, whichever
gateway instance they reach. Nothing here is published: the gateway has no contract events.

A record lives `CASEBOOK_IDEMPOTENCY_TTL_HOURS` (default 24); after that the key may be used
afresh. Responses kept here are those of commands (identifiers and states, never personal
content); with CIPHER_KEY set they are encrypted at rest like every stored event.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import event
from eventsourcing.persistence import IntegrityError

from contracts.errors import Conflict
from services.runtime.clock import clock
from services.runtime.context import Actor
from services.runtime.domain import CasebookAggregate
from services.runtime.store import CasebookApplication

NAMESPACE = uuid.UUID("6f0e4a53-3d0c-4c52-9a43-6b1f0c1b7e21")


def ttl() -> timedelta:
    return timedelta(hours=float(os.environ.get("CASEBOOK_IDEMPOTENCY_TTL_HOURS", "24")))


class IdempotentRequest(CasebookAggregate):
    """A command sent with an Idempotency-Key: the request it was, and its first response."""

    @event("Reserved")
    def __init__(
        self, id: uuid.UUID, school_id: str | None, fingerprint: str, reserved_at: datetime
    ) -> None:
        self.school_id = school_id
        self._reserve(fingerprint, reserved_at)

    def _reserve(self, fingerprint: str, reserved_at: datetime) -> None:
        self.fingerprint = fingerprint
        self.reserved_at = reserved_at
        self.response: dict[str, Any] | None = None
        self.released = False

    @event("ReservedAgain")
    def reserve_again(self, fingerprint: str, reserved_at: datetime) -> None:
        self._reserve(fingerprint, reserved_at)

    @event("Completed")
    def complete(self, status: int, body: Any) -> None:
        self.response = {"status": status, "body": body}

    @event("Released")
    def release(self) -> None:
        # The call failed in transport (no answer, a crash): a retry must be able to run it.
        self.released = True

    def expired(self, now: datetime) -> bool:
        return self.released or now - self.reserved_at >= ttl()


@dataclass(frozen=True)
class Replay:
    status: int
    body: Any


class IdempotencyApplication(CasebookApplication):
    service = "gateway"

    @staticmethod
    def record_id(actor: Actor, key: str) -> uuid.UUID:
        # The actor is part of the id: one caller's key can never replay another's response.
        return uuid.uuid5(NAMESPACE, f"{actor.id}\x1f{actor.role}\x1f{actor.school_id}\x1f{key}")

    def reserve(self, actor: Actor, key: str, fingerprint: str) -> Replay | None:
        """Reserve `key` for this request, or the first response if the request was made before.
        Raises Conflict if the key was used for another request or is still being handled.
        Call it acting as `actor`."""
        record_id = self.record_id(actor, key)
        now = clock.now()
        try:
            record: IdempotentRequest = self.repository.get(record_id)
        except AggregateNotFoundError:
            record = IdempotentRequest(
                id=record_id, school_id=actor.school_id, fingerprint=fingerprint, reserved_at=now
            )
        else:
            if record.expired(now):
                record.reserve_again(fingerprint, now)
            elif record.fingerprint != fingerprint:
                raise Conflict(
                    "This Idempotency-Key was used for a different request; use a new key.",
                    code="idempotency_key_reused",
                )
            elif record.response is None:
                raise _in_progress()
            else:
                return Replay(record.response["status"], record.response["body"])
        try:
            self.save(record)
        except IntegrityError:
            raise _in_progress() from None
        return None

    def complete(self, actor: Actor, key: str, status: int, body: Any) -> None:
        record: IdempotentRequest = self.repository.get(self.record_id(actor, key))
        record.complete(status, body)
        self.save(record)

    def release(self, actor: Actor, key: str) -> None:
        record: IdempotentRequest = self.repository.get(self.record_id(actor, key))
        record.release()
        self.save(record)


def _in_progress() -> Conflict:
    return Conflict(
        "A request with this Idempotency-Key is still being handled; retry shortly.",
        code="request_in_progress",
    )
