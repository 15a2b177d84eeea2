"""The caseload and the supervisees' cases, page by page without a browser: each row names its
client and marks what of its case is overdue (9.5c) from what the page asked for by its own
rows' ids, however many clients and overdue steps the worker has beyond them."""

from __future__ import annotations

from typing import Any

import pytest

from services.console import social_worker, supervisor
from services.console.web import Refused
from services.runtime.context import Actor
from tests.unit.console.visits import visit_of

WORKER = Actor("demo-worker-1", "social_worker", "JD001")
SUPERVISOR = Actor("demo-supervisor-1", "supervisor", "JD001")
LATE = {"kind": "assessment", "item_id": "case-1", "due_on": "2026-11-15", "days_overdue": 18}
CASES = [
    {"case_id": "case-1", "client_id": "c-201", "client_type": "student", "stage": "assessment",
     "opened_on": "2026-11-01", "social_worker_id": "demo-worker-1", "open_risks": 0,
     "overdue": [LATE, {**LATE, "kind": "plan", "days_overdue": 2}]},
    {"case_id": "case-2", "client_id": "c-gone", "client_type": "student", "stage": "plan",
     "opened_on": "2026-10-01", "social_worker_id": "demo-worker-1", "open_risks": 1,
     "overdue": []},
]


class Cases:
    """The cases service's answers: the clients named by the ids asked for, those in reach."""

    def __init__(self, escalations: Refused | None = None) -> None:
        self.asked: list[tuple[str, dict[str, Any]]] = []
        self.escalations = escalations

    def get(self, path: str, **query: Any) -> Any:
        self.asked.append((path, query))
        if path == "/cases":
            return {"items": CASES, "total": 2, "limit": 20, "next": None}
        if path == "/clients":
            reached = {"c-201": "王小明"}
            return {"items": [{"client_id": client_id, "name": reached[client_id]}
                              for client_id in query["client_id"] if client_id in reached],
                    "next": None}
        if path == "/cases/by-stage":
            return {"assessment": 1, "plan": 1}
        if path == "/schools/JD001/escalations":  # the supervision service's
            if self.escalations is not None:
                raise self.escalations
            return {"items": [], "total": 2 if query["waiting_for"] == "social_worker" else 0,
                    "limit": 1, "next": None}
        assert path == "/supervisors/demo-supervisor-1/supervisees", path
        return {"items": [{"social_worker_id": "demo-worker-1"}]}


def asked_for_clients(cases: Cases) -> list[dict[str, Any]]:
    return [query for path, query in cases.asked if path == "/clients"]


def test_the_caseload_names_its_rows_clients_and_marks_them_overdue_by_their_own_ids():
    cases = Cases()
    page = social_worker.caseload(visit_of(cases, "zh_CN", WORKER)).get_data(as_text=True)
    assert asked_for_clients(cases) == [{"client_id": ["c-201", "c-gone"], "limit": 2}]
    assert "/cases/overdue" not in [path for path, _ in cases.asked]
    assert '<a href="/cases/case-1">王小明</a>' in page
    assert '<a href="/cases/case-2">c-gone</a>' in page  # out of reach: its short id
    # The most overdue of the case's steps is shown, once.
    assert page.count("已逾期：") == 1 and "18 天" in page


def test_the_supervisees_cases_name_their_clients_by_the_pages_ids():
    cases = Cases()
    page = supervisor.supervisees_cases(visit_of(cases, "zh_CN", SUPERVISOR)).get_data(
        as_text=True)
    assert asked_for_clients(cases) == [{"client_id": ["c-201", "c-gone"], "limit": 2}]
    assert '<a href="/cases/case-1">王小明</a>' in page and "18 天" in page
    assert page.count('class="overdue"') == 1


def test_an_empty_page_asks_for_no_clients():
    cases = Cases()
    assert social_worker.client_names(visit_of(cases, "zh_CN", WORKER), []) == {}
    assert cases.asked == []


class Unregistered:
    """The services as a supervisor who signed in before the school administrator registered
    them sees them: the supervision service knows no such supervisor."""

    def get(self, path: str, **query: Any) -> Any:
        if path == "/supervisors/demo-supervisor-1/supervisees":
            raise Refused(404, {"code": "not_found", "detail": "No supervisor demo-supervisor-1."})
        if path == "/cases":
            return {"items": [], "total": 0, "limit": 20, "next": None}
        if path == "/schools/JD001/supervision-report":
            return {"interval_days": 30, "lines": []}
        if path == "/schools/JD001/training-report":
            return {"lines": []}
        assert path == "/schools/JD001/supervision-sessions", path
        return {"items": [], "total": 0, "limit": 20, "next": None}


def test_a_supervisor_not_yet_registered_is_told_so_on_their_pages_instead_of_a_missing_record():
    for shown in (supervisor.supervisees_cases, supervisor.supervision):
        response = shown(visit_of(Unregistered(), "zh_CN", SUPERVISOR))
        page = response.get_data(as_text=True)
        assert response.status_code == 200, shown.__name__
        assert "您尚未登记为督导：由学校管理员为您登记（6.2.2.1）" in page, shown.__name__
        assert "没有这条记录" not in page
    # A supervisor the service knows, with supervisees, is not told it.
    page = supervisor.supervisees_cases(visit_of(Cases(), "zh_CN", SUPERVISOR)).get_data(
        as_text=True)
    assert "您尚未登记为督导" not in page


def test_the_escalations_waiting_for_the_worker_are_said_above_the_caseload():
    page = social_worker.caseload(visit_of(Cases(), "zh_CN", WORKER)).get_data(as_text=True)
    assert ('<a href="/escalations?waiting=me">有 2 项风险上报等待您确认接手（9.6b）。</a>'
            in page)


def test_the_caseload_is_shown_while_the_supervision_service_does_not_answer():
    cases = Cases(escalations=Refused(503, {"code": "unavailable"}))
    answer = social_worker.caseload(visit_of(cases, "zh_CN", WORKER))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert '<a href="/cases/case-1">王小明</a>' in page and 'id="waiting"' not in page
    # A refusal that is not the service being away is not hidden.
    refused = Cases(escalations=Refused(403, {"code": "not_allowed"}))
    with pytest.raises(Refused):
        social_worker.caseload(visit_of(refused, "zh_CN", WORKER))
