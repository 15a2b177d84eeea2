"""The risk register is written in its own module but belongs to the Case aggregate: its events
must be stored under Case's topics, as they were before the split, or stores written earlier
would no longer load."""

from datetime import UTC, date, datetime
from uuid import UUID

import pytest

from services.cases.domain import Case
from tests.unit.cases.conftest import case_at

pytestmark = pytest.mark.usefixtures("as_worker")


def test_the_risk_register_stores_its_events_under_the_case_topics(app):
    # A case at intake with a life-safety risk that is lowered, raised, disclosed and resolved.
    case_id = case_at(app, "accept")
    risk_id = app.raise_risk(case_id, "violence", "critical", date(2026, 9, 2))
    app.change_risk_level(case_id, risk_id, "high", date(2026, 9, 3))
    app.change_risk_level(case_id, risk_id, "critical", date(2026, 9, 4))
    app.record_disclosure(case_id, risk_id, [{"kind": "guardian", "who": "王芳"}],
                          "The threat.", "Her safety.", datetime(2026, 9, 4, 9, tzinfo=UTC))
    app.resolve_risk(case_id, risk_id, date(2026, 9, 5))

    topics = [n.topic for n in app.recorder.select_notifications(start=1, limit=1000)]
    assert [t for t in topics if t.split(".")[-1].startswith(("Risk", "Disclosure"))] == [
        "services.cases.domain:Case.RiskRaised",
        "services.cases.domain:Case.RiskLevelLowered",
        "services.cases.domain:Case.RiskLevelRaised",
        "services.cases.domain:Case.DisclosureRecorded",
        "services.cases.domain:Case.RiskResolved",
    ]

    # The case loads from those events with its register as recorded.
    case = app.repository.get(UUID(case_id))
    assert isinstance(case, Case)
    risk = case.risks[risk_id]
    assert (risk["status"], risk["reached_life_safety"]) == ("resolved", True)
