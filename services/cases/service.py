"""The cases service: RPC entrypoints only; the work is in `app.py`."""

from __future__ import annotations

from typing import Any

from nameko.rpc import rpc

from services.cases import schemas
from services.cases.app import CasesApplication
from services.cases.publish import PUBLICATIONS
from services.runtime.service import ApplicationDependency, PublishingService, load


class CasesService(PublishingService):
    name = "cases"
    publications = PUBLICATIONS
    app = ApplicationDependency(CasesApplication, PUBLICATIONS)

    @rpc
    def open_case(self, data: dict[str, Any]) -> dict[str, Any]:
        case_id = self.app.open_case(**load(schemas.OpenCase, data))
        return {"case_id": case_id}

    @rpc
    def log_intervention(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.LogIntervention, data)
        intervention_id = self.app.log_intervention(str(command.pop("case_id")), **command)
        return {"intervention_id": intervention_id}

    @rpc
    def close_case(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.CloseCase, data)
        self.app.close_case(str(command.pop("case_id")), **command)
        return {"case_id": str(data["case_id"])}

    @rpc
    def get_case(self, case_id: str) -> dict[str, Any]:
        return self.app.get_case(case_id)
