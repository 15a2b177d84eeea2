"""Whose work a social worker and a supervisor reach (DESIGN.md "Actors, access, privacy"): a
worker their own cases and clients, a supervisor those of their supervisees as supervision last
said (6.2.2.1), and nobody's once the worker has no supervisor."""

from datetime import date

import pytest

from contracts.errors import NotAllowed
from services.runtime.context import Actor, acting_as
from tests.unit.cases.conftest import (
    OTHER_WORKER,
    SUPERVISOR,
    WORKER,
    case_at,
    open_case,
    published_types,
    register_student,
    supervise,
)

pytestmark = pytest.mark.usefixtures("as_worker")

OTHER_SUPERVISOR = Actor("supervisor-2", "supervisor", "JD001")


def version(app, case_id):
    return app.get_case(case_id)["version"]


def test_a_supervisor_reaches_a_case_only_once_its_worker_is_their_supervisee(app):
    case_id = case_at(app, "assessment")
    before = version(app, case_id)

    # worker-1 has no supervisor yet: no supervisor reads or writes the case.
    with acting_as(SUPERVISOR):
        for refused_read in (app.get_case, app.get_case_timeline, app.case_read_needs_grant):
            with pytest.raises(NotAllowed):
                refused_read(case_id)
        with pytest.raises(NotAllowed):
            app.record_assessment(case_id, date(2026, 9, 3), "Home.", ["anger"], ["move"],
                                  ["anger"], ["football"])
        assert app.count_open_cases_by_stage()["assessment"] == 0
    assert version(app, case_id) == before

    # Supervision makes supervisor-1 worker-1's supervisor: the case is theirs to oversee.
    supervise(app, "worker-1", "supervisor-1")
    with acting_as(SUPERVISOR):
        assert app.get_case(case_id)["social_worker_id"] == "worker-1"
        assert app.case_read_needs_grant(case_id) is False
        app.raise_risk(case_id, "bullying", "low", date(2026, 9, 2))
        assert app.count_open_cases_by_stage()["assessment"] == 1
        assert [c["case_id"] for c in app.list_caseload(stage="assessment")["items"]] == [
            case_id]
    with acting_as(OTHER_SUPERVISOR), pytest.raises(NotAllowed):
        app.get_case_timeline(case_id)

    # supervisor-2 takes worker-1 over: supervisor-1 no longer reaches the case.
    supervise(app, "worker-1", "supervisor-2")
    before = version(app, case_id)
    with acting_as(SUPERVISOR):
        with pytest.raises(NotAllowed):
            app.raise_risk(case_id, "bullying", "low", date(2026, 9, 2))
        with pytest.raises(NotAllowed):
            app.list_caseload(social_worker_id="worker-1")
        assert app.list_caseload()["items"] == []
    assert version(app, case_id) == before
    with acting_as(OTHER_SUPERVISOR):
        items = app.list_caseload(social_worker_id="worker-1")["items"]
        assert [c["case_id"] for c in items] == [case_id]
    assert app.cursor("supervision").position == 2


def test_a_supervisor_opens_cases_only_for_their_supervisees(app):
    register_student(app)
    supervise(app, "worker-2", "supervisor-2")
    with acting_as(SUPERVISOR), pytest.raises(NotAllowed):
        app.open_case(client_id="client-1", social_worker_id="worker-2",
                      service_codes=["7.1.3a"], opened_on=date(2026, 9, 1))
    assert published_types(app) == ["ClientRegistered"]
    supervise(app, "worker-1", "supervisor-1")
    with acting_as(SUPERVISOR):
        case_id = open_case(app)
    assert app.get_case(case_id)["social_worker_id"] == "worker-1"


