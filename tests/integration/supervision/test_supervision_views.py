"""The supervision views on SQLite and PostgreSQL: after any sequence of commands, cases events
and timer runs they equal views rebuilt from the log; staff of one school see none of another
school's rows in any list; and paging returns each row once while writes go on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from contracts.errors import CasebookError
from services.runtime.clock import clock
from services.runtime.context import SYSTEM, Actor, acting_as
from services.supervision.app import SupervisionApplication
from services.supervision.service import SupervisionService
from tests.support.examples import scaled
from tests.support.stores import Examples
from tests.support.views import (
    assert_each_row_once_while_writes_go_on,
    assert_views_match_the_log,
)
from tests.unit.supervision.support import QUALIFIED, CasesStream

pytestmark = pytest.mark.integration

SCHOOLS = ("JD001", "JD002")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADMINS = {school: Actor(f"admin-{school}", "school_admin", school) for school in SCHOOLS}
SUPERVISORS = {school: Actor(f"supervisor-{school}", "supervisor", school) for school in SCHOOLS}
OPERATOR = Actor("operator-1", "operator", None)


@pytest.fixture
def examples(store: dict[str, str]) -> Iterator[Examples[SupervisionApplication]]:
    clock.set(START)
    made = Examples(SupervisionApplication, store)
    yield made
    made.drop()
    clock.reset()


def staff_school(app: SupervisionApplication, school: str) -> None:
    """A school with its admin's supervisor, as the operator and the admin register them."""
    with acting_as(OPERATOR):
        app.register_school(school_id=school, name="School", district="jingan",
                            service_mode="resident", facility_kinds=["office"],
                            registered_on=date(2026, 1, 5))
    with acting_as(ADMINS[school]):
        app.register_supervisor(supervisor_id=SUPERVISORS[school].id, employment="part_time",
                                setting="external", certificate_level="intermediate",
                                years_of_practice=8, school_id=school,
                                registered_on=date(2026, 1, 5))


