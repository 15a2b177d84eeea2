"""Group work (8.2.1.3), the mailbox (8.2.2), classes (8.2.3), and the lists a worker and a
supervisor work from: caseload, cases by stage, overdue items (9.5, 9.2b)."""

from datetime import UTC, date, datetime

import pytest

from contracts.errors import Conflict, InvalidInput
from services.runtime.clock import clock
from services.runtime.context import acting_as
from tests.unit.cases.conftest import (
    OPENED_ON,
    OTHER_WORKER,
    SUPERVISOR,
    case_at,
    close,
    open_case,
    published,
    register_student,
    supervise,
)

pytestmark = pytest.mark.usefixtures("as_worker")


def test_a_group_meets_is_evaluated_and_closed(app):
    register_student(app, "client-1")
    register_student(app, "client-2")
    group_id = app.form_group("social_skills", "Making friends in a new school", ["7.1.2a"],
                              "worker-1", 6, date(2026, 9, 1))
    with pytest.raises(Conflict):
        app.hold_group_session(group_id, date(2026, 9, 2), [])
    for client_id in ("client-1", "client-2"):
        app.add_group_member(group_id, client_id, date(2026, 9, 1))
    with pytest.raises(InvalidInput) as refused:
        app.hold_group_session(group_id, date(2026, 9, 8), ["client-9"])
    assert "attended" in refused.value.errors
    with pytest.raises(Conflict) as refused:
        app.close_group(group_id, date(2026, 9, 9))
    assert refused.value.code == "missing_step"
    app.hold_group_session(group_id, date(2026, 9, 8), ["client-1", "client-2"], "Warm-up game.")
    app.hold_group_session(group_id, date(2026, 9, 15), ["client-1"], "Role play.")
    app.evaluate_group(group_id, date(2026, 9, 16), [1, 2], "Both made a friend.")
    app.close_group(group_id, date(2026, 9, 17))
    contract = [e for e in published(app) if e["type"] != "AuditRecorded"]
    assert [e["type"] for e in contract][2:] == [
        "GroupFormed", "GroupMemberAdded", "GroupMemberAdded", "GroupSessionHeld",
        "GroupSessionHeld", "GroupClosed"]
    # The evaluation is on the audit trail too, as what it is, without its notes.
    audit = [e["payload"] for e in published(app) if e["type"] == "AuditRecorded"]
    assert [(a["record"], a["event"]) for a in audit] == [("Group", "Evaluated")]
    session = contract[-2]["payload"]
    assert (session["session_number"], session["attended"], session["enrolled"]) == (2, 1, 2)
    assert published(app)[-1]["payload"]["sessions_held"] == 2
    group = app.get_group(group_id)
    assert group["status"] == "closed" and group["sessions"][0]["notes"] == "Warm-up game."
    with pytest.raises(Conflict):
        app.add_group_member(group_id, "client-1", date(2026, 9, 18))


def test_an_anonymous_letter_is_answered_with_its_reply_time(app):
    letter_id = app.receive_letter(date(2026, 9, 1), "我不想上学。", anonymous=True,
                                   service_codes=["7.1.3b"])
    result = app.answer_letter(letter_id, date(2026, 9, 4), "谢谢你写信给我……")
    assert result["days_to_answer"] == 3
    received, answered = published(app)
    assert received["payload"]["anonymous"] is True
    assert answered["payload"] == {"letter_id": letter_id, "answered_on": "2026-09-04",
                                   "days_to_answer": 3, "opened_case_id": None}
    assert "上学" not in str(published(app))
    assert app.get_letter(letter_id)["answer"]["reply"] == "谢谢你写信给我……"
    with pytest.raises(Conflict):
        app.answer_letter(letter_id, date(2026, 9, 5), "Again.")