def test_a_case_is_reassigned_only_from_and_to_the_supervisors_supervisees(app):
    case_id = case_at(app, "assessment")
    supervise(app, "worker-1", "supervisor-1")
    supervise(app, "worker-2", "supervisor-2")
    before = version(app, case_id)

    # worker-2 is supervisor-2's: the case would leave supervisor-1's oversight.
    with acting_as(SUPERVISOR), pytest.raises(NotAllowed):
        app.reassign_case(case_id, "worker-2", date(2026, 9, 4))
    # supervisor-2 does not supervise the case's worker.
    with acting_as(OTHER_SUPERVISOR), pytest.raises(NotAllowed):
        app.reassign_case(case_id, "worker-2", date(2026, 9, 4))
    assert version(app, case_id) == before

    supervise(app, "worker-3", "supervisor-1")
    with acting_as(SUPERVISOR):
        app.reassign_case(case_id, "worker-3", date(2026, 9, 4))
        assert app.get_case(case_id)["social_worker_id"] == "worker-3"


def test_guardians_are_added_only_to_clients_of_ones_own_work(app):
    register_student(app, "client-1")
    before = app.get_client("client-1")["version"]

    # A colleague neither registered client-1 nor has a case of theirs.
    with acting_as(OTHER_WORKER):
        for refused in (
            lambda: app.add_guardian("client-1", name="王强", relation="father"),
            lambda: app.add_related_party("client-1", "teacher", name="李老师"),
            lambda: app.get_client("client-1"),
        ):
            with pytest.raises(NotAllowed):
                refused()
    assert app.get_client("client-1")["version"] == before

    # Nor does a supervisor of somebody else.
    supervise(app, "worker-1", "supervisor-2")
    with acting_as(SUPERVISOR), pytest.raises(NotAllowed):
        app.add_guardian("client-1", name="王强", relation="father")
    assert app.get_client("client-1")["version"] == before

    # The registering worker's supervisor may.
    with acting_as(OTHER_SUPERVISOR):
        app.add_guardian("client-1", name="王强", relation="father")
    assert len(app.get_client("client-1")["guardians"]) == 2


def test_a_worker_reaches_a_client_registered_by_someone_else_through_their_open_case(app):
    supervise(app, "worker-2", "supervisor-1")
    with acting_as(SUPERVISOR):
        register_student(app, "client-1")
        open_case(app, worker="worker-2")
    with acting_as(OTHER_WORKER):
        app.add_related_party("client-1", "teacher", name="李老师")
        assert app.get_client("client-1")["related_parties"][-1]["name"] == "李老师"
    # worker-1 registered nobody here and has no case of the client.
    with acting_as(WORKER), pytest.raises(NotAllowed):
        app.add_related_party("client-1", "teacher", name="张老师")
    with acting_as(SUPERVISOR):
        assert len(app.get_client("client-1")["related_parties"]) == 2


def test_a_supervisor_runs_the_groups_of_their_supervisees_only(app):
    register_student(app, "client-1")
    group_id = app.form_group("social_skills", "Making friends", ["7.1.2a"], "worker-1", 6,
                              date(2026, 9, 1))
    with acting_as(SUPERVISOR):
        with pytest.raises(NotAllowed):
            app.get_group(group_id)
        with pytest.raises(NotAllowed):
            app.add_group_member(group_id, "client-1", date(2026, 9, 1))
        with pytest.raises(NotAllowed):
            app.form_group("social_skills", "Another", ["7.1.2a"], "worker-1", 6,
                           date(2026, 9, 1))
    assert app.get_group(group_id)["members"] == []
    assert published_types(app) == ["ClientRegistered", "GroupFormed"]

    supervise(app, "worker-1", "supervisor-1")
    with acting_as(SUPERVISOR):
        app.add_group_member(group_id, "client-1", date(2026, 9, 1))
        assert len(app.get_group(group_id)["members"]) == 1
        # A group the supervisor leads themselves is theirs too.
        led = app.form_group("support", "Parents' circle", ["7.1.2a"], "supervisor-1", 4,
                             date(2026, 9, 1))
        assert app.get_group(led)["social_worker_id"] == "supervisor-1"
