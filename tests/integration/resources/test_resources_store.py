"""The resources store on SQLite and on PostgreSQL: what one instance stored another reads back
the same, and two instances cannot book the same capacity twice."""

from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import pytest

from contracts.errors import Conflict
from services.resources.app import ResourcesApplication
from services.runtime.clock import clock
from services.runtime.commands import carry_out
from services.runtime.context import acting_as
from tests.unit.resources.support import (
    SUPERVISOR,
    WORKER,
    CasesFeed,
    register_provider,
    register_resource,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def instances(store):
    """Two instances of the service on one store, as when it is scaled out."""
    clock.set(datetime(2026, 9, 15, 9, 0, tzinfo=UTC))
    return ResourcesApplication(env=store), ResourcesApplication(env=store)


def test_a_link_and_its_feedback_read_the_same_from_another_instance(instances):
    first, second = instances
    provider_id = register_provider(first)
    resource_id = register_resource(first, provider_id, capacity=4)
    request_id = CasesFeed(first).request(quantity=2, case_id="case-A")
    with acting_as(WORKER):
        first.offer_resource(request_id, resource_id, None)
        first.accept_resource_link(request_id, date(2026, 9, 16))
        first.record_delivery(request_id, date(2026, 9, 20), None)
        first.record_usage(request_id, 1, "partly_met", date(2026, 9, 30))
    with acting_as(SUPERVISOR):
        issued = first.issue_provider_feedback(provider_id, date(2026, 9, 1),
                                               date(2026, 9, 30))
        assert second.provider_feedback(provider_id, date(2026, 9, 1),
                                        date(2026, 9, 30)) == {
            "figures": issued["figures"], "csv": issued["csv"],
        }
    with acting_as(WORKER):
        assert second.get_resource_link(request_id) == first.get_resource_link(request_id)
        assert second.get_resource(resource_id)["remaining"] == 2
    assert second.cursor("cases").position == 1


def test_two_instances_offering_the_last_places_at_once_cannot_both_book_them(
    instances, monkeypatch
):
    first, second = instances
    resource_id = register_resource(first, register_provider(first), capacity=2)
    feed = CasesFeed(first)
    one, other = feed.request(quantity=2), feed.request(quantity=2)
    # The second instance has read the resource just before the first books it.
    stale = second.repository.get(UUID(resource_id))

    def offer(app, request_id):
        # As the service carries a command out: once, saved in one transaction at its end.
        with acting_as(WORKER, command_id=str(uuid4())):
            carry_out(app, "offer_resource",
                      lambda: app.offer_resource(request_id, resource_id, None))

    offer(first, one)
    real_get = second.repository.get
    monkeypatch.setattr(second.repository, "get",
                        lambda aggregate_id, **kw: stale if str(aggregate_id) == resource_id
                        else real_get(aggregate_id, **kw))
    with pytest.raises(Conflict) as refused:
        offer(second, other)
    assert refused.value.code == "conflict"
    monkeypatch.undo()
    # On a fresh read the truth shows: no places are left.
    with pytest.raises(Conflict) as refused:
        offer(second, other)
    assert refused.value.code == "capacity_exceeded"
    with acting_as(WORKER):
        assert second.get_resource_link(other)["state"] == "requested"
        assert second.get_resource(resource_id)["held"] == 2
        # The views agree with the records: the loser held nothing.
        assert second.list_resource_links(state="offered")["total"] == 1
