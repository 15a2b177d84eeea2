"""The operator's pages without a browser: the schools, each linked to its escalations, and each
service's status, one that does not answer said so while the others are still shown."""

from __future__ import annotations

from typing import Any

import eventlet

from services.console import operator
from services.console.web import Refused
from services.runtime.context import Actor
from services.runtime.launcher import PUBLISHERS
from tests.unit.console.visits import visit_of

OPERATOR = Actor(id="demo-operator", role="operator", school_id=None)
SCHOOL = {"school_id": "JD001", "name": "嘉定第一中学", "district": "JD",
          "service_mode": "resident", "facility_kinds": ["office"], "has_service_space": True,
          "registered_on": "2026-09-01"}


def status(service: str, **changed: Any) -> dict[str, Any]:
    return {"service": service, "stored_position": 12, "relay_read_through": 12,
            "published_position": 12, "published_hash": "ab" * 32, "sent_position": 12,
            "relay_lag": 0, "cursors": {}, "halted": {}, "dead_letters": {},
            "version": "1.0.0", "revision": "c872bd7", **changed}


class Services:
    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def get(self, path: str, **query: Any) -> Any:
        self.asked.append((path, query))
        answer = self.answers[path]
        if isinstance(answer, Refused):
            raise answer
        return answer


def test_each_school_links_to_its_escalations_and_counts_those_waiting_and_overdue() -> None:
    quiet = {**SCHOOL, "school_id": "JD002", "name": "嘉定第二中学"}
    services = Services({
        "/schools": {"items": [SCHOOL, quiet], "next": "k", "total": 51},
        "/escalations/by-school": {"schools": [
            {"school_id": "JD001", "awaiting": 3, "overdue": 2},
            {"school_id": "JD002", "awaiting": 0, "overdue": 0}]}})
    page = operator.schools(visit_of(services, "zh_CN", OPERATOR,
                                     query="service_mode=resident&after=j"))
    text = page.get_data(as_text=True)
    assert services.asked == [
        ("/schools", {"service_mode": "resident", "after": "j", "limit": operator.SCHOOLS_PAGE}),
        # The page's own schools, at once.
        ("/escalations/by-school", {"school_id": ["JD001", "JD002"]})]
    assert "嘉定第一中学" in text and "共 51 所学校" in text
    assert 'href="/escalations?school=JD001"' in text
    assert 'href="/schools?service_mode=resident&amp;after=k"' in text
    rows = text.split("<tbody>")[1].split("</tr>")
    # The school with escalations past their time stands out; the quiet one does not.
    assert '<tr class="overdue">' in rows[0] and "嘉定第一中学" in rows[0]
    assert ('href="/escalations?school=JD001&amp;status=awaiting+acknowledgement"' in rows[0]
            and "3 项待确认" in rows[0])
    assert ('href="/escalations?school=JD001&amp;overdue=true"' in rows[0]
            and '<strong class="late">2 项已超时</strong>' in rows[0])
    assert "<tr>" in rows[1] and "0 项待确认" in rows[1] and "0 项已超时" in rows[1]
    assert 'class="late"' not in rows[1]


def test_an_empty_page_of_schools_asks_for_no_counts() -> None:
    services = Services({"/schools": {"items": [], "next": None, "total": 0}})
    operator.schools(visit_of(services, "zh_CN", OPERATOR))
    assert [path for path, _ in services.asked] == ["/schools"]


def test_a_service_mode_not_known_filters_nothing() -> None:
    services = Services({"/schools": {"items": [], "next": None, "total": 0}})
    operator.schools(visit_of(services, "zh_CN", OPERATOR, query="service_mode=drop"))
    assert services.asked[0][1]["service_mode"] is None


def test_a_service_that_does_not_answer_is_said_so_and_the_others_shown() -> None:
    answers: dict[str, Any] = {f"/services/{name}/status": status(name) for name in PUBLISHERS}
    # The gateway's ping: archive is not running, so it is not asked its status at all.
    answers["/readyz"] = Refused(503, {"code": "unavailable", "services": {
        "cases": "ok", "archive": "not running", "resources": "ok", "supervision": "ok"}})
    answers["/services/resources/status"] = Refused(504, {
        "code": "gateway_timeout", "detail": "Resources did not answer in time."})
    answers["/services/supervision/status"] = status(
        "supervision", cursors={"cases": {"position": 7, "hash": "cd" * 32}},
        halted={"cases": "a handler failed", "resources": "the envelope's hash is wrong"})
    services = Services(answers)
    page = operator.services(visit_of(services, "zh_CN", OPERATOR))
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "/services/archive/status" not in [path for path, _ in services.asked]
    assert text.count('data-service="') == len(PUBLISHERS)
    assert "无响应</strong> <code>not running</code>" in text
    assert "无响应</strong> <code>Resources did not answer in time.</code>" in text
    assert "cases 已读到第 7 条" in text and "已停止：a handler failed" in text
    # Halted before it read anything: still listed.
    assert "resources：尚未读取" in text and "已停止：the envelope&#39;s hash is wrong" in text


class Slow(Services):
    """Each status read waits for the broker's answer, as a real one does: what was asked and
    answered, in the order it happened."""

    def __init__(self, answers: dict[str, Any]) -> None:
        super().__init__(answers)
        self.happened: list[str] = []

    def get(self, path: str, **query: Any) -> Any:
        self.happened.append(f"asked {path}")
        eventlet.sleep(0.01)
        self.happened.append(f"answered {path}")
        return super().get(path, **query)


