"""Archive domain events → contract events. Payloads carry identifiers, codes, dates and counts:
purposes and legal-hold references stay sealed in the store (their commitments travel in the
envelope).

Every event is published (envelope format 2): those integrators act on as contract events, a
file's indexing of a cases event as `AuditRecorded` (not published before: `since=2`). Ledger
entries are copies of envelopes already published, the audit trail itself: never published
again. What the archive only derived from the cases service's events (client profiles, code
sequences) is learned into views now: those classes are retired."""

from __future__ import annotations

from typing import Any

from services.archive.access import AccessRequest, ReadRefusal, RecordView
from services.archive.domain import (
    ChainAlarm,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerVerification,
)
from services.archive.files import ArchiveFile, ClientProfile, CodeSequence
from services.archive.ledger import entry_count, problem_count
from services.archive.signing import ALGORITHM
from services.runtime.publishing import Publications

PUBLICATIONS = Publications("archive")

# The aggregates' event classes are made by @event at runtime; mypy cannot see them.
AlarmEvents: Any = ChainAlarm
CheckpointEvents: Any = LedgerCheckpoint
FileEvents: Any = ArchiveFile
RefusalEvents: Any = ReadRefusal
RequestEvents: Any = AccessRequest
ViewEvents: Any = RecordView
EntryEvents: Any = LedgerEntry
VerificationEvents: Any = LedgerVerification
RetiredProfile: Any = ClientProfile
RetiredSequence: Any = CodeSequence

PUBLICATIONS.trail(EntryEvents.Recorded)
PUBLICATIONS.retired(RetiredProfile.Registered, RetiredSequence.Started,
                     RetiredSequence.Allocated)
# 9.4b: which record's event was filed; the event itself is on the trail at its own position.
PUBLICATIONS.audit_only(FileEvents.Indexed, "ArchiveFile", "subject_id", "closed_on", "reopened")


@PUBLICATIONS.maps(AlarmEvents.Raised, "LedgerChainBroken", 1)
def ledger_chain_broken(event: Any) -> dict[str, Any]:
    return {
        "source": event.source,
        "position": event.position,
        "expected_prev_position": event.expected_prev_position,
        "expected_prev_hash": event.expected_prev_hash,
        "problems": event.problems,
    }


@PUBLICATIONS.maps(CheckpointEvents.Signed, "LedgerCheckpointSigned", 1)
def ledger_checkpoint_signed(event: Any) -> dict[str, Any]:
    return {
        "sequence": event.sequence,
        "entry_count": event.entry_count,
        "heads": event.heads,
        "signed_at": event.signed_at,
        "algorithm": ALGORITHM,
        "key_id": event.key_id,
        "public_key": event.public_key,
        "signature": event.signature,
    }


@PUBLICATIONS.maps(VerificationEvents.Reported, "LedgerVerified", 1)
def ledger_verified(event: Any) -> dict[str, Any]:
    report = event.report
    sources = report["sources"]
    return {
        "verification_id": str(event.originator_id),
        "checked_at": report["checked_at"],
        "ok": report["ok"],
        "since_checkpoint": report["since_checkpoint"],
        "against_stores": report["against_stores"],
        "entry_count": entry_count(report),
        "problem_count": problem_count(report),
        # A chain with nothing in it has no head to name.
        "heads": [{"source": source, **sources[source]["head"]} for source in sorted(sources)
                  if sources[source]["head"]["position"] > 0],
    }


@PUBLICATIONS.maps(FileEvents.Opened, "ArchiveFileOpened", 1)
def archive_file_opened(event: Any) -> dict[str, Any]:
    return {
        "file_id": str(event.originator_id),
        "file_code": event.code,
        "category": event.category,
        "record_source": event.record_source,
        "record_id": event.record_id,
        "subject_ids": event.subject_ids,
        "opened_on": event.opened_on,
    }


