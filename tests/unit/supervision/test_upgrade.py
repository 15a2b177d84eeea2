"""A store written before the learned tables and before whole minutes and thousandths: what the
retired watch and delivery records hold is copied into the learned tables once, however often
the service starts; old training and survey events load in the new units and keep the
envelopes they were published with; and every event class is declared for format 2."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from services.runtime.clock import clock
from services.runtime.context import SYSTEM, acting_as
from services.supervision.app import SupervisionApplication
from services.supervision.publish import PUBLICATIONS
from services.supervision.quality import CaseWatch, Delivery, LetterWatch
from tests.support.stores import as_before_formats
from tests.support.views import assert_views_match_the_log, undeclared
from tests.unit.supervision.support import (
    ADMIN,
    AUDITOR,
    SCHOOL,
    CasesStream,
    published,
    seed_school,
    seed_worker,
)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    clock.set(datetime(2026, 3, 1, 8, tzinfo=UTC))
    yield tmp_path / "supervision.sqlite"
    clock.reset()


def open_app(store: Path) -> SupervisionApplication:
    return SupervisionApplication(env={"SQLITE_DBNAME": str(store)})


def write_retired_records(app: SupervisionApplication) -> None:
    """What the old code path stored as it learned from the cases stream."""
    with acting_as(SYSTEM), as_before_formats():
        watch = CaseWatch(school_id=SCHOOL, case_id="case-1", social_worker_id="worker-1",
                          opened_on=date(2026, 2, 1))
        watch.intake_accepted(accepted_on=date(2026, 2, 2))
        watch.assessed(assessed_on=date(2026, 2, 5))
        watch.follow_up_scheduled(follow_up_id="fu-1", due_on=date(2026, 2, 20))
        letter = LetterWatch(school_id=SCHOOL, letter_id="letter-1",
                             received_on=date(2026, 2, 10))
        delivery = Delivery(school_id=SCHOOL, kind="class", item_id="class-1", case_id=None,
                            service_codes=["7.2.1a", "7.2.2b"], delivered_on=date(2026, 2, 11))
        app.save(watch, letter, delivery)


def learned(store: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(store) as connection:
        return {table: sorted(connection.execute(f"SELECT * FROM {table}").fetchall())
                for table in ("case_watch", "case_intervention", "follow_up_watch",
                              "letter_watch", "delivery_code", "retired_copied")}


def test_the_retired_records_fill_the_learned_tables_once(store):
    write_retired_records(open_app(store))
    app = open_app(store)
    copied = learned(store)
    assert [row[:4] for row in copied["case_watch"]] == [
        ("case-1", SCHOOL, "worker-1", "2026-02-01")]
    assert copied["follow_up_watch"] == [("fu-1", "case-1", "2026-02-20", None)]
    assert copied["letter_watch"] == [("letter-1", SCHOOL, "2026-02-10", None)]
    assert [row[2] for row in copied["delivery_code"]] == ["7.2.1a", "7.2.2b"]
    assert len(copied["retired_copied"]) == 3

    # The stream goes on from what was copied: the plan is late against the old assessment.
    stream = CasesStream(app)
    stream.emit("PlanAdopted", "case-1", case_id="case-1", plan_version=1, goal_count=1,
                adopted_on=date(2026, 2, 25), review_by=None)
    with acting_as(AUDITOR):
        [finding] = app.list_findings(SCHOOL)["items"]
    assert (finding["control_point"], finding["due_on"]) == ("plan_overdue", "2026-02-19")
    after_the_stream = learned(store)

    # Started again, twice: nothing is copied over what the stream learned since.
    open_app(store)
    again = open_app(store)
    assert learned(store) == after_the_stream
    assert again.views.case_facts("case-1").planned_on == date(2026, 2, 25)
    # The timer reads the copied letter and follow-up: both are overdue now.
    with acting_as(SYSTEM):
        assert len(again.raise_overdue_findings()) == 2
    assert_views_match_the_log(again)


def test_no_new_event_of_a_retired_record_is_made(store):
    app = open_app(store)
    seed_school(app)
    seed_worker(app)
    stream = CasesStream(app)
    stream.open_case("case-2", date(2026, 2, 27))
    stream.intervention("case-2", date(2026, 2, 28))
    stream.emit("LetterReceived", "letter-2", letter_id="letter-2", anonymous=True,
                received_on=date(2026, 2, 28), service_codes=[])
    topics = {n.topic for n in app.notifications_after(0, 1000)}
    assert not {t for t in topics if "Watch" in t or "Delivery" in t}
    assert app.views.case_facts("case-2").intervention_dates == [date(2026, 2, 28)]
    # A service delivered in a case supervision never saw opened still counts for §7.
    stream.intervention("case-unseen", date(2026, 2, 28), codes=("7.1.4c",))
    assert app.views.case_facts("case-unseen") is None
    assert app.views.delivered_codes(SCHOOL, date(2026, 2, 1), date(2026, 2, 28)) == [
        "7.1.3a", "7.1.4c"]


def version_1(store: Path, topic: str, new: str, old: str, value: float) -> None:
    """Rewrite the stored events of `topic` as version 1 of their class held them: `old`
    (a float) in place of `new`."""
    with sqlite3.connect(store) as connection:
        for rowid, state in connection.execute(
                "SELECT rowid, state FROM stored_events WHERE topic LIKE ?", (f"%{topic}",)):
            fields = json.loads(state)
            del fields["class_version"], fields[new]
            fields[old] = value
            connection.execute("UPDATE stored_events SET state = ? WHERE rowid = ?",
                               (json.dumps(fields).encode(), rowid))


def test_old_training_and_surveys_read_in_minutes_and_thousandths_keep_their_envelopes(store):
    app = open_app(store)
    seed_school(app)
    with as_before_formats():
        seed_worker(app)
    with acting_as(ADMIN), as_before_formats():
        app.record_satisfaction_survey(
            school_id=SCHOOL, respondent_kind="student", respondent_count=3,
            satisfied_count=2, mean_score_permille=4000, evaluator_type="third_party",
            period_from=date(2026, 1, 1), period_to=date(2026, 2, 1))
    # As the old code stored them: hours and a mean that no whole number of minutes or
    # thousandths gives back exactly.
    version_1(store, "SocialWorker.TrainingRecorded", "minutes", "hours", 40 / 3)
    version_1(store, "SatisfactionSurvey.Recorded", "mean_score_permille", "mean_score", 13 / 3)

    reopened = open_app(store)
    reopened.views.store.drop()
    reopened.views.store.create()
    reopened.follow()
    envelopes = {e["type"]: e for e in published(reopened)}
    assert (envelopes["TrainingRecorded"]["version"],
            envelopes["TrainingRecorded"]["payload"]["hours"]) == (1, 40 / 3)
    assert (envelopes["SatisfactionSurveyRecorded"]["version"],
            envelopes["SatisfactionSurveyRecorded"]["payload"]["mean_score"]) == (1, 13 / 3)
    with acting_as(AUDITOR):
        summary = reopened.evaluation_summary(SCHOOL)
        training = reopened.list_trainings(SCHOOL)["items"]
    assert summary["mean_score_permille"] == 4333
    assert [t["minutes"] for t in training] == [800]
    assert_views_match_the_log(reopened)


def test_every_event_class_reaches_the_audit_trail():
    assert undeclared(PUBLICATIONS, "services.supervision") == []
