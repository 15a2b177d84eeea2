"""The archive views on SQLite and PostgreSQL: after any sequence of envelopes and commands they
equal views rebuilt from the log, and a unified code is never given twice; staff of one school
see none of another school's rows in any list; paging returns each row once while writes go on
(the ledger's entries and its chain alarms too); and what stores from before the learned tables
held fills them once."""

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
from services.archive.app import ArchiveApplication
from services.archive.files import ClientProfile, CodeSequence
from services.archive.service import ArchiveService
from services.runtime.clock import clock
from services.runtime.context import SYSTEM, Actor, acting_as
from tests.support.examples import scaled
from tests.support.stores import Examples
from tests.support.views import assert_views_match_the_log
from tests.unit.archive.streams import CasesStream, feed

pytestmark = pytest.mark.integration

SCHOOLS = ("JD001", "JD002")
ARCHIVISTS = {school: Actor(f"archivist-{school}", "archivist", school) for school in SCHOOLS}
SUPERVISORS = {school: Actor(f"supervisor-{school}", "supervisor", school) for school in SCHOOLS}
WORKERS = {school: Actor(f"worker-{school}", "social_worker", school) for school in SCHOOLS}
PURPOSE = "Review of the guardian's complaint"


@pytest.fixture
def examples(store: dict[str, str]) -> Iterator[Examples[ArchiveApplication]]:
    clock.set(datetime(2026, 9, 15, 9, 0, tzinfo=UTC))
    made = Examples(ArchiveApplication, store)
    yield made
    made.drop()


class Cases:
    """The cases service's stream, one chain for every school."""

    def __init__(self, app: ArchiveApplication) -> None:
        self.app = app
        self.stream = CasesStream()

    def deliver(self, school: str, make: Callable[[CasesStream], dict[str, Any]]) -> str:
        self.stream.school_id = school
        envelope = make(self.stream)
        feed(self.app, envelope)
        return str(envelope["aggregate_id"])

    def case(self, school: str) -> str:
        client_id = str(uuid.uuid4())
        self.deliver(school, lambda s: s.register_client(client_id))
        return self.deliver(school, lambda s: s.open_case(client_id))

    def closed_class(self, school: str) -> str:
        """A class held years ago: its file's retention has ended (KT, 3 years)."""
        class_id = str(uuid.uuid4())
        self.deliver(school, lambda s: s.emit("ClassHeld", {
            "class_id": class_id, "theme": "life_education", "service_codes": ["7.1.4d"],
            "held_on": "2020-03-01", "attendance": 30, "grade": None}))
        return class_id

    def file_of(self, record_id: str) -> str:
        with acting_as(SYSTEM):
            return str(self.app.find_file("cases", record_id)["file_id"])


