"""The cases service through RPC on a real broker: each scenario of issue 3, from the command to
the contract events the relay publishes."""

import uuid
from typing import Any, ClassVar

import eventlet
import pytest

from contracts.errors import InvalidInput, Unavailable
from services.cases import service as cases_service
from services.cases.service import CasesService
from services.runtime.entrypoints import rpc as rpc_entrypoint
from tests.support.scenarios import drive_case, events_per_case, register_student
from tests.support.services import SUPERVISOR, WORKER, rpc, running
from tests.support.waiting import wait_for


class FakeArchive:
    """Stands in for the archive: grants every read of a closed case and remembers it."""

    name = "archive"
    reads: ClassVar[list[dict[str, Any]]] = []

    @rpc_entrypoint
    def authorize_read(self, data: dict[str, Any]) -> dict[str, Any]:
        FakeArchive.reads.append(data)
        return {"grant_id": f"grant-{len(FakeArchive.reads)}"}

    @rpc_entrypoint
    def events_since(self, position: int, limit: int = 100) -> list[dict[str, Any]]:
        return []


class SilentArchive:
    """An archive whose answer never comes back (as when the broker restarts between its reply
    and the reply queue)."""

    name = "archive"

    @rpc_entrypoint
    def authorize_read(self, data: dict[str, Any]) -> dict[str, Any]:
        eventlet.sleep(3)  # past the 1 s the test gives the cases service to wait
        return {"grant_id": "too-late"}

    @rpc_entrypoint
    def events_since(self, position: int, limit: int = 100) -> list[dict[str, Any]]:
        return []


def published(proxy: Any) -> list[dict[str, Any]]:
    """Every envelope the relay has published, once it has published all that is stored."""
    wait_for(lambda: proxy.cases.status()["published_position"]
             == proxy.cases.status()["stored_position"], what="the relay to publish")
    envelopes: list[dict[str, Any]] = proxy.cases.events_since(0, 1000)
    return envelopes


def types(proxy: Any) -> list[str]:
    return [envelope["type"] for envelope in published(proxy)]


def test_a_complete_case_from_intake_to_follow_up(amqp_uri):
    FakeArchive.reads.clear()
    with running(amqp_uri, CasesService, FakeArchive), rpc(amqp_uri, WORKER) as proxy:
        case_id = drive_case(proxy, "client-1")
        follow_up_id = proxy.cases.schedule_follow_up(
            {"case_id": case_id, "due_on": "2026-12-01"})["follow_up_id"]
        proxy.cases.record_follow_up({"case_id": case_id, "follow_up_id": follow_up_id,
                                      "done_on": "2026-12-01", "outcome": "stable"})
        assert types(proxy) == [
            "ClientRegistered", "CaseOpened", "IntakeCompleted", "ConsentRecorded",
            "ConsentRecorded", "AssessmentRecorded", "PlanAdopted", "InterventionLogged",
            "InterventionLogged", "EvaluationRecorded", "EvaluationRecorded", "CaseClosed",
            "FollowUpScheduled", "FollowUpRecorded",
        ]
        assert events_per_case() == 12
        # The closed case is read under an archive grant, and the archive hears of the read.
        case = proxy.cases.get_case({"case_id": case_id, "purpose": "follow-up review"})
        assert case["grant_id"] == "grant-1" and case["follow_ups"][0]["outcome"] == "stable"
        assert FakeArchive.reads == [{"source": "cases", "aggregate_id": case_id,
                                      "purpose": "follow-up review"}]
        assert "王小明" not in str(published(proxy))


def test_a_read_that_waits_on_a_silent_archive_is_answered_unavailable_not_left_hanging(
        amqp_uri, monkeypatch):
    monkeypatch.setattr(cases_service, "ARCHIVE_ANSWER_SECONDS", 1)
    with running(amqp_uri, CasesService, SilentArchive), rpc(amqp_uri, WORKER) as proxy:
        case_id = drive_case(proxy, "client-1")
        # More reads than the service has workers: none of them keeps its worker.
        for _ in range(12):
            with pytest.raises(Unavailable, match="did not answer in time"):
                proxy.cases.get_case({"case_id": case_id, "purpose": "review"})
        assert proxy.cases.status()["stored_position"] > 0


def test_a_declined_intake_with_a_referral(amqp_uri):
    with running(amqp_uri, CasesService), rpc(amqp_uri, WORKER) as proxy:
        client = register_student(proxy, "client-1")
        case_id = proxy.cases.open_case({"client_id": client, "social_worker_id": "worker-1",
                                         "service_codes": ["7.1.4b"],
                                         "opened_on": "2026-09-01"})["case_id"]
        referral_id = proxy.cases.decline_intake(
            {"case_id": case_id, "reason_code": "beyond_scope", "declined_on": "2026-09-02",
             "explanation": "Needs specialist care.",
             "referral": {"agency_kind": "mental_health"}})["referral_id"]
        declined, referral = published(proxy)[-2:]
        assert (declined["type"], referral["type"]) == ("IntakeDeclined", "ReferralMade")
        assert declined["payload"]["referral_id"] == referral_id
        assert proxy.cases.get_case({"case_id": case_id})["status"] == "declined"


