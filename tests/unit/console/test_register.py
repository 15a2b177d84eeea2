"""The resource register's pages (9.3) without a browser: what each form sends the resources
service (a contact as its parts, an amount typed in yuan as cents, an activity picked as its
kind and id), where it leads, the refusals beside their fields or above the form, and the forms
each role is offered."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from contracts.events.resources import (
    ACTIVITY_KINDS,
    CHECK_RESULTS,
    DONATION_KINDS,
    PARTNER_SECTORS,
    PROVIDER_KINDS,
)
from services.console import register
from services.console.i18n import FIELD_LABELS, LABELS, Localized
from services.console.web import Refused
from services.runtime.context import Actor
from tests.unit.console.visits import visit_of

WORKER = Actor(id="demo-worker-1", role="social_worker", school_id="JD001")
ADMIN = Actor(id="demo-admin", role="school_admin", school_id="JD001")
PROVIDER = {"provider_id": "p-1", "provider_kind": "organisation", "sector": "medical",
            "name": "区医院", "registered_on": "2026-09-01", "school_id": "JD001",
            "details": {"name": "区医院", "contact": {"phone": "0571-1"}}}
NONE = {"items": [], "next": None, "total": 0}
VOLUNTEER = {"volunteer_id": "v-1", "school_id": "JD001", "skills": [],
             "registered_on": "2026-09-01", "latest_check": None, "check_state": "unchecked",
             "may_work_with_students": False, "minutes_served": 0,
             "details": {"name": "陈志愿", "contact": {}},
             "assignments": [{"assignment_id": "a-1", "activity_id": "g-1",
                              "activity_kind": "group", "with_students": False,
                              "starts_on": "2026-11-02"}],
             "served": []}
ISSUED = {"feedback_id": "f-1", "provider_id": "p-1", "school_id": "JD001",
          "period_from": "2026-09-01", "period_to": "2026-11-30", "issued_on": "2026-12-01",
          "figures": {"clients_served": 3, "deliveries": 4}}
GROUPS = {"items": [{"group_id": "g-1", "kind": "growth", "formed_on": "2026-10-08",
                     "status": "open"}], "next": None, "total": 1}


class Services:
    """The resources and cases services' answers, and the commands the pages sent."""

    def __init__(self, refusal: Refused | None = None) -> None:
        self.refusal = refusal
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.answers = {"/providers/p-1": PROVIDER, "/resources": NONE, "/donations": NONE,
                        "/volunteers/v-1": VOLUNTEER, "/groups": GROUPS, "/classes": NONE,
                        "/joint-activities": NONE,
                        "/providers": {"items": [PROVIDER], "next": None, "total": 1},
                        "/community-network": {"school_id": "JD001", "sectors": [],
                                               "partners": 0, "joint_activities": 0},
                        "/provider-feedback": {"items": [ISSUED], "next": None, "total": 1}}

    def get(self, path: str, **query: Any) -> Any:
        return self.answers[path]

    def post(self, path: str, body: dict[str, Any], key: str | None) -> Any:
        self.sent.append((path, body))
        if self.refusal is not None:
            raise self.refusal
        return {"provider_id": "p-new", "volunteer_id": "v-new", "feedback_id": "f-1"}


@pytest.mark.parametrize(("typed", "sent"), [
    ("1500", 150000), ("1,500.50", 150050), ("99.5", 9950), ("0.05", 5), (" 12 ", 1200),
    ("1,500,000", 150000000), ("1.234", "1.234"), ("1,5", "1,5"), ("15,00", "15,00"),
    ("一千", "一千"), ("-5", "-5"), ("", ""),
])
def test_an_amount_typed_in_yuan_is_sent_as_whole_cents_or_as_typed(typed, sent) -> None:
    assert register.cents(typed) == sent


def test_a_provider_is_sent_with_its_contact_as_parts_and_leads_to_its_page() -> None:
    services = Services()
    answer = register.register_provider(visit_of(services, "zh_CN", WORKER, "POST", {
        "provider_kind": "organisation", "sector": "medical", "name": "区医院",
        "contact_person": "周老师", "contact_phone": "0571-1", "contact_email": "",
        "registered_on": "2026-12-01"}))
    assert answer.status_code == 302 and answer.location == "/providers/p-new"
    assert services.sent == [("/providers", {
        "provider_kind": "organisation", "sector": "medical", "name": "区医院",
        "contact": {"person": "周老师", "phone": "0571-1"}, "registered_on": "2026-12-01"})]


def test_a_contact_refused_is_said_beside_its_own_field() -> None:
    refusal = Refused(400, {"code": "invalid_input", "errors": {
        "contact": {"email": ["Not a valid email address."]}, "name": ["Missing data for "
                                                                       "required field."]}})
    answer = register.register_provider(visit_of(Services(refusal), "zh_CN", WORKER, "POST", {
        "contact_email": "nowhere", "contact_person": "周老师"}))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert '<p class="error" id="error-contact_email">不是有效的电子邮箱地址。' in page
    assert '<p class="error" id="error-name">' in page
    assert 'value="周老师"' in page


