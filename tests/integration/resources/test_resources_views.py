"""The resources views on SQLite and PostgreSQL: after any sequence of commands they equal views
rebuilt from the log and no resource is booked beyond its capacity; staff of one school see
none of another school's rows in any list; and paging returns each row once while writes go
on."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
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
from services.resources.app import ResourcesApplication
from services.resources.service import ResourcesService
from services.runtime.clock import clock
from services.runtime.context import Actor, acting_as
from tests.support.examples import scaled
from tests.support.stores import Examples
from tests.support.views import (
    assert_each_row_once_while_writes_go_on,
    assert_views_match_the_log,
)
from tests.unit.resources.support import CasesFeed

pytestmark = pytest.mark.integration

SCHOOLS = ("JD001", "JD002")
TODAY = date(2026, 9, 15)
WORKERS = {school: Actor(f"worker-{school}", "social_worker", school) for school in SCHOOLS}
SUPERVISORS = {school: Actor(f"supervisor-{school}", "supervisor", school) for school in SCHOOLS}
KINDS = ("tutoring", "financial_aid")


@pytest.fixture
def examples(store: dict[str, str]) -> Iterator[Examples[ResourcesApplication]]:
    clock.set(datetime(2026, 9, 15, 9, 0, tzinfo=UTC))
    made = Examples(ResourcesApplication, store)
    yield made
    made.drop()


class ResourcesMachine(RuleBasedStateMachine):
    """The service's commands in any order, in two schools, refused or not."""

    providers = Bundle("providers")
    resources = Bundle("resources")
    requests = Bundle("requests")
    referrals = Bundle("referrals")
    volunteers = Bundle("volunteers")
    assignments = Bundle("assignments")

    def __init__(self, examples: Examples) -> None:
        super().__init__()
        self.app = examples.app()
        self.feed = CasesFeed(self.app)

    def attempt(self, actor: Actor, command: Callable[[], Any]) -> Any:
        """A command as its caller sees it: done, or refused with nothing changed."""
        before = self.app.max_position()
        try:
            with acting_as(actor):
                return command()
        except CasebookError:
            assert self.app.max_position() == before
            return None

    @rule(target=providers, school=st.sampled_from(SCHOOLS),
          sector=st.sampled_from(("medical", "community")))
    def register_provider(self, school: str, sector: str) -> Any:
        answer = self.attempt(SUPERVISORS[school], lambda: self.app.register_provider(
            provider_kind="organisation", sector=sector, name="Partner", contact={},
            registered_on=date(2026, 9, 1)))
        return (school, answer["provider_id"])

    @rule(target=resources, provider=providers, kind=st.sampled_from(KINDS),
          capacity=st.integers(1, 3), covers=st.sampled_from((SCHOOLS[:1], SCHOOLS)),
          codes=st.sampled_from(((), ("7.1.1a",), ("7.1.4b",))))
    def register_resource(self, provider: tuple[str, str], kind: str, capacity: int,
                          covers: tuple[str, ...], codes: tuple[str, ...]) -> Any:
        school, provider_id = provider
        answer = self.attempt(SUPERVISORS[school], lambda: self.app.register_resource(
            provider_id, kind=kind, title="Places", capacity=capacity, unit="places",
            school_ids=list(covers), eligible_service_codes=list(codes), max_per_request=None,
            eligibility_note="", valid_from=date(2026, 9, 1), valid_until=None))
        return answer and answer["resource_id"]

    @rule(provider=providers, cents=st.integers(1, 10_000),
          restricted=st.booleans())
    def record_donation(self, provider: tuple[str, str], cents: int, restricted: bool) -> None:
        school, provider_id = provider
        self.attempt(SUPERVISORS[school], lambda: self.app.record_donation(
            provider_id, kind="funds", amount_cents=cents, currency="CNY", description="",
            restricted_to_service_codes=["7.1.1a"] if restricted else [],
            restricted_to_school_ids=[], restriction_note="", received_on=date(2026, 9, 2)))

    @rule(target=requests, school=st.sampled_from(SCHOOLS), kind=st.sampled_from(KINDS),
          quantity=st.integers(1, 2))
    def request(self, school: str, kind: str, quantity: int) -> tuple[str, str]:
        return school, self.feed.request(kind=kind, quantity=quantity, school_id=school,
                                         actor=WORKERS[school])

    @rule(request=requests, resource=resources)
    def offer(self, request: tuple[str, str], resource: str | None) -> None:
        school, request_id = request
        if resource is not None:
            self.attempt(SUPERVISORS[school],
                         lambda: self.app.offer_resource(request_id, resource, None))

    @rule(request=requests, step=st.sampled_from(("accept", "decline", "deliver", "use")))
    def carry_on(self, request: tuple[str, str], step: str) -> None:
        school, request_id = request
        commands = {
            "accept": lambda: self.app.accept_resource_link(request_id, TODAY),
            "decline": lambda: self.app.decline_resource_link(request_id, "other", TODAY),
            "deliver": lambda: self.app.record_delivery(request_id, TODAY, None),
            "use": lambda: self.app.record_usage(request_id, 1, "partly_met", TODAY),
        }
        self.attempt(SUPERVISORS[school], commands[step])

    @rule(target=referrals, school=st.sampled_from(SCHOOLS))
    def refer(self, school: str) -> tuple[str, str]:
        referral_id = str(uuid.uuid4())
        self.feed.deliver(self.feed.envelope("ReferralMade", {
            "referral_id": referral_id, "case_id": str(uuid.uuid4()),
            "agency_kind": "mental_health", "agency_id": None,
            "reason_code": "specialist_need", "referred_on": "2026-09-10",
        }, school_id=school, actor=WORKERS[school]))
        return school, referral_id

    @rule(referral=referrals, outcome=st.sampled_from((None, "service_provided",
                                                        "agency_declined")))
    def handle_referral(self, referral: tuple[str, str], outcome: str | None) -> None:
        school, referral_id = referral
        self.attempt(SUPERVISORS[school], lambda: (
            self.app.accept_referral(referral_id, TODAY) if outcome is None
            else self.app.complete_referral(referral_id, outcome, TODAY)))

    @rule(target=volunteers, school=st.sampled_from(SCHOOLS))
    def register_volunteer(self, school: str) -> tuple[str, str]:
        answer = self.attempt(SUPERVISORS[school], lambda: self.app.register_volunteer(
            name="Volunteer", contact={}, skills=["art"], registered_on=date(2026, 9, 1)))
        return school, answer["volunteer_id"]

    @rule(volunteer=volunteers, result=st.sampled_from(("passed", "failed")),
          checked=st.integers(1, 14), lasts=st.integers(1, 30))
    def check(self, volunteer: tuple[str, str], result: str, checked: int,
              lasts: int) -> None:
        school, volunteer_id = volunteer
        checked_on = date(2026, 9, checked)
        self.attempt(SUPERVISORS[school], lambda: self.app.record_volunteer_check(
            volunteer_id, result, checked_on, date.fromordinal(checked_on.toordinal() + lasts)))

    @rule(target=assignments, volunteer=volunteers, with_students=st.booleans())
    def assign(self, volunteer: tuple[str, str], with_students: bool) -> Any:
        school, volunteer_id = volunteer
        answer = self.attempt(SUPERVISORS[school], lambda: self.app.assign_volunteer(
            volunteer_id, activity_id="club", activity_kind="group",
            with_students=with_students, starts_on=date(2026, 9, 1)))
        return answer and (school, volunteer_id, answer["assignment_id"])

    @rule(assignment=assignments, minutes=st.integers(15, 240))
    def log_time(self, assignment: tuple[str, str, str] | None, minutes: int) -> None:
        if assignment is not None:
            school, volunteer_id, assignment_id = assignment
            self.attempt(SUPERVISORS[school], lambda: self.app.log_volunteer_hours(
                volunteer_id, assignment_id, date(2026, 9, 10), minutes))

    @rule(provider=providers, school=st.sampled_from(SCHOOLS))
    def hold_joint_activity(self, provider: tuple[str, str], school: str) -> None:
        self.attempt(SUPERVISORS[school], lambda: self.app.hold_joint_activity(
            partner_ids=[provider[1]], theme="Fair", service_codes=["7.3a"],
            held_on=date(2026, 9, 12), participant_count=10))

    @rule(provider=providers, school=st.sampled_from(SCHOOLS))
    def issue_feedback(self, provider: tuple[str, str], school: str) -> None:
        self.attempt(SUPERVISORS[school], lambda: self.app.issue_provider_feedback(
            provider[1], date(2026, 9, 1), date(2026, 9, 30)))

    @invariant()
    def views_equal_a_rebuild_from_the_log(self) -> None:
        assert_views_match_the_log(self.app)

    @invariant()
    def no_resource_is_booked_beyond_its_capacity(self) -> None:
        assert self.app.views.store.select(
            "SELECT resource_id FROM {resource} WHERE remaining < 0 OR "
            "held + delivered + remaining <> capacity") == []

    def teardown(self) -> None:
        self.app.close()


