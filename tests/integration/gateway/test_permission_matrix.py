"""Every cell of docs/permissions.md, through HTTP against the services running in this process
on real RabbitMQ. The tables are read from the document, so it cannot drift: a route of
`services/gateway/routes.py` without a row fails, and so does a row without a request here.

A cell `✓` passes when the role gets past authorisation and the request is valid for the world
it runs in: 2xx, or 409 where an earlier cell already did what this one asks. A cell `403`
passes on 403 with code `not_allowed` or `grant_required`; any other refusal (a domain rule such
as the two-person rule) would mean the request, not the role, was refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from _pytest.mark import ParameterSet
from nameko.runners import ServiceRunner

from services.gateway.routes import ROUTES
from tests.integration.gateway.conftest import SECRET, SERVICES, Api, free_port
from tests.integration.gateway.permission_requests import REQUESTS
from tests.integration.gateway.permission_world import ACTORS, ROLES, World
from tests.support.broker import Broker
from tests.support.services import config
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

MATRIX = Path(__file__).resolve().parents[3] / "docs" / "permissions.md"
ROW = re.compile(r"^\| `(GET|POST|PUT|PATCH|DELETE) (/\S*)` \|")
REFUSAL_CODES = ("not_allowed", "grant_required")
# Faults behind allowed cells: the role gets past authorisation, then the answer fails. Each is a
# service bug; strict, so that the cells fail as soon as it is fixed and this entry must go.
@dataclass(frozen=True)
class Cell:
    route: str  # "POST /cases/{case_id}/closing"
    on: str  # the scope of the row: own, col, oth, or a special case the document defines
    role: str
    allowed: bool

    @property
    def id(self) -> str:
        return f"{self.route} [{self.on}] as {self.role}"


def read_matrix(text: str) -> list[Cell]:
    """The cells of every table of the document, in order."""
    cells: list[Cell] = []
    header: list[str] = []
    for line in text.splitlines():
        columns = [column.strip() for column in line.strip().strip("|").split("|")]
        if line.startswith("| route | on |"):
            header = columns[2:]
            assert tuple(header) == ROLES, f"a table's roles are not {ROLES}: {line}"
            continue
        match = ROW.match(line)
        if match is None:
            continue
        assert len(columns) == 2 + len(ROLES), f"a row of the wrong width: {line}"
        route, on = f"{match[1]} {match[2]}", columns[1].strip("`")
        for role, mark in zip(header, columns[2:], strict=True):
            assert mark in ("✓", "403"), f"{route} [{on}] as {role}: {mark!r} is not ✓ or 403"
            cells.append(Cell(route, on, role, mark == "✓"))
    return cells


CELLS = read_matrix(MATRIX.read_text(encoding="utf-8"))


def test_every_route_has_rows_and_every_row_a_request() -> None:
    routes = {f"{route.method} {route.openapi_path}" for route in ROUTES}
    rows = {(cell.route, cell.on) for cell in CELLS}
    assert len(CELLS) == len(rows) * len(ROLES), "a row appears twice in docs/permissions.md"
    assert routes - {route for route, _ in rows} == set(), "routes with no row in the matrix"
    assert {route for route, _ in rows} - routes == set(), "rows of routes that do not exist"
    assert rows - set(REQUESTS) == set(), "rows with no request in permission_requests.py"
    assert set(REQUESTS) - rows == set(), "requests with no row in docs/permissions.md"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Every service and the gateway on a fresh vhost, and the world built through HTTP."""
    with pytest.MonkeyPatch.context() as patch, Broker.ensure_running().vhost() as amqp_uri:
        patch.setenv("CASEBOOK_JWT_SECRET", SECRET)
        patch.setenv("CASEBOOK_DATA_DIR", str(tmp_path_factory.mktemp("matrix") / "var"))
        patch.delenv("POSTGRES_DBNAME", raising=False)
        patch.delenv("CIPHER_KEY", raising=False)
        patch.setenv("CASEBOOK_REQUIRE_ELIGIBLE_WORKERS", "false")
        # Class files end their retention the day they are held, so disposal can be decided.
        patch.setenv("CASEBOOK_RETENTION_YEARS", "KT=0")
        address = f"127.0.0.1:{free_port()}"
        runner = ServiceRunner({**config(amqp_uri), "WEB_SERVER_ADDRESS": address})
        for service_class in SERVICES:
            runner.add_service(service_class)
        runner.start()
        try:
            api = Api(f"http://{address}")
            wait_for(lambda: api.get("/readyz").status_code == 200, timeout=30,
                     what="every service to answer the gateway's ping")
            yield World(api).build()
        finally:
            runner.stop()


def params(cells: list[Cell]) -> list[ParameterSet]:
    return [pytest.param(cell, id=cell.id) for cell in cells]


@pytest.mark.parametrize("cell", params(CELLS))
def test_cell(world: World, cell: Cell) -> None:
    method, template = cell.route.split(" ", 1)
    request = REQUESTS[(cell.route, cell.on)](world, cell.role)
    pattern = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template))
    assert re.fullmatch(pattern, request.path), f"{request.path} is not {template}"
    response = world.as_(ACTORS[cell.role]).request(
        method, request.path, json=request.json if method == "POST" else None,
        params=request.params)
    answer = f"{response.status_code} {response.text[:300]}"
    if cell.allowed:
        assert response.ok or response.status_code == 409, answer
    else:
        assert response.status_code == 403, answer
        assert response.json()["code"] in REFUSAL_CODES, answer