class ArchiveMachine(RuleBasedStateMachine):
    """Envelopes and the archive's commands in any order, in two schools, refused or not."""

    files = Bundle("files")
    requests = Bundle("requests")

    def __init__(self, examples: Examples[ArchiveApplication]) -> None:
        super().__init__()
        self.app = examples.app()
        self.cases = Cases(self.app)

    def attempt(self, actor: Actor, command: Callable[[], Any]) -> Any:
        """A command as its caller sees it: done, or refused with nothing changed but the
        record of a refused read (4.5)."""
        before = self.app.max_position()
        try:
            with acting_as(actor):
                return command()
        except CasebookError:
            assert self.app.max_position() - before in (0, 1)
            return None

    @rule(target=files, school=st.sampled_from(SCHOOLS), kind=st.sampled_from(("case", "class")))
    def file(self, school: str, kind: str) -> tuple[str, str, str]:
        record_id = self.cases.case(school) if kind == "case" else self.cases.closed_class(school)
        return school, record_id, self.cases.file_of(record_id)

    @rule(file=files, step=st.sampled_from(("intervene", "evaluate", "close")))
    def carry_on(self, file: tuple[str, str, str], step: str) -> None:
        school, record_id, _ = file
        makes = {"intervene": lambda s: s.intervene(record_id),
                 "evaluate": lambda s: s.evaluate(record_id),
                 "close": lambda s: s.close_case(record_id)}
        self.cases.deliver(school, makes[step])

    @rule(file=files, hold=st.sampled_from(("hold-1", "hold-2")), lift=st.booleans())
    def legal_hold(self, file: tuple[str, str, str], hold: str, lift: bool) -> None:
        school, _, file_id = file
        self.attempt(ARCHIVISTS[school], lambda: (
            self.app.lift_legal_hold(file_id, hold) if lift
            else self.app.place_legal_hold(file_id, hold, "court", "(2026) 1")))

    @rule(file=files, decision=st.sampled_from(("request", "approve", "reject", "self")))
    def disposal(self, file: tuple[str, str, str], decision: str) -> None:
        school, _, file_id = file
        actor, command = {
            "request": (ARCHIVISTS[school], lambda: self.app.request_disposal(file_id)),
            "approve": (SUPERVISORS[school], lambda: self.app.approve_disposal(file_id)),
            "reject": (SUPERVISORS[school],
                       lambda: self.app.reject_disposal(file_id, "still_needed")),
            # The requester deciding on their own request: refused (9.4e).
            "self": (Actor(ARCHIVISTS[school].id, "supervisor", school),
                     lambda: self.app.approve_disposal(file_id)),
        }[decision]
        self.attempt(actor, command)

    @rule(target=requests, file=files, hours=st.integers(1, 48))
    def request_access(self, file: tuple[str, str, str], hours: int) -> Any:
        school, record_id, file_id = file
        request_id = self.attempt(WORKERS[school],
                                  lambda: self.app.request_access(file_id, PURPOSE, hours))
        return request_id and (school, record_id, request_id)

    @rule(request=requests, decision=st.sampled_from(("approve", "deny", "revoke", "read")))
    def decide(self, request: tuple[str, str, str] | None, decision: str) -> None:
        if request is None:
            return
        school, record_id, request_id = request
        actor, command = {
            "approve": (SUPERVISORS[school], lambda: self.app.approve_access(request_id)),
            "deny": (SUPERVISORS[school],
                     lambda: self.app.deny_access(request_id, "not_need_to_know")),
            "revoke": (SUPERVISORS[school],
                       lambda: self.app.revoke_access(request_id, "purpose_fulfilled")),
            "read": (WORKERS[school],
                     lambda: self.app.authorize_read("cases", record_id, PURPOSE)),
        }[decision]
        self.attempt(actor, command)

    @rule()
    def checkpoint(self) -> None:
        self.app.checkpoint_if_due()

    @rule(since_checkpoint=st.booleans())
    def verify(self, since_checkpoint: bool) -> None:
        with acting_as(Actor("auditor-1", "auditor")):
            self.app.keep_verification(since_checkpoint=since_checkpoint)

    @rule(school=st.sampled_from(SCHOOLS))
    def lose_an_envelope(self, school: str) -> None:
        """One the archive never gets: the next one it gets breaks the chain, and is kept
        with an alarm but files nothing."""
        self.cases.stream.register_client(str(uuid.uuid4()))
        self.cases.deliver(school, lambda s: s.register_client(str(uuid.uuid4())))

    @invariant()
    def views_equal_a_rebuild_from_the_log(self) -> None:
        assert_views_match_the_log(self.app)

    @invariant()
    def no_unified_code_is_given_twice(self) -> None:
        assert self.app.views.store.select(
            "SELECT file_code FROM {archive_file} GROUP BY file_code HAVING COUNT(*) > 1") == []

    def teardown(self) -> None:
        self.app.close()


@pytest.mark.properties
def test_the_views_equal_a_rebuild_from_the_log_after_any_commands(examples, monkeypatch) -> None:
    monkeypatch.setenv("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", "4")
    run_state_machine_as_test(
        lambda: ArchiveMachine(examples),
        settings=settings(max_examples=scaled(8), stateful_step_count=18, deadline=None,
                          database=None, suppress_health_check=list(HealthCheck)),
    )


# Every list, one school's rows seen only by it, and paged once each while writes go on.


