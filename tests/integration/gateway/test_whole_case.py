"""A whole case through HTTP only: a social worker walks it through 8.3, then a supervisor and
an auditor read what they may, with retries made safe by Idempotency-Key."""

from __future__ import annotations

import pytest

from services.runtime.cli.journeys import PLAN, QUALIFIED
from tests.integration.gateway.conftest import Api
from tests.support.services import AUDITOR, OPERATOR, SUPERVISOR, WORKER
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

SCHOOL_ADMIN = {"id": "admin-1", "role": "school_admin", "school_id": "JD001"}
CLIENT_ID = "5d1c2a4e-7b3f-4e8a-9c6d-0f1e2d3c4b5a"
STUDENT = {
    "client_id": CLIENT_ID,
    "client_type": "student",
    "name": "王小明",
    "date_of_birth": "2014-03-02",
    "grade": 6,
    "guardians": [{"name": "王芳", "relation": "mother", "contact": "138-0000-0000"}],
}
INTAKE = {
    "worker_introduced": True,
    "respect_and_empathy": True,
    "initial_information": "Fights in class; sleeps badly since the move.",
}


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def staff(api: Api) -> None:
    """The school, worker-1 and supervisor-1, who supervises worker-1 (6.2.2.1)."""
    operator = api.as_(OPERATOR)
    ok(operator.post("/schools", json={
        "school_id": "JD001", "name": "School JD001", "district": "JD",
        "service_mode": "resident", "facility_kinds": ["office", "case_room"]}), 201)
    ok(operator.post("/social-workers", json={
        "social_worker_id": "worker-1", "employment": "full_time", "school_ids": ["JD001"],
        **QUALIFIED}), 201)
    ok(operator.post("/supervisors", json={
        "supervisor_id": "supervisor-1", "employment": "full_time",
        "certificate_level": "intermediate", "years_of_practice": 5, "school_id": "JD001"}), 201)
    ok(operator.post("/social-workers/worker-1/supervisor", json={
        "supervisor_id": "supervisor-1"}))


