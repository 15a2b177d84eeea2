"""The risk escalations' pages (9.6b) without a browser: which are marked overdue (waiting for
acknowledgement past the current step's time limit, and only those); the forms each role on a
ladder is offered, by the escalation's state and step, as the supervision service would allow
them; the operator's list of a school they chose; a case's escalations, by its risks, for its
page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from contracts.events.supervision import acknowledgers
from services.console import escalations as pages
from services.console.escalations import forms_offered, overdue
from services.console.web import Refused
from services.runtime.clock import clock
from services.runtime.context import Actor
from services.runtime.risk_policy import LEVEL_LADDERS
from tests.unit.console.visits import visit_of

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
WORKER = Actor(id="demo-worker-1", role="social_worker", school_id="JD001")
OPERATOR = Actor(id="demo-operator", role="operator", school_id=None)
NONE = {"items": [], "next": None, "total": 0}


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


def ladder(level: str) -> list[dict[str, Any]]:
    return [{"role": role, "minutes": minutes} for role, minutes in LEVEL_LADDERS[level]]


def waiting(level: str, step: int) -> dict[str, Any]:
    return {"status": "awaiting acknowledgement", "ladder": ladder(level), "step": step,
            "due_at": "2026-12-02T13:00:00+00:00", "school_id": "JD001"}


@pytest.mark.parametrize(("role", "level", "step", "offered"), [
    # A medium risk waits for its worker first: theirs to take, and anyone's further up.
    ("social_worker", "medium", 1, {"acknowledge"}),
    ("supervisor", "medium", 1, {"acknowledge"}),
    # Climbed to the supervisor: past the worker's step.
    ("social_worker", "medium", 2, set()),
    ("school_admin", "medium", 2, {"acknowledge"}),
    # A critical risk starts with the supervisor; the worker is not on its ladder at all.
    ("social_worker", "critical", 1, set()),
    ("school_admin", "critical", 1, {"acknowledge"}),
    # Climbed to the operator: nobody below may take it any more; the operator always may.
    ("school_admin", "critical", 3, set()),
    ("operator", "critical", 3, {"acknowledge"}),
    ("operator", "low", 1, {"acknowledge"}),
])
def test_acknowledging_is_offered_to_the_steps_role_those_above_and_the_operator(
        role, level, step, offered):
    escalation = waiting(level, step)
    assert forms_offered(role, escalation) == offered
    # The same rule the supervision service's Escalation.acknowledge applies.
    assert (role in acknowledgers(escalation["ladder"], step)) == bool(offered)


def test_the_auditor_is_offered_no_form_in_any_state() -> None:
    for status in ("awaiting acknowledgement", "acknowledged", "resolved"):
        for level, step in (("medium", 1), ("critical", 3)):
            assert forms_offered("auditor", {**waiting(level, step), "status": status}) == set()


@pytest.mark.parametrize(("role", "offered"), [
    ("social_worker", {"action"}), ("supervisor", {"action", "resolve"}),
    ("school_admin", {"action", "resolve"}), ("operator", {"action", "resolve"})])
def test_once_acknowledged_the_worker_records_actions_and_the_overseers_resolve(role, offered):
    acknowledged = {**waiting("medium", 1), "status": "acknowledged"}
    assert forms_offered(role, acknowledged) == offered
    assert forms_offered(role, {**acknowledged, "status": "resolved"}) == set()


class Supervision:
    """The supervision service's answers, and the queries the pages sent."""

    def __init__(self, record: dict[str, Any] | None = None) -> None:
        self.record = record
        self.listed = NONE
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def get(self, path: str, **query: Any) -> Any:
        self.asked.append((path, query))
        if path.endswith("/trail"):
            return {"trail": []}
        if path.startswith("/escalations/"):
            return self.record
        return self.listed


def record_of(key: str, risk_type: str, level: str, step: int) -> dict[str, Any]:
    """An escalation as the service answers it, waiting at `step` of its level's ladder, of the
    case c-<key>."""
    return {**waiting(level, step), "escalation_id": f"e-{key}", "case_id": f"c-{key}",
            "risk_type": risk_type, "level": level, "life_safety": level == "critical",
            "social_worker_id": WORKER.id, "role": LEVEL_LADDERS[level][step - 1][0],
            "opened_at": "2026-12-01T13:00:00+00:00", "acknowledgement": None,
            "resolution": None}


def test_the_case_worker_may_take_their_escalation_but_not_resolve_it() -> None:
    record = record_of("1", "bullying", "medium", 1)
    page = pages.escalation(visit_of(Supervision(record), "zh_CN", WORKER), "e-1")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'action="/escalations/e-1/acknowledgement"' in text and "/cases/c-1" in text
    acknowledged = {**record, "status": "acknowledged"}
    text = pages.escalation(visit_of(Supervision(acknowledged), "zh_CN", WORKER),
                            "e-1").get_data(as_text=True)
    assert 'action="/escalations/e-1/actions"' in text
    assert "/resolution" not in text and 'id="resolved-by"' in text


AUDITOR = Actor(id="auditor-1", role="auditor", school_id=None)


def test_the_auditor_reads_an_escalation_and_its_trail_with_no_form_and_no_note() -> None:
    record = record_of("2", "suicide", "critical", 3)
    for state in ("awaiting acknowledgement", "acknowledged"):
        text = pages.escalation(visit_of(Supervision({**record, "status": state}), "zh_CN",
                                         AUDITOR), "e-2").get_data(as_text=True)
        assert "<form" not in text.split("<main")[1], state
        assert 'id="resolved-by"' not in text and "已超过您所在的上报层级" not in text
        assert 'id="trail"' in text and "/cases/c-2" not in text


