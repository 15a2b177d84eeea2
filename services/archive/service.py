"""The archive service: RPC entrypoints and subscriptions only; the work is in `app.py`."""

from __future__ import annotations

from typing import Any

from nameko.rpc import RpcProxy, rpc

from services.archive import schemas
from services.archive.app import ArchiveApplication
from services.archive.publish import PUBLICATIONS
from services.runtime.persistence import Cursor
from services.runtime.service import ApplicationDependency, PublishingService, load
from services.runtime.subscription import subscribe


class ArchiveService(PublishingService):
    name = "archive"
    publications = PUBLICATIONS
    app = ApplicationDependency(ArchiveApplication, PUBLICATIONS)
    cases = RpcProxy("cases")

    @subscribe("cases", verify_chain=False)
    def on_cases_event(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        self.app.record_envelope(envelope, cursor)

    @rpc
    def ledger_head(self, source: str) -> dict[str, Any]:
        return self.app.ledger_head(load(schemas.LedgerHead, {"source": source})["source"])

    @rpc
    def verify_ledger(self, data: dict[str, Any] | None = None) -> dict[str, Any]:
        options = load(schemas.VerifyLedger, data or {})
        recompute = self._recompute if options["against_stores"] else None
        return self.app.verify_ledger(recompute)

    def _recompute(self, source: str, position: int, prev_hash: str, limit: int) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = getattr(self, source).recompute_since(position, prev_hash, limit)
        return result