def test_a_social_worker_runs_a_case_and_a_supervisor_and_an_auditor_read_it(api: Api) -> None:
    staff(api)
    worker = api.as_(WORKER)

    # Register the client and open the case, retrying the opening with the same key.
    assert ok(worker.post("/clients", json=STUDENT), 201) == {"client_id": CLIENT_ID}
    opening = {"client_id": CLIENT_ID, "social_worker_id": "worker-1",
               "service_codes": ["7.1.3a"], "opened_on": "2026-09-01", "intake": INTAKE}
    first = worker.post("/cases", json=opening, headers={"Idempotency-Key": "open-1"})
    case_id = ok(first, 201)["case_id"]
    retry = worker.post("/cases", json=opening, headers={"Idempotency-Key": "open-1"})
    assert ok(retry, 201) == {"case_id": case_id}
    assert retry.headers["Idempotent-Replayed"] == "true"

    # The same key with another body is refused, and opens nothing.
    other = worker.post("/cases", json={**opening, "opened_on": "2026-09-02"},
                        headers={"Idempotency-Key": "open-1"})
    assert ok(other, 409)["code"] == "idempotency_key_reused"
    assert ok(worker.get("/cases"))["total"] == 1

    # Intake, consents, assessment, plan (8.3.1 to 8.3.3).
    case = f"/cases/{case_id}"
    ok(worker.post(f"{case}/intake/acceptance", json={"accepted_on": "2026-09-01"}))
    for party in ("client", "guardian"):
        ok(worker.post(f"{case}/consents", json={"party": party, "given_on": "2026-09-01"}), 201)
    ok(worker.post(f"{case}/assessments", json={
        "assessed_on": "2026-09-04", "environment": "Lives with mother; new school this term.",
        "problems": ["anger in class"], "causes": ["family move"],
        "priorities": ["anger first"], "strengths": ["likes football"],
    }), 201)

    # A plan missing its parts is refused with the parts named, and changes nothing.
    refused = worker.post(f"{case}/plan", json={"adopted_on": "2026-09-06", "goals": []})
    assert refused.status_code == 400
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert "content" in refused.json()["errors"]
    assert ok(worker.get(case))["status"] == ok(worker.get(case))["status"]
    before = ok(worker.get(case))
    ok(worker.post(f"{case}/plan", json={"adopted_on": "2026-09-06", **PLAN}), 201)
    assert ok(worker.get(case))["version"] == before["version"] + 1

    # Interventions, both evaluations, closing (8.3.4 to 8.3.6).
    for day in ("2026-09-07", "2026-09-14"):
        ok(worker.post(f"{case}/interventions", json={
            "form": "direct", "method": "case_work", "service_codes": ["7.1.3a", "7.1.4c"],
            "delivered_on": day, "duration_minutes": 45, "notes": "Calming skills.",
        }), 201)
    ok(worker.post(f"{case}/evaluations", json={
        "kind": "process", "evaluated_on": "2026-09-20", "progress": "On schedule.",
        "worker_performance": "As planned.", "reflection": "Involve the teacher earlier.",
    }), 201)
    ok(worker.post(f"{case}/evaluations", json={
        "kind": "outcome", "evaluated_on": "2026-09-20", "client_change": "Stays in class.",
        "goals": [{"goal_number": 1, "baseline": 4, "measure": 1, "attainment": 1},
                  {"goal_number": 2, "attainment": 0}],
        "satisfaction": 4,
    }), 201)
    ok(worker.post(f"{case}/closing", json={
        "reason": "goals_met", "closed_on": "2026-09-21", "timing_agreed": True,
        "service_reviewed": True, "relationship_ended": True,
    }))

    # The closed case is archived: the supervisor reads it under a grant that an archivist
    # school admin approves (9.4d, two-person rule), and the archive logs the read.
    supervisor = api.as_(SUPERVISOR)
    wait_for(lambda: supervisor.get(f"{case}/timeline").ok,
             what="cases to learn that supervisor-1 supervises worker-1")
    assert ok(supervisor.get(case), 403)["code"] == "grant_required"
    archived = wait_for(lambda: (r := supervisor.get(f"/records/cases/{case_id}/file")).ok and r,
                        what="the archive to file the closed case")
    file_id = archived.json()["file_id"]
    request_id = ok(supervisor.post(f"/files/{file_id}/access-requests", json={
        "purpose": "supervision review", "duration_hours": 24}), 201)["request_id"]
    ok(api.as_(SCHOOL_ADMIN).post(f"/access-requests/{request_id}/approval", json={}))
    read = ok(supervisor.get(case, params={"purpose": "supervision review"}))
    assert read["case_id"] == case_id
    assert read["status"] == "closed"
    assert len(ok(supervisor.get(f"{case}/timeline"))["steps"]) >= 10

    # The auditor may not read the case's personal content, but reads the published history.
    auditor = api.as_(AUDITOR)
    assert ok(auditor.get(case), 403)["code"] in ("not_allowed", "grant_required")
    feed = wait_for(lambda: (page := ok(auditor.get("/events/cases")))["items"] and page,
                    what="the cases event feed")
    mine = [e for e in feed["items"] if e["aggregate_id"] == case_id]
    assert [e["type"] for e in mine][:1] == ["CaseOpened"]
    assert mine[-1]["type"] == "CaseClosed"
    assert all("王" not in str(e["payload"]) for e in feed["items"])
    wait_for(lambda: ok(auditor.get("/ledger/cases/head"))["position"]
             == feed["items"][-1]["position"], what="the archive to record the cases chain")
    verified = ok(auditor.post("/ledger/verifications", json={}), 201)
    assert verified["ok"] is True
    # Kept: read again, as it was answered.
    assert ok(auditor.get(f"/ledger/verifications/{verified['verification_id']}")) == verified
