"""The gateway's one piece of state: the idempotency store for retried commands.

It is an eventsourcing application like every service's, not a table of its own, because the
store then works the same on SQLite and PostgreSQL with no new code, and its optimistic
concurrency does the hard part: a key is reserved by creating an aggregate with an id derived
from (actor, key), so two requests racing with the same key cannot both reserve it, whichever
gateway instance they reach. Nothing here is published: the gateway has no contract events.

Each attempt at the command gets its own command id, stored with its deadline before the
command is sent; the service carries a command id out at most once and never after its deadline
(services/runtime/commands.py). So a request that got no answer, even one whose gateway crashed
mid-way, is settled by asking the service what became of that command id: its outcome, or
"abandoned", after which a retry makes a new attempt. A key is never stuck.

A record lives `CASEBOOK_IDEMPOTENCY_TTL_HOURS` (default 24); after that the key may be used
afresh. Responses kept here are those of commands (identifiers and states, never personal
content); with CIPHER_KEY set they are encrypted at rest like every stored event.
"""

from __future__ import annotations

import math
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
from services.runtime.settings import settings
from services.runtime.store import CasebookApplication

NAMESPACE = uuid.UUID("6f0e4a53-3d0c-4c52-9a43-6b1f0c1b7e21")


def ttl() -> timedelta:
    return timedelta(hours=settings().gateway.idempotency_ttl_hours)


class IdempotentRequest(CasebookAggregate):
    """A command sent with an Idempotency-Key: the request it was, the attempt now under way
    (its command id and deadline: what settles it if no answer came), and its first response."""

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
        self.command_id: str | None = None
        self.deadline: float | None = None
        self.unanswered = False

    @event("ReservedAgain")
    def reserve_again(self, fingerprint: str, reserved_at: datetime) -> None:
        self._reserve(fingerprint, reserved_at)

    @event("Attempted")
    def attempt(self, command_id: str, deadline: float) -> None:
        # Stored before the command is sent, so a gateway that crashes mid-request leaves what
        # the next one needs to settle it.
        self.command_id = command_id
        self.deadline = deadline
        self.released = False
        self.unanswered = False

    @event("Unanswered")
    def leave_unanswered(self) -> None:
        # The attempt ended without the service's answer, and nobody waits on it any more: the
        # next request with this key settles it at once.
        self.unanswered = True

    @event("Completed")
    def complete(self, status: int, body: Any) -> None:
        self.response = {"status": status, "body": body}

    @event("Released")
    def release(self) -> None:
        # The attempt was settled as not carried out: a retry may make a new one.
        self.released = True

    def expired(self, now: datetime) -> bool:
        return self.released or now - self.reserved_at >= ttl()


@dataclass(frozen=True)
class Replay:
    """The first response: send it again."""

    status: int
    body: Any


@dataclass(frozen=True)
class Attempt:
    """Send the command with this id, by this deadline."""

    command_id: str
    deadline: float


@dataclass(frozen=True)
class Unsettled:
    """An earlier attempt's caller got no answer by its deadline: ask the service what became
    of command `command_id` before anything else."""

    command_id: str


class IdempotencyApplication(CasebookApplication):
    service = "gateway"

    @staticmethod
    def record_id(actor: Actor, key: str) -> uuid.UUID:
        # The actor is part of the id: one caller's key can never replay another's response.
        return uuid.uuid5(NAMESPACE, f"{actor.id}\x1f{actor.role}\x1f{actor.school_id}\x1f{key}")

    def reserve(
        self, actor: Actor, key: str, fingerprint: str, deadline: float, settle_after: float,
        wall_time: float,
    ) -> Replay | Attempt | Unsettled:
        """What to do with this request under `key`: replay the first response, make an attempt,
        or settle the earlier attempt first. Raises Conflict if the key was used for another
        request, or if an attempt is still within its deadline (`settle_after` seconds past it,
        by `wall_time` in epoch seconds, it is settled instead). Call it acting as `actor`."""
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
            elif record.response is not None:
                return Replay(record.response["status"], record.response["body"])
            elif record.command_id is not None and record.deadline is not None:
                wait = record.deadline + settle_after - wall_time
                if wait > 0 and not record.unanswered:
                    raise _in_progress(wait)
                return Unsettled(record.command_id)
            # Otherwise it was reserved by a gateway from before commands carried ids, which
            # is gone since: there is no attempt to settle, so a new one is made.
        return self._attempt(record, deadline)

    def retry(self, actor: Actor, key: str, deadline: float) -> Attempt:
        """A new attempt, after the earlier one was settled as not carried out."""
        record: IdempotentRequest = self.repository.get(self.record_id(actor, key))
        return self._attempt(record, deadline)

    def _attempt(self, record: IdempotentRequest, deadline: float) -> Attempt:
        attempt = Attempt(str(uuid.uuid4()), deadline)
        record.attempt(attempt.command_id, attempt.deadline)
        try:
            self.save(record)
        except IntegrityError:
            raise _in_progress(1) from None
        return attempt

    def complete(self, actor: Actor, key: str, status: int, body: Any) -> None:
        record: IdempotentRequest = self.repository.get(self.record_id(actor, key))
        record.complete(status, body)
        self.save(record)

    def leave_unanswered(self, actor: Actor, key: str) -> None:
        record: IdempotentRequest = self.repository.get(self.record_id(actor, key))
        record.leave_unanswered()
        self.save(record)

    def release(self, actor: Actor, key: str) -> None:
        record: IdempotentRequest = self.repository.get(self.record_id(actor, key))
        record.release()
        self.save(record)


class RequestInProgress(Conflict):
    """409 with the seconds after which a retry is worth making (`Retry-After`)."""

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail, code="request_in_progress")
        self.retry_after = max(1, math.ceil(retry_after))


def _in_progress(retry_after: float) -> RequestInProgress:
    return RequestInProgress(
        "A request with this Idempotency-Key is still being handled; retry shortly.", retry_after
    )