@pytest.mark.properties
def test_the_views_equal_a_rebuild_from_the_log_after_any_commands(examples) -> None:
    run_state_machine_as_test(
        lambda: ResourcesMachine(examples),
        settings=settings(max_examples=scaled(8), stateful_step_count=18, deadline=None,
                          database=None, suppress_health_check=list(HealthCheck)),
    )


# Every list, one school's rows seen only by it, and paged once each while writes go on.


class School:
    """Records of every kind in one school, made through the application."""

    def __init__(self, app: ResourcesApplication, feed: CasesFeed, school: str) -> None:
        self.app, self.feed, self.school = app, feed, school
        self.supervisor = SUPERVISORS[school]
        self.provider_id = self.provider()

    def provider(self) -> str:
        with acting_as(self.supervisor):
            return str(self.app.register_provider(
                provider_kind="organisation", sector="medical", name="Clinic", contact={},
                registered_on=date(2026, 9, 1))["provider_id"])

    def resource(self) -> str:
        with acting_as(self.supervisor):
            return str(self.app.register_resource(
                self.provider_id, kind="tutoring", title="Places", capacity=5, unit="places",
                school_ids=[self.school], eligible_service_codes=[], max_per_request=None,
                eligibility_note="", valid_from=date(2026, 9, 1),
                valid_until=None)["resource_id"])

    def donation(self) -> str:
        with acting_as(self.supervisor):
            return str(self.app.record_donation(
                self.provider_id, kind="goods", amount_cents=100, currency="CNY",
                description="", restricted_to_service_codes=[], restricted_to_school_ids=[],
                restriction_note="", received_on=date(2026, 9, 2))["donation_id"])

    def volunteer(self) -> str:
        with acting_as(self.supervisor):
            return str(self.app.register_volunteer(
                name="Volunteer", contact={}, skills=[], registered_on=date(2026, 9, 1),
            )["volunteer_id"])

    def link(self) -> str:
        return self.feed.request(school_id=self.school, actor=WORKERS[self.school])

    def referral(self) -> str:
        referral_id = str(uuid.uuid4())
        self.feed.deliver(self.feed.envelope("ReferralMade", {
            "referral_id": referral_id, "case_id": str(uuid.uuid4()),
            "agency_kind": "legal_aid", "agency_id": None, "reason_code": "beyond_scope",
            "referred_on": "2026-09-10"}, school_id=self.school, actor=WORKERS[self.school]))
        return referral_id

    def joint_activity(self) -> str:
        with acting_as(self.supervisor):
            return str(self.app.hold_joint_activity(
                partner_ids=[self.provider_id], theme="Fair", service_codes=["7.3a"],
                held_on=date(2026, 9, 12), participant_count=10)["activity_id"])

    def feedback(self) -> str:
        with acting_as(self.supervisor):
            return str(self.app.issue_provider_feedback(
                self.provider_id, date(2026, 9, 1), date(2026, 9, 30))["feedback_id"])


