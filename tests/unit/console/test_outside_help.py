"""The social worker's help from outside, page by page without a browser: a letter that opens a
case (8.2.2), a case's referrals to agencies (7.1.4b) and resource requests (8.3.4b) in the state
the resources service carried them to, with the forms that carry each on there (the agency's
acceptance and the outcome; a resource of the register offered, the offer accepted or declined,
the delivery and the usage), and the worker's own
requests; what each page sends the services, and their refusals beside the fields."""

from __future__ import annotations

import re
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from contracts.events.cases import RESOURCE_KINDS
from contracts.events.resources import LINK_DECLINE_REASONS, REFERRAL_OUTCOMES
from contracts.events.supervision import FACILITY_KINDS
from services.cases.schemas import REFERRAL_REASONS
from services.console import activities, forms, social_worker
from services.console.i18n import LABELS, Localized
from services.console.pages import Console
from services.console.session import Session
from services.console.web import Refused, Visit
from services.resources.schemas import LINK_STATES, REFERRAL_STATES
from services.runtime.context import Actor
from services.runtime.settings import settings

WORKER = "demo-worker-1"
LETTER = {"letter_id": "l-1", "received_on": "2026-11-20", "anonymous": False,
          "client_id": "c-writer", "grade": 7, "service_codes": ["7.1.2a", "7.1.4a"],
          "content": "同学总是欺负我。", "answer": None, "opened_case_id": None}
WRITER = {"client_id": "c-writer", "client_type": "student", "grade": 7,
          "details": {"name": "李小红"}}
OTHERS = {"items": [{"client_id": "c-other", "name": "王小明", "client_type": "student",
                     "grade": 8}], "next": None, "total": 2}
CASE = {"case_id": "case-1", "client_id": "c-writer", "status": "active",
        "referrals": [
            {"referral_id": "r-1", "agency_kind": "mental_health", "agency_id": "p-1",
             "reason_code": "specialist_need", "referred_on": "2026-11-21", "note": "需评估"},
            {"referral_id": "r-2", "agency_kind": "legal_aid", "agency_id": None,
             "reason_code": "client_request", "referred_on": "2026-11-30", "note": None}],
        "resource_requests": [
            {"request_id": "q-1", "kind": "tutoring", "service_codes": ["7.1.1a"],
             "quantity": 2, "needed_by": "2026-12-20", "description": None}]}


class Services:
    """The services' answers as the pages read them, and the commands the pages sent."""

    def __init__(self, answers: dict[str, Any], refusal: Refused | None = None) -> None:
        self.answers, self.refusal = answers, refusal
        self.asked: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def get(self, path: str, **query: Any) -> Any:
        self.asked.append((path, query))
        return self.answers[path]

    def post(self, path: str, body: dict[str, Any], key: str | None) -> Any:
        self.sent.append((path, body))
        if self.refusal is not None:
            raise self.refusal
        return {"case_id": "case-new"}


def visit_of(services: Services, method: str = "GET", form: Any = None,
             locale: str = "zh_CN", query: str = "") -> Visit:
    console = Console(None, settings().console, b"k" * 32)  # type: ignore[arg-type]
    request = Request(EnvironBuilder(method=method, data=form, query_string=query).get_environ())
    session = Session(csrf="t", locale=locale,
                      actor=Actor(id=WORKER, role="social_worker", school_id="JD001"))
    return Visit(request, session, Localized(locale), console, services)  # type: ignore[arg-type]


def letter_services(letter: dict[str, Any] = LETTER, refusal: Refused | None = None) -> Services:
    return Services({"/letters/l-1": letter, "/clients/c-writer": WRITER, "/clients": OTHERS},
                    refusal)


def test_a_letters_case_is_for_its_writer_in_the_services_the_letter_asks_for():
    page = activities.letter(visit_of(letter_services()), "l-1").get_data(as_text=True)
    assert "根据此信开案" in page
    # The writer is offered first (not on the first page of the worker's clients) and chosen.
    assert page.index('value="c-writer" checked') < page.index('value="c-other"')
    assert 'value="7.1.2a" checked' in page and 'value="7.1.4a" checked' in page
    assert 'value="7.1.1a" checked' not in page


def test_a_letter_that_opened_a_case_shows_it_and_offers_no_other():
    opened = {**LETTER, "opened_case_id": "case-9"}
    services = letter_services(opened)
    page = activities.letter(visit_of(services), "l-1").get_data(as_text=True)
    assert '<a href="/cases/case-9">由此信开启的个案</a>' in page
    assert "根据此信开案" not in page
    assert "/clients" not in [path for path, _ in services.asked]