def test_the_auditor_lists_every_school_with_no_waiting_for_me() -> None:
    supervision = Supervision()
    text = pages.escalations(visit_of(supervision, "zh_CN", AUDITOR,
                                      query="waiting=me&school=JD001")).get_data(as_text=True)
    # Nobody waits for the auditor: the filter is neither offered nor sent.
    assert supervision.asked == [("/schools/JD001/escalations", {
        "status": None, "overdue": None, "waiting_for": None, "after": None,
        "limit": pages.ESCALATION_PAGE})]
    assert not re.search(r'href="[^"]*waiting=me', text) and 'href="/schools"' not in text
    assert "由谁确认接手，是否及时" in text


def test_the_operator_lists_the_escalations_of_the_school_they_chose() -> None:
    supervision = Supervision()
    page = pages.escalations(visit_of(supervision, "zh_CN", OPERATOR,
                                      query="school=JD002&overdue=true"))
    text = page.get_data(as_text=True)
    assert supervision.asked == [
        ("/schools/JD002/escalations", {
            "status": None, "overdue": "true", "waiting_for": None, "after": None,
            "limit": pages.ESCALATION_PAGE}),
        # How many of the same school's wait for the operator, beside "waiting for me".
        ("/schools/JD002/escalations", {"waiting_for": "operator", "limit": 1})]
    assert "学校 JD002" in text and 'href="/escalations?school=JD002&amp;status=' in text
    # The operator has no school of their own: without one chosen, every school's, each row
    # naming its school and leading to that school's list.
    supervision = Supervision()
    supervision.listed = {"items": [{**waiting("critical", 3), "escalation_id": "e-9",
                                     "school_id": "JD003", "risk_type": "suicide",
                                     "level": "critical", "life_safety": True,
                                     "social_worker_id": "w-3", "role": "operator",
                                     "opened_at": "2026-12-02T08:00:00+00:00"}],
                          "next": None, "total": 1}
    text = pages.escalations(visit_of(supervision, "zh_CN", OPERATOR)).get_data(as_text=True)
    assert [path for path, _ in supervision.asked] == ["/escalations"] * 2
    assert '<a href="/escalations?school=JD003">JD003</a>' in text and "各校" in text
    # One waits for the operator (the list's fake answers every question with it).
    assert '等待我确认 <strong class="count">1</strong>' in text


def test_a_worker_lists_their_own_school_whatever_the_address_says() -> None:
    supervision = Supervision()
    pages.escalations(visit_of(supervision, "zh_CN", WORKER, query="school=JD002"))
    assert {path for path, _ in supervision.asked} == {"/schools/JD001/escalations"}


def test_waiting_for_me_asks_for_the_role_of_the_person_and_keeps_it_on_the_next_page() -> None:
    supervision = Supervision()
    supervision.listed = {**NONE, "next": "k-2", "total": 30}
    text = pages.escalations(visit_of(supervision, "zh_CN", OPERATOR,
                                      query="waiting=me&status=bogus")).get_data(as_text=True)
    assert supervision.asked == [("/escalations", {
        "status": None, "overdue": None, "waiting_for": "operator", "after": None,
        "limit": pages.ESCALATION_PAGE})]
    assert 'href="/escalations?waiting=me&amp;after=k-2"' in text
    assert 'href="/escalations?waiting=me" aria-current="page"' in text


def test_a_school_chosen_is_a_segment_of_the_route_never_a_path_of_its_own() -> None:
    supervision = Supervision()
    pages.escalations(visit_of(supervision, "zh_CN", OPERATOR, query="school=JD001/../../cases"))
    assert {path for path, _ in supervision.asked} == {
        "/schools/JD001%2F..%2F..%2Fcases/escalations"}


def test_a_cases_escalations_are_grouped_by_risk_newest_first_the_late_ones_marked() -> None:
    opened = [("e-1", "r-1", "resolved", "2026-12-01T09:00:00+00:00"),
              ("e-2", "r-2", "awaiting acknowledgement", "2026-12-01T10:00:00+00:00"),
              ("e-3", "r-1", "awaiting acknowledgement", "2026-12-02T13:00:00+00:00")]
    supervision = Supervision()
    # Oldest first, as the service lists them.
    supervision.listed = {**NONE, "total": 3, "items": [
        {"escalation_id": key, "risk_id": risk, "status": status, "due_at": due}
        for key, risk, status, due in opened]}
    clock.set(NOW)
    escalated = pages.of_case(visit_of(supervision, "zh_CN", WORKER), "c-1", "JD001")
    assert supervision.asked == [("/schools/JD001/escalations", {
        "case_id": "c-1", "limit": pages.CASE_ESCALATIONS})]
    assert escalated is not None
    assert {risk: [item["escalation_id"] for item in items]
            for risk, items in escalated.by_risk.items()} == {"r-1": ["e-3", "e-1"],
                                                              "r-2": ["e-2"]}
    assert escalated.late == {"e-2"}


class Away(Supervision):
    def __init__(self, status: int) -> None:
        super().__init__()
        self.status = status

    def get(self, path: str, **query: Any) -> Any:
        raise Refused(self.status, {"code": "unavailable" if self.status >= 500 else "no"})


def test_a_case_page_goes_without_its_escalations_only_while_supervision_does_not_answer():
    assert pages.of_case(visit_of(Away(503), "zh_CN", WORKER), "c-1", "JD001") is None
    with pytest.raises(Refused):
        pages.of_case(visit_of(Away(403), "zh_CN", WORKER), "c-1", "JD001")
