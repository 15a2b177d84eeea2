"""Which escalations the supervisor's list marks overdue (9.6b): waiting for acknowledgement
past the current step's time limit, and only those."""

from __future__ import annotations

from datetime import UTC, datetime

from services.console.supervisor import overdue

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def escalation(status: str, due_at: str) -> dict[str, str]:
    return {"status": status, "due_at": due_at}


def test_waiting_past_its_time_limit_is_overdue():
    assert overdue(escalation("awaiting acknowledgement", "2026-12-02T11:59:00+00:00"), NOW)
    assert overdue(escalation("awaiting acknowledgement", "2026-12-02T12:00:00+00:00"), NOW)


def test_waiting_within_its_time_limit_is_not():
    assert not overdue(escalation("awaiting acknowledgement", "2026-12-02T12:01:00+00:00"),
                       NOW)


def test_an_acknowledged_or_resolved_escalation_is_never_overdue():
    for status in ("acknowledged", "resolved"):
        assert not overdue(escalation(status, "2026-12-01T00:00:00+00:00"), NOW)


def test_a_time_limit_given_in_another_zone_is_compared_as_an_instant():
    assert overdue(escalation("awaiting acknowledgement", "2026-12-02T19:30:00+08:00"), NOW)