class SupervisionMachine(RuleBasedStateMachine):
    """Staff commands, cases events, complaints, evaluations and the timer, in two schools, in
    any order, refused or not."""

    workers = Bundle("workers")
    cases = Bundle("cases")
    escalations = Bundle("escalations")
    complaints = Bundle("complaints")

    def __init__(self, examples: Examples[SupervisionApplication]) -> None:
        super().__init__()
        clock.set(START)
        self.app = examples.app()
        self.stream = CasesStream(self.app)
        self.numbers = iter(range(1_000_000))
        for school in SCHOOLS:
            staff_school(self.app, school)

    def attempt(self, actor: Actor, command: Callable[[], Any]) -> Any:
        """A command as its caller sees it: done, or refused with nothing changed."""
        before = self.app.max_position()
        try:
            with acting_as(actor):
                return command()
        except CasebookError:
            assert self.app.max_position() == before
            return None

    def next_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self.numbers)}"

    @rule(target=workers, school=st.sampled_from(SCHOOLS), trained=st.booleans(),
          full_time=st.booleans())
    def register_worker(self, school: str, trained: bool, full_time: bool) -> tuple[str, str]:
        worker_id = self.next_id("worker")
        self.attempt(ADMINS[school], lambda: self.app.register_social_worker(
            social_worker_id=worker_id, employment="full_time" if full_time else "part_time",
            school_ids=[school], registered_on=date(2026, 1, 10), **QUALIFIED))
        if trained:
            self.record_training((school, worker_id), "pre_job", 40 * 60)
        return school, worker_id

    @rule(worker=workers, kind=st.sampled_from(("pre_job", "continuing")),
          minutes=st.integers(30, 3000))
    def record_training(self, worker: tuple[str, str], kind: str, minutes: int) -> None:
        school, worker_id = worker
        self.attempt(ADMINS[school], lambda: self.app.record_training(
            social_worker_id=worker_id, kind=kind, minutes=minutes, topics=["ethics"],
            completed_on=clock.today()))

    @rule(worker=workers)
    def assign_supervisor(self, worker: tuple[str, str]) -> None:
        school, worker_id = worker
        self.attempt(ADMINS[school], lambda: self.app.assign_supervisor(
            social_worker_id=worker_id, supervisor_id=SUPERVISORS[school].id))

    @rule(worker=workers, kinds=st.sets(st.sampled_from(
        ("administrative", "educational", "supportive")), min_size=1))
    def hold_session(self, worker: tuple[str, str], kinds: set[str]) -> None:
        school, worker_id = worker
        self.attempt(SUPERVISORS[school], lambda: self.app.record_supervision_session(
            supervisor_id=SUPERVISORS[school].id, social_worker_ids=[worker_id],
            kinds=sorted(kinds), format="individual", held_on=clock.today(),
            duration_minutes=60))

    @rule(worker=workers, other=st.booleans())
    def assign_to_school(self, worker: tuple[str, str], other: bool) -> None:
        school, worker_id = worker
        target = SCHOOLS[1] if school == SCHOOLS[0] else SCHOOLS[0]
        self.attempt(OPERATOR, lambda: self.app.assign_social_worker(
            social_worker_id=worker_id, school_id=target if other else school))

    @rule(worker=workers)
    def end_assignment(self, worker: tuple[str, str]) -> None:
        school, worker_id = worker
        target = SCHOOLS[1] if school == SCHOOLS[0] else SCHOOLS[0]
        self.attempt(OPERATOR, lambda: self.app.end_assignment(
            social_worker_id=worker_id, school_id=target))

    @rule(worker=workers)
    def deactivate(self, worker: tuple[str, str]) -> None:
        school, worker_id = worker
        self.attempt(ADMINS[school], lambda: self.app.deactivate_social_worker(
            social_worker_id=worker_id, reason="left_service"))

    # The cases stream.

    @rule(target=cases, worker=workers)
    def open_case(self, worker: tuple[str, str]) -> tuple[str, str]:
        school, worker_id = worker
        case_id = self.next_id("case")
        self.stream.emit("CaseOpened", case_id, school_id=school, client_id=f"c-{case_id}",
                         client_type="student", social_worker_id=worker_id,
                         service_codes=["7.1.3a"], opened_on=clock.today())
        return school, case_id

    @rule(case=cases, step=st.sampled_from(("assessed", "planned", "intervention", "closed",
                                           "reopened", "follow_up")))
    def case_step(self, case: tuple[str, str], step: str) -> None:
        school, case_id = case
        today = clock.today()
        emit = {
            "assessed": lambda: self.stream.emit(
                "AssessmentRecorded", case_id, school_id=school, case_id=case_id,
                assessment_number=1, assessed_on=today, problem_count=1, strength_count=1),
            "planned": lambda: self.stream.emit(
                "PlanAdopted", case_id, school_id=school, case_id=case_id, plan_version=1,
                goal_count=1, adopted_on=today, review_by=None),
            "intervention": lambda: self.stream.emit(
                "InterventionLogged", case_id, school_id=school,
                intervention_id=self.next_id("i"), form="direct", method="case_work",
                service_codes=["7.1.3a"], delivered_on=today, duration_minutes=45,
                participant_count=1),
            "closed": lambda: self.stream.emit(
                "CaseClosed", case_id, school_id=school, reason="goals_met", closed_on=today,
                intervention_count=0),
            "reopened": lambda: self.stream.emit(
                "CaseReopened", case_id, school_id=school, case_id=case_id,
                reopened_on=today),
            "follow_up": lambda: self.stream.emit(
                "FollowUpScheduled", case_id, school_id=school, case_id=case_id,
                follow_up_id=self.next_id("fu"), due_on=today + timedelta(days=3)),
        }
        emit[step]()

    @rule(school=st.sampled_from(SCHOOLS), answered=st.booleans())
    def letter(self, school: str, answered: bool) -> None:
        letter_id = self.next_id("letter")
        self.stream.emit("LetterReceived", letter_id, school_id=school, letter_id=letter_id,
                         anonymous=True, received_on=clock.today(), service_codes=[])
        if answered:
            self.stream.emit("LetterAnswered", letter_id, school_id=school, letter_id=letter_id,
                             answered_on=clock.today(), days_to_answer=0, opened_case_id=None)

    @rule(target=escalations, case=cases, level=st.sampled_from(("medium", "critical")))
    def raise_risk(self, case: tuple[str, str], level: str) -> tuple[str, str]:
        school, case_id = case
        risk_id = self.next_id("risk")
        self.stream.emit("RiskEscalated", case_id, school_id=school, risk_id=risk_id,
                         case_id=case_id, risk_type="self_harm", level=level,
                         previous_level=None, life_safety=level == "critical",
                         social_worker_id="worker-0", raised_on=clock.today())
        return school, risk_id

    @rule(escalation=escalations)
    def acknowledge(self, escalation: tuple[str, str]) -> None:
        school, risk_id = escalation
        with acting_as(ADMINS[school]):
            found = self.app.list_escalations(school, status="awaiting acknowledgement")
        for escalation_id in [r["escalation_id"] for r in found["items"]
                              if r["risk_id"] == risk_id]:
            self.attempt(OPERATOR, partial(self.app.acknowledge_escalation, escalation_id))

    @rule(escalation=escalations)
    def resolve_risk(self, escalation: tuple[str, str]) -> None:
        school, risk_id = escalation
        self.stream.emit("RiskResolved", "case-x", school_id=school, risk_id=risk_id,
                         case_id="case-x", resolved_on=clock.today())

    # Complaints, evaluations, improvement.

    @rule(target=complaints, school=st.sampled_from(SCHOOLS))
    def receive_complaint(self, school: str) -> tuple[str, str]:
        answer = self.attempt(ADMINS[school], lambda: self.app.receive_complaint(
            school_id=school, kind="complaint", channel="phone", anonymous=True,
            content="The door was locked."))
        return school, answer

    @rule(complaint=complaints, answer=st.booleans())
    def handle_complaint(self, complaint: tuple[str, str], answer: bool) -> None:
        school, complaint_id = complaint
        if complaint_id is None:
            return
        if answer:
            self.attempt(ADMINS[school], lambda: self.app.answer_complaint(
                complaint_id=complaint_id, outcome="noted", answer="Opened it."))
        else:
            self.attempt(ADMINS[school], lambda: self.app.record_complaint_step(
                complaint_id=complaint_id, step="investigating"))

    @rule(school=st.sampled_from(SCHOOLS), score=st.integers(1000, 5000))
    def survey(self, school: str, score: int) -> None:
        self.attempt(ADMINS[school], lambda: self.app.record_satisfaction_survey(
            school_id=school, respondent_kind="student", respondent_count=10,
            satisfied_count=7, mean_score_permille=score, evaluator_type="third_party",
            period_from=date(2026, 1, 1), period_to=clock.today()))

    @rule(school=st.sampled_from(SCHOOLS), rating=st.sampled_from(("good", "poor")))
    def evaluate(self, school: str, rating: str) -> None:
        self.attempt(ADMINS[school], lambda: self.app.record_service_evaluation(
            school_id=school, scope="school", evaluator_type="peer", rating=rating))

    @rule(school=st.sampled_from(SCHOOLS), complete=st.booleans())
    def improve(self, school: str, complete: bool) -> None:
        with acting_as(ADMINS[school]):
            open_findings = self.app.list_findings(school, status="open", limit=1)["items"]
            actions = self.app.list_improvement_actions(school, status="open", limit=1)["items"]
        if complete and actions:
            self.attempt(ADMINS[school], lambda: self.app.complete_improvement_action(
                actions[0]["action_id"], "Done."))
        elif open_findings:
            self.attempt(ADMINS[school], lambda: self.app.open_improvement_action(
                open_findings[0]["finding_id"], ADMINS[school].id, "Weekly review.",
                clock.today() + timedelta(days=7)))

    @rule(days=st.integers(1, 40))
    def time_passes(self, days: int) -> None:
        clock.set(clock.now() + timedelta(days=days))
        with acting_as(SYSTEM):
            self.app.climb_overdue()
            self.app.raise_overdue_findings()

    @invariant()
    def views_equal_a_rebuild(self) -> None:
        assert_views_match_the_log(self.app)

    def teardown(self) -> None:
        # Each example's connections go back as it ends: held until the test's end, sixty
        # examples on PostgreSQL took every connection the server has.
        self.app.close()


