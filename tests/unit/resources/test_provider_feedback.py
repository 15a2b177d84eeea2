"""Provider feedback (9.3c): per provider and period, how many clients its resources served,
how much was delivered and with what outcomes; never who."""

from datetime import date

import pytest

from contracts.errors import InvalidInput, NotAllowed, NotFound
from services.resources import schemas
from services.runtime.context import Actor, acting_as
from services.runtime.service import load
from tests.unit.resources.support import (
    AUDITOR,
    OTHER_SCHOOL,
    SCHOOL,
    SUPERVISOR,
    WORKER,
    published,
    register_provider,
    register_resource,
)

SEPTEMBER_TO_OCTOBER = (date(2026, 9, 1), date(2026, 10, 31))


def link_through(app, cases, resource_id, case_id, quantity=1, delivered_on=None,
                 usage=None, decline=False, kind="tutoring"):
    """Walk one request as far as asked: offer, then decline or accept, deliver, use."""
    request_id = cases.request(kind=kind, quantity=quantity, case_id=case_id)
    with acting_as(WORKER):
        app.offer_resource(request_id, resource_id, None)
        if decline:
            app.decline_resource_link(request_id, "client_refused", date(2026, 9, 16))
            return
        app.accept_resource_link(request_id, date(2026, 9, 16))
        if delivered_on:
            app.record_delivery(request_id, delivered_on, None)
        if usage:
            outcome, units = usage
            app.record_usage(request_id, units, outcome, delivered_on)


@pytest.fixture
def seeded(app, cases):
    """Provider P with tutoring (R1) and financial aid (R2); provider Q with tutoring (R3)."""
    p = register_provider(app, name="Sunrise Foundation")
    q = register_provider(app, name="Moon Tutors")
    r1 = register_resource(app, p, kind="tutoring", capacity=10)
    r2 = register_resource(app, p, kind="financial_aid", capacity=10)
    r3 = register_resource(app, q, kind="tutoring", capacity=10)
    # In the period: case A twice (R1, R2), case B once (R1).
    link_through(app, cases, r1, "case-A", 2, date(2026, 9, 20), ("need_met", 2))
    link_through(app, cases, r1, "case-B", 1, date(2026, 9, 25), ("partly_met", 1))
    link_through(app, cases, r2, "case-A", 1, date(2026, 10, 5), kind="financial_aid")
    # Not counted: delivered after the period, not delivered, declined, another provider's.
    link_through(app, cases, r2, "case-C", 3, date(2026, 11, 10), ("need_met", 3),
                 kind="financial_aid")
    link_through(app, cases, r1, "case-D", 1)
    link_through(app, cases, r1, "case-F", 1, decline=True)
    link_through(app, cases, r3, "case-E", 1, date(2026, 9, 21), ("not_met", 0))
    return {"p": p, "q": q, "r1": r1, "r2": r2, "r3": r3}


def no_outcomes(**counts):
    return {"need_met": 0, "partly_met": 0, "not_met": 0, "not_used": 0, "not_recorded": 0,
            **counts}


