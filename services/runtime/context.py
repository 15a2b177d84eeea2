"""Who is acting, and on whose behalf (DESIGN.md "Actors, access, privacy").

The gateway puts the verified actor into nameko context data; `CommandContext` (a nameko
dependency every service declares) lifts it into a context variable for the duration of one
worker, where the application reads it to authorise and the aggregates stamp it on every event.
Eventlet gives each greenthread its own contextvars context, so workers do not see each other's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from contracts.envelope import ROLES, SCHOOL_SCOPED_ROLES
from contracts.errors import NotAllowed
from contracts.registry import instance

SYSTEM_ACTOR_ID = "casebook"


@dataclass(frozen=True)
class Actor:
    id: str
    role: str
    school_id: str | None = None

    def __post_init__(self) -> None:
        if self.role in SCHOOL_SCOPED_ROLES and not self.school_id:
            raise NotAllowed(
                f"The role {self.role} works for one school: the actor must name its school_id."
            )

    def public(self) -> dict[str, str]:
        """What an envelope may say about the actor: never more than id and role."""
        return {"id": self.id, "role": self.role}


@dataclass(frozen=True)
class Meta:
    """Who acts, in which conversation, and for commands: the command's id (what makes a retry
    or a redelivery return the first outcome) and the caller's deadline (epoch seconds, real
    time: after it the caller has given up, so nothing may be carried out)."""

    actor: Actor
    correlation_id: str
    causation_id: str | None = None
    command_id: str | None = None
    deadline: float | None = None

    def as_event_meta(self) -> dict[str, Any]:
        return {
            # The actor's fields as they are (all text): dataclasses.asdict copies deeply, a
            # tenth of what the archive spent filing an envelope.
            "actor": dict(vars(self.actor)),
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
        }


SYSTEM = Actor(id=SYSTEM_ACTOR_ID, role="system")


class _ActorSchema(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    school_id = fields.String(load_default=None, allow_none=True)


_meta: ContextVar[Meta | None] = ContextVar("casebook_meta", default=None)


def actor_from_context_data(data: Any) -> Actor:
    """The actor a caller put in nameko context data; refused if missing or malformed."""
    if not isinstance(data, dict):
        raise NotAllowed("No actor in the call: every command must say who is acting.")
    try:
        loaded = instance(_ActorSchema).load(data)
    except ValidationError as error:
        raise NotAllowed(f"The call's actor is malformed: {error.messages}") from None
    return Actor(**loaded)  # refused if a school-scoped role has no school


def current_meta() -> Meta:
    meta = _meta.get()
    if meta is None:
        raise NotAllowed("No actor in the call: every command must say who is acting.")
    return meta


def current_actor() -> Actor:
    return current_meta().actor


@contextmanager
def acting_as(
    actor: Actor, correlation_id: str | None = None, causation_id: str | None = None,
    command_id: str | None = None,
) -> Iterator[Meta]:
    """Run commands as `actor`. Used by the nameko dependency, by subscriptions (as the system,
    caused by an envelope) and by tests."""
    meta = Meta(actor, correlation_id or str(uuid.uuid4()), causation_id, command_id)
    token = _meta.set(meta)
    try:
        yield meta
    finally:
        _meta.reset(token)


def require_role(*roles: str) -> Actor:
    """The current actor, if their role is one of `roles`; otherwise refused."""
    actor = current_actor()
    if actor.role not in roles:
        raise NotAllowed(
            f"Role {actor.role!r} may not do this; it needs one of: {', '.join(roles)}."
        )
    return actor
