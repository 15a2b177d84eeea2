"""The archive service: RPC entrypoints and subscriptions only; the work is in `app.py`.
Each entrypoint names the roles that may call it at all (refused before its payload is read),
the payload schema, and the schema of its answer."""

from __future__ import annotations

from typing import Any

from nameko.timer import timer

from services.archive import schemas
from services.archive.app import (
    ACCESS_APPROVERS,
    ACCESS_REQUESTERS,
    DISPOSAL_APPROVERS,
    DISPOSAL_REQUESTERS,
    FILE_READERS,
    GRANT_REVOKERS,
    HOLD_KEEPERS,
    LEDGER_READERS,
    ArchiveApplication,
)
from services.runtime.entrypoints import rpc
from services.runtime.metrics import LedgerGauges, Metrics
from services.runtime.paging import page_of
from services.runtime.persistence import Cursor
from services.runtime.proxies import AnsweringProxy
from services.runtime.service import ApplicationDependency, PublishingService, command, query
from services.runtime.settings import settings
from services.runtime.subscription import subscribe

# How long one batch of a source's recomputed chain may take (a batch of up to 1,000 events).
SOURCE_ANSWER_SECONDS = 120


class ArchiveService(PublishingService):
    name = "archive"
    app = ApplicationDependency(ArchiveApplication)
    metrics = Metrics(LedgerGauges)
    # A verification's recompute of a source's chain, a batch at a time (bounded: a source
    # that never answers makes the verification unavailable, not a hung worker).
    cases = AnsweringProxy("cases", lambda: SOURCE_ANSWER_SECONDS)
    resources = AnsweringProxy("resources", lambda: SOURCE_ANSWER_SECONDS)
    supervision = AnsweringProxy("supervision", lambda: SOURCE_ANSWER_SECONDS)

    # Every event of every service, the archive's own included, goes into the ledger.

    @subscribe("cases", verify_chain=False, batch=True)
    def on_cases_events(self, envelopes: list[dict[str, Any]], cursor: Cursor) -> None:
        self.app.record_envelopes(envelopes, cursor)

    @subscribe("resources", verify_chain=False, batch=True)
    def on_resources_events(self, envelopes: list[dict[str, Any]], cursor: Cursor) -> None:
        self.app.record_envelopes(envelopes, cursor)

    @subscribe("supervision", verify_chain=False, batch=True)
    def on_supervision_events(self, envelopes: list[dict[str, Any]], cursor: Cursor) -> None:
        self.app.record_envelopes(envelopes, cursor)

    @subscribe("archive", verify_chain=False, batch=True)
    def on_archive_events(self, envelopes: list[dict[str, Any]], cursor: Cursor) -> None:
        self.app.record_envelopes(envelopes, cursor)

    @timer(interval=settings().archive.checkpoint_tick_seconds)
    def sign_checkpoint_if_due(self) -> None:
        self.app.checkpoint_if_due()

    # The ledger.

    @rpc
    @query(schemas.LedgerHead, roles=LEDGER_READERS, returns=schemas.Head)
    def ledger_head(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.ledger_head(query["source"])

    @rpc
    @query(schemas.ListLedger, roles=LEDGER_READERS, returns=page_of(schemas.LedgerItem))
    def list_ledger(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_ledger(**query)

    @rpc
    @command(schemas.VerifyLedger, roles=LEDGER_READERS, returns=schemas.LedgerReport)
    def verify_ledger(self, options: dict[str, Any]) -> dict[str, Any]:
        # A command: the report is kept, once, whoever retries the request.
        recompute = self._recompute if options["against_stores"] else None
        return self.app.keep_verification(recompute, options["since_checkpoint"])

    @rpc
    @query(schemas.ListVerifications, roles=LEDGER_READERS,
           returns=page_of(schemas.VerificationItem))
    def list_verifications(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_verifications(**query)

    @rpc
    @query(schemas.VerificationRef, roles=LEDGER_READERS, returns=schemas.LedgerReport)
    def get_verification(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_verification(str(query["verification_id"]))

    @rpc
    @query(schemas.ListCheckpoints, roles=LEDGER_READERS,
           returns=page_of(schemas.CheckpointItem))
    def list_checkpoints(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_checkpoints(**query)

    @rpc
    @query(schemas.GetLedgerEntry, roles=LEDGER_READERS, returns=schemas.LedgerEnvelope)
    def get_ledger_entry(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_ledger_entry(**query)

    @rpc
    @query(schemas.ListChainAlarms, roles=LEDGER_READERS,
           returns=page_of(schemas.ChainAlarmItem))
    def list_chain_alarms(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_chain_alarms(**query)

    @rpc
    @query(schemas.GetRecord, roles=FILE_READERS, returns=schemas.RecordHistory)
    def get_record(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_record(**query)

    # Files, retention, disposal.

    @rpc
    @query(schemas.FileRef, roles=FILE_READERS, returns=schemas.FileRecord)
    def get_file(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_file(str(query["file_id"]))

    @rpc
    @query(schemas.FindFile, roles=FILE_READERS, returns=schemas.FileRecord)
    def find_file(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.find_file(**query)

    @rpc
    @query(schemas.FileAsOf, roles=FILE_READERS, returns=schemas.FileRecord)
    def get_file_as_of(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_file_as_of(str(query.pop("file_id")), **query)

    @rpc
    @query(schemas.ListFiles, roles=FILE_READERS, returns=page_of(schemas.FileItem))
    def list_files(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_files(**query)

    @rpc
    @command(schemas.PlaceLegalHold, roles=HOLD_KEEPERS)
    def place_legal_hold(self, command: dict[str, Any]) -> None:
        self.app.place_legal_hold(str(command.pop("file_id")), **command)

    @rpc
    @command(schemas.LiftLegalHold, roles=HOLD_KEEPERS)
    def lift_legal_hold(self, command: dict[str, Any]) -> None:
        self.app.lift_legal_hold(str(command.pop("file_id")), **command)

    @rpc
    @command(schemas.RequestDisposal, roles=DISPOSAL_REQUESTERS)
    def request_disposal(self, command: dict[str, Any]) -> None:
        self.app.request_disposal(str(command["file_id"]))

    @rpc
    @command(schemas.ApproveDisposal, roles=DISPOSAL_APPROVERS)
    def approve_disposal(self, command: dict[str, Any]) -> None:
        self.app.approve_disposal(str(command["file_id"]))

    @rpc
    @command(schemas.RejectDisposal, roles=DISPOSAL_APPROVERS)
    def reject_disposal(self, command: dict[str, Any]) -> None:
        self.app.reject_disposal(str(command.pop("file_id")), **command)

    @rpc
    @query(schemas.ListDisposals, roles=FILE_READERS, returns=page_of(schemas.DisposalItem))
    def list_disposals(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_disposals(**_ids_as_text(query))

    # Access approval.

    @rpc
    @command(schemas.RequestAccess, roles=ACCESS_REQUESTERS, returns=schemas.RequestId)
    def request_access(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"request_id": self.app.request_access(str(command.pop("file_id")), **command)}

    @rpc
    @command(schemas.ApproveAccess, roles=ACCESS_APPROVERS, returns=schemas.Grant)
    def approve_access(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.approve_access(str(command.pop("request_id")), **command)

    @rpc
    @command(schemas.DenyAccess, roles=ACCESS_APPROVERS)
    def deny_access(self, command: dict[str, Any]) -> None:
        self.app.deny_access(str(command.pop("request_id")), **command)

    @rpc
    @command(schemas.RevokeAccess, roles=GRANT_REVOKERS)
    def revoke_access(self, command: dict[str, Any]) -> None:
        self.app.revoke_access(str(command.pop("grant_id")), **command)

    @rpc
    @command(schemas.AuthorizeRead, returns=schemas.ReadAuthorized)
    def authorize_read(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.authorize_read(**command)

    @rpc
    @query(schemas.FileRef, roles=FILE_READERS, returns=schemas.AccessReport)
    def get_access_report(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_access_report(str(query["file_id"]))

    @rpc
    @query(schemas.ListAccessRequests, roles=FILE_READERS,
           returns=page_of(schemas.AccessRequestItem))
    def list_access_requests(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_access_requests(**_ids_as_text(query))

    @rpc
    @query(schemas.ListReads, roles=FILE_READERS, returns=page_of(schemas.ReadItem))
    def list_reads(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_reads(**_ids_as_text(query))

    def _recompute(
        self, source: str, position: int, prev_hash: str, limit: int
    ) -> list[dict[str, Any]]:
        if source == self.name:
            return self.recompute_since(position, prev_hash, limit)
        result: list[dict[str, Any]] = getattr(self, source).recompute_since(
            position, prev_hash, limit
        )
        return result


def _ids_as_text(query: dict[str, Any]) -> dict[str, Any]:
    """A filter by file id as the views hold it: lowercase text."""
    return {**query, "file_id": None if query["file_id"] is None else str(query["file_id"])}