@pytest.mark.properties
def test_the_views_equal_a_rebuild_from_the_log_after_any_commands(examples) -> None:
    run_state_machine_as_test(
        lambda: SupervisionMachine(examples),
        settings=settings(max_examples=scaled(6), stateful_step_count=25, deadline=None,
                          database=None, suppress_health_check=list(HealthCheck)),
    )


# Every list, one school's rows seen only by it, and paged once each while writes go on.


class School:
    """Records of every list's kind in one school, made through the application and the cases
    stream."""

    def __init__(self, app: SupervisionApplication, stream: CasesStream, school: str) -> None:
        self.app, self.stream, self.school = app, stream, school
        self.admin = ADMINS[school]
        self.count = 0
        staff_school(app, school)
        self.worker_id = self.social_worker()

    def next_id(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}-{self.school}-{self.count}"

    def social_worker(self) -> str:
        worker_id = self.next_id("worker")
        with acting_as(self.admin):
            self.app.register_social_worker(
                social_worker_id=worker_id, employment="full_time", school_ids=[self.school],
                registered_on=date(2026, 1, 10), **QUALIFIED)
            self.app.assign_supervisor(social_worker_id=worker_id,
                                       supervisor_id=SUPERVISORS[self.school].id)
        return worker_id

    def training(self) -> str:
        with acting_as(self.admin):
            return self.app.record_training(
                social_worker_id=self.worker_id, kind="continuing", minutes=90,
                topics=["ethics"], completed_on=clock.today())

    def session(self) -> str:
        with acting_as(self.admin):
            return self.app.record_supervision_session(
                supervisor_id=SUPERVISORS[self.school].id, social_worker_ids=[self.worker_id],
                kinds=["educational"], format="individual", held_on=clock.today(),
                duration_minutes=60)

    def escalation(self, case_id: str | None = None) -> str:
        case_id, risk_id = case_id or self.next_id("case"), self.next_id("risk")
        self.stream.emit("RiskEscalated", case_id, school_id=self.school, risk_id=risk_id,
                         case_id=case_id, risk_type="bullying", level="low",
                         previous_level=None, life_safety=False,
                         social_worker_id=self.worker_id, raised_on=clock.today())
        with acting_as(self.admin):
            rows = self.app.list_escalations(self.school, limit=200)["items"]
        return next(str(r["escalation_id"]) for r in rows if r["risk_id"] == risk_id)

    def finding(self) -> str:
        letter_id = self.next_id("letter")
        self.stream.emit("LetterReceived", letter_id, school_id=self.school,
                         letter_id=letter_id, anonymous=True,
                         received_on=clock.today() - timedelta(days=30), service_codes=[])
        with acting_as(SYSTEM):
            [raised] = self.app.raise_overdue_findings()
        return raised

    def improvement_action(self) -> str:
        with acting_as(self.admin):
            return self.app.open_improvement_action(
                self.finding(), self.admin.id, "Answer letters weekly.",
                clock.today() + timedelta(days=7))

    def complaint(self) -> str:
        with acting_as(self.admin):
            return self.app.receive_complaint(
                school_id=self.school, kind="complaint", channel="phone", anonymous=True,
                content="Nobody answered.")

    def evaluation(self) -> str:
        with acting_as(self.admin):
            return self.app.record_service_evaluation(
                school_id=self.school, scope="school", evaluator_type="peer", rating="good")

    def survey(self) -> str:
        with acting_as(self.admin):
            return self.app.record_satisfaction_survey(
                school_id=self.school, respondent_kind="parent", respondent_count=10,
                satisfied_count=8, mean_score_permille=4100, evaluator_type="third_party",
                period_from=date(2026, 1, 1), period_to=clock.today())

    def supervisor(self) -> str:
        with acting_as(self.admin):
            return self.app.register_supervisor(
                supervisor_id=self.next_id("supervisor"), employment="part_time",
                setting="internal", certificate_level="intermediate", years_of_practice=8,
                school_id=self.school)


