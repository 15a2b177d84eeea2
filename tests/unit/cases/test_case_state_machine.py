"""Any sequence of case commands keeps the process's invariants (8.2.1.1, 8.3, 4.2), a refused
command changes nothing, and replaying the events rebuilds exactly the state."""

from datetime import date, timedelta
from functools import reduce
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from contracts.errors import CasebookError
from services.cases.domain import Case
from services.cases.rules import CLOSING_ITEMS, PLAN_PARTS
from services.runtime.context import Actor, acting_as
from services.runtime.risk_policy import risk_policy
from tests.support.examples import scaled

POLICY = risk_policy()

WORKER = Actor("worker-1", "social_worker", "JD001")
START = date(2026, 9, 1)
PARTS = {part: f"sealed:{part}" for part in PLAN_PARTS}
days = st.integers(min_value=0, max_value=60).map(lambda n: START + timedelta(days=n))


def state(case: Case) -> dict[str, Any]:
    return {k: v for k, v in vars(case).items() if k != "_pending_events"}


class CaseCommands(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.acting = acting_as(WORKER)
        self.acting.__enter__()
        self.case = Case(school_id="JD001", client_id="client-1", client_type="student",
                         client_is_minor=True, social_worker_id="worker-1",
                         service_codes=["7.1.3a"], opened_on=START,
                         intake={"worker_introduced": True, "respect_and_empathy": True,
                                 "initial_information": "sealed:info"}, letter_id=None)
        self.events = list(self.case.collect_events())
        self.risk_ids: list[str] = []

    def teardown(self) -> None:
        self.acting.__exit__(None, None, None)

    def attempt(self, command: Any) -> None:
        before = state(self.case)
        try:
            command()
        except CasebookError:
            # A refused command triggered nothing and changed nothing.
            assert not self.case._pending_events
            assert state(self.case) == before
        self.events.extend(self.case.collect_events())

    @rule(on=days)
    def accept(self, on: date) -> None:
        self.attempt(lambda: self.case.accept_intake(on))

    @rule(party=st.sampled_from(["client", "guardian"]), on=days)
    def consent(self, party: str, on: date) -> None:
        self.attempt(lambda: self.case.record_consent(party, on, ["rights"], None))

    @rule(party=st.sampled_from(["client", "guardian"]), on=days)
    def withdraw(self, party: str, on: date) -> None:
        self.attempt(lambda: self.case.withdraw_consent(party, on, None))

    @rule(on=days)
    def assess(self, on: date) -> None:
        self.attempt(lambda: self.case.record_assessment(
            on, environment="e", problems="p", problem_count=1, causes="c", priorities="p",
            strengths="s", strength_count=1, preliminary_plan=None))

    @rule(on=days, drop=st.sampled_from([None, *PLAN_PARTS]))
    def plan(self, on: date, drop: str | None) -> None:
        parts = {k: v for k, v in PARTS.items() if k != drop}
        if self.case.plans:
            self.attempt(lambda: self.case.revise_plan(parts, 2, on, None))
        else:
            self.attempt(lambda: self.case.adopt_plan(parts, 2, on, None))

    @rule(on=days, life_safety=st.booleans())
    def intervene(self, on: date, life_safety: bool) -> None:
        self.attempt(lambda: self.case.log_intervention(
            life_safety, intervention_id=f"i{len(self.events)}", form="direct",
            method="case_work", service_codes=["7.1.3a"], delivered_on=on, duration_minutes=30,
            participant_count=1, participant_kinds=["client"], notes=None))

    @rule(level=st.sampled_from(["medium", "critical"]), on=days)
    def raise_risk(self, level: str, on: date) -> None:
        risk_id = f"r{len(self.events)}"
        self.attempt(lambda: self.case.raise_risk(
            risk_id, "self_harm", level, on, None, False, POLICY.life_safety("self_harm", level)))
        if risk_id in self.case.risks:
            self.risk_ids.append(risk_id)

    @rule(data=st.data(), on=days)
    def resolve_risk(self, data: st.DataObject, on: date) -> None:
        if self.risk_ids:
            risk_id = data.draw(st.sampled_from(self.risk_ids))
            self.attempt(lambda: self.case.resolve_risk(risk_id, on, None))

    @rule(kind=st.sampled_from(["process", "outcome"]), on=days)
    def evaluate(self, kind: str, on: date) -> None:
        items = {"progress": "p", "worker_performance": "w", "reflection": "r"}
        goals = [{"goal_number": n, "attainment": 0} for n in (1, 2)]
        self.attempt(lambda: self.case.record_evaluation(kind, on, items, goals, 3))

    @rule(on=days, skip=st.sampled_from([None, *CLOSING_ITEMS]))
    def close(self, on: date, skip: str | None) -> None:
        items = {item: item != skip for item in CLOSING_ITEMS}
        self.attempt(lambda: self.case.close("goals_met", on, items, None, None))

    @rule(on=days)
    def reopen(self, on: date) -> None:
        self.attempt(lambda: self.case.reopen(on, None))

    @invariant()
    def the_process_holds(self) -> None:
        case = self.case
        if case.plans:
            assert case.assessments and case.status != "intake"
            assert all(set(plan["parts"]) == set(PLAN_PARTS) for plan in case.plans)
        for intervention in case.interventions:
            assert intervention["life_safety"] or case.plans
        if case.status == "closed":
            assert not case.missing_evaluations()
            assert all(risk["status"] == "resolved" for risk in case.risks.values())
        assert case.stage in ("intake", "assessment", "plan", "intervention", "evaluation",
                              "closing", "closed")
        if case.has_life_safety_risk():
            assert any(r["status"] == "open" and POLICY.life_safety(r["risk_type"], r["level"])
                       for r in case.risks.values())

    @invariant()
    def replaying_the_events_rebuilds_the_state(self) -> None:
        rebuilt = reduce(lambda aggregate, e: e.mutate(aggregate), self.events, None)
        assert rebuilt is not None
        assert state(rebuilt) == state(self.case)


CaseCommands.TestCase.settings = settings(max_examples=scaled(60), stateful_step_count=30,
                                          deadline=None)
test_case_commands = pytest.mark.properties(CaseCommands.TestCase)