class School:
    """Rows of every list in one school, made through the application."""

    def __init__(self, app: ArchiveApplication, cases: Cases, school: str) -> None:
        self.app, self.cases, self.school = app, cases, school

    def file(self) -> str:
        return self.cases.file_of(self.cases.closed_class(self.school))

    def disposal(self) -> str:
        file_id = self.file()
        with acting_as(ARCHIVISTS[self.school]):
            self.app.request_disposal(file_id)
        return file_id

    def access_request(self) -> str:
        with acting_as(WORKERS[self.school]):
            return self.app.request_access(self.file(), PURPOSE, 4)

    def read(self) -> str:
        record_id = self.cases.case(self.school)
        with acting_as(WORKERS[self.school]), pytest.raises(CasebookError):
            self.app.authorize_read("cases", record_id, PURPOSE)
        return self.cases.file_of(record_id)


# Each list: how to make one more row of it, how to read a page of it, and its rows' key.
LISTS: dict[str, tuple[str, Callable[..., dict[str, Any]], str]] = {
    "list_files": ("file", ArchiveApplication.list_files, "file_id"),
    "list_disposals": ("disposal", ArchiveApplication.list_disposals, "file_id"),
    "list_access_requests": ("access_request", ArchiveApplication.list_access_requests,
                             "request_id"),
    "list_reads": ("read", ArchiveApplication.list_reads, "file_id"),
}
# The ledger, its checkpoints and its chain alarms are the whole archive's, read by roles bound
# to no school.
UNSCOPED = {"list_ledger", "list_checkpoints", "list_chain_alarms", "list_verifications"}


def test_every_paged_answer_of_the_service_is_checked_here() -> None:
    paged = {name for name, member in vars(ArchiveService).items()
             if getattr(member, "command_returns", None) is not None
             and member.command_returns.__name__.endswith("Page")}
    assert paged == {*LISTS, *UNSCOPED}


def test_staff_of_another_school_see_none_of_its_rows_in_any_list(examples) -> None:
    app = examples.app()
    cases = Cases(app)
    ours, theirs = School(app, cases, "JD001"), School(app, cases, "JD002")
    for make, _, _ in LISTS.values():
        getattr(ours, make)()
    their_file = theirs.file()
    readers = [ARCHIVISTS["JD002"], SUPERVISORS["JD002"], Actor("admin-3", "school_admin",
                                                                 "JD002")]
    for name, (_, read, key) in LISTS.items():
        with acting_as(ARCHIVISTS["JD001"]):
            assert read(app)["total"] >= 1, f"{name}: the school sees its own rows"
        for reader in readers:
            with acting_as(reader):
                seen = read(app)["items"]
                # Asking for the other school by name changes nothing.
                seen += read(app, school_id="JD001")["items"]
            assert [row for row in seen if row[key] != their_file] == [], (
                f"{name} as {reader.role} of JD002 shows JD001's rows")
    with acting_as(Actor("auditor-1", "auditor")):
        assert app.list_files(school_id="JD001")["total"] == app.list_files()["total"] - 1


@pytest.mark.parametrize("name", sorted(LISTS))
def test_paging_returns_each_row_once_while_writes_go_on(examples, name) -> None:
    app = examples.app()
    school = School(app, Cases(app), "JD001")
    make, read, key = LISTS[name]
    existing = {getattr(school, make)() for _ in range(5)}
    seen: list[str] = []
    after = None
    while True:
        with acting_as(ARCHIVISTS["JD001"]):
            found = read(app, limit=2, after=after)
        seen += [row[key] for row in found["items"] if row[key] in existing]
        # Someone adds a row of the same list between two pages.
        getattr(school, make)()
        if found["next"] is None:
            break
        after = found["next"]
    assert len(seen) == len(set(seen)), f"{name} showed a row twice"
    assert existing <= set(seen), f"{name} skipped a row that was there all along"


def test_the_ledger_pages_by_position_while_entries_arrive(examples) -> None:
    app = examples.app()
    cases = Cases(app)
    for _ in range(5):
        cases.case("JD001")
    positions: list[int] = []
    after = None
    with acting_as(Actor("auditor-1", "auditor")):
        while True:
            found = app.list_ledger("cases", limit=3, after=after)
            positions += [row["position"] for row in found["items"]]
            cases.case("JD002")
            if found["next"] is None:
                break
            after = found["next"]
    assert positions == list(range(1, len(positions) + 1))
    assert len(positions) >= 10