def test_an_emergency_intake_escalates_a_risk_at_once(amqp_uri):
    with running(amqp_uri, CasesService), rpc(amqp_uri, WORKER) as proxy:
        client = register_student(proxy, "client-1")
        proxy.cases.open_case({
            "client_id": client, "social_worker_id": "worker-1",
            "service_codes": ["7.1.4a"], "opened_on": "2026-09-01",
            "intake": {"emergency": {"risk_type": "violence"}}})
        escalated = published(proxy)[-1]
        assert escalated["type"] == "RiskEscalated"
        assert escalated["payload"]["level"] == "critical"
        assert escalated["payload"]["life_safety"] is True


def test_a_group_with_sessions(amqp_uri):
    with running(amqp_uri, CasesService), rpc(amqp_uri, WORKER) as proxy:
        client = register_student(proxy, "client-1")
        group_id = proxy.cases.form_group({
            "kind": "social_skills", "purpose": "Making friends", "service_codes": ["7.1.2a"],
            "social_worker_id": "worker-1", "planned_sessions": 4,
            "formed_on": "2026-09-01"})["group_id"]
        proxy.cases.add_group_member({"group_id": group_id, "client_id": client,
                                      "joined_on": "2026-09-01"})
        for day in ("2026-09-08", "2026-09-15"):
            proxy.cases.hold_group_session({"group_id": group_id, "held_on": day,
                                            "attended": [client], "notes": "Good."})
        proxy.cases.evaluate_group({"group_id": group_id, "evaluated_on": "2026-09-16",
                                    "goal_attainment": [1]})
        proxy.cases.close_group({"group_id": group_id, "closed_on": "2026-09-17"})
        # Every step is on the trail: the evaluation as an audit record, without its notes.
        assert types(proxy)[1:] == ["GroupFormed", "GroupMemberAdded", "GroupSessionHeld",
                                    "GroupSessionHeld", "AuditRecorded", "GroupClosed"]
        assert proxy.cases.get_group({"group_id": group_id})["status"] == "closed"


def test_a_letter_answered(amqp_uri):
    with running(amqp_uri, CasesService), rpc(amqp_uri, WORKER) as proxy:
        letter_id = proxy.cases.receive_letter({"received_on": "2026-09-01", "anonymous": True,
                                                "content": "我很孤单。"})["letter_id"]
        proxy.cases.answer_letter({"letter_id": letter_id, "answered_on": "2026-09-03",
                                   "reply": "你并不孤单……"})
        answered = published(proxy)[-1]
        assert answered["type"] == "LetterAnswered"
        assert answered["payload"]["days_to_answer"] == 2
        assert proxy.cases.get_letter({"letter_id": letter_id})["content"] == "我很孤单。"


def test_a_class_held(amqp_uri):
    with running(amqp_uri, CasesService), rpc(amqp_uri, SUPERVISOR) as proxy:
        proxy.cases.hold_class({"theme": "adolescence_education", "topic": "Growing up",
                                "service_codes": ["7.1.4d"], "held_on": "2026-09-09",
                                "attendance": 40, "grade": 7})
        held = published(proxy)[-1]
        assert held["type"] == "ClassHeld" and held["payload"]["attendance"] == 40


def test_a_client_id_that_could_hold_a_name_is_refused_and_nothing_is_stored(amqp_uri):
    # A client's id travels on the bus to integrators and the ledger: Casebook makes it, or the
    # caller's own system does, as a UUID; never a name, never a student number.
    student = {"client_type": "student", "name": "李小红", "date_of_birth": "2013-05-04",
               "grade": 7, "guardians": [{"name": "李强", "relation": "father"}]}
    with running(amqp_uri, CasesService), rpc(amqp_uri, WORKER) as proxy:
        stored = proxy.cases.status()["stored_position"]
        for chosen in ("li-xiaohong", "李小红", "G110105201305040012"):
            with pytest.raises(InvalidInput) as refused:
                proxy.cases.register_client({**student, "client_id": chosen})
            assert list(refused.value.errors) == ["client_id"]
            assert "client_id: Must be a UUID" in refused.value.detail
        assert proxy.cases.status()["stored_position"] == stored
        made = proxy.cases.register_client(student)["client_id"]
        assert str(uuid.UUID(made)) == made