def _schools(app: SupervisionApplication, **page: Any) -> dict[str, Any]:
    return app.list_schools(**page)


def _supervisees(school: str) -> Callable[..., dict[str, Any]]:
    return lambda app, **page: app.list_supervisees(SUPERVISORS[school].id, **page)


# Each list: how to make one more row, how to read a page of it (for a school), its rows' key.
LISTS: dict[str, tuple[str, Callable[[str], Callable[..., dict[str, Any]]], str]] = {
    "list_social_workers": ("social_worker", lambda s: lambda app, **page:
                            app.list_social_workers(s, **page), "social_worker_id"),
    "list_supervisees": ("social_worker", _supervisees, "social_worker_id"),
    "list_trainings": ("training", lambda s: lambda app, **page:
                       app.list_trainings(s, **page), "training_id"),
    "list_supervision_sessions": ("session", lambda s: lambda app, **page:
                                  app.list_supervision_sessions(s, **page), "session_id"),
    "list_escalations": ("escalation", lambda s: lambda app, **page:
                         app.list_escalations(s, **page), "escalation_id"),
    "list_findings": ("finding", lambda s: lambda app, **page:
                      app.list_findings(s, **page), "finding_id"),
    "list_improvement_actions": ("improvement_action", lambda s: lambda app, **page:
                                 app.list_improvement_actions(s, **page), "action_id"),
    "list_complaints": ("complaint", lambda s: lambda app, **page:
                        app.list_complaints(s, **page), "complaint_id"),
    "list_service_evaluations": ("evaluation", lambda s: lambda app, **page:
                                 app.list_service_evaluations(s, **page), "evaluation_id"),
    "list_satisfaction_surveys": ("survey", lambda s: lambda app, **page:
                                  app.list_satisfaction_surveys(s, **page), "survey_id"),
    "list_supervisors": ("supervisor", lambda s: lambda app, **page:
                         app.list_supervisors(s, **page), "supervisor_id"),
}


