"""The supervision store on SQLite and on PostgreSQL: what one instance stored another reads back,
and two instances running the timer at once climb an escalation once."""

from datetime import UTC, date, datetime, timedelta

import pytest
from eventsourcing.persistence import IntegrityError

from services.runtime.clock import clock
from services.runtime.context import SYSTEM, acting_as
from services.supervision.app import SupervisionApplication
from services.supervision.escalation import escalation_key
from tests.unit.supervision.support import (
    AUDITOR,
    OPERATOR,
    SCHOOL,
    CasesStream,
    published_types,
    seed_school,
    seed_worker,
)

OPENED = datetime(2026, 5, 4, 10, tzinfo=UTC)


@pytest.fixture
def instances(store):
    """Two instances of the service on one store, as when it is scaled out."""
    clock.set(OPENED)
    return SupervisionApplication(env=store), SupervisionApplication(env=store)


def test_a_climb_by_two_instances_at_once_happens_once(instances):
    first, second = instances
    seed_school(first)
    seed_worker(first)
    stream = CasesStream(first)
    stream.open_case("case-1", OPENED.date())
    stream.risk("case-1", "risk-1", "suicide", "critical", life_safety=True)
    # Both instances load the escalation, then both climb it at the same instant.
    clock.set(OPENED + timedelta(hours=1, minutes=5))
    escalation_id = escalation_key("risk-1", "critical")
    loaded = [app.repository.get(escalation_id) for app in instances]
    with acting_as(SYSTEM):
        for escalation in loaded:
            escalation.climb_overdue(clock.now())
        first.save(loaded[0])
        # The store refuses the second, stale climb; the timer then finds nothing left to do.
        with pytest.raises(IntegrityError):
            second.save(loaded[1])
        assert second.climb_overdue() == []
    assert published_types(second).count("EscalationClimbed") == 1
    # The second instance reads the staff, the escalation and the report the first stored.
    with acting_as(OPERATOR):
        assert second.worker_eligibility("worker-1")["eligible"] is True
    with acting_as(AUDITOR):
        assert second.get_escalation(str(escalation_id))["role"] == "school_admin"
        report = second.compliance_report(SCHOOL, date(2026, 1, 1), date(2026, 6, 30))
    assert ("escalations_acknowledged_in_time", str(escalation_id)) in {
        (g["check"], g["subject_id"]) for g in report["gaps"]}
