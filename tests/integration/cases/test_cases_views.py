"""The cases views (services/cases/views.py) on SQLite and PostgreSQL: equal to a rebuild from
the log after any sequence of commands; scoped to the reader's school and work; paged so that
each row comes once while writes go on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from contracts.errors import CasebookError
from services.cases.app import CasesApplication
from services.cases.domain import Case
from services.runtime.clock import clock
from services.runtime.context import SYSTEM, Actor, acting_as
from tests.support.examples import scaled
from tests.support.stores import Examples
from tests.support.views import assert_views_match_the_log
from tests.unit.cases.conftest import (
    ASSESSMENT,
    CLOSING_ITEMS,
    INTAKE,
    OUTCOME,
    PLAN,
    PROCESS,
    cursor,
)

WORKER = Actor("worker-1", "social_worker", "JD001")
OTHER_SCHOOL_WORKER = Actor("worker-9", "social_worker", "JD002")
SUPERVISOR = Actor("supervisor-1", "supervisor", "JD001")
DAY = date(2026, 9, 1)


def student(app: CasesApplication, actor: Actor, client_id: str) -> None:
    with acting_as(actor):
        app.register_client(client_type="student", name="王小明", client_id=client_id,
                            date_of_birth=date(2014, 3, 2), grade=6,
                            guardians=[{"name": "王芳", "relation": "mother", "contact": None}])


def open_case(app: CasesApplication, actor: Actor, client_id: str) -> str:
    with acting_as(actor):
        return app.open_case(client_id=client_id, social_worker_id=actor.id,
                             service_codes=["7.1.3a"], opened_on=DAY, intake=INTAKE)


@pytest.fixture
def examples(store: dict[str, str]) -> Iterator[Examples[CasesApplication]]:
    made = Examples(CasesApplication, store)
    yield made
    made.drop()


@pytest.mark.properties
def test_the_views_equal_a_rebuild_after_any_commands(examples, monkeypatch):
    monkeypatch.setenv("CASEBOOK_REQUIRE_ELIGIBLE_WORKERS", "false")

    class Cases(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.app = examples.app()  # a store of its own, as each example starts from none
            self.clients: list[str] = []
            self.cases: list[str] = []
            self.groups: list[str] = []
            self.letters: list[str] = []
            self.position = self.app.cursor("supervision").position

        def attempt(self, command: Any) -> None:
            try:
                with acting_as(WORKER):
                    command()
            except CasebookError:
                pass  # refused by a rule: changes nothing, which the invariant also checks

        @rule()
        def register(self) -> None:
            client_id = f"c{len(self.clients)}"
            student(self.app, WORKER, client_id)
            self.clients.append(client_id)

        @rule(data=st.data())
        def open(self, data: st.DataObject) -> None:
            if not self.clients:
                self.register()
            client_id = data.draw(st.sampled_from(self.clients))
            self.attempt(lambda: self.cases.append(open_case(self.app, WORKER, client_id)))

        @rule(data=st.data(), step=st.sampled_from(
            ["accept", "consent", "assess", "plan", "intervene", "evaluate", "close", "reopen",
             "risk", "resolve", "follow_up", "withdraw"]))
        def step(self, data: st.DataObject, step: str) -> None:
            if self.cases:
                self.step_named(data.draw(st.sampled_from(self.cases)), step)

        def step_named(self, case_id: str, step: str) -> None:
            app = self.app
            actions = {
                "accept": lambda: app.accept_intake(case_id, DAY),
                "consent": lambda: [app.record_consent(case_id, party, DAY, ["purpose"])
                                    for party in ("client", "guardian")],
                "assess": lambda: app.record_assessment(case_id, DAY + timedelta(days=2),
                                                        **ASSESSMENT),
                "plan": lambda: app.adopt_plan(case_id, DAY + timedelta(days=4), **PLAN),
                "intervene": lambda: app.log_intervention(
                    case_id, form="direct", method="case_work", service_codes=["7.1.3a"],
                    delivered_on=DAY + timedelta(days=6), duration_minutes=40),
                "evaluate": lambda: [
                    app.record_evaluation(case_id, "process", DAY + timedelta(days=9), **PROCESS),
                    app.record_evaluation(case_id, "outcome", DAY + timedelta(days=9), **OUTCOME)],
                "close": lambda: app.close_case(case_id, "goals_met", DAY + timedelta(days=10),
                                                follow_up={"due_on": DAY + timedelta(days=40)},
                                                **CLOSING_ITEMS),
                "reopen": lambda: app.reopen_case(case_id, DAY + timedelta(days=20)),
                "risk": lambda: app.raise_risk(case_id, "bullying", "medium", DAY),
                "resolve": lambda: [app.resolve_risk(case_id, risk["risk_id"], DAY)
                                    for risk in app.get_case(case_id)["risks"]
                                    if risk["status"] == "open"],
                "follow_up": lambda: app.schedule_follow_up(case_id, DAY + timedelta(days=50)),
                "withdraw": lambda: app.withdraw_consent(case_id, "guardian", DAY),
            }
            self.attempt(actions[step])

        @rule()
        def advance(self) -> None:
            """Take every case one step further along 8.2.1.1, as their worker would."""
            next_steps = {"intake": ["accept", "consent"], "assessment": ["assess"],
                          "plan": ["plan"], "intervention": ["intervene"],
                          "evaluation": ["evaluate"], "closing": ["close"]}
            for case_id in self.cases:
                case = self.app.get_aggregate(Case, case_id, "case")
                for step in next_steps.get(case.stage, []):
                    self.step_named(case_id, step)

        @rule()
        def letter(self) -> None:
            self.attempt(lambda: self.letters.append(
                self.app.receive_letter(DAY, "Help.", anonymous=True)))

        @rule(data=st.data())
        def answer(self, data: st.DataObject) -> None:
            if self.letters:
                letter_id = data.draw(st.sampled_from(self.letters))
                self.attempt(lambda: self.app.answer_letter(letter_id, DAY, "We will talk."))

        @rule(data=st.data())
        def group(self, data: st.DataObject) -> None:
            if not self.groups:
                self.attempt(lambda: self.groups.append(self.app.form_group(
                    "support", "Change", ["7.1.3a"], WORKER.id, 4, DAY)))
            elif self.clients:
                client_id = data.draw(st.sampled_from(self.clients))
                self.attempt(lambda: self.app.add_group_member(self.groups[0], client_id, DAY))

        @rule(supervisor=st.sampled_from(["supervisor-1", "supervisor-2"]))
        def supervision_says(self, supervisor: str) -> None:
            self.position += 1
            with acting_as(SYSTEM):
                self.app.learn_from_supervision(
                    {"type": "SupervisorAssigned", "source": "supervision",
                     "position": self.position, "school_id": "JD001",
                     "payload": {"social_worker_id": WORKER.id, "supervisor_id": supervisor,
                                 "previous_supervisor_id": None, "assigned_on": "2026-08-25"}},
                    cursor("supervision", self.position))

        @rule(data=st.data(), to=st.sampled_from([WORKER.id, "worker-2"]))
        def reassign(self, data: st.DataObject, to: str) -> None:
            """Supervision puts both workers under supervisor-1, who moves a case (6.2.2.1)."""
            if not self.cases:
                return
            for worker in (WORKER.id, "worker-2"):
                self.position += 1
                with acting_as(SYSTEM):
                    self.app.learn_from_supervision(
                        {"type": "SupervisorAssigned", "source": "supervision",
                         "position": self.position, "school_id": "JD001",
                         "payload": {"social_worker_id": worker,
                                     "supervisor_id": SUPERVISOR.id,
                                     "previous_supervisor_id": None,
                                     "assigned_on": "2026-08-25"}},
                        cursor("supervision", self.position))
            case_id = data.draw(st.sampled_from(self.cases))
            try:
                with acting_as(SUPERVISOR):
                    self.app.reassign_case(case_id, to, DAY + timedelta(days=3))
            except CasebookError:
                pass  # a closed case, or to the worker it is with: refused, changes nothing

        def teardown(self) -> None:
            try:
                self.check()
            finally:
                # Closed here, not by the garbage collector, which may run inside eventlet's
                # hub, where closing a PostgreSQL pool cannot wait for its threads.
                self.app.close()

        def check(self) -> None:
            assert_views_match_the_log(self.app)
            clock.set(datetime(2026, 12, 1, tzinfo=UTC))  # each step of the cases overdue
            assert_totals_count_the_rows(self.app)
            # And the rows say what the records say.
            for case_id in self.cases:
                case = self.app.get_aggregate(Case, case_id, "case")
                row = self.app.views.summary(case_id)
                assert row is not None
                assert (row["status"], row["stage"], row["open_risks"],
                        row["social_worker_id"]) == (
                    case.status, case.stage,
                    sum(r["status"] == "open" for r in case.risks.values()),
                    case.social_worker_id), case_id

    run_state_machine_as_test(Cases, settings=settings(
        max_examples=scaled(15), stateful_step_count=40, deadline=None))


def every_row(read: Any) -> tuple[int, list[dict[str, Any]]]:
    """A list's total, and its rows read page by page."""
    first = read(None)
    rows, after = list(first["items"]), first["next"]
    while after is not None:
        page = read(after)
        rows += page["items"]
        after = page["next"]
    return first["total"], rows


