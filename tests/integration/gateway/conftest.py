"""The HTTP API with real services on real RabbitMQ, in this process, on a free port."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from nameko.runners import ServiceRunner

from services.archive.service import ArchiveService
from services.cases.service import CasesService
from services.gateway.auth import mint
from services.gateway.service import GatewayService
from services.resources.service import ResourcesService
from services.supervision.service import SupervisionService
from tests.support.services import config
from tests.support.waiting import wait_for

SECRET = "gateway-test-secret-that-is-long-enough-for-hs256"
SERVICES = (CasesService, ArchiveService, ResourcesService, SupervisionService, GatewayService)


class Api:
    """HTTP calls to the gateway as one actor (or none): `api.as_(WORKER).post(...)`."""

    def __init__(self, base_url: str, actor: dict[str, Any] | None = None) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        if actor is not None:
            token = mint(SECRET, actor["role"], actor["id"], actor.get("school_id"))
            self.session.headers["Authorization"] = f"Bearer {token}"

    def as_(self, actor: dict[str, Any] | None) -> Api:
        return Api(self.base_url, actor)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.base_url + path, timeout=60, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def api(amqp_uri: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("CASEBOOK_JWT_SECRET", SECRET)
    address = f"127.0.0.1:{free_port()}"
    runner = ServiceRunner({**config(amqp_uri), "WEB_SERVER_ADDRESS": address})
    for service_class in SERVICES:
        runner.add_service(service_class)
    runner.start()
    client = Api(f"http://{address}")
    try:
        wait_for(lambda: client.get("/readyz").status_code == 200, timeout=30,
                 what="every service to answer the gateway's ping")
        yield client
    finally:
        runner.stop()
