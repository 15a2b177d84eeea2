"""The staff forms' refusals (supervisor.py): the supervision service's own rules are said in
the locale's words beside their fields, and a rule the console does not know stays as it came;
a survey's mean score typed as read and sent in thousandths, a worker's later changes as
their page and its forms send them, and the school's service spaces (school_admin.py)."""

from __future__ import annotations

import re
from typing import Any

from services.console.forms import Field
from services.console.i18n import Localized
from services.console.school_admin import (
    SURVEY,
    assign_supervisor,
    assign_worker,
    end_assignment,
    permille,
    record_facilities,
    record_leaving,
    staff,
    surveys,
    worker,
)
from services.console.supervisor import TRAINING, session_fields
from services.console.web import Problem, Refused
from services.runtime.context import Actor
from tests.unit.console.visits import visit_of


def beside(errors: dict[str, list[str]], locale: str = "zh_CN",
           fields: tuple[Field, ...] = session_fields(("w-1",)) + TRAINING,
           ) -> dict[str, list[str]]:
    problem = Problem.of({"code": "invalid_input", "errors": errors}, fields)
    text = Localized(locale)
    return {name: [text.message(m) for m in messages] for name, messages in problem.beside.items()}


def test_the_services_own_rules_are_said_in_chinese():
    assert beside({
        "kinds": ["Give at least one kind: administrative, educational, supportive."],
        "topics": ["Give at least one topic (6.2.1.3)."],
        "format": ["An individual session has exactly one supervisee."],
        "held_on": ["Must not be in the future (2026-12-04)."],
        "completed_on": ["Continuing education must not predate registration (2026-09-01)."],
    }) == {
        "kinds": ["请至少选择一种督导类型。"],
        "topics": ["请至少选择一项培训内容（6.2.1.3）。"],
        "format": ["个别督导只能有一名被督导者。"],
        "held_on": ["不得晚于今天。"],
        "completed_on": ["继续教育不得早于登记日期（2026-09-01）。"],
    }


def test_marshmallows_rules_keep_their_words_and_an_unknown_rule_stays_as_it_came():
    assert beside({"minutes": ["Missing data for required field."],
                   "kind": ["Something new."]}, "en") == {
        "minutes": ["Required."], "kind": ["Breaks a rule: Something new."]}


def test_a_mean_score_is_sent_in_thousandths_and_what_is_not_a_number_as_typed():
    assert permille("4.25") == 4250
    assert permille("5") == 5000
    assert permille("4.2505") == 4250  # to the nearest thousandth, half to even
    assert permille("四点五") == "四点五"


def test_more_satisfied_than_asked_is_said_in_chinese():
    assert beside({"satisfied_count": ["Must not exceed respondent_count (10)."]},
                  fields=SURVEY) == {
        "satisfied_count": ["不得多于调查人数（10）。"]}


class Supervision:
    """The supervision service's answers to the worker's and staff pages, without a service:
    a leaving before registration, and a supervisor who already supervises the worker, refused
    as the service refuses them."""

    def __init__(self, active: bool = True, facilities: tuple[str, ...] = ()) -> None:
        self.active = active
        self.facilities = list(facilities)
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def get(self, path: str, **query: Any) -> Any:
        if path == "/social-workers/w-1":
            return {**WORKER_RECORD, "active": self.active,
                    "left_on": None if self.active else "2026-11-30"}
        if path == "/schools/JD001":
            return {"school_id": "JD001", "facility_kinds": self.facilities,
                    "has_service_space": bool(self.facilities)}
        if path == "/schools/JD001/social-workers":
            return {"items": [], "total": 0, "limit": 20, "next": None}
        if path == "/social-workers/w-1/history":
            return {"social_worker_id": "w-1", "steps": HISTORY}
        if path == "/schools/JD001/supervisors":
            return {"items": [{"supervisor_id": "sup-1"}, {"supervisor_id": "sup-2"}],
                    "total": 2, "limit": query["limit"], "next": None}
        if path.endswith(("/training-report", "/supervision-report")):
            return {"lines": []}
        if path == "/schools/JD001/evaluation-summary":
            return {"surveys": 1, "respondents": 10, "satisfied_permille": 900,
                    "mean_score_permille": 4250, "evaluations": []}
        if path == "/schools/JD001/satisfaction-surveys":
            self.asked_surveys = query
            return {"items": [SURVEY_RECORD], "total": 2, "limit": query["limit"],
                    "next": "s-1"}
        if path == "/schools/JD001/service-evaluations":
            return {"items": [], "total": 0, "limit": query["limit"], "next": None}
        if path == "/schools/JD001/escalations":
            return {"items": [], "total": 0, "limit": query["limit"], "next": None}
        assert path == "/schools/JD001/trainings", path
        return {"items": [], "total": 0, "limit": 20, "next": None}

    def post(self, path: str, body: dict[str, Any], key: str | None) -> Any:
        self.sent.append((path, body))
        if path.endswith("/deactivation") and body.get("left_on", "9") < "2026-09-01":
            raise Refused(400, {"code": "invalid_input", "errors": {
                "left_on": ["Must not be before registration (2026-09-01)."]}})
        if path.endswith("/supervisor") and body["supervisor_id"] == "sup-2":
            raise Refused(409, {"code": "conflict", "detail": "sup-2 already supervises w-1."})
        if path.endswith("/facilities") and body.get("recorded_on", "") > "2026-12-03":
            raise Refused(400, {"code": "invalid_input", "errors": {
                "recorded_on": ["Must not be in the future (2026-12-03)."]}})
        return {}