# Each list: how to make one more row of it, how to read a page of it, and its rows' key.
LISTS: dict[str, tuple[str, Callable[..., dict[str, Any]], str]] = {
    "list_providers": ("provider", ResourcesApplication.list_providers, "provider_id"),
    "list_resources": ("resource", ResourcesApplication.list_resources, "resource_id"),
    "list_donations": ("donation", ResourcesApplication.list_donations, "donation_id"),
    "list_volunteers": ("volunteer", ResourcesApplication.list_volunteers, "volunteer_id"),
    "list_resource_links": ("link", ResourcesApplication.list_resource_links, "request_id"),
    "list_referrals": ("referral", ResourcesApplication.list_referrals, "referral_id"),
    "list_joint_activities": ("joint_activity", ResourcesApplication.list_joint_activities,
                              "activity_id"),
    "list_issued_feedback": ("feedback", ResourcesApplication.list_issued_feedback,
                             "feedback_id"),
}
# Lists a social worker may not read at all (9.3c: the supervisor and the school admin issue
# feedback to providers).
NOT_A_WORKER_S = {"list_issued_feedback"}


def test_every_paged_answer_of_the_service_is_checked_here() -> None:
    paged = {name for name, member in vars(ResourcesService).items()
             if getattr(member, "command_returns", None) is not None
             and member.command_returns.__name__.endswith("Page")}
    assert paged == {*LISTS, "propose_resources"}


