"""Referrals to outside agencies (8.3.1e, 7.1.4b): made in a case, accepted by the agency,
completed with an outcome."""

from datetime import date

import pytest

from contracts.errors import Conflict, InvalidInput, NotAllowed
from services.runtime.context import acting_as
from tests.unit.resources.support import OTHER_WORKER, SUPERVISOR, WORKER, items, published


def referral(app, referral_id, actor=WORKER):
    with acting_as(actor):
        return app.get_referral(referral_id)


def test_a_referral_from_cases_is_accepted_and_completed_with_its_outcome(app, cases):
    referral_id = cases.refer(agency_kind="mental_health", agency_id="agency-3")
    assert referral(app, referral_id)["status"] == "made"
    with acting_as(WORKER):
        app.accept_referral(referral_id, date(2026, 9, 12))
        app.complete_referral(referral_id, "service_provided", date(2026, 11, 1))
    view = referral(app, referral_id)
    assert (view["status"], view["outcome"]) == ("completed", "service_provided")
    # The referral learned from cases is on the trail as what it is; then the two steps.
    envelopes = published(app)
    assert [e["type"] for e in envelopes] == ["AuditRecorded", "ReferralAccepted",
                                              "ReferralCompleted"]
    assert envelopes[0]["payload"]["event"] == "Made"
    envelopes = envelopes[1:]
    assert envelopes[1]["payload"] == {
        "referral_id": referral_id, "case_id": view["case_id"],
        "agency_kind": "mental_health", "agency_id": "agency-3",
        "outcome": "service_provided", "completed_on": "2026-11-01",
    }


def test_a_referral_the_agency_never_accepted_ends_only_as_declined_or_not_taken_up(app, cases):
    referral_id = cases.refer()
    before = referral(app, referral_id)
    with acting_as(WORKER), pytest.raises(Conflict) as refused:
        app.complete_referral(referral_id, "service_provided", date(2026, 9, 20))
    assert refused.value.code == "missing_step"
    assert referral(app, referral_id) == before
    with acting_as(WORKER):
        app.complete_referral(referral_id, "agency_declined", date(2026, 9, 20))
    assert referral(app, referral_id)["outcome"] == "agency_declined"


def test_an_accepted_referral_cannot_end_as_declined_by_the_agency(app, cases):
    referral_id = cases.refer()
    with acting_as(WORKER):
        app.accept_referral(referral_id, date(2026, 9, 11))
        before = app.get_referral(referral_id)
        with pytest.raises(InvalidInput) as refused:
            app.complete_referral(referral_id, "agency_declined", date(2026, 9, 20))
        assert "outcome" in refused.value.errors
        assert app.get_referral(referral_id) == before


def test_dates_before_the_referral_and_repeated_steps_are_refused(app, cases):
    referral_id = cases.refer(referred_on="2026-09-10")
    with acting_as(WORKER):
        with pytest.raises(InvalidInput) as refused:
            app.accept_referral(referral_id, date(2026, 9, 9))
        assert "accepted_on" in refused.value.errors
        app.accept_referral(referral_id, date(2026, 9, 10))
        with pytest.raises(Conflict) as refused:
            app.accept_referral(referral_id, date(2026, 9, 11))
        assert refused.value.code == "wrong_state"
        app.complete_referral(referral_id, "partly_provided", date(2026, 10, 1))
        with pytest.raises(Conflict):
            app.complete_referral(referral_id, "service_provided", date(2026, 10, 2))
        assert app.get_referral(referral_id)["outcome"] == "partly_provided"


def test_another_workers_referral_is_not_theirs_but_the_supervisor_sees_it(app, cases):
    referral_id = cases.refer()
    with acting_as(OTHER_WORKER), pytest.raises(NotAllowed):
        app.accept_referral(referral_id, date(2026, 9, 12))
    with acting_as(OTHER_WORKER):
        assert app.list_referrals()["items"] == []
    with acting_as(SUPERVISOR):
        assert items(app.list_referrals(), "referral_id") == [referral_id]
    assert referral(app, referral_id)["status"] == "made"