def test_feedback_on_seeded_data_has_the_expected_figures_and_no_one_in_it(app, seeded):
    with acting_as(SUPERVISOR):
        issued = app.issue_provider_feedback(seeded["p"], *SEPTEMBER_TO_OCTOBER)
    figures = issued["figures"]
    r1 = {"resource_id": seeded["r1"], "kind": "tutoring", "clients_served": 2,
          "deliveries": 2, "units_delivered": 3, "units_used": 3,
          "outcomes": no_outcomes(need_met=1, partly_met=1)}
    r2 = {"resource_id": seeded["r2"], "kind": "financial_aid", "clients_served": 1,
          "deliveries": 1, "units_delivered": 1, "units_used": 0,
          "outcomes": no_outcomes(not_recorded=1)}
    assert figures == {
        "provider_id": seeded["p"], "school_id": SCHOOL,
        "period_from": "2026-09-01", "period_to": "2026-10-31",
        "clients_served": 2, "deliveries": 3, "units_delivered": 4, "units_used": 3,
        "outcomes": no_outcomes(need_met=1, partly_met=1, not_recorded=1),
        "resources": sorted([r1, r2], key=lambda row: row["resource_id"]),
    }
    rows = {seeded["r1"]: "tutoring,2,2,3,3,1,1,0,0,0",
            seeded["r2"]: "financial_aid,1,1,1,0,0,0,0,0,1"}
    prefix = f"{seeded['p']},{SCHOOL},2026-09-01,2026-10-31"
    assert issued["csv"] == (
        "provider_id,school_id,period_from,period_to,resource_id,kind,clients_served,"
        "deliveries,units_delivered,units_used,need_met,partly_met,not_met,not_used,"
        "not_recorded\n"
        + "".join(f"{prefix},{rid},{rows[rid]}\n" for rid in sorted(rows))
        + f"{prefix},all,,2,3,4,3,1,1,0,0,1\n"
    )
    # Clients are counted, never named or identified; nor are the provider's people.
    for secret in ("case-A", "case-B", "Li Hua", "13800000000"):
        assert secret not in str(issued)
    envelope = published(app)[-1]
    assert envelope["type"] == "ProviderFeedbackIssued"
    assert envelope["payload"] == {
        "feedback_id": issued["feedback_id"], "provider_id": seeded["p"],
        "period_from": "2026-09-01", "period_to": "2026-10-31", "clients_served": 2,
        "deliveries": 3, "units_delivered": 4,
        "outcomes": no_outcomes(need_met=1, partly_met=1, not_recorded=1),
    }


def test_the_preview_issues_nothing_and_auditors_may_read_but_not_issue(app, seeded):
    before = app.max_position()
    with acting_as(AUDITOR):
        preview = app.provider_feedback(seeded["q"], *SEPTEMBER_TO_OCTOBER)
        with pytest.raises(NotAllowed):
            app.issue_provider_feedback(seeded["q"], *SEPTEMBER_TO_OCTOBER)
    assert app.max_position() == before
    # The auditor has no school: the figures cover every school.
    assert preview["figures"]["school_id"] is None
    assert preview["figures"]["outcomes"] == no_outcomes(not_met=1)
    assert preview["csv"].splitlines()[-1].endswith(",all,,1,1,1,0,0,0,1,0,0")


def test_feedback_for_an_unknown_provider_is_refused(app):
    with acting_as(SUPERVISOR), pytest.raises(NotFound):
        app.issue_provider_feedback("00000000-0000-0000-0000-000000000000",
                                    *SEPTEMBER_TO_OCTOBER)
    assert app.max_position() == 0


def test_a_period_that_ends_before_it_starts_is_refused_naming_the_field():
    with pytest.raises(InvalidInput) as refused:
        load(schemas.ProviderFeedback, {
            "provider_id": "00000000-0000-0000-0000-000000000001",
            "period_from": "2026-10-01", "period_to": "2026-09-30",
        })
    assert "period_to: Must not be before period_from." in refused.value.detail


def test_the_feedback_issued_is_listed_as_issued_by_provider_within_the_school(app, seeded):
    with acting_as(SUPERVISOR):
        first = app.issue_provider_feedback(seeded["p"], *SEPTEMBER_TO_OCTOBER)
        second = app.issue_provider_feedback(seeded["q"], date(2026, 9, 1), date(2026, 9, 30))
        listed = app.list_issued_feedback()
        of_p = app.list_issued_feedback(provider_id=seeded["p"])
    with acting_as(WORKER), pytest.raises(NotAllowed):
        app.list_issued_feedback()  # 9.3c: the supervisor and the school admin issue it
    with acting_as(AUDITOR):
        audited = app.list_issued_feedback()
    with acting_as(Actor("supervisor-9", "supervisor", OTHER_SCHOOL)):
        elsewhere = app.list_issued_feedback()
        with pytest.raises(NotAllowed):  # a provider that does not serve JD002
            app.list_issued_feedback(provider_id=seeded["p"])
    assert elsewhere["total"] == 0
    assert [item["feedback_id"] for item in listed["items"]] == sorted(
        [first["feedback_id"], second["feedback_id"]])  # issued the same day: by id
    (only,) = of_p["items"]
    assert only == {"feedback_id": first["feedback_id"], "provider_id": seeded["p"],
                    "school_id": SCHOOL, "period_from": "2026-09-01",
                    "period_to": "2026-10-31", "issued_on": only["issued_on"],
                    "figures": first["figures"]}
    assert audited["total"] == 2