def assert_totals_count_the_rows(app: CasesApplication) -> None:
    """The totals kept in counter rows say how many rows each list has, for every reader and
    filter; the counts by step say how the live caseload divides."""
    readers = [WORKER, SUPERVISOR, Actor("admin-1", "school_admin", "JD001"),
               Actor("auditor-1", "auditor")]
    for reader in readers:
        with acting_as(reader):
            for status in ("live", "any", "closed"):
                for stage in (None, "intake", "assessment", "plan", "intervention",
                              "evaluation", "closing"):
                    total, rows = every_row(lambda after, status=status, stage=stage:
                                            app.list_caseload(limit=3, after=after,
                                                              status=status, stage=stage))
                    assert total == len(rows), (reader, status, stage)
            _, live = every_row(lambda after: app.list_caseload(limit=200, after=after))
            assert {stage: n for stage, n in app.count_open_cases_by_stage().items() if n} == {
                stage: sum(row["stage"] == stage for row in live)
                for stage in {row["stage"] for row in live}}
            for kind in (None, "assessment", "plan", "follow_up", "letter"):
                total, rows = every_row(lambda after, kind=kind: app.list_overdue(
                    limit=2, after=after, kind=kind))
                assert total == len(rows), (reader, kind)
                assert len({(row["kind"], row["item_id"]) for row in rows}) == len(rows)
            for within in (0, 30, 366):
                total, rows = every_row(lambda after, within=within: app.list_follow_ups_due(
                    limit=2, after=after, due_within_days=within))
                assert total == len(rows) == len({row["follow_up_id"] for row in rows})
                assert all(0 <= row["days_left"] <= within for row in rows), (reader, within)
            if reader.role in ("social_worker", "supervisor"):
                for client_type in (None, "student", "teacher"):
                    total, rows = every_row(lambda after, client_type=client_type:
                                            app.list_clients(limit=2, after=after,
                                                             client_type=client_type))
                    assert total == len(rows), (reader, client_type)