def test_a_letter_opens_a_case(app):
    register_student(app)
    letter_id = app.receive_letter(date(2026, 8, 30), "Help.", client_id="client-1")
    case_id = app.open_case(client_id="client-1", social_worker_id="worker-1",
                            service_codes=["7.1.3a"], opened_on=OPENED_ON, letter_id=letter_id)
    app.answer_letter(letter_id, OPENED_ON, "Let us meet.")
    assert published(app)[-1]["payload"]["opened_case_id"] == case_id
    assert app.get_case(case_id)["letter_id"] == letter_id


def test_a_class_is_held_with_its_theme_codes_and_attendance(app):
    class_id = app.hold_class("life_education", "Valuing life", ["7.1.4d"], date(2026, 9, 9),
                              38, grade=5)
    (held,) = published(app)
    assert held["payload"] == {"class_id": class_id, "theme": "life_education",
                               "service_codes": ["7.1.4d"], "held_on": "2026-09-09",
                               "attendance": 38, "grade": 5}
    assert app.get_class(class_id)["topic"] == "Valuing life"


def ids(page: dict) -> set[str]:
    return {row["case_id"] for row in page["items"]}


def test_caseload_and_cases_by_stage(app):
    intake = case_at(app, "accept", "client-1")
    planning = case_at(app, "plan", "client-2")
    finished = case_at(app, "closed", "client-3")
    close(app, finished)
    assert ids(app.list_caseload()) == {intake, planning}
    assert ids(app.list_caseload(status="any")) == {intake, planning, finished}
    assert ids(app.list_caseload(stage="plan")) == {planning}
    by_stage = app.count_open_cases_by_stage()
    assert by_stage == {"intake": 1, "assessment": 0, "plan": 1, "intervention": 0,
                        "evaluation": 0, "closing": 0}
    supervise(app, "worker-1")
    supervise(app, "worker-2")
    with acting_as(SUPERVISOR):
        assert app.list_caseload(social_worker_id="worker-1")["total"] == 2
        assert app.list_caseload(social_worker_id="worker-2")["items"] == []


def test_overdue_items_follow_the_clock_and_the_configured_days(app, monkeypatch):
    waiting = case_at(app, "assessment", "client-1")
    assessed = case_at(app, "plan", "client-2")
    followed = case_at(app, "closed", "client-3")
    close(app, followed, follow_up={"due_on": date(2026, 10, 20)})
    letter_id = app.receive_letter(date(2026, 9, 10), "Help.", anonymous=True)

    def overdue(kind: str) -> list[dict]:
        items: list[dict] = app.list_overdue(kind=kind)["items"]
        return items

    clock.set(datetime(2026, 9, 15, tzinfo=UTC))  # the 14th day after intake: nothing is late
    assert app.list_overdue() == {"items": [], "total": 0, "limit": 50, "next": None}
    clock.set(datetime(2026, 9, 18, tzinfo=UTC))
    assert [i["case_id"] for i in overdue("assessment")] == [waiting]
    assert overdue("assessment")[0]["days_overdue"] == 3
    assert overdue("assessment")[0]["due_on"] == "2026-09-15"
    assert [i["item_id"] for i in overdue("letter")] == [letter_id]

    clock.set(datetime(2026, 10, 25, tzinfo=UTC))
    assert {i["case_id"] for i in overdue("plan")} == {waiting, assessed}
    assert [i["case_id"] for i in overdue("follow_up")] == [followed]

    monkeypatch.setenv("CASEBOOK_PLAN_DUE_DAYS", "60")
    monkeypatch.setenv("CASEBOOK_LETTER_REPLY_DAYS", "60")
    assert overdue("plan") == [] and overdue("letter") == []