WORKER_RECORD = {
    "social_worker_id": "w-1", "school_ids": ["JD001", "JD002"], "employment": "full_time",
    "qualification": {"certificate_level": "assistant", "diploma_level": "bachelor",
                      "diploma_in_social_work": True, "projects_led": 2,
                      "ethics_commitment": True},
    "qualification_basis": "certificate", "supervisor_id": None, "registered_on": "2026-09-01",
    "eligible": True, "ineligibility": [], "pre_job_trained": True,
}
ADMIN = Actor("admin-1", "school_admin", "JD001")
HISTORY = [
    {"version": 1, "at": "2026-09-01T01:00:00+00:00", "event": "Registered",
     "published_as": "SocialWorkerRegistered", "actor": {"id": "admin-1", "role": "school_admin"},
     "details": {"social_worker_id": "w-1", "school_ids": ["JD001"]}},
    {"version": 2, "at": "2026-09-01T01:00:00+00:00", "event": "EligibilityChanged",
     "published_as": "SocialWorkerEligibilityChanged",
     "actor": {"id": "admin-1", "role": "school_admin"},
     "details": {"eligible": False, "reasons": ["no_pre_job_training"]}},
    {"version": 3, "at": "2026-09-02T02:00:00+00:00", "event": "SupervisorAssigned",
     "published_as": "SupervisorAssigned", "actor": {"id": "admin-1", "role": "school_admin"},
     "details": {"supervisor_id": "sup-1", "previous_supervisor_id": None}},
]
SURVEY_RECORD = {
    "survey_id": "s-1", "school_id": "JD001", "social_worker_id": "w-1",
    "respondent_kind": "parent", "respondent_count": 10, "satisfied_count": 9,
    "mean_score_permille": 4250, "evaluator_type": "third_party",
    "period_from": "2026-09-01", "period_to": "2026-11-30",
}


def posted(service: Supervision, handler: Any, form: dict[str, str],
           *path: str) -> tuple[int, str, str | None]:
    visit = visit_of(service, "zh_CN", ADMIN, "POST", {**form, "idempotency_key": "k"})
    answer = handler(visit, *path)
    return answer.status_code, answer.get_data(as_text=True), answer.headers.get("Location")


def test_the_surveys_themselves_are_listed_paged_on_their_own():
    service = Supervision()
    page = surveys(visit_of(service, "zh_CN", ADMIN, query="surveys_after=s-0")).get_data(
        as_text=True)
    assert service.asked_surveys == {"after": "s-0", "limit": 20}
    (row,) = re.findall(r"<tr>\s*(<td data-label=\"调查期间\".*?)</tr>",
                        page.split('id="surveys"')[1], flags=re.S)
    cells = [re.sub(r"<[^>]+>|\s+", " ", cell).strip() for cell in row.split("</td>")[:5]]
    assert cells == ["2026年9月1日 – 2026年11月30日 · w-1", "家长 · 10", "9 (90.0%)", "4.25",
                     "第三方评估"]
    assert 'href="/surveys?surveys_after=s-1#surveys-heading"' in page


def test_the_workers_history_says_each_change_in_chinese_and_who_made_it():
    page = worker(visit_of(Supervision(), "zh_CN", ADMIN), "w-1").get_data(as_text=True)
    rows = re.findall(r"<tr>(.*?)</tr>", page.split('id="history"')[1].split("</table>")[0],
                      flags=re.S)[1:]
    said = [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]
    assert said == [
        "2026年9月1日 09:00:00 登记 admin-1 学校管理员",
        "2026年9月1日 09:00:00 接案资格变化 · 不能接案 · 未参加岗前培训（9.1a） admin-1 学校管理员",
        "2026年9月2日 10:00:00 指派督导（6.2.2） · sup-1 admin-1 学校管理员"]


def test_the_qualification_form_starts_from_the_one_on_record():
    page = worker(visit_of(Supervision(), "zh_CN", ADMIN), "w-1").get_data(as_text=True)
    form = page.split('action="/staff/w-1/qualification"')[1].split("</form>")[0]
    assert '<option value="assistant" selected>' in form
    assert re.search(r'name="projects_led"\s+value="2"', form)
    assert "JD001、JD002" in page and "记录离职" in page


