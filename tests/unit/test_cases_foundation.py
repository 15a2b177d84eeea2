"""Opening, logging and closing a case on the application, with the store in memory."""

from datetime import date

import pytest

from contracts.envelope import GENESIS_HASH
from contracts.errors import Conflict, InvalidInput, NotAllowed
from services.cases.app import CasesApplication
from services.cases.publish import PUBLICATIONS
from services.cases.schemas import OpenCase
from services.runtime.context import Actor, acting_as
from services.runtime.service import load

WORKER = Actor("worker-1", "social_worker", "JD001")
OTHER_WORKER = Actor("worker-2", "social_worker", "JD001")


@pytest.fixture
def app():
    return CasesApplication(env={"SQLITE_DBNAME": ":memory:"})


def open_case(app, actor=WORKER):
    with acting_as(actor):
        return app.open_case(
            client_id="client-1",
            client_type="student",
            social_worker_id=actor.id,
            service_codes=["7.1.3a"],
            opened_on=date(2026, 9, 1),
        )


def test_a_case_is_opened_worked_and_closed_and_every_step_is_published(app):
    case_id = open_case(app)
    with acting_as(WORKER):
        app.log_intervention(
            case_id, form="direct", method="case_work", service_codes=["7.1.3a"],
            delivered_on=date(2026, 9, 2), duration_minutes=45, participant_count=1,
            notes="First session.",
        )
        app.close_case(case_id, reason="goals_met", closed_on=date(2026, 10, 1), summary="")
        assert app.get_case(case_id)["status"] == "closed"

    envelopes = list(
        PUBLICATIONS.envelopes(app.mapper, app.notifications_after(0, 10), 0, GENESIS_HASH)
    )
    assert [e["type"] for e in envelopes] == ["CaseOpened", "InterventionLogged", "CaseClosed"]
    assert envelopes[2]["payload"]["intervention_count"] == 1
    # Free text never leaves the store.
    assert "First session." not in str(envelopes)


def test_a_closed_case_refuses_interventions_and_nothing_changes(app):
    case_id = open_case(app)
    with acting_as(WORKER):
        app.close_case(case_id, reason="goals_met", closed_on=date(2026, 10, 1), summary="")
        version = app.get_case(case_id)["version"]
        with pytest.raises(Conflict) as error:
            app.log_intervention(
                case_id, form="direct", method="case_work", service_codes=["7.1.3a"],
                delivered_on=date(2026, 10, 2), duration_minutes=30, participant_count=1, notes="",
            )
        assert error.value.code == "wrong_state"
        assert app.get_case(case_id)["version"] == version


def test_another_workers_case_is_not_theirs_to_read(app):
    case_id = open_case(app)
    with acting_as(OTHER_WORKER), pytest.raises(NotAllowed):
        app.get_case(case_id)


@pytest.mark.parametrize(
    ("payload", "field", "rule"),
    [
        ({}, "client_id", "Missing data for required field."),
        ({"opened_on": 20260901}, "opened_on", "Not a valid date."),
        ({"service_codes": ["9.9"]}, "service_codes", "Unknown service code '9.9'"),
        ({"client_type": "pupil"}, "client_type", "Must be one of"),
    ],
)
def test_bad_input_names_the_field_and_rule(payload, field, rule):
    good = {"client_id": "c", "client_type": "student", "social_worker_id": "w",
            "service_codes": ["7.1.3a"], "opened_on": "2026-09-01"}
    data = {**good, **payload} if payload else {k: v for k, v in good.items() if k != "client_id"}
    with pytest.raises(InvalidInput) as error:
        load(OpenCase, data)
    assert field in error.value.errors
    assert field in error.value.detail and rule in error.value.detail