def test_a_donation_in_yuan_is_sent_in_cents_and_a_refused_amount_shown_beside_it() -> None:
    services = Services()
    answer = register.provider_command(visit_of(services, "zh_CN", WORKER, "POST", {
        "kind": "funds", "amount": "1,500.50", "received_on": "2026-12-01"}), "p-1",
        "donations")
    assert answer.location == "/providers/p-1#donations"
    assert services.sent == [("/providers/p-1/donations", {
        "kind": "funds", "amount_cents": 150050, "received_on": "2026-12-01",
        "restricted_to_service_codes": []})]
    refusal = Refused(400, {"code": "invalid_input",
                            "errors": {"amount_cents": ["Not a valid integer."]}})
    refused = register.provider_command(visit_of(Services(refusal), "zh_CN", WORKER, "POST", {
        "kind": "funds", "amount": "一千"}), "p-1", "donations")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert 'id="error-donations-amount">不是整数。' in page and 'value="一千"' in page


def test_a_resource_covers_the_school_of_whoever_registers_it() -> None:
    services = Services()
    register.provider_command(visit_of(services, "zh_CN", WORKER, "POST", {
        "kind": "tutoring", "title": "周末数学辅导", "capacity": "6",
        "valid_from": "2026-12-01"}), "p-1", "resources")
    ((path, body),) = services.sent
    assert path == "/providers/p-1/resources" and body["school_ids"] == ["JD001"]
    assert body["capacity"] == 6 and body["eligible_service_codes"] == []


def test_an_activity_picked_is_sent_as_its_kind_and_id() -> None:
    services = Services()
    answer = register.volunteer_command(visit_of(services, "zh_CN", WORKER, "POST", {
        "activity": "group:g-1", "starts_on": "2026-12-01"}), "v-1", "assignments")
    assert answer.location == "/volunteers/v-1#assignments"
    assert services.sent == [("/volunteers/v-1/assignments", {
        "activity_kind": "group", "activity_id": "g-1", "starts_on": "2026-12-01",
        "with_students": False})]


def test_work_of_its_own_is_named_by_the_form_so_a_form_sent_again_names_it_again() -> None:
    sent = {"activity": "administration:new", "starts_on": "2026-12-01",
            "idempotency_key": "k-1"}
    first, again, other = Services(), Services(), Services()
    for services, key in ((first, "k-1"), (again, "k-1"), (other, "k-2")):
        register.volunteer_command(visit_of(services, "zh_CN", WORKER, "POST", {
            **sent, "idempotency_key": key}), "v-1", "assignments")
    ((_, body),) = first.sent
    assert body["activity_kind"] == "administration"
    assert str(uuid.UUID(body["activity_id"])) == body["activity_id"]
    assert again.sent[0][1] == body and other.sent[0][1]["activity_id"] != body["activity_id"]
    page = register.volunteer(visit_of(Services(), "zh_CN", WORKER), "v-1").get_data(
        as_text=True)
    assert '<option value="administration:new" >行政事务（其他工作）</option>' in page


def test_an_activity_not_picked_is_refused_beside_the_picker() -> None:
    refusal = Refused(400, {"code": "invalid_input", "errors": {
        "activity_id": ["Missing data for required field."],
        "activity_kind": ["Missing data for required field."]}})
    services = Services(refusal)
    answer = register.volunteer_command(visit_of(services, "zh_CN", WORKER, "POST", {
        "with_students": "1"}), "v-1", "assignments")
    assert services.sent[0][1] == {"with_students": True}
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'id="error-assignments-activity">此项必填。 </p>' in page  # said once, for both


def test_a_volunteer_not_cleared_is_refused_above_the_form_saying_why() -> None:
    refusal = Refused(403, {"code": "check_required", "detail": "Volunteer v-1 has no "
                            "background check on record (on 2026-12-01)."})
    answer = register.volunteer_command(visit_of(Services(refusal), "zh_CN", WORKER, "POST", {
        "activity": "group:g-1", "with_students": "1"}), "v-1", "assignments")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 403
    assert "志愿者须有有效的背景审查方可与学生接触（9.3b）。" in page
    assert '<details id="assignments-form" open>' in page


def test_another_refusal_of_a_role_is_not_taken_for_a_form_s() -> None:
    refusal = Refused(403, {"code": "not_allowed", "detail": "No."})
    with pytest.raises(Refused):
        register.volunteer_command(visit_of(Services(refusal), "zh_CN", WORKER, "POST", {
            "result": "passed"}), "v-1", "checks")


def test_a_joint_activity_names_its_partners_from_the_register_and_keeps_them_if_refused():
    services = Services()
    answer = register.hold_joint_activity(visit_of(services, "zh_CN", WORKER, "POST", {
        "partner_ids": "p-1", "theme": "家长课堂", "service_codes": "7.1.4a",
        "held_on": "2026-12-01", "participant_count": "30"}))
    assert answer.location == "/joint-activities"
    assert services.sent == [("/joint-activities", {
        "partner_ids": ["p-1"], "theme": "家长课堂", "service_codes": ["7.1.4a"],
        "held_on": "2026-12-01", "participant_count": 30})]
    refusal = Refused(400, {"code": "invalid_input", "errors": {
        "participant_count": ["Missing data for required field."]}})
    refused = register.hold_joint_activity(visit_of(Services(refusal), "zh_CN", WORKER, "POST", {
        "partner_ids": "p-1", "theme": "家长课堂"}))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert 'id="error-activity-participant_count">此项必填。' in page
    assert '<details id="activity-form" open>' in page
    assert 'value="p-1" checked> 区医院' in page