def test_the_supervisor_is_chosen_among_the_schools_and_kept_when_refused():
    page = worker(visit_of(Supervision(), "zh_CN", ADMIN), "w-1").get_data(as_text=True)
    form = page.split('action="/staff/w-1/supervisor"')[1].split("</form>")[0]
    assert re.findall(r'<option value="([^"]*)"', form) == ["", "sup-1", "sup-2"]
    # Refused (the one who already supervises them): the same choice, as it was sent.
    status, page, _ = posted(Supervision(), assign_supervisor,
                             {"supervisor_id": "sup-2", "assigned_on": "2026-09-02"}, "w-1")
    form = page.split('action="/staff/w-1/supervisor"')[1].split("</form>")[0]
    assert status == 409 and '<option value="sup-2" selected>' in form
    assert "与已有记录冲突。" in page.split("supervisor-form-heading")[2]


def test_leaving_before_registration_is_refused_beside_the_date_and_the_form_kept():
    service = Supervision()
    status, page, _ = posted(service, record_leaving,
                             {"reason": "left_service", "left_on": "2026-08-01"}, "w-1")
    assert status == 400
    assert "不得早于 2026-09-01。" in page.split('id="error-leaving-left_on"')[1][:200]
    assert 'value="2026-08-01"' in page and '<option value="left_service" selected>' in page
    status, _, where = posted(service, record_leaving, {"reason": "left_service"}, "w-1")
    assert (status, where) == (302, "/staff/w-1")
    assert service.sent[-1] == ("/social-workers/w-1/deactivation", {"reason": "left_service"})


def test_a_worker_who_left_has_no_forms_but_the_end_of_their_assignment():
    page = worker(visit_of(Supervision(active=False), "zh_CN", ADMIN), "w-1").get_data(
        as_text=True)
    assert "已于 2026年11月30日 离职" in page
    assert "/staff/w-1/qualification" not in page and "/staff/w-1/leaving" not in page
    assert 'action="/staff/w-1/assignment-end"' in page


def test_an_assignment_ended_is_the_admins_own_school_and_leads_back_to_the_staff():
    service = Supervision()
    status, _, where = posted(service, end_assignment, {"ended_on": ""}, "w-1")
    assert (status, where) == (302, "/staff")
    assert service.sent == [("/social-workers/w-1/assignment-end", {"school_id": "JD001"})]


def test_a_worker_assigned_to_the_admins_school_without_a_staff_id_is_refused_beside_it():
    service = Supervision()
    status, page, _ = posted(service, assign_worker, {"social_worker_id": " "})
    assert status == 400 and service.sent == []
    assert "必填。" in page.split('id="error-assign-social_worker_id"')[1][:200]
    status, _, where = posted(service, assign_worker, {"social_worker_id": "w-1"})
    assert (status, where) == (302, "/staff/w-1")
    assert service.sent == [("/social-workers/w-1/assignments", {"school_id": "JD001"})]


def test_the_staff_page_shows_the_service_spaces_on_record_and_starts_their_form_from_them():
    page = staff(visit_of(Supervision(facilities=("office", "case_room")), "zh_CN", ADMIN)
                 ).get_data(as_text=True)
    recorded = page.split('<ul class="facilities">')[1].split("</ul>")[0]
    assert "社会工作办公室" in recorded and "个案工作室" in recorded
    form = page.split('action="/staff/facilities"')[1].split("</form>")[0]
    assert 'value="office" checked' in form and 'value="case_room" checked' in form
    assert 'value="group_room" checked' not in form


def test_a_school_without_a_service_space_is_told_what_the_compliance_report_will_show():
    page = staff(visit_of(Supervision(), "zh_CN", ADMIN)).get_data(as_text=True)
    assert "尚未登记服务场所：合规报告将显示此项缺失。" in page


def test_the_service_spaces_are_recorded_for_the_admins_own_school_then_the_staff_page():
    service = Supervision()
    status, _, where = posted(service, record_facilities,
                              {"facility_kinds": "group_room", "recorded_on": "2026-12-01"})
    assert (status, where) == (302, "/staff")
    assert service.sent == [("/schools/JD001/facilities",
                             {"facility_kinds": ["group_room"], "recorded_on": "2026-12-01"})]


def test_service_spaces_recorded_for_a_later_day_are_refused_beside_the_date_as_sent():
    service = Supervision(facilities=("office",))
    status, page, _ = posted(service, record_facilities,
                             {"facility_kinds": "multi_function_room",
                              "recorded_on": "2026-12-09"})
    assert status == 400
    assert "不得晚于今天。" in page.split('id="error-facilities-recorded_on"')[1][:200]
    form = page.split('action="/staff/facilities"')[1].split("</form>")[0]
    # As sent, not as on record: the office unticked, the room ticked, the date kept.
    assert 'value="multi_function_room" checked' in form
    assert 'value="office" checked' not in form and 'value="2026-12-09"' in form


def test_a_complaint_by_letter_is_a_letter_where_an_overdue_letter_is_its_reply():
    zh = Localized("zh_CN")
    assert zh.label("letter", "channel") == "信件"
    assert zh.label("letter") == "信件回复"  # an overdue control point (8.2.2)
    assert zh.label("phone", "channel") == zh.label("phone")