def test_staff_of_another_school_see_none_of_its_rows_in_any_list(examples) -> None:
    app = examples.app()
    feed = CasesFeed(app)
    ours, theirs = School(app, feed, "JD001"), School(app, feed, "JD002")
    for make, _, _ in LISTS.values():
        getattr(ours, make)()
    their_request = theirs.link()
    readers = [Actor("worker-3", "social_worker", "JD002"), SUPERVISORS["JD002"],
               Actor("admin-3", "school_admin", "JD002")]
    for name, (_, read, _) in LISTS.items():
        with acting_as(SUPERVISORS["JD001"]):
            assert read(app)["total"] >= 1, f"{name}: the school sees its own rows"
        for reader in readers:
            if reader.role == "social_worker" and name in NOT_A_WORKER_S:
                continue
            with acting_as(reader):
                seen = read(app)["items"]
            theirs_only = {"list_providers": [theirs.provider_id],
                           "list_resource_links": [their_request]}.get(name, [])
            key = LISTS[name][2]
            assert [row[key] for row in seen if row[key] not in theirs_only] == [], (
                f"{name} as {reader.role} of JD002 shows JD001's rows")
    with acting_as(SUPERVISORS["JD002"]):
        assert app.get_donation_totals() == {"totals": []}
        assert app.propose_resources(their_request)["items"] == []
        network = app.get_community_network()
    assert (network["partners"], network["joint_activities"]) == (1, 0)


@pytest.mark.parametrize("name", sorted(LISTS))
def test_paging_returns_each_row_once_while_writes_go_on(examples, name) -> None:
    app = examples.app()
    school = School(app, CasesFeed(app), "JD001")
    make, read, key = LISTS[name]
    existing = {getattr(school, make)() for _ in range(5)}
    if name == "list_providers":
        existing.add(school.provider_id)

    def read_page(cursor: str | None) -> dict[str, Any]:
        with acting_as(SUPERVISORS["JD001"]):
            return read(app, limit=2, after=cursor)

    assert_each_row_once_while_writes_go_on(read_page, getattr(school, make), key, existing,
                                            name)