def test_a_case_opened_from_a_letter_names_the_letter_and_the_worker_then_shows_the_case():
    services = letter_services()
    answer = activities.open_case_from_letter(visit_of(services, "POST", {
        "client_id": "c-other", "service_codes": ["7.1.4a"], "opened_on": "2026-11-22",
        "worker_introduced": "1", "initial_information": "信中说被同学欺负。",
        "idempotency_key": "k"}), "l-1")
    assert answer.status_code == 302 and answer.location == "/cases/case-new"
    assert services.sent == [("/cases", {
        "client_id": "c-other", "service_codes": ["7.1.4a"], "opened_on": "2026-11-22",
        "intake": {"worker_introduced": True, "respect_and_empathy": False,
                   "initial_information": "信中说被同学欺负。"},
        "letter_id": "l-1", "social_worker_id": WORKER})]


def test_a_case_without_its_client_is_refused_beside_the_picker_with_the_rest_kept():
    refusal = Refused(400, {"code": "invalid_input", "errors": {
        "client_id": ["Missing data for required field."]}})
    services = letter_services(refusal=refusal)
    answer = activities.open_case_from_letter(visit_of(services, "POST", {
        "service_codes": ["7.1.4a"], "opened_on": "2026-11-22",
        "initial_information": "信中说被同学欺负。"}), "l-1")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "client_id" not in services.sent[0][1]  # left out, for the service's "required"
    assert '<p class="error" id="error-case-client_id">此项必填。' in page
    assert "<details open>" in page and "信中说被同学欺负。</textarea>" in page
    assert 'value="c-writer" checked' not in page  # as sent: no client


def referral_services(refusal: Refused | None = None) -> Services:
    return Services({
        "/cases/case-1": CASE, "/clients/c-writer": WRITER,
        "/referrals": {"items": [{"referral_id": "r-1", "status": "accepted",
                                  "accepted_on": "2026-11-25", "outcome": None}]},
        "/providers": {"items": [{"provider_id": "p-1", "name": "区精神卫生中心"}]},
        "/resource-links": {"items": []},
    }, refusal)


def test_a_cases_referrals_show_their_state_and_one_not_yet_carried_on_as_made():
    services = referral_services()
    answer = social_worker.outside_help(visit_of(services), "case-1", "referrals")
    page = answer.get_data(as_text=True)
    assert ("/referrals", {"case_id": "case-1", "limit": social_worker.OUTSIDE_PAGE}) in (
        services.asked)
    first, second = page.split('<ul class="referrals">')[1].split("</ul>")[0].split("<li>")[1:]
    assert "已转介至精神卫生机构" in first and "区精神卫生中心" in first
    assert "机构已接收" in first and "2026年11月25日 接收" in first and "需评估" in first
    assert "已转介至法律援助" in second and "已转介，待机构接收" in second
    assert '<option value="p-1" >区精神卫生中心</option>' in page


def test_a_referral_is_sent_as_typed_and_leads_back_to_the_cases_referrals():
    services = referral_services()
    answer = social_worker.ask_outside(visit_of(services, "POST", {
        "agency_kind": "child_protection", "agency_id": "p-1", "reason_code": "specialist_need",
        "referred_on": "2026-12-01", "note": "", "idempotency_key": "k"}), "case-1", "referrals")
    assert answer.location == "/cases/case-1/referrals"
    assert services.sent == [("/cases/case-1/referrals", {
        "agency_kind": "child_protection", "agency_id": "p-1",
        "reason_code": "specialist_need", "referred_on": "2026-12-01", "life_safety": False})]


def test_a_resource_request_refused_shows_the_reason_beside_its_field_and_keeps_the_rest():
    refusal = Refused(400, {"code": "invalid_input", "errors": {
        "quantity": ["Must be greater than or equal to 1."]}})
    services = referral_services(refusal)
    answer = social_worker.ask_outside(visit_of(services, "POST", {
        "kind": "tutoring", "service_codes": ["7.1.1a"], "quantity": "0",
        "description": "数学补习"}), "case-1", "resource-requests")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert services.sent[0][1]["quantity"] == 0
    assert '<p class="error" id="error-quantity">至少为 1。' in page
    assert 'aria-invalid="true"' in page and "数学补习</textarea>" in page
    # The case's request so far, still requested: the resources service has not taken it up.
    assert "学业辅导 · 2 份" in page and "已申请，待提供资源" in page