def test_the_follow_ups_coming_due_soonest_first_within_their_days_and_the_callers_reach(app):
    sooner = case_at(app, "closed", "client-1")
    sooner_follow_up = close(app, sooner, follow_up={"due_on": date(2026, 10, 20)})
    later = case_at(app, "closed", "client-2")
    close(app, later, follow_up={"due_on": date(2026, 11, 30)})

    def due(**query: int) -> list[tuple[str, str, int]]:
        return [(item["case_id"], item["due_on"], item["days_left"])
                for item in app.list_follow_ups_due(**query)["items"]]

    clock.set(datetime(2026, 10, 5, tzinfo=UTC))
    assert due() == [(sooner, "2026-10-20", 15)]  # within 30 days unless asked
    assert due(due_within_days=60) == [(sooner, "2026-10-20", 15), (later, "2026-11-30", 56)]
    first = app.list_follow_ups_due(due_within_days=60, limit=1)
    assert first["total"] == 2 and len(first["items"]) == 1 and first["next"]
    rest = app.list_follow_ups_due(due_within_days=60, limit=1, after=first["next"])
    assert [item["case_id"] for item in rest["items"]] == [later] and rest["next"] is None
    with acting_as(OTHER_WORKER):  # another worker's follow-ups are not theirs to prepare
        assert app.list_follow_ups_due(due_within_days=60)["total"] == 0

    clock.set(datetime(2026, 10, 20, tzinfo=UTC))  # due today: still coming, 0 days left
    assert due() == [(sooner, "2026-10-20", 0)]
    clock.set(datetime(2026, 10, 21, tzinfo=UTC))  # past its day: overdue, no longer coming
    assert due() == []
    assert [item["case_id"] for item in app.list_overdue(kind="follow_up")["items"]] == [sooner]
    assert sooner_follow_up is not None
    app.record_follow_up(sooner, sooner_follow_up, date(2026, 10, 21), "stable")
    assert app.list_overdue(kind="follow_up")["total"] == 0
    assert due(due_within_days=60) == [(later, "2026-11-30", 40)]


def test_each_case_of_the_caseload_says_what_of_it_is_overdue(app):
    waiting = case_at(app, "assessment", "client-1")
    assessed = case_at(app, "plan", "client-2")
    followed = case_at(app, "closed", "client-3")
    close(app, followed, follow_up={"due_on": date(2026, 10, 20)})

    def late(case_id: str) -> list[tuple[str, str, int]]:
        found = app.list_caseload(status="any", case_id=[case_id])["items"]
        return [(step["kind"], step["due_on"], step["days_overdue"])
                for step in found[0]["overdue"]]

    clock.set(datetime(2026, 9, 15, tzinfo=UTC))
    assert late(waiting) == [] and late(assessed) == [] and late(followed) == []
    clock.set(datetime(2026, 10, 25, tzinfo=UTC))
    # The most overdue first: the assessment was due 14 days after intake, the plan 30.
    assert late(waiting) == [("assessment", "2026-09-15", 40), ("plan", "2026-10-01", 24)]
    assert late(assessed) == [("plan", "2026-10-01", 24)]
    assert late(followed) == [("follow_up", "2026-10-20", 5)]


def test_a_page_of_cases_or_clients_is_read_by_id_within_the_callers_reach(app):
    mine = case_at(app, "accept", "client-1")
    other = case_at(app, "accept", "client-2")
    register_student(app, "client-3")
    with acting_as(OTHER_WORKER):
        register_student(app, "client-4")
        theirs = open_case(app, "client-4", worker="worker-2")
    asked = app.list_caseload(case_id=[mine, theirs])
    assert ids(asked) == {mine} and asked["total"] == 1
    clients = app.list_clients(client_id=["client-1", "client-3", "client-4", "client-9"])
    assert {item["client_id"] for item in clients["items"]} == {"client-1", "client-3"}
    assert clients["total"] == 2 and clients["items"][0]["name"] == "王小明"
    assert ids(app.list_caseload(case_id=[other])) == {other}
    with acting_as(OTHER_WORKER):
        assert ids(app.list_caseload(case_id=[mine, theirs])) == {theirs}
        assert [item["client_id"] for item in app.list_clients(
            client_id=["client-1", "client-4"])["items"]] == ["client-4"]


def test_a_case_opened_by_a_supervisor_for_a_worker(app):
    register_student(app)
    supervise(app, "worker-1")
    with acting_as(SUPERVISOR):
        case_id = open_case(app)
    assert app.get_case(case_id)["social_worker_id"] == "worker-1"
