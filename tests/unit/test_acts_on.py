"""The event types each subscription acts on (`@subscribe(..., acts_on=...)`): every other type
of its source never reaches the handler, and the subscriber's position moves past it without a
transaction of its own. A type left out by mistake would be passed over unseen, so each list is
held to what its handler does: every type it names is one the source publishes, and for every
type the source publishes that it does not name, the handler stores nothing but the cursor."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from contracts.envelope import GENESIS_HASH, envelope_id, seal
from contracts.registry import all_events
from services.archive.service import ArchiveService
from services.cases.service import CasesService
from services.resources.service import ResourcesService
from services.runtime.context import SYSTEM, acting_as
from services.runtime.persistence import Cursor
from services.runtime.subscription import Subscription
from services.supervision.service import SupervisionService

SERVICES = (CasesService, SupervisionService, ResourcesService, ArchiveService)


def subscriptions() -> Iterator[tuple[type, str, Subscription]]:
    for service in SERVICES:
        for name, member in vars(service).items():
            for entrypoint in getattr(member, "nameko_entrypoints", ()):
                if isinstance(entrypoint, Subscription):
                    yield service, name, entrypoint


SELECTIVE = [(service, name, entrypoint) for service, name, entrypoint in subscriptions()
             if entrypoint.acts_on is not None]


def published_by(source: str) -> set[str]:
    return {event.type for event in all_events() if event.published_by(source)}


def test_the_services_that_hear_of_other_services_pass_over_what_is_not_their_business():
    assert {(service.name, entrypoint.source) for service, _, entrypoint in SELECTIVE} == {
        ("cases", "supervision"), ("cases", "archive"), ("supervision", "cases"),
        ("resources", "cases")}


@pytest.mark.parametrize(("service", "handler", "subscription"), SELECTIVE,
                         ids=[f"{s.name}-from-{e.source}" for s, _, e in SELECTIVE])
def test_every_type_acted_on_is_one_the_source_publishes(service, handler, subscription):
    assert subscription.acts_on
    assert subscription.acts_on <= published_by(subscription.source)


@pytest.mark.parametrize(("service", "handler", "subscription"), SELECTIVE,
                         ids=[f"{s.name}-from-{e.source}" for s, _, e in SELECTIVE])
def test_the_handler_stores_nothing_for_a_type_it_is_not_said_to_act_on(
        service, handler, subscription, tmp_path):
    app = service.app.app_class(env={"SQLITE_DBNAME": str(tmp_path / "store.db")})
    instance = service.__new__(service)
    instance.app = app
    passed_over = sorted(published_by(subscription.source) - subscription.acts_on)
    assert passed_over
    before = app.max_position(), learned_rows(app)
    for position, type_ in enumerate(passed_over, start=1):
        envelope = an_envelope(subscription.source, type_, position)
        cursor = Cursor(subscription.source, position, envelope["hash"], position - 1)
        with acting_as(SYSTEM, envelope["correlation_id"], envelope["id"]):
            getattr(instance, handler)(envelope, cursor)
        assert (app.max_position(), learned_rows(app)) == before, type_
    app.close()


def an_envelope(source: str, type_: str, position: int) -> dict[str, Any]:
    """An envelope of `type_` with an empty payload: a handler that reads anything of it acts
    on the type."""
    return seal({
        "id": envelope_id(source, position), "type": type_, "version": 1, "source": source,
        "position": position, "prev_position": position - 1,
        "aggregate_id": str(uuid.uuid4()), "aggregate_version": 1,
        "occurred_at": "2026-09-15T08:00:00+08:00", "actor": SYSTEM.public(),
        "school_id": "JD001", "correlation_id": str(uuid.uuid4()), "causation_id": None,
        "payload": {}, "prev_hash": GENESIS_HASH,
    })


def learned_rows(app: Any) -> dict[str, list[dict[str, Any]]]:
    store = app.views.store
    return {name: store.select(f"SELECT * FROM {{{name}}}") for name in store.learned}


def test_a_run_of_envelopes_is_not_filtered():
    with pytest.raises(ValueError, match="acts_on is for handlers of one envelope at a time"):
        Subscription("cases", batch=True, acts_on=("CaseOpened",))