def my_requests(refusal: Refused | None = None) -> Services:
    return Services({
        "/resource-links": {"items": [
            {"case_id": "case-1", "request_id": "q-1", "kind": "financial_aid", "quantity": 1,
             "needed_by": None, "state": "offered", "requested_on": "2026-11-21",
             "offered_on": "2026-11-23", "delivered_on": None},
            {"case_id": "case-2", "request_id": "q-2", "kind": "venue", "quantity": 1,
             "needed_by": None, "state": "requested", "requested_on": "2026-11-22",
             "offered_on": None, "delivered_on": None}], "next": None, "total": 2},
        "/resource-links/q-2/proposals": {"items": [
            {"resource_id": "res-1", "title": "学校礼堂", "remaining": 1, "unit": "次"}]},
        "/clients": {"items": [{"client_id": "c-writer", "name": "李小红"}]},
        "/cases": {"items": [{"case_id": "case-1", "client_id": "c-writer"},
                             {"case_id": "case-2", "client_id": "c-gone"}]},
    }, refusal)


def test_my_requests_name_each_cases_client_and_say_their_state():
    services = my_requests()
    page = social_worker.resource_requests(visit_of(services, query="state=nowhere")).get_data(
        as_text=True)
    assert services.asked[0] == ("/resource-links", {"state": None, "after": None,
                                                     "limit": social_worker.CASELOAD_PAGE})
    # The proposals for the request awaiting an offer; exactly the page's cases, and their
    # clients, are read by id.
    assert services.asked[1:] == [
        ("/resource-links/q-2/proposals", {"limit": social_worker.OUTSIDE_PAGE}),
        ("/cases", {"status": "any", "case_id": ["case-1", "case-2"], "limit": 2}),
        ("/clients", {"client_id": ["c-gone", "c-writer"], "limit": 2})]
    assert ">李小红</a>" in page and ">个案 case-2</a>" in page
    assert "已提供资源" in page and "2026年11月23日 提供" in page
    assert "已申请，待提供资源" in page


def test_my_requests_are_carried_on_from_the_list_in_their_state():
    page = social_worker.resource_requests(visit_of(my_requests(), query="state=")).get_data(
        as_text=True)
    assert re.findall(r'action="/resource-requests/(q-\d)/(\w+)"', page) == [
        ("q-1", "acceptance"), ("q-1", "decline"), ("q-2", "offer")]
    assert '<option value="res-1" >学校礼堂 · 尚余 1 次</option>' in page


def test_a_request_carried_on_from_the_list_goes_back_to_the_list_as_it_was_filtered():
    services = my_requests()
    answer = social_worker.carry_request_on(visit_of(services, "POST", {
        "accepted_on": "2026-12-02", "state": "offered", "after": "c1", "idempotency_key": "k"}),
        "q-1", "acceptance")
    assert services.sent == [("/resource-links/q-1/acceptance", {"accepted_on": "2026-12-02"})]
    assert answer.location == "/resource-requests?state=offered&after=c1"


def test_a_refusal_on_the_list_is_shown_beside_the_field_on_its_own_form():
    refusal = Refused(400, {"code": "invalid_input", "errors": {
        "accepted_on": ["Must not be before the offer (2026-11-23)."]}})
    answer = social_worker.carry_request_on(visit_of(my_requests(refusal), "POST", {
        "accepted_on": "2026-11-22"}), "q-1", "acceptance")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "不得早于 2026-11-23。" in page.split('id="error-acceptance-q-1-accepted_on"')[1][:200]
    assert 'value="2026-11-22"' in page and page.count('aria-invalid="true"') == 1
    with pytest.raises(NotFound):  # not a way a resource request is carried on
        social_worker.carry_request_on(visit_of(my_requests(), "POST", {}), "q-1", "completion")


def test_every_code_these_pages_show_has_a_label():
    shown = (*RESOURCE_KINDS, *REFERRAL_REASONS, *REFERRAL_OUTCOMES, *LINK_DECLINE_REASONS,
             *FACILITY_KINDS,
             *(f"referral_{state}" for state in REFERRAL_STATES),
             *(f"link_{state}" for state in LINK_STATES))
    assert [code for code in shown if code not in LABELS] == []


