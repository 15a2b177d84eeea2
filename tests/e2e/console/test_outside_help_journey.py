"""The social worker's help from outside in a real browser (journeys_outside_help.py): a letter
that opens a case, a referral to an agency of the resource register and the agency's acceptance,
a resource request, and an offered resource accepted and delivered; what the journey saw, and
what the cases and resources services hold afterwards, read over RPC."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.console.i18n import today as schools_today
from services.runtime.cli.demo import SCHOOL, WORKER
from services.runtime.cli.journeys import ready_case
from tests.e2e.console.conftest import ARTEFACTS, console, console_address, run_journey
from tests.support.services import rpc
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


def test_a_social_worker_opens_a_case_from_a_letter_refers_and_asks_for_a_resource(
        amqp_uri, tmp_path):
    worker = {"id": WORKER, "role": "social_worker", "school_id": SCHOOL}
    today = schools_today()  # the console's dates are the schools' (Asia/Shanghai)
    with console(amqp_uri, tmp_path, console_address(), services=("cases", "resources"),
                 CASEBOOK_CONSOLE_DEV_SIGN_IN="true") as url:
        with rpc(amqp_uri, worker) as proxy:
            planned, _ = ready_case(proxy, "outside-help", worker_id=WORKER)
            student = proxy.cases.register_client({
                "client_type": "student", "name": "李小红", "date_of_birth": "2013-05-01",
                "grade": 7,
                "guardians": [{"name": "李强", "relation": "father", "contact": "139-0000-0003"}],
            })["client_id"]
            # Signed by a classmate who is no client: the letter names no writer.
            proxy.cases.receive_letter({
                "received_on": (today - timedelta(days=2)).isoformat(), "grade": 7,
                "service_codes": ["7.1.2a", "7.1.4a"],
                "content": "李小红在班里总被几个同学欺负，请老师帮帮她。"})
            provider = proxy.resources.register_provider({
                "provider_kind": "organisation", "sector": "medical", "name": "区精神卫生中心",
                "registered_on": "2026-09-01"})["provider_id"]
            # A request of the planned case the resources service offers a resource for, as
            # asked: the worker accepts it and records its delivery.
            offered = proxy.cases.request_resource({
                "case_id": planned, "kind": "materials", "service_codes": ["7.1.3a"],
                "quantity": 3})["request_id"]
            wait_for(lambda: _found(proxy.resources.list_resource_links({"case_id": planned})),
                     timeout=30, what="the request in the resources service")
            stationery = proxy.resources.register_resource({
                "provider_id": provider, "kind": "materials", "title": "文具包", "capacity": 10,
                "school_ids": [SCHOOL], "valid_from": "2026-09-01"})["resource_id"]
            proxy.resources.offer_resource({"request_id": offered, "resource_id": stationery})
            # What the worker offers, in the console, for the tutoring they ask for.
            tutoring = proxy.resources.register_resource({
                "provider_id": provider, "kind": "tutoring", "title": "周末数学辅导",
                "capacity": 6, "unit": "次", "school_ids": [SCHOOL],
                "eligible_service_codes": ["7.1.1a"], "valid_from": "2026-09-01"})["resource_id"]
        seen = run_journey("outside_help", url)
        with rpc(amqp_uri, worker) as proxy:
            letter = proxy.cases.get_letter({"letter_id": seen["letter_id"]})
            opened = proxy.cases.get_case({"case_id": seen["letter_case"]})
            record = proxy.cases.get_case({"case_id": planned})
            (made,) = record["referrals"]
            referral = proxy.resources.get_referral({"referral_id": made["referral_id"]})
            link = proxy.resources.get_resource_link({"request_id": offered})
            (asked_link,) = [item for item in proxy.resources.list_resource_links(
                {"case_id": planned})["items"] if item["kind"] == "tutoring"]

    # The letter: its services offered, refused without the student beside the picker with the
    # rest kept, then a case at intake for her, linked both ways (8.2.2).
    assert seen["codes_offered"] == ["7.1.2a", "7.1.4a"]
    assert seen["refused_client"] == "此项必填。"
    assert seen["refused_kept"] == "同学来信说她在班里被孤立、被欺负。"
    assert seen["case_heading"].startswith("李小红")
    assert seen["letter_shows"] == seen["mailbox_case"] == f"/cases/{seen['letter_case']}"
    assert letter["opened_case_id"] == seen["letter_case"]
    assert opened["letter_id"] == seen["letter_id"] and opened["client_id"] == student
    assert opened["status"] == "intake" and opened["social_worker_id"] == WORKER
    assert opened["service_codes"] == ["7.1.2a", "7.1.4a"]
    assert opened["intake"]["initial_information"] == "同学来信说她在班里被孤立、被欺负。"

    # The referral: to the register's provider, made today, and carried on by the resources
    # service, which the page says it awaits.
    assert "已转介至精神卫生机构" in seen["referrals"] and "区精神卫生中心" in seen["referrals"]
    assert "需要专业服务" in seen["referrals"] and "已转介，待机构接收" in seen["referrals"]
    assert made["agency_kind"] == "mental_health" and made["agency_id"] == provider
    assert made["reason_code"] == "specialist_need" and made["referred_on"] == today.isoformat()
    assert made["note"] == "情绪问题持续，需要专业评估。"

    # The agency's acceptance, once the resources service took the referral up: a day before the
    # referral refused beside the date and kept, then today, and the outcome offered next.
    yesterday = (today - timedelta(days=1)).isoformat()
    assert seen["refused_acceptance"] == f"不得早于 {today.isoformat()}。"
    assert seen["refused_acceptance_kept"] == yesterday
    assert "机构已接收" in seen["referral_accepted"]
    assert f"{today.year}年{today.month}月{today.day}日 接收" in seen["referral_accepted"]
    assert seen["referral_next"] == ["记录转介结果"]
    assert referral["status"] == "accepted" and referral["accepted_on"] == today.isoformat()

    # The resource request: none refused beside the quantity and nothing asked, then two units.
    assert seen["refused_quantity"] == "至少为 1。" and seen["refused_invalid"] == "true"
    assert seen["refused_kept_request"] == "数学跟不上，需要每周两次辅导。"
    assert "学业辅导" not in seen["requests_after_refusal"]
    assert "学业辅导 · 2 份" in seen["requests"] and "已申请，待提供资源" in seen["requests"]
    (asked,) = [item for item in record["resource_requests"] if item["kind"] == "tutoring"]
    assert asked["kind"] == "tutoring" and asked["quantity"] == 2
    assert asked["service_codes"] == ["7.1.1a"]
    assert asked["description"] == "数学跟不上，需要每周两次辅导。"
    assert "王小明" in seen["my_requests"] and "学业辅导 · 2 份" in seen["my_requests"]
    assert "学业辅导 · 2 份\n已提供资源" in seen["my_requests"]  # offered in the console
    assert seen["nav"][:3] == ["我的个案", "登记服务对象", "资源申请"]
    # Carried on from the list itself: the offer accepted there, its delivery next.
    assert seen["list_forms"] == ["接受所提供的资源", "婉拒所提供的资源"]
    assert "已接受资源" in seen["accepted_from_list"]
    assert "记录交付" in seen["accepted_from_list"]

    # The offered resource: accepted, delivered as offered, then how it was used (9.3c).
    assert "已接受资源" in seen["offer_accepted"] and "记录交付" in seen["offer_accepted"]
    assert "已交付" in seen["delivered"]
    assert f"{today.year}年{today.month}月{today.day}日 交付 3 份" in seen["delivered"]
    assert "记录交付" not in seen["delivered"] and "记录资源使用情况" in seen["delivered"]
    assert seen["usage_refused"] == "不得超过交付的 3 个。"
    assert f"已使用 3 个：需求已满足（{today.year}年{today.month}月{today.day}日 记录）" in seen[
        "used"]
    assert "记录资源使用情况" not in seen["used"]
    assert link["state"] == "used" and link["accepted_on"] == today.isoformat()
    assert link["delivery"] == {"quantity": 3, "delivered_on": today.isoformat()}
    assert link["usage"] == {"units_used": 3, "outcome": "need_met",
                             "recorded_on": today.isoformat()}
    # The tutoring asked for: offered from the register in the console, the units asked for,
    # then accepted from the list of requests.
    assert seen["offer_choices"] == ["请选择…", "周末数学辅导 · 尚余 6 次"]
    assert "已提供资源" in seen["tutoring_offered"]
    assert f"{today.year}年{today.month}月{today.day}日 提供 2 份" in seen["tutoring_offered"]
    assert (asked_link["state"], asked_link["resource_id"], asked_link["offered_quantity"]) == (
        "accepted", tutoring, 2)
    for page in ("outside-01-letter-case-refused", "outside-02-letter-opened-case",
                 "outside-03-referrals", "outside-04-request-refused",
                 "outside-05-my-requests", "outside-06-referral-acceptance-refused",
                 "outside-07-resource-delivered", "outside-08-resource-used"):
        assert (ARTEFACTS / f"{page}.png").stat().st_size > 0


def _found(found: dict) -> dict | None:
    return found["items"][0] if found["items"] else None