def test_every_paged_answer_of_the_service_is_checked_here() -> None:
    paged = {name for name, member in vars(SupervisionService).items()
             if getattr(member, "command_returns", None) is not None
             and member.command_returns.__name__.endswith("Page")}
    assert paged == {*LISTS, "list_schools", "list_every_escalation"}


AUDITOR = Actor("auditor-1", "auditor", None)


def test_every_schools_escalations_are_for_those_who_serve_every_school(examples) -> None:
    app = examples.app()
    stream = CasesStream(app)
    schools = {name: School(app, stream, name) for name in SCHOOLS}
    made = {name: {school.escalation() for _ in range(2)} for name, school in schools.items()}
    for reader in (OPERATOR, AUDITOR):
        with acting_as(reader):
            listed = app.list_every_escalation(limit=200)
        assert {row["escalation_id"] for row in listed["items"]} == made["JD001"] | made["JD002"]
        assert listed["total"] == 4
    # One given a school in their token reads that school's only.
    with acting_as(Actor("auditor-2", "auditor", "JD002")):
        assert {row["escalation_id"] for row in app.list_every_escalation(
            limit=200)["items"]} == made["JD002"]
    for reader in (ADMINS["JD001"], SUPERVISORS["JD001"],
                   Actor("worker-1", "social_worker", "JD001")):
        with acting_as(reader), pytest.raises(CasebookError):
            app.list_every_escalation()


def test_each_schools_waiting_and_overdue_escalations_are_counted(examples) -> None:
    app = examples.app()
    stream = CasesStream(app)
    schools = {name: School(app, stream, name) for name in SCHOOLS}
    taken = schools["JD001"].escalation()
    schools["JD001"].escalation()
    with acting_as(OPERATOR):
        app.acknowledge_escalation(taken)
    # A low risk's first step is five days: the one of JD002 opened six days later is in time.
    clock.set(START + timedelta(days=6))
    schools["JD002"].escalation()

    def counted(reader: Actor, *asked: str) -> list[dict[str, Any]]:
        with acting_as(reader):
            found: list[dict[str, Any]] = app.count_escalations_by_school(list(asked))["schools"]
            return found

    # In the order asked, each once, a school with none (or none registered) with zeros.
    assert counted(OPERATOR, "JD002", "JD001", "JD009", "JD001") == [
        {"school_id": "JD002", "awaiting": 1, "overdue": 0},
        {"school_id": "JD001", "awaiting": 1, "overdue": 1},
        {"school_id": "JD009", "awaiting": 0, "overdue": 0}]
    # One given a school in their token is answered for it alone.
    assert counted(Actor("auditor-2", "auditor", "JD002"), "JD001", "JD002") == [
        {"school_id": "JD002", "awaiting": 1, "overdue": 0}]
    assert counted(Actor("auditor-2", "auditor", "JD002"), "JD001") == []
    with acting_as(ADMINS["JD001"]), pytest.raises(CasebookError):
        app.count_escalations_by_school(["JD001"])