def test_an_opening_sends_the_intake_items_of_8_3_1_under_intake():
    body = forms.opening(MultiDict({"service_codes": "7.1.3a", "opened_on": "2026-11-22",
                                    "respect_and_empathy": "1"}))
    assert body == {"service_codes": ["7.1.3a"], "opened_on": "2026-11-22",
                    "intake": {"worker_introduced": False, "respect_and_empathy": True}}


def carried_services(refusal: Refused | None = None) -> Services:
    """The case's two referrals, one accepted by its agency and one awaiting it, and its
    resource request offered two units."""
    return Services({
        "/cases/case-1": CASE, "/clients/c-writer": WRITER,
        "/referrals": {"items": [
            {"referral_id": "r-1", "status": "accepted", "accepted_on": "2026-11-25",
             "outcome": None},
            {"referral_id": "r-2", "status": "made", "accepted_on": None, "outcome": None}]},
        "/providers": {"items": []},
        "/resource-links": {"items": [
            {"request_id": "q-1", "state": "offered", "offered_quantity": 2,
             "offered_on": "2026-12-01", "delivered_quantity": None, "delivered_on": None}]},
    }, refusal)


def forms_of(page: str, item_id: str) -> list[str]:
    """The actions of the forms that carry one item of the list on, in their order."""
    return re.findall(rf'action="/cases/case-1/[a-z-]+/{item_id}/([a-z]+)"', page)


def test_each_referral_offers_what_may_come_next_in_its_state():
    page = social_worker.outside_help(visit_of(carried_services()), "case-1",
                                      "referrals").get_data(as_text=True)
    # Accepted: it only ends now. Awaiting the agency: accepted, or ended without (declined).
    assert forms_of(page, "r-1") == ["completion"]
    assert forms_of(page, "r-2") == ["acceptance", "completion"]
    assert "记录机构已接收" in page and "记录转介结果" in page
    assert '<option value="agency_declined" >机构未接收</option>' in page


def test_an_offered_resource_is_accepted_or_declined_and_its_offer_shown():
    page = social_worker.outside_help(visit_of(carried_services()), "case-1",
                                      "resource-requests").get_data(as_text=True)
    assert forms_of(page, "q-1") == ["acceptance", "decline"]
    assert "2026年12月1日 提供 2 份" in page
    assert '<option value="provider_unavailable" >提供方无法提供</option>' in page


def test_an_accepted_resource_is_delivered_or_still_declined():
    services = carried_services()
    services.answers["/resource-links"] = {"items": [{
        "request_id": "q-1", "state": "accepted", "offered_quantity": 2,
        "offered_on": "2026-12-01", "delivered_quantity": None, "delivered_on": None}]}
    page = social_worker.outside_help(visit_of(services), "case-1",
                                      "resource-requests").get_data(as_text=True)
    assert forms_of(page, "q-1") == ["decline", "deliveries"]
    assert "留空即为所提供的份数。" in page


def test_the_agencys_acceptance_goes_to_the_resources_service_then_the_cases_referrals():
    services = carried_services()
    answer = social_worker.carry_on(visit_of(services, "POST", {
        "accepted_on": "2026-12-02", "idempotency_key": "k"}), "case-1", "referrals", "r-2",
        "acceptance")
    assert answer.location == "/cases/case-1/referrals"
    assert services.sent == [("/referrals/r-2/acceptance", {"accepted_on": "2026-12-02"})]


def test_a_delivery_sends_its_units_as_a_number_and_leaves_them_out_when_empty():
    services = carried_services()
    for units in ("2", ""):
        answer = social_worker.carry_on(visit_of(services, "POST", {
            "delivered_on": "2026-12-03", "quantity": units}), "case-1", "resource-requests",
            "q-1", "deliveries")
        assert answer.location == "/cases/case-1/resource-requests"
    assert services.sent == [
        ("/resource-links/q-1/deliveries", {"delivered_on": "2026-12-03", "quantity": 2}),
        ("/resource-links/q-1/deliveries", {"delivered_on": "2026-12-03"})]


def test_an_acceptance_before_the_referral_is_refused_beside_its_date_on_its_own_form():
    refusal = Refused(400, {"code": "invalid_input", "errors": {
        "accepted_on": ["Must not be before the referral (2026-11-30)."]}})
    answer = social_worker.carry_on(visit_of(carried_services(refusal), "POST", {
        "accepted_on": "2026-11-29"}), "case-1", "referrals", "r-2", "acceptance")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "不得早于 2026-11-30。" in page.split('id="error-acceptance-r-2-accepted_on"')[1][:200]
    assert 'id="f-acceptance-r-2-accepted_on"' in page and 'value="2026-11-29"' in page
    assert page.count('aria-invalid="true"') == 1  # the other forms stay as they were