def test_no_reader_sees_another_school_s_rows_in_any_list(store, monkeypatch):
    monkeypatch.setenv("CASEBOOK_REQUIRE_ELIGIBLE_WORKERS", "false")
    app = CasesApplication(env=store)
    student(app, WORKER, "a-1")
    case_id = open_case(app, WORKER, "a-1")
    with acting_as(WORKER):
        app.receive_letter(DAY, "Help.", anonymous=True)
        app.form_group("support", "Change", ["7.1.3a"], WORKER.id, 4, DAY)
        app.hold_class("life_education", "Valuing life", ["7.1.4d"], DAY, 30, 5)
    clock.set(datetime(2026, 12, 1, tzinfo=UTC))  # everything of school A is overdue by now
    readers = [OTHER_SCHOOL_WORKER, Actor("supervisor-9", "supervisor", "JD002"),
               Actor("admin-9", "school_admin", "JD002")]
    for reader in readers:
        with acting_as(reader):
            assert app.list_caseload(status="any")["total"] == 0
            assert app.list_caseload(status="any", case_id=[case_id])["items"] == []
            assert sum(app.count_open_cases_by_stage().values()) == 0
            assert app.list_overdue()["total"] == 0
            if reader.role != "school_admin":
                assert app.list_clients()["total"] == 0
                assert app.list_clients(client_id=["a-1"])["items"] == []
                assert app.list_letters()["total"] == 0
            assert app.list_groups()["total"] == 0
            assert app.list_classes()["total"] == 0
    # The same reads, for school A's own worker, see each of those rows.
    with acting_as(WORKER):
        assert app.list_caseload()["total"] == 1
        assert {item["kind"] for item in app.list_overdue()["items"]} == {
            "assessment", "plan", "letter"}
        assert app.list_clients()["items"][0]["name"] == "王小明"
        # Read by id, the case says what of it is overdue, the most overdue first.
        [case] = app.list_caseload(case_id=[case_id])["items"]
        assert [step["kind"] for step in case["overdue"]] == ["assessment", "plan"]
        assert app.list_clients(client_id=["a-1", "a-9"])["items"][0]["name"] == "王小明"


def test_paging_returns_each_row_once_while_writes_go_on(store, monkeypatch):
    monkeypatch.setenv("CASEBOOK_REQUIRE_ELIGIBLE_WORKERS", "false")
    app = CasesApplication(env=store)
    before = set()
    for number in range(7):
        student(app, WORKER, f"p-{number}")
        before.add(open_case(app, WORKER, f"p-{number}"))
    seen: list[str] = []
    after = None
    written = 0
    with acting_as(WORKER):
        while True:
            page = app.list_caseload(limit=3, after=after)
            seen += [row["case_id"] for row in page["items"]]
            # Meanwhile the worker opens another case, before or after the cursor.
            written += 1
            student(app, WORKER, f"new-{written}")
            open_case(app, WORKER, f"new-{written}")
            after = page["next"]
            if after is None:
                break
        everything = app.list_caseload(limit=200)
    assert len(seen) == len(set(seen))  # no row twice
    assert before <= set(seen)  # every row that was there from the start
    assert everything["total"] == 7 + written
