"""Archive files (9.4a–c) and their retention (9.4e), built from the cases service's events."""

from datetime import date

import pytest

from contracts.envelope import GENESIS_HASH
from contracts.errors import InvalidInput, NotAllowed
from services.archive.app import ArchiveApplication
from services.archive.publish import PUBLICATIONS
from services.archive.retention import retention_years
from services.runtime.clock import clock
from services.runtime.context import Actor, acting_as
from tests.unit.archive.streams import CasesStream, at, feed

ARCHIVIST = Actor("archivist-1", "archivist", "JD001")
OTHER_SCHOOL = Actor("archivist-9", "archivist", "JD002")


@pytest.fixture
def app():
    return ArchiveApplication(env={"SQLITE_DBNAME": ":memory:"})


def files(app, **filters):
    with acting_as(ARCHIVIST):
        return app.list_files(**filters)["items"]


def file_of(app, case_id):
    with acting_as(ARCHIVIST):
        return app.find_file("cases", case_id)


def test_every_record_gets_a_unified_code_numbered_per_school_year_and_category(app):
    clock.set(at(2026, 9, 1))
    cases = CasesStream()
    feed(app, cases.open_case("client-1"), cases.open_case("client-2"),
         cases.emit("GroupFormed", {"group_id": "group-1", "kind": "support",
                                    "service_codes": ["7.1.2a"], "social_worker_id": "worker-1",
                                    "planned_sessions": 6, "formed_on": "2026-09-03"}),
         cases.emit("LetterReceived", {"letter_id": "letter-1", "anonymous": True,
                                       "received_on": "2026-09-04", "service_codes": []}),
         cases.emit("ClassHeld", {"class_id": "class-1", "theme": "life_education",
                                  "service_codes": ["7.1.4d"], "held_on": "2026-09-05",
                                  "attendance": 40, "grade": 5}),
         cases.open_case("client-3", opened_on=date(2027, 2, 1)))
    cases.school_id = "JD002"
    feed(app, cases.open_case("client-9"))

    codes = sorted(f["file_code"] for f in files(app))
    assert codes == ["JD001-2026-GA-0001", "JD001-2026-GA-0002", "JD001-2026-KT-0001",
                     "JD001-2026-XX-0001", "JD001-2026-XZ-0001", "JD001-2027-GA-0001"]
    # Another school numbers its own files, and sees only them.
    with acting_as(OTHER_SCHOOL):
        assert [f["file_code"] for f in app.list_files()["items"]] == ["JD002-2026-GA-0001"]
    # Every opening is published with its code and category, never a name.
    envelopes = list(PUBLICATIONS.envelopes(app.mapper, app.notifications_after(0, 1000), 0,
                                            GENESIS_HASH))
    opened = [e["payload"] for e in envelopes if e["type"] == "ArchiveFileOpened"]
    assert len(opened) == 7
    assert {"file_code": "JD001-2026-KT-0001", "category": "KT"}.items() <= opened[4].items()


def test_a_delivered_envelope_is_filed_once_even_if_delivered_again(app):
    cases = CasesStream()
    opened = cases.open_case("client-1")
    feed(app, opened)
    feed(app, opened)  # a redelivery: the cursor is already past it
    assert [f["file_code"] for f in files(app)] == ["JD001-2026-GA-0001"]


def test_a_file_indexes_its_contents_and_reports_what_is_missing(app):
    cases = CasesStream()
    opened = cases.open_case("client-1")
    case_id = opened["aggregate_id"]
    feed(app, opened, cases.accept_intake(case_id), cases.intervene(case_id))

    # Basic information and service records are there; the evaluation report is not (9.4b).
    file = file_of(app, case_id)
    assert file["completeness"] == {"complete": False, "missing": ["evaluation_reports"]}
    assert [e["type"] for e in file["contents"]["basic_information"]] == [
        "CaseOpened", "IntakeCompleted"]
    assert [f["file_code"] for f in files(app, incomplete_only=True)] == [file["file_code"]]

    feed(app, cases.evaluate(case_id))
    assert file_of(app, case_id)["completeness"] == {"complete": True, "missing": []}
    assert files(app, incomplete_only=True) == []


