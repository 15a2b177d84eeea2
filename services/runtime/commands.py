"""Exactly-once commands (DESIGN.md "Delivery" 0).

Every command carries a command id and may carry its caller's deadline (nameko context data,
lifted into `Meta` by `CommandContext`). `carry_out` runs a command so that:

- a command id already carried out returns its stored outcome, and never runs again: the same
  request redelivered after a crash, retried by a client, or taken by a second instance; also
  when the twin is stored while this run is under way (its events roll this run back at the
  commit; the state it left refuses this run, and the refusal gives way to its outcome);
- the command's events and its id (with the outcome) are stored in ONE transaction: while the
  command runs, `Application.save` only collects the aggregates (the unit of work below), and
  `carry_out` stores them all at the end with the command record; a second run of the same id
  fails on the record's primary key and rolls back with everything it would have stored;
- a command whose deadline has passed is refused unrun, before it starts and again just before
  it commits, so a caller that gave up (HTTP 504) can retry safely;
- a command id its caller abandoned (`settle`) can never be carried out afterwards: the
  tombstone takes the id's place, so the gateway can settle an unanswered request exactly.

Within a command, reads see what was committed before it: an aggregate saved by the command is
stored when the command ends. Refused commands store nothing, not even their id: running a
refused command again refuses it again or, if the state has changed since, does it once. The
exception is a refusal that is itself a fact to record (a refused read of an archived file):
what the command saved before refusing is stored with the refusal as its outcome.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from contracts.errors import (
    CasebookError,
    Conflict,
    DeadlineExceeded,
    NotAllowed,
    refusal_from,
    refusal_record,
)
from services.runtime.clock import clock
from services.runtime.context import current_meta
from services.runtime.persistence import ABANDONED, DONE, REFUSED, CommandRecord

log = logging.getLogger(__name__)

T = TypeVar("T")


class CommandStore(Protocol):
    """What `carry_out` needs of an application (`CasebookApplication` provides it)."""

    def stored_command(self, command_id: str) -> CommandRecord | None: ...

    def abandon_command(self, record: CommandRecord) -> CommandRecord: ...

    def encode_outcome(self, outcome: Any) -> str: ...

    def decode_outcome(self, encoded: str) -> Any: ...

    def commit(self, aggregates: list[Aggregate], record: CommandRecord) -> None: ...


@dataclass
class UnitOfWork:
    """The aggregates one command saved, in the order first saved, each once."""

    owner: object
    aggregates: dict[Any, Aggregate] = field(default_factory=dict)

    def add(self, *aggregates: Aggregate | None) -> None:
        for aggregate in aggregates:
            if aggregate is not None:
                self.aggregates.setdefault(aggregate.id, aggregate)


_work: ContextVar[UnitOfWork | None] = ContextVar("casebook_unit_of_work", default=None)


@dataclass
class Observation:
    """What the metrics learn of the command in progress in this greenthread: whether it is a
    duplicate answered with its stored outcome (services.runtime.metrics counts it apart)."""

    replayed: bool = False


# Set by the metrics around a command when the service has them. Kept here, not there, so that
# what imports commands (every store, `casebook verify`'s processes) does not import eventlet.
observation: ContextVar[Observation | None] = ContextVar("command_observation", default=None)


def note_replay() -> None:
    """The command in progress in this greenthread is a duplicate answered with its stored
    outcome."""
    seen = observation.get()
    if seen is not None:
        seen.replayed = True


def unit_of_work(owner: object) -> UnitOfWork | None:
    """The command in progress on `owner` in this greenthread, if any."""
    work = _work.get()
    return work if work is not None and work.owner is owner else None


@contextmanager
def _collecting(owner: object) -> Iterator[UnitOfWork]:
    work = UnitOfWork(owner)
    token = _work.set(work)
    try:
        yield work
    finally:
        _work.reset(token)


def deadline_passed(deadline: float | None) -> bool:
    # Real time, not the settable clock: a deadline is about the caller's patience, not about
    # the domain's dates.
    return deadline is not None and time.time() > deadline


def refuse_if_late(deadline: float | None) -> None:
    if deadline_passed(deadline):
        raise DeadlineExceeded(
            "The caller's deadline passed before this could be carried out; nothing was done "
            "and it is safe to retry."
        )


def carry_out(app: CommandStore, name: str, run: Callable[[], T]) -> T:
    """Run command `name` once for the current command id; see the module docstring."""
    meta = current_meta()
    command_id = meta.command_id
    if command_id is None:
        raise NotAllowed("A command must carry a command id (nameko context data `command_id`).")
    earlier = app.stored_command(command_id)
    if earlier is not None:
        return cast(T, _replay(app, earlier, name))
    refuse_if_late(meta.deadline)
    with _collecting(app) as work:
        try:
            outcome = run()
        except CasebookError as refusal:
            if not work.aggregates:
                # Refused by what its twin did meanwhile? The same command id, taken by another
                # instance (a request redelivered as a broker node went away), may have been
                # stored between this run's look above and its refusal: "the consent is
                # already on record" is then its own first outcome, which the caller is owed.
                earlier = app.stored_command(command_id)
                if earlier is not None:
                    return cast(T, _replay(app, earlier, name))
                raise  # refused commands change nothing...
            # ...unless the refusal is itself a fact to keep (a refused read of an archived
            # file, 9.4d): then it is stored once, and a retry gets the same refusal.
            _store(app, work, name, REFUSED, refusal_record(refusal))
            raise
    return cast(T, _store(app, work, name, DONE, outcome))


def _store(app: CommandStore, work: UnitOfWork, name: str, state: str, outcome: Any) -> Any:
    meta = current_meta()
    refuse_if_late(meta.deadline)
    record = CommandRecord(
        command_id=str(meta.command_id),
        name=name,
        actor_id=meta.actor.id,
        state=state,
        outcome=app.encode_outcome(outcome),
        recorded_at=clock.now().isoformat(),
    )
    try:
        app.commit(list(work.aggregates.values()), record)
    except IntegrityError:
        earlier = app.stored_command(record.command_id)
        if earlier is not None:
            # Another instance (or a redelivery) carried it out, or its caller abandoned it,
            # while this run was in progress: this run's events were rolled back.
            return _replay(app, earlier, name)
        raise Conflict(
            "The record changed meanwhile; read it again and retry.", code="conflict"
        ) from None
    return outcome


def settle(app: CommandStore, command_id: str, name: str) -> dict[str, Any]:
    """For a caller that got no answer by its deadline: the command's outcome if it was carried
    out (`done`, or `refused` with the refusal); otherwise it is `abandoned`, for good, and can
    never be carried out later."""
    actor = current_meta().actor
    record = app.abandon_command(CommandRecord(
        command_id=command_id, name=name, actor_id=actor.id, state=ABANDONED, outcome=None,
        recorded_at=clock.now().isoformat(),
    ))
    if record.actor_id != actor.id:
        raise NotAllowed(f"Command {command_id} is another actor's.")
    if record.state == ABANDONED or record.outcome is None:
        return {"state": ABANDONED, "name": record.name}
    return {"state": record.state, "name": record.name,
            "outcome": app.decode_outcome(record.outcome)}



def _replay(app: CommandStore, earlier: CommandRecord, name: str) -> Any:
    if earlier.name != name:
        raise Conflict(
            f"Command id {earlier.command_id} was used for {earlier.name}, not {name}; "
            "send each command with a new id.",
            code="conflict",
        )
    if earlier.state == ABANDONED or earlier.outcome is None:
        raise DeadlineExceeded(
            f"Command {earlier.command_id} was abandoned by its caller at "
            f"{earlier.recorded_at} and was not carried out; retry with a new command id."
        )
    log.info("command %s (%s) was carried out before: answering with its outcome",
             earlier.command_id, name)
    note_replay()
    outcome = app.decode_outcome(earlier.outcome)
    if earlier.state == REFUSED:
        raise refusal_from(outcome)
    return outcome