@PUBLICATIONS.maps(FileEvents.HoldPlaced, "LegalHoldPlaced", 1)
def legal_hold_placed(event: Any) -> dict[str, Any]:
    return {"file_id": str(event.originator_id), "hold_id": event.hold_id,
            "authority": event.authority, "placed_by": event.placed_by}


@PUBLICATIONS.maps(FileEvents.HoldLifted, "LegalHoldLifted", 1)
def legal_hold_lifted(event: Any) -> dict[str, Any]:
    return {"file_id": str(event.originator_id), "hold_id": event.hold_id,
            "lifted_by": event.lifted_by}


@PUBLICATIONS.maps(FileEvents.DisposalRequested, "DisposalRequested", 1)
def disposal_requested(event: Any) -> dict[str, Any]:
    return {"file_id": str(event.originator_id), "file_code": event.code,
            "requested_by": event.requested_by, "retention_end": event.retention_end}


@PUBLICATIONS.maps(FileEvents.DisposalApproved, "DisposalApproved", 1)
def disposal_approved(event: Any) -> dict[str, Any]:
    return {"file_id": str(event.originator_id), "file_code": event.code,
            "requested_by": event.requested_by, "approved_by": event.approved_by}


@PUBLICATIONS.maps(FileEvents.DisposalRejected, "DisposalRejected", 1)
def disposal_rejected(event: Any) -> dict[str, Any]:
    return {"file_id": str(event.originator_id), "file_code": event.code,
            "requested_by": event.requested_by, "rejected_by": event.rejected_by,
            "reason_code": event.reason_code}


@PUBLICATIONS.maps(FileEvents.Disposed, "ArchiveFileDisposed", 1)
def archive_file_disposed(event: Any) -> dict[str, Any]:
    return {"file_id": str(event.originator_id), "file_code": event.code,
            "category": event.category, "subject_ids": event.subject_ids,
            "disposed_on": event.disposed_on}


@PUBLICATIONS.maps(RequestEvents.Requested, "ArchiveAccessRequested", 1)
def access_requested(event: Any) -> dict[str, Any]:
    return {"request_id": str(event.originator_id), "file_id": event.file_id,
            "file_code": event.file_code, "requester_id": event.requester_id,
            "requester_role": event.requester_role, "duration_hours": event.duration_hours}


@PUBLICATIONS.maps(RequestEvents.Approved, "ArchiveAccessGranted", 1)
def access_granted(event: Any) -> dict[str, Any]:
    return {"request_id": str(event.originator_id), "grant_id": str(event.originator_id),
            "file_id": event.file_id, "requester_id": event.requester_id,
            "approver_id": event.approver_id, "valid_from": event.valid_from,
            "valid_until": event.valid_until}


@PUBLICATIONS.maps(RequestEvents.Denied, "ArchiveAccessDenied", 1)
def access_denied(event: Any) -> dict[str, Any]:
    return {"request_id": str(event.originator_id), "file_id": event.file_id,
            "requester_id": event.requester_id, "approver_id": event.approver_id,
            "reason_code": event.reason_code}


@PUBLICATIONS.maps(RequestEvents.Revoked, "ArchiveAccessRevoked", 1)
def access_revoked(event: Any) -> dict[str, Any]:
    return {"grant_id": str(event.originator_id), "file_id": event.file_id,
            "requester_id": event.requester_id, "revoked_by": event.revoked_by,
            "reason_code": event.reason_code}


@PUBLICATIONS.maps(ViewEvents.Viewed, "ArchiveRecordViewed", 1)
def record_viewed(event: Any) -> dict[str, Any]:
    return {"read_id": str(event.originator_id), "file_id": event.file_id,
            "file_code": event.file_code, "grant_id": event.grant_id,
            "reader_id": event.reader_id, "reader_role": event.reader_role}


@PUBLICATIONS.maps(RefusalEvents.Refused, "ArchiveReadRefused", 1)
def read_refused(event: Any) -> dict[str, Any]:
    return {"read_id": str(event.originator_id), "file_id": event.file_id,
            "file_code": event.file_code, "reader_id": event.reader_id,
            "reader_role": event.reader_role, "reason": event.reason}