def test_the_checks_and_the_feedback_are_offered_to_the_roles_that_may_send_them() -> None:
    worker = register.volunteer(visit_of(Services(), "zh_CN", WORKER), "v-1").get_data(
        as_text=True)
    admin = register.volunteer(visit_of(Services(), "zh_CN", ADMIN), "v-1").get_data(
        as_text=True)
    assert "记录背景审查" not in worker and "记录背景审查" in admin
    assert "成长小组，2026年10月8日 组建" in worker  # the assignment by its group
    worker_provider = register.provider(visit_of(Services(), "zh_CN", WORKER), "p-1")
    admin_provider = register.provider(visit_of(Services(), "zh_CN", ADMIN), "p-1")
    assert "/feedback" not in worker_provider.get_data(as_text=True)
    assert "已出具的反馈" not in worker_provider.get_data(as_text=True)
    shown = admin_provider.get_data(as_text=True)
    assert "/providers/p-1/feedback?" in shown
    assert ("2026年12月1日 出具，期间 2026年9月1日 至 2026年11月30日：服务对象 3 人，交付 4 次"
            in shown)


def test_a_provider_s_page_is_not_titled_with_its_name() -> None:
    # An individual provider's name is personal: the browser's history keeps page titles.
    page = register.provider(visit_of(Services(), "zh_CN", WORKER), "p-1").get_data(
        as_text=True)
    assert "<title>资源提供方 p-1" in page and "<title>区医院" not in page


def test_every_code_these_pages_show_has_a_label() -> None:
    shown = (*PROVIDER_KINDS, *DONATION_KINDS, *CHECK_RESULTS)
    assert [code for code in shown if code not in LABELS] == []
    assert [kind for kind in ACTIVITY_KINDS
            if kind not in LABELS and kind not in FIELD_LABELS["activity_kind"]] == []
    zh, en = Localized("zh_CN"), Localized("en")
    assert [code for code in PARTNER_SECTORS if zh.sector(code) == code] == []
    assert (zh.sector("medical"), en.sector("medical")) == ("医疗机构", "Medical institution")
    assert zh.label("administration", "activity_kind") == "行政事务"
    assert zh.money(150050, "CNY") == "¥1,500.50"


class RefusedPeriod(Services):
    """The resources service refusing a period that ends before it begins."""

    def get(self, path: str, **query: Any) -> Any:
        if path.endswith("/feedback"):
            raise Refused(400, {"code": "invalid_input", "errors": {
                "period_to": ["Must not be before period_from."]}})
        return super().get(path, **query)


def test_a_period_ending_before_it_begins_is_refused_beside_its_end_with_no_report() -> None:
    answer = register.provider_feedback(visit_of(
        RefusedPeriod(), "zh_CN", ADMIN, query="period_from=2026-12-01&period_to=2026-11-01"),
        "p-1")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'id="error-period_to">不得早于期间的第一天。' in page
    assert 'value="2026-11-01"' in page and "向资源提供方出具此反馈" not in page


def test_feedback_issued_leads_back_to_its_period_saying_so() -> None:
    services = Services()
    answer = register.issue_feedback(visit_of(services, "zh_CN", ADMIN, "POST", {
        "period_from": "2026-09-01", "period_to": "2026-11-30"}), "p-1")
    assert services.sent == [("/providers/p-1/feedback", {
        "period_from": "2026-09-01", "period_to": "2026-11-30"})]
    assert answer.location == (
        "/providers/p-1/feedback?period_from=2026-09-01&period_to=2026-11-30&issued=f-1")


def test_a_period_already_issued_says_so_before_it_is_issued_again() -> None:
    services = Services()
    totals = {"clients_served": 3, "deliveries": 4, "units_delivered": 4, "units_used": 4,
              "outcomes": {"need_met": 2, "partly_met": 1, "not_met": 0}}
    services.answers["/providers/p-1/feedback"] = {"figures": {**totals, "resources": []}}
    again = register.provider_feedback(visit_of(
        services, "zh_CN", ADMIN, query="period_from=2026-09-01&period_to=2026-11-30"),
        "p-1").get_data(as_text=True)
    assert "本期反馈已于 2026年12月1日 出具。再次出具将按当前数据向资源提供方发送。" in again
    assert ">再次出具</button>" in again
    other = register.provider_feedback(visit_of(
        services, "zh_CN", ADMIN, query="period_from=2026-10-01&period_to=2026-11-30"),
        "p-1").get_data(as_text=True)
    assert 'id="issued-before"' not in other and ">向资源提供方出具此反馈</button>" in other