def test_a_decline_refused_for_its_state_says_why_above_its_form():
    refusal = Refused(409, {"code": "missing_step", "detail": "cannot decline it before an offer"})
    answer = social_worker.carry_on(visit_of(carried_services(refusal), "POST", {
        "reason": "not_suitable", "declined_on": "2026-12-02"}), "case-1", "resource-requests",
        "q-1", "decline")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    form = page.split('action="/cases/case-1/resource-requests/q-1/decline"')[1]
    assert "服务流程中尚有步骤未完成" in form.split("</form>")[0]
    assert '<option value="not_suitable" selected>' in form


def test_a_way_on_that_the_kind_of_help_has_not_is_no_page():
    with pytest.raises(NotFound):
        social_worker.carry_on(visit_of(carried_services(), "POST", {}), "case-1", "referrals",
                               "r-1", "deliveries")


def test_a_refusal_of_a_form_no_longer_offered_is_shown_above_the_list_not_lost():
    # r-1 was accepted by another hand meanwhile: its acceptance form is no longer offered.
    refusal = Refused(409, {"code": "missing_step", "detail": "already accepted"})
    answer = social_worker.carry_on(visit_of(carried_services(refusal), "POST", {
        "accepted_on": "2026-12-02"}), "case-1", "referrals", "r-1", "acceptance")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert forms_of(page, "r-1") == ["completion"]
    above = page.split('<section aria-labelledby="made-heading">')[0]
    assert 'role="alert"' in above and "服务流程中尚有步骤未完成" in above


def test_a_request_awaiting_an_offer_offers_a_fitting_resource_of_the_register():
    services = carried_services()
    services.answers["/resource-links"] = {"items": [{
        "request_id": "q-1", "state": "requested", "offered_quantity": None,
        "offered_on": None, "delivered_quantity": None, "delivered_on": None}]}
    services.answers["/resource-links/q-1/proposals"] = {"items": [
        {"resource_id": "res-1", "title": "周末数学辅导", "remaining": 6, "unit": "次"}]}
    page = social_worker.outside_help(visit_of(services), "case-1",
                                      "resource-requests").get_data(as_text=True)
    assert ("/resource-links/q-1/proposals", {"limit": social_worker.OUTSIDE_PAGE}) in (
        services.asked)
    assert forms_of(page, "q-1") == ["offer"]
    assert '<option value="res-1" >周末数学辅导 · 尚余 6 次</option>' in page
    answer = social_worker.carry_on(visit_of(services, "POST", {
        "resource_id": "res-1", "quantity": ""}), "case-1", "resource-requests", "q-1", "offer")
    assert answer.location == "/cases/case-1/resource-requests"
    assert services.sent == [("/resource-links/q-1/offer", {"resource_id": "res-1"})]


def test_no_offer_is_offered_while_no_resource_of_the_register_fits():
    services = carried_services()
    services.answers["/resource-links"] = {"items": [{
        "request_id": "q-1", "state": "declined", "offered_quantity": None,
        "offered_on": None, "delivered_quantity": None, "delivered_on": None}]}
    services.answers["/resource-links/q-1/proposals"] = {"items": []}
    page = social_worker.outside_help(visit_of(services), "case-1",
                                      "resource-requests").get_data(as_text=True)
    assert forms_of(page, "q-1") == []


def test_an_offer_refused_keeps_the_resource_chosen_and_says_why_beside_the_units():
    services = carried_services(Refused(400, {"code": "invalid_input", "errors": {
        "quantity": ["Must not exceed the 2 requested."]}}))
    services.answers["/resource-links"] = {"items": [{
        "request_id": "q-1", "state": "requested", "offered_quantity": None,
        "offered_on": None, "delivered_quantity": None, "delivered_on": None}]}
    services.answers["/resource-links/q-1/proposals"] = {"items": [
        {"resource_id": "res-1", "title": "周末数学辅导", "remaining": 6, "unit": "次"}]}
    answer = social_worker.carry_on(visit_of(services, "POST", {
        "resource_id": "res-1", "quantity": "5"}), "case-1", "resource-requests", "q-1", "offer")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert '<option value="res-1" selected>' in page
    assert "不得超过申请的 2 个。" in page.split('id="error-offer-q-1-quantity"')[1][:200]