def test_retention_runs_from_the_later_of_closing_and_majority(app):
    clock.set(at(2026, 9, 1))
    cases = CasesStream()
    # A grade-5 student registered in 2026 is taken to be 10 (grade + 5): 18 in 2034.
    registered = cases.register_client("pupil", grade=5)
    pupil_case = cases.open_case("pupil")
    # An adult client (a teacher): only the period after closing.
    teacher = cases.register_client("teacher", grade=None, is_minor=False, client_type="teacher")
    teacher_case = cases.open_case("teacher")
    # A client the archive never saw registered: taken to be 6 at opening, 18 in 2038.
    unknown_case = cases.open_case("unknown")
    feed(app, registered, pupil_case, teacher, teacher_case, unknown_case)
    ids = [e["aggregate_id"] for e in (pupil_case, teacher_case, unknown_case)]
    feed(app, *(cases.close_case(case_id) for case_id in ids))

    ends = [file_of(app, case_id)["retention"]["end_on"] for case_id in ids]
    assert ends == ["2044-09-01", "2036-10-30", "2048-09-01"]
    assert retention_years("GA") == 10


def test_a_reopened_case_has_no_retention_end_until_closed_again(app):
    cases = CasesStream()
    opened = cases.open_case("client-1")
    case_id = opened["aggregate_id"]
    feed(app, opened, cases.close_case(case_id))
    assert file_of(app, case_id)["status"] == "closed"
    feed(app, cases.emit("CaseReopened", {"case_id": case_id, "reopened_on": "2026-11-02"},
                         case_id))
    file = file_of(app, case_id)
    assert file["status"] == "active" and file["retention"]["end_on"] is None


def test_retention_periods_are_configurable_per_category(app, monkeypatch):
    cases = CasesStream()
    held = cases.emit("ClassHeld", {"class_id": "class-1", "theme": "life_education",
                                    "service_codes": ["7.1.4d"], "held_on": "2026-09-05",
                                    "attendance": 40, "grade": 5})
    feed(app, held)
    file = file_of(app, "class-1")
    assert file["retention"]["end_on"] == "2029-09-05"  # class records: 3 years, no minors rule
    monkeypatch.setenv("CASEBOOK_RETENTION_YEARS", "KT=5")
    assert file_of(app, "class-1")["retention"]["end_on"] == "2031-09-05"
    monkeypatch.setenv("CASEBOOK_RETENTION_YEARS", "ZZ=5")
    with pytest.raises(InvalidInput) as error:
        file_of(app, "class-1")
    assert "CASEBOOK_RETENTION_YEARS" in error.value.detail


def test_the_due_report_lists_files_whose_retention_ends_soon(app, monkeypatch):
    monkeypatch.setenv("CASEBOOK_RETENTION_YEARS", "KT=1")
    cases = CasesStream()
    feed(app, *(cases.emit("ClassHeld", {"class_id": f"class-{n}", "theme": "life_education",
                                         "service_codes": ["7.1.4d"],
                                         "held_on": f"2026-0{n}-01", "attendance": 30,
                                         "grade": None}) for n in (3, 1, 6)))
    clock.set(at(2026, 12, 15))
    assert [f["retention_end_on"] for f in files(app, due_within_days=120)] == [
        "2027-01-01", "2027-03-01"]
    assert files(app, due_within_days=0) == []


def test_files_are_read_by_the_archive_roles_of_the_school_only(app):
    cases = CasesStream()
    opened = cases.open_case("client-1")
    feed(app, opened)
    with acting_as(Actor("worker-1", "social_worker", "JD001")), pytest.raises(NotAllowed):
        app.find_file("cases", opened["aggregate_id"])
    with acting_as(OTHER_SCHOOL), pytest.raises(NotAllowed):
        app.find_file("cases", opened["aggregate_id"])


def test_a_record_as_the_ledger_saw_it_is_read_within_the_school_only(app):
    cases = CasesStream()
    opened = cases.open_case("client-1")
    feed(app, opened)
    with acting_as(OTHER_SCHOOL), pytest.raises(NotAllowed):
        app.get_record("cases", opened["aggregate_id"])
    with acting_as(ARCHIVIST):
        assert app.get_record("cases", opened["aggregate_id"])["event_count"] == 1