def test_the_chain_alarms_page_by_position_while_more_are_raised(examples) -> None:
    app = examples.app()
    cases = Cases(app)

    def break_the_chain() -> None:
        cases.stream.register_client(str(uuid.uuid4()))  # never delivered
        cases.deliver("JD001", lambda s: s.register_client(str(uuid.uuid4())))

    for _ in range(5):
        break_the_chain()
    positions: list[int] = []
    after = None
    with acting_as(Actor("auditor-1", "auditor")):
        while True:
            found = app.list_chain_alarms(source="cases", limit=2, after=after)
            positions += [row["position"] for row in found["items"]]
            break_the_chain()
            if found["next"] is None:
                break
            after = found["next"]
        assert app.list_chain_alarms(source="supervision")["total"] == 0
    # Every second position was lost: each one delivered after it raised its alarm, once.
    assert positions == list(range(2, 2 * len(positions) + 1, 2))
    assert len(positions) >= 5


def test_the_verifications_page_newest_first_while_more_are_kept(examples) -> None:
    app = examples.app()
    cases = Cases(app)
    cases.case("JD001")
    auditor = Actor("auditor-1", "auditor")
    with acting_as(auditor):
        kept = [app.keep_verification()["verification_id"] for _ in range(5)]
        # One that finds a problem: an envelope the archive never got.
        cases.stream.register_client(str(uuid.uuid4()))
        cases.deliver("JD001", lambda s: s.register_client(str(uuid.uuid4())))
        failed = app.keep_verification()
        kept.append(failed["verification_id"])
        seen: list[str] = []
        after = None
        while True:
            found = app.list_verifications(limit=2, after=after)
            seen += [row["verification_id"] for row in found["items"]]
            app.keep_verification()  # newer: before the first page, never on a later one
            if found["next"] is None:
                break
            after = found["next"]
        assert seen == kept[::-1]
        assert app.list_verifications(ok=True)["total"] == 5
        # The break stays in the ledger: every verification after it finds it too, as two
        # problems at its position (the previous position and the previous hash).
        failures = app.list_verifications(ok=False)
        assert failures["total"] == 1 + 3
        assert failures["items"][-1]["verification_id"] == failed["verification_id"]
        assert {(row["problem_count"], row["verified_by"]) for row in failures["items"]} == {
            (2, "auditor-1")}
        assert app.get_verification(failed["verification_id"]) == failed


# Stores from before the learned tables: their retired aggregates fill the tables once.


def test_a_store_from_before_fills_the_learned_tables_once(examples) -> None:
    before = examples.app()
    with acting_as(SYSTEM):
        sequence = CodeSequence(school_code="JD001", year=2026, category="GA")
        sequence.allocated(number=1, file_id=str(uuid.uuid4()))
        sequence.allocated(number=2, file_id=str(uuid.uuid4()))
        profile = ClientProfile(school_id="JD001", client_id="client-old",
                                client_type="student", grade=3, is_minor=True,
                                registered_on=date(2026, 9, 1))
    # What the old code stored, written under the store's own eyes (not through the views).
    before.recorder.insert_events([before.mapper.to_stored_event(e) for e in [
        *sequence.collect_events(), *profile.collect_events()]])
    after = ArchiveApplication(env=before.store_env)
    assert after.views.last_number("JD001", 2026, "GA") == 2
    assert after.views.profile("client-old")["grade"] == 3
    cases = Cases(after)
    cases.stream.school_id = "JD001"
    opened = cases.stream.open_case("client-old")
    feed(after, opened)
    with acting_as(ARCHIVISTS["JD001"]):
        file = after.find_file("cases", opened["aggregate_id"])
    # The next number after what the retired sequence gave, and the majority from the grade.
    assert file["file_code"] == "JD001-2026-GA-0003"
    assert file["retention"]["majority_estimated_on"] == "2036-09-01"
    assert_views_match_the_log(after)
    assert after.views.last_number("JD001", 2026, "GA") == 3
    after.close()
