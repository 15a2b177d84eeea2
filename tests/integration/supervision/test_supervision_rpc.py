"""The supervision service through RPC on a real broker: staff and eligibility, the cases stream
consumed exactly once (also across a restart), escalations opened from cases' risks, and its
views rebuilt from the log."""

import pytest

from contracts.errors import InvalidInput, NotAllowed
from services.cases.service import CasesService
from services.supervision.service import SupervisionService
from tests.support.scenarios import drive_case
from tests.support.services import AUDITOR, OPERATOR, SUPERVISOR, WORKER, rpc, running
from tests.support.waiting import wait_for

ADMIN = {"id": "admin-1", "role": "school_admin", "school_id": "JD001"}
QUALIFIED = {"certificate_level": "assistant", "diploma_level": "bachelor",
             "diploma_in_social_work": True, "projects_led": 1, "ethics_commitment": True}


def published(proxy, type_):
    return [e["payload"] for e in proxy.supervision.events_since(0, 1000) if e["type"] == type_]


def caught_up(amqp_uri):
    """True once supervision's cursor on cases stands at what cases has published."""
    with rpc(amqp_uri) as proxy:
        cases_head = proxy.cases.status()["published_position"]
        cursor = proxy.supervision.status()["cursors"].get("cases", {}).get("position", 0)
        return cases_head > 0 and cursor == cases_head


def test_a_worker_is_registered_trained_and_published_eligible(amqp_uri):
    with running(amqp_uri, SupervisionService):
        with rpc(amqp_uri, OPERATOR) as proxy:
            proxy.supervision.register_school(
                {"school_id": "JD001", "name": "静安区第一中学", "district": "jingan",
                 "service_mode": "visiting", "facility_kinds": ["shared_service_space"]})
        with rpc(amqp_uri, ADMIN) as proxy:
            proxy.supervision.register_social_worker(
                {"social_worker_id": "worker-1", "employment": "full_time",
                 "school_ids": ["JD001"], "registered_on": "2026-01-10", **QUALIFIED})
            assert proxy.supervision.worker_eligibility({"social_worker_id": "worker-1"})[
                "reasons"] == ["no_pre_job_training"]
            proxy.supervision.record_training(
                {"social_worker_id": "worker-1", "kind": "pre_job", "minutes": 1440,
                 "topics": ["ethics"], "completed_on": "2026-01-12"})
            # Bad input names the field; a refused command arrives as its own type.
            with pytest.raises(InvalidInput) as error:
                proxy.supervision.record_training(
                    {"social_worker_id": "worker-1", "kind": "retreat", "minutes": 120,
                     "topics": ["ethics"], "completed_on": "2026-01-12"})
            assert "kind" in error.value.errors
        with rpc(amqp_uri, WORKER) as proxy, pytest.raises(NotAllowed):
            proxy.supervision.register_school(
                {"school_id": "JD002", "name": "x", "district": "y", "service_mode": "resident"})
        with rpc(amqp_uri, AUDITOR) as proxy:
            assert published(proxy, "SocialWorkerEligibilityChanged") == [
                {"social_worker_id": "worker-1", "eligible": False,
                 "reasons": ["no_pre_job_training"]},
                {"social_worker_id": "worker-1", "eligible": True, "reasons": []}]


def test_cases_events_are_consumed_exactly_once_also_after_a_restart(amqp_uri):
    with running(amqp_uri, CasesService):
        with running(amqp_uri, SupervisionService):
            with rpc(amqp_uri, OPERATOR) as proxy:
                proxy.supervision.register_school(
                    {"school_id": "JD001", "name": "静安区第一中学", "district": "jingan",
                     "service_mode": "resident", "facility_kinds": ["office"]})
                # supervisor-1 supervises worker-1: the escalations of worker-1's cases are
                # theirs to oversee (6.2.2.1).
                proxy.supervision.register_social_worker(
                    {"social_worker_id": "worker-1", "employment": "full_time",
                     "school_ids": ["JD001"], "registered_on": "2026-01-10", **QUALIFIED})
                proxy.supervision.register_supervisor(
                    {"supervisor_id": "supervisor-1", "employment": "full_time",
                     "certificate_level": "intermediate", "years_of_practice": 5,
                     "school_id": "JD001", "registered_on": "2026-01-10"})
                proxy.supervision.assign_supervisor(
                    {"social_worker_id": "worker-1", "supervisor_id": "supervisor-1"})
            with rpc(amqp_uri, WORKER) as proxy:
                case_id = drive_case(proxy, "client-1", close=False)
                proxy.cases.raise_risk({"case_id": case_id, "risk_type": "self_harm",
                                        "level": "critical", "raised_on": "2026-09-05"})
            wait_for(lambda: caught_up(amqp_uri), what="supervision to consume the cases stream")
        # Supervision is down while cases goes on.
        with rpc(amqp_uri, WORKER) as proxy:
            other_case = drive_case(proxy, "client-2", close=False)
            proxy.cases.raise_risk({"case_id": other_case, "risk_type": "bullying",
                                    "level": "low", "raised_on": "2026-09-06"})
        # Restarted, it catches up and every event had its effect once.
        with running(amqp_uri, SupervisionService):
            wait_for(lambda: caught_up(amqp_uri), what="supervision to catch up after restart")
            with rpc(amqp_uri, SUPERVISOR) as proxy:
                escalations = proxy.supervision.list_escalations({"school_id": "JD001"})["items"]
                assert sorted((e["case_id"], e["level"], e["role"]) for e in escalations) == \
                    sorted([(case_id, "critical", "supervisor"),
                            (other_case, "low", "social_worker")])
                assert len(published(proxy, "EscalationOpened")) == 2
                report = proxy.supervision.compliance_report(
                    {"school_id": "JD001", "period_from": "2026-09-01",
                     "period_to": "2026-12-31"})
                check = next(c for c in report["checks"]
                             if c["check"] == "shall_services_delivered")
                assert check["delivered_codes"] == ["7.1.3a", "7.1.4c"]
                # The supervisor takes charge of the critical one over RPC.
                critical = next(e for e in escalations if e["level"] == "critical")
                acknowledged = proxy.supervision.acknowledge_escalation(
                    {"escalation_id": critical["escalation_id"]})
                assert acknowledged["status"] == "acknowledged"
                trail = proxy.supervision.escalation_trail(
                    {"escalation_id": critical["escalation_id"]})
                assert [step["event"] for step in trail["trail"]] == ["Opened", "Acknowledged"]
            # `casebook rebuild --service supervision`: the views equal the log, table by table.
            with rpc(amqp_uri, AUDITOR) as proxy:
                rebuilt = proxy.supervision.rebuild()
            assert (rebuilt["equal"], rebuilt["differences"]) == (True, [])
            assert {"escalation", "finding", "social_worker"} <= set(rebuilt["tables"])
            assert not {"case_watch", "letter_watch", "delivery_code"} & set(rebuilt["tables"])
