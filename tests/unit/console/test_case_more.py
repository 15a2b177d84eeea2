"""How the case page's further forms shape what was typed (forms.py): a disclosure's one
recipient and its time on Beijing time, a declined intake's referral, a follow-up with the
closing, and where a refusal's reasons about the recipient are shown; the follow-ups coming due
asked for as far ahead as chosen."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from services.cases.schemas import RELATED_PARTY_KINDS
from services.console import forms
from services.console.i18n import Localized
from services.console.social_worker import follow_ups_coming
from services.runtime.context import Actor
from tests.unit.console.visits import visit_of

WORKER = Actor("worker-1", "social_worker", "JD001")


def test_a_disclosure_is_sent_with_its_one_recipient_and_its_time_on_beijing_time():
    sent = MultiDict({"recipient_kind": "guardian", "recipient_who": "王芳", "what": "风险",
                      "why": "4.1", "disclosed_at": "2026-11-30T18:30"})
    assert forms.disclosure("r1", sent) == {
        "risk_id": "r1", "recipients": [{"kind": "guardian", "who": "王芳"}], "what": "风险",
        "why": "4.1", "disclosed_at": "2026-11-30T18:30:00+08:00"}
    # Shown again as typed, without its zone.
    assert forms.values(forms.DISCLOSURE, sent)["disclosed_at"] == "2026-11-30T18:30"


def test_a_disclosure_without_a_recipient_or_with_a_bad_time_is_left_for_the_service_to_refuse():
    sent = MultiDict({"disclosed_at": "yesterday evening"})
    assert forms.disclosure("r1", sent) == {"risk_id": "r1", "recipients": [],
                                            "disclosed_at": "yesterday evening"}


def test_the_reasons_about_the_recipient_are_placed_beside_its_two_fields():
    nested = {"errors": {"recipients": {"0": {"kind": ["a"], "who": ["b"]}}, "why": ["c"]}}
    assert forms.disclosure_problem(nested)["errors"] == {
        "recipient_kind": ["a"], "recipient_who": ["b"], "why": ["c"]}
    missing = {"errors": {"recipients": ["Shorter than minimum length 1."]}}
    assert forms.disclosure_problem(missing)["errors"] == {
        "recipient_who": ["Shorter than minimum length 1."]}


def test_a_declined_intake_carries_its_referral_or_none_for_the_service_to_refuse():
    sent = MultiDict({"reason_code": "beyond_scope", "declined_on": "2026-12-01",
                      "referral": "mental_health", "referral_note": "同意转介"})
    assert forms.decline(sent) == {
        "reason_code": "beyond_scope", "declined_on": "2026-12-01",
        "referral": {"agency_kind": "mental_health", "note": "同意转介"}}
    assert forms.decline(MultiDict({"reason_code": "other"}))["referral"] is None


def test_the_closing_schedules_its_follow_up_when_a_date_is_given():
    closing = forms.STEP_BY_NAME["closing"]
    sent = MultiDict({"reason": "goals_met", "closed_on": "2026-12-01",
                      "follow_up": "2027-01-15"})
    assert forms.command(closing, sent)["follow_up"] == {"due_on": "2027-01-15"}
    assert "follow_up" not in forms.command(closing, MultiDict({"reason": "goals_met"}))


def test_a_revision_starts_from_the_current_plan_and_sends_its_goals_as_objects():
    plan = {"parts": {"goals": [{"goal": "少发脾气", "baseline": 4}, {"goal": "每周见老师"}],
                      "content": "个案辅导", "methods": ["个案工作", "家庭联系"],
                      "action_steps": ["建立关系"], "schedule": "八周",
                      "evaluation_participants": ["服务对象"], "evaluation_methods": ["GAS"]}}
    shown = forms.current_plan(plan)
    assert shown["goals"] == "少发脾气\n每周见老师" and shown["methods"] == "个案工作\n家庭联系"
    assert shown["content"] == "个案辅导" and shown["revised_on"]
    sent = MultiDict({**{name: value for name, value in shown.items() if value},
                      "goals": "少发脾气\n写情绪日记", "reason": "风险升高"})
    body = forms.revision(sent)
    assert body["goals"] == [{"goal": "少发脾气"}, {"goal": "写情绪日记"}]
    assert body["methods"] == ["个案工作", "家庭联系"] and body["reason"] == "风险升高"


class Coming:
    """The cases service's answer to the follow-ups coming due, as asked."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    def get(self, path: str, **query: Any) -> Any:
        assert path == "/follow-ups", path
        self.asked.append(query)
        return {"items": [{"follow_up_id": "f-1", "case_id": "6f0d7c1e-2b8a-4c55-9a43-0c9a7f3e5b21",
                           "social_worker_id": "worker-1", "due_on": "2026-12-05",
                           "days_left": 0}], "total": 1, "limit": query["limit"], "next": "f-1"}


def test_the_follow_ups_coming_due_are_asked_for_a_week_a_month_or_a_term_ahead():
    service = Coming()
    for asked in ("within=7", "within=90", "within=1000", "within=soon", ""):
        follow_ups_coming(visit_of(service, "zh_CN", WORKER, query=asked))
    assert [query["due_within_days"] for query in service.asked] == [7, 90, 30, 30, 30]
    page = follow_ups_coming(visit_of(service, "zh_CN", WORKER, query="within=7")).get_data(
        as_text=True)
    assert 'href="/cases/6f0d7c1e-2b8a-4c55-9a43-0c9a7f3e5b21/follow-ups/f-1"' in page
    assert "今日到期" in page
    assert 'href="/follow-ups/coming?within=7&amp;after=f-1"' in page  # the next page, as far


def test_a_related_party_is_named_as_one_of_the_client_s_ecosystem():
    # "peer" is a classmate here (4.6), where elsewhere it is a peer's evaluation (10.2.3).
    zh = Localized("zh_CN")
    assert [zh.label(kind, "kind") for kind in RELATED_PARTY_KINDS] == [
        "家庭成员", "教师", "同伴", "机构", "其他"]
    assert zh.label("peer") != zh.label("peer", "kind")
