"""Every cell of docs/permissions.md, through HTTP against the running services: 403 exactly
where the matrix says so, and never 401 or 5xx for a valid token."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.integration.gateway.conftest import Api

pytestmark = pytest.mark.integration

MATRIX = Path(__file__).resolve().parents[3] / "docs" / "permissions.md"
ACTORS = {
    "social_worker": {"id": "worker-1", "role": "social_worker", "school_id": "JD001"},
    "supervisor": {"id": "supervisor-1", "role": "supervisor", "school_id": "JD001"},
    "archivist": {"id": "archivist-1", "role": "archivist", "school_id": "JD001"},
    "school_admin": {"id": "admin-1", "role": "school_admin", "school_id": "JD001"},
    "auditor": {"id": "auditor-1", "role": "auditor", "school_id": None},
    "integrator": {"id": "integrator-1", "role": "integrator", "school_id": None},
    "operator": {"id": "operator-1", "role": "operator", "school_id": None},
}
STUDENT = {"client_id": "client-m", "client_type": "student", "name": "李四",
           "date_of_birth": "2013-05-01", "grade": 7,
           "guardians": [{"name": "李母", "relation": "mother", "contact": "139-0000-0000"}]}
OPENING = {"client_id": "client-m", "social_worker_id": "worker-1", "service_codes": ["7.1.3a"],
           "opened_on": "2026-09-01", "intake": {"worker_introduced": True,
                                                 "respect_and_empathy": True,
                                                 "initial_information": "Sad in class."}}
# Each row of the matrix: the request that exercises it ({case_id} is a case of worker-1).
REQUESTS: dict[str, dict[str, Any]] = {
    "POST /clients": {"json": {**STUDENT, "client_id": "client-{n}"}},
    "GET /clients/{client_id}": {"path": "/clients/client-m"},
    "POST /cases": {"json": OPENING},
    "GET /cases": {},
    "GET /cases/{case_id}": {},
    "GET /cases/{case_id}/timeline": {},
    "POST /cases/{case_id}/interventions": {"json": {
        "form": "direct", "method": "case_work", "service_codes": ["7.1.3a"],
        "delivered_on": "2026-09-02", "duration_minutes": 30}},
    "POST /cases/{case_id}/risks": {"json": {
        "risk_type": "self_harm", "level": "low", "raised_on": "2026-09-02"}},
    "GET /cases/overdue": {},
    "GET /events/{service}": {"path": "/events/cases"},
    "GET /services/{service}/status": {"path": "/services/cases/status"},
    "GET /ledger/{source}/head": {"path": "/ledger/cases/head"},
    "POST /ledger/verifications": {"json": {"against_stores": False}},
    "GET /files": {},
    "POST /providers": {"json": {"provider_kind": "organisation", "sector": "community",
                                 "name": "Youth centre", "registered_on": "2026-09-01"}},
    "GET /providers": {},
    "GET /volunteers": {},
    "GET /resource-links": {},
    "POST /schools": {"json": {"school_id": "JD00{n}", "name": "No. {n} School",
                               "district": "JD", "service_mode": "resident"}},
    "GET /schools/{school_id}/social-workers": {"path": "/schools/JD001/social-workers"},
    "GET /schools/{school_id}/compliance-report": {
        "path": "/schools/JD001/compliance-report",
        "params": {"period_from": "2026-09-01", "period_to": "2026-12-31"}},
}


def matrix() -> tuple[list[str], dict[str, dict[str, bool]]]:
    """The table of docs/permissions.md: route → role → allowed."""
    lines = [line for line in MATRIX.read_text().splitlines()
             if re.match(r"^\| `(GET|POST|PUT|PATCH|DELETE) ", line)]
    header = next(line for line in MATRIX.read_text().splitlines() if line.startswith("| route"))
    roles = [cell.strip() for cell in header.strip("|").split("|")[1:]]
    table = {}
    for line in lines:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        route = re.sub(r"`", "", cells[0])
        table[route] = {role: cell == "✓" for role, cell in zip(roles, cells[1:], strict=True)}
    return roles, table


def test_every_cell_of_the_permission_matrix(api: Api) -> None:
    roles, table = matrix()
    assert set(roles) == set(ACTORS)
    assert set(table) == set(REQUESTS), "every matrix row needs a request here, and back"
    worker = api.as_(ACTORS["social_worker"])
    assert worker.post("/clients", json=STUDENT).status_code == 201
    case_id = worker.post("/cases", json=OPENING).json()["case_id"]
    wrong = []
    for number, (route, allowed) in enumerate(table.items()):
        method, path = route.split(" ", 1)
        recipe = REQUESTS[route]
        url = recipe.get("path", path).replace("{case_id}", case_id)
        for role, may in allowed.items():
            n = f"{number}{roles.index(role)}"
            body = recipe.get("json")
            if body is not None:
                body = {k: v.replace("{n}", n) if isinstance(v, str) else v
                        for k, v in body.items()}
            response = api.as_(ACTORS[role]).request(method, url, json=body,
                                                     params=recipe.get("params"))
            refused = response.status_code == 403
            if refused == may or response.status_code == 401 or response.status_code >= 500:
                wrong.append(f"{route} as {role}: {response.status_code} {response.text[:160]}")
    assert not wrong, "cells that differ from docs/permissions.md:\n" + "\n".join(wrong)
