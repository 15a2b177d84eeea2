"""The archive service: RPC entrypoints and subscriptions only; the work is in `app.py`."""

from __future__ import annotations

from typing import Any

from nameko.rpc import RpcProxy
from nameko.timer import timer

from services.archive import schemas
from services.archive.app import ArchiveApplication
from services.runtime.entrypoints import rpc
from services.runtime.metrics import LedgerGauges, Metrics
from services.runtime.persistence import Cursor
from services.runtime.service import ApplicationDependency, PublishingService, command, load, query
from services.runtime.settings import settings
from services.runtime.subscription import subscribe


class ArchiveService(PublishingService):
    name = "archive"
    app = ApplicationDependency(ArchiveApplication)
    metrics = Metrics(LedgerGauges)
    cases = RpcProxy("cases")
    resources = RpcProxy("resources")
    supervision = RpcProxy("supervision")

    # Every event of every service, the archive's own included, goes into the ledger.

    @subscribe("cases", verify_chain=False)
    def on_cases_event(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        self.app.record_envelope(envelope, cursor)

    @subscribe("resources", verify_chain=False)
    def on_resources_event(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        self.app.record_envelope(envelope, cursor)

    @subscribe("supervision", verify_chain=False)
    def on_supervision_event(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        self.app.record_envelope(envelope, cursor)

    @subscribe("archive", verify_chain=False)
    def on_archive_event(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        self.app.record_envelope(envelope, cursor)

    @timer(interval=settings().archive.checkpoint_tick_seconds)
    def sign_checkpoint_if_due(self) -> None:
        self.app.checkpoint_if_due()

    # The ledger.

    @rpc
    def ledger_head(self, source: str) -> dict[str, Any]:
        return self.app.ledger_head(load(schemas.LedgerHead, {"source": source})["source"])

    @rpc
    @query(schemas.VerifyLedger)
    def verify_ledger(self, options: dict[str, Any]) -> dict[str, Any]:
        recompute = self._recompute if options["against_stores"] else None
        return self.app.verify_ledger(recompute)

    @rpc
    def list_checkpoints(self) -> list[dict[str, Any]]:
        return self.app.list_checkpoints()

    @rpc
    @query(schemas.GetRecord)
    def get_record(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_record(**command)

    # Files, retention, disposal.

    @rpc
    def get_file(self, file_id: str) -> dict[str, Any]:
        return self.app.get_file(str(load(schemas.FileRef, {"file_id": file_id})["file_id"]))

    @rpc
    @query(schemas.FindFile)
    def find_file(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.find_file(**command)

    @rpc
    @query(schemas.FileAsOf)
    def get_file_as_of(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_file_as_of(str(command.pop("file_id")), **command)

    @rpc
    @query(schemas.ListFiles)
    def list_files(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.list_files(**command)

    @rpc
    @command(schemas.PlaceLegalHold)
    def place_legal_hold(self, command: dict[str, Any]) -> None:
        self.app.place_legal_hold(str(command.pop("file_id")), **command)

    @rpc
    @command(schemas.LiftLegalHold)
    def lift_legal_hold(self, command: dict[str, Any]) -> None:
        self.app.lift_legal_hold(str(command.pop("file_id")), **command)

    @rpc
    @command(schemas.RequestDisposal)
    def request_disposal(self, command: dict[str, Any]) -> None:
        self.app.request_disposal(str(command["file_id"]))

    @rpc
    @command(schemas.ApproveDisposal)
    def approve_disposal(self, command: dict[str, Any]) -> None:
        self.app.approve_disposal(str(command["file_id"]))

    @rpc
    @command(schemas.RejectDisposal)
    def reject_disposal(self, command: dict[str, Any]) -> None:
        self.app.reject_disposal(str(command.pop("file_id")), **command)

    # Access approval.

    @rpc
    @command(schemas.RequestAccess)
    def request_access(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"request_id": self.app.request_access(str(command.pop("file_id")), **command)}

    @rpc
    @command(schemas.ApproveAccess)
    def approve_access(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.approve_access(str(command.pop("request_id")), **command)

    @rpc
    @command(schemas.DenyAccess)
    def deny_access(self, command: dict[str, Any]) -> None:
        self.app.deny_access(str(command.pop("request_id")), **command)

    @rpc
    @command(schemas.RevokeAccess)
    def revoke_access(self, command: dict[str, Any]) -> None:
        self.app.revoke_access(str(command.pop("grant_id")), **command)

    @rpc
    @command(schemas.AuthorizeRead)
    def authorize_read(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.authorize_read(**command)

    @rpc
    def get_access_report(self, file_id: str) -> dict[str, Any]:
        file_ref = load(schemas.FileRef, {"file_id": file_id})
        return self.app.get_access_report(str(file_ref["file_id"]))

    def _recompute(
        self, source: str, position: int, prev_hash: str, limit: int
    ) -> list[dict[str, Any]]:
        if source == self.name:
            return self.recompute_since(position, prev_hash, limit)
        result: list[dict[str, Any]] = getattr(self, source).recompute_since(
            position, prev_hash, limit
        )
        return result