def test_each_subscription_says_how_far_behind_its_source_it_is_and_its_dead_letters() -> None:
    answers: dict[str, Any] = {f"/services/{name}/status": status(name) for name in PUBLISHERS}
    answers["/readyz"] = {"status": "ready", "services": {name: "ok" for name in PUBLISHERS}}
    # cases published 12; the archive handled 9 of them and parked two it could not.
    answers["/services/archive/status"] = status(
        "archive", cursors={"cases": {"position": 9, "hash": "cd" * 32},
                            "resources": {"position": 12, "hash": "ef" * 32}},
        dead_letters={"cases": 2, "resources": 0})
    text = operator.services(visit_of(Services(answers), "zh_CN", OPERATOR)).get_data(
        as_text=True)
    archive = text.split('data-service="archive"')[1].split("</tr>")[0]
    assert archive.startswith(' class="overdue"')
    assert 'cases 已读到第 9 条 · 落后 3 条 <strong class="late">2 条死信</strong>' in archive
    # Caught up, with none parked: nothing more said.
    assert "resources 已读到第 12 条</span>" in archive
    assert 'data-service="cases">' in text  # no dead letters, no halt: not marked


def test_with_every_service_ready_each_is_asked_its_status_all_at_once() -> None:
    answers: dict[str, Any] = {f"/services/{name}/status": status(name) for name in PUBLISHERS}
    answers["/readyz"] = {"status": "ready", "services": {name: "ok" for name in PUBLISHERS}}
    services = Slow(answers)
    text = operator.services(visit_of(services, "zh_CN", OPERATOR)).get_data(as_text=True)
    asked = [f"/services/{name}/status" for name in PUBLISHERS]
    assert sorted(path for path, _ in services.asked) == sorted(["/readyz", *asked])
    assert "无响应" not in text
    # Every status asked before any answered: one slow service holds the page once.
    assert services.happened[2:2 + len(asked)] == [f"asked {path}" for path in asked]


class Recorder(Services):
    """The supervision service as the school's registration meets it: what was sent, and the
    refusal it answers with, if any."""

    def __init__(self, refusal: Refused | None = None) -> None:
        super().__init__({})
        self.refusal = refusal
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def post(self, path: str, body: dict[str, Any], key: str | None) -> Any:
        self.sent.append((path, body))
        if self.refusal is not None:
            raise self.refusal
        return {"school_id": body.get("school_id", "JD001")}


def test_the_operator_registers_a_school_by_its_code_and_returns_to_the_schools() -> None:
    services = Recorder()
    answer = operator.register_school(visit_of(services, "zh_CN", OPERATOR, "POST", {
        "school_id": "JD002", "name": "嘉定第二中学", "district": "JD",
        "service_mode": "visiting", "facility_kinds": "office", "registered_on": ""}))
    assert answer.status_code == 302 and answer.location == "/schools"
    assert services.sent == [("/schools", {
        "school_id": "JD002", "name": "嘉定第二中学", "district": "JD",
        "service_mode": "visiting", "facility_kinds": ["office"]})]


def test_a_school_refused_is_said_beside_its_field_and_the_form_kept() -> None:
    refusal = Refused(400, {"code": "invalid_input",
                            "errors": {"name": ["Missing data for required field."]}})
    answer = operator.register_school(visit_of(Recorder(refusal), "zh_CN", OPERATOR, "POST", {
        "school_id": "JD002", "name": "", "district": "JD", "service_mode": "visiting"}))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert '<p class="error" id="error-name">' in page and 'value="JD002"' in page


def test_a_code_already_registered_is_said_above_the_form() -> None:
    refusal = Refused(409, {"code": "conflict", "detail": "School JD001 is already registered."})
    answer = operator.register_school(visit_of(Recorder(refusal), "zh_CN", OPERATOR, "POST", {
        "school_id": "JD001", "name": "嘉定第一中学", "district": "JD",
        "service_mode": "resident"}))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert 'role="alert"' in page and 'value="嘉定第一中学"' in page


class School(Recorder):
    """A school with one service space on record, as the supervision service answers it."""

    def __init__(self, refusal: Refused | None = None) -> None:
        super().__init__(refusal)
        self.answers = {"/schools/JD001": {**SCHOOL, "facility_kinds": ["office"]}}


def test_a_schools_page_shows_its_spaces_and_starts_their_form_from_them() -> None:
    page = operator.school(visit_of(School(), "zh_CN", OPERATOR), "JD001").get_data(
        as_text=True)
    assert "<h1>嘉定第一中学" in page and '<ul class="facilities"><li>' in page
    form = page.split('action="/schools/JD001/facilities"')[1].split("</form>")[0]
    assert 'value="office" checked' in form and 'value="case_room" checked' not in form
    assert 'href="/escalations?school=JD001&amp;overdue=true"' in page


def test_the_operator_records_a_schools_spaces_and_a_refusal_is_said_beside_its_field() -> None:
    school = School()
    answer = operator.record_facilities(visit_of(school, "zh_CN", OPERATOR, "POST", {
        "facility_kinds": ["office", "case_room"], "recorded_on": ""}), "JD001")
    assert answer.status_code == 302 and answer.location == "/schools/JD001"
    assert school.sent == [("/schools/JD001/facilities",
                            {"facility_kinds": ["office", "case_room"]})]
    refusal = Refused(400, {"code": "invalid_input", "errors": {
        "recorded_on": ["Must not be in the future (2026-12-03)."]}})
    refused = operator.record_facilities(visit_of(School(refusal), "zh_CN", OPERATOR, "POST", {
        "facility_kinds": "case_room", "recorded_on": "2027-01-01"}), "JD001")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert 'id="error-facilities-recorded_on">' in page and 'value="2027-01-01"' in page