def school_escalations(app: SupervisionApplication, **filters: Any) -> list[str]:
    """The ids of JD001's escalations that `filters` select, the same in its administrator's list
    and in the operator's of every school."""
    with acting_as(ADMINS["JD001"]):
        mine = app.list_escalations("JD001", **filters)["items"]
    with acting_as(OPERATOR):
        every = app.list_every_escalation(**filters)["items"]
    assert mine == every
    return [row["escalation_id"] for row in every]


def test_escalations_waiting_for_a_role_are_those_whose_step_waits_for_it(examples) -> None:
    app = examples.app()
    school = School(app, CasesStream(app), "JD001")
    taken, left = school.escalation(), school.escalation()
    with acting_as(OPERATOR):
        app.acknowledge_escalation(taken)

    def waiting(role: str) -> list[str]:
        return school_escalations(app, waiting_for=role)

    # A low risk waits for its worker first (five days); the one acknowledged waits for no one.
    assert (waiting("social_worker"), waiting("supervisor")) == ([left], [])
    clock.set(START + timedelta(days=6))
    with acting_as(SYSTEM):
        app.climb_overdue()
    assert (waiting("social_worker"), waiting("supervisor")) == ([], [left])


def test_escalations_of_one_case_are_its_risks_and_no_other_cases(examples) -> None:
    app = examples.app()
    stream = CasesStream(app)
    school, other = School(app, stream, "JD001"), School(app, stream, "JD002")
    first = school.escalation("case-one")
    school.escalation()
    other.escalation()
    second = school.escalation("case-one")
    assert sorted(school_escalations(app, case_id="case-one")) == sorted([first, second])
    assert school_escalations(app, case_id="case-nobody-opened") == []


def test_every_schools_escalations_page_each_row_once_while_writes_go_on(examples) -> None:
    app = examples.app()
    stream = CasesStream(app)
    schools = [School(app, stream, name) for name in SCHOOLS]
    existing = {school.escalation() for school in schools for _ in range(3)}
    writes = iter(range(10_000))

    def write() -> str:
        return schools[next(writes) % 2].escalation()

    def read_page(cursor: str | None) -> dict[str, Any]:
        with acting_as(OPERATOR):
            return app.list_every_escalation(limit=2, after=cursor)

    assert_each_row_once_while_writes_go_on(read_page, write, "escalation_id", existing,
                                            "list_every_escalation")


def test_staff_of_another_school_see_none_of_its_rows_in_any_list(examples) -> None:
    app = examples.app()
    stream = CasesStream(app)
    ours, theirs = School(app, stream, "JD001"), School(app, stream, "JD002")
    for make, _, _ in LISTS.values():
        getattr(ours, make)()
    readers = [SUPERVISORS["JD002"], ADMINS["JD002"]]
    for name, (_, read, key) in LISTS.items():
        with acting_as(ADMINS["JD001"]):
            assert read("JD001")(app)["total"] >= 1, f"{name}: the school sees its own rows"
        for reader in readers:
            # Their own school's list holds none of ours; ours is refused to them outright.
            with acting_as(reader):
                seen = {row[key] for row in read("JD002")(app, limit=200)["items"]}
                with pytest.raises(CasebookError):
                    read("JD001")(app)
            with acting_as(ADMINS["JD001"]):
                mine = {row[key] for row in read("JD001")(app, limit=200)["items"]}
            assert not seen & mine, f"{name} as {reader.role} of JD002 shows JD001's rows"
    with acting_as(theirs.admin):
        assert [s["school_id"] for s in _schools(app)["items"]] == ["JD002"]


@pytest.mark.parametrize("name", sorted(LISTS))
def test_paging_returns_each_row_once_while_writes_go_on(examples, name) -> None:
    app = examples.app()
    school = School(app, CasesStream(app), "JD001")
    make, read, key = LISTS[name]
    existing = {getattr(school, make)() for _ in range(5)}
    if make == "social_worker":
        existing.add(school.worker_id)

    def read_page(cursor: str | None) -> dict[str, Any]:
        with acting_as(ADMINS["JD001"]):
            return read("JD001")(app, limit=2, after=cursor)

    assert_each_row_once_while_writes_go_on(read_page, getattr(school, make), key, existing,
                                            name)
