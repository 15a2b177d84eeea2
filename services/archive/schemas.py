"""What the archive service takes and answers: every command's and query's payload, and the
typed answer of every read (the gateway's OpenAPI documents both)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from contracts.events.archive import (
    DENIAL_REASONS,
    DISPOSAL_REJECTIONS,
    FILE_CATEGORIES,
    HOLD_AUTHORITIES,
    REVOCATION_REASONS,
)
from contracts.fields import identifier, one_of
from contracts.registry import SOURCES
from services.runtime.paging import PageQuery
from services.runtime.service import ChainPoint

FILE_STATUSES = ("active", "closed", "disposed")
DISPOSAL_STATUSES = ("pending", "approved", "rejected")
ACCESS_STATUSES = ("pending", "approved", "denied", "revoked")
READ_OUTCOMES = ("viewed", "refused")
MAX_GRANT_HOURS = 24 * 90  # a grant is for a task, not a standing right: at most a school term
PURPOSE = validate.Length(min=10, max=2000, error="State the purpose in 10 to 2000 characters.")


class LedgerHead(Schema):
    """The last ledger entry of one source: its position and hash."""

    source = fields.String(required=True, validate=validate.OneOf(SOURCES))


class VerifyLedger(Schema):
    """Recompute every source's hash chain and report each problem."""

    against_stores = fields.Boolean(load_default=True)
    since_checkpoint = fields.Boolean(
        load_default=False, metadata={"description": "Only what follows the last signed "
                                      "checkpoint, from its signed heads on."})


class ListVerifications(PageQuery):
    """The verifications kept, the newest first."""

    ok = fields.Boolean(load_default=None, allow_none=True, metadata={
        "description": "Only those that verified (true) or that found problems (false)."})


class VerificationRef(Schema):
    verification_id = fields.UUID(required=True)


class ListLedger(PageQuery):
    """One source's ledger entries in chain order (keyed by position)."""

    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    type = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(min=1, max=100))


class ListCheckpoints(PageQuery):
    """Signed checkpoints of the ledger, the newest first."""


class ListChainAlarms(PageQuery):
    """Breaks in a source's chain met as envelopes arrived, by source and position."""

    source = fields.String(load_default=None, allow_none=True,
                           validate=validate.OneOf(SOURCES))


class GetLedgerEntry(Schema):
    """One ledger entry: its envelope as stored, and what its hash covers."""

    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    # Not strict: it comes from the path as text.
    position = fields.Integer(required=True, validate=validate.Range(min=1))


class ListDisposals(PageQuery):
    """Disposal requests (9.4e), oldest first, with the two-person rule in each row."""

    status = one_of(DISPOSAL_STATUSES, load_default=None, allow_none=True)
    file_id = fields.UUID(load_default=None, allow_none=True)
    school_id = identifier(load_default=None, allow_none=True)


class ListAccessRequests(PageQuery):
    """Access requests (9.4d), oldest first."""

    status = one_of(ACCESS_STATUSES, load_default=None, allow_none=True)
    requester_id = identifier(load_default=None, allow_none=True)
    file_id = fields.UUID(load_default=None, allow_none=True)
    school_id = identifier(load_default=None, allow_none=True)


class ListReads(PageQuery):
    """Reads and refused reads of archived files (9.4d, 4.5), oldest first."""

    outcome = one_of(READ_OUTCOMES, load_default=None, allow_none=True)
    reader_id = identifier(load_default=None, allow_none=True)
    file_id = fields.UUID(load_default=None, allow_none=True)
    school_id = identifier(load_default=None, allow_none=True)


class FileRef(Schema):
    file_id = fields.UUID(required=True)


class FindFile(Schema):
    """The archive file of a record (9.4a)."""

    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    record_id = identifier(required=True)


class ListFiles(PageQuery):
    """Archive files by unified code, filtered by category, state, legal hold, completeness
    (9.4b) or retention due (9.4e: soonest first)."""

    due_within_days = fields.Integer(load_default=None, allow_none=True, strict=True,
                                     validate=validate.Range(min=0, max=36500))
    incomplete_only = fields.Boolean(load_default=False)
    category = one_of(FILE_CATEGORIES, load_default=None, allow_none=True)
    status = one_of(FILE_STATUSES, load_default=None, allow_none=True)
    legal_hold = fields.Boolean(load_default=None, allow_none=True)
    school_id = identifier(load_default=None, allow_none=True)


class PlaceLegalHold(FileRef):
    """Place a legal hold that blocks disposal (9.4e)."""

    hold_id = identifier(required=True)
    authority = one_of(HOLD_AUTHORITIES, required=True)
    reference = fields.String(required=True, validate=validate.Length(min=1, max=200))


class LiftLegalHold(FileRef):
    """Lift a legal hold."""

    hold_id = identifier(required=True)


class RequestDisposal(FileRef):
    """Ask for disposal after the retention period (9.4e)."""


class ApproveDisposal(FileRef):
    """Approve a disposal: personal content is destroyed (9.4e)."""


class RejectDisposal(FileRef):
    """Reject a disposal request."""

    reason_code = one_of(DISPOSAL_REJECTIONS, required=True)


class RequestAccess(FileRef):
    """Ask to read a file's personal content (9.4d)."""

    purpose = fields.String(required=True, validate=PURPOSE)
    duration_hours = fields.Integer(required=True, strict=True,
                                    validate=validate.Range(min=1, max=MAX_GRANT_HOURS))


class ApproveAccess(Schema):
    """Approve an access request: a time-limited grant (9.4d)."""

    request_id = fields.UUID(required=True)
    valid_hours = fields.Integer(load_default=None, strict=True,
                                 validate=validate.Range(min=1, max=MAX_GRANT_HOURS))


class DenyAccess(Schema):
    """Deny an access request (9.4d)."""

    request_id = fields.UUID(required=True)
    reason_code = one_of(DENIAL_REASONS, required=True)


class RevokeAccess(Schema):
    """Revoke an access grant (9.4d)."""

    grant_id = fields.UUID(required=True)
    reason_code = one_of(REVOCATION_REASONS, required=True)


class AuthorizeRead(Schema):
    """Check that a read of an archived record's personal content is granted, and log it (9.4d)."""

    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    aggregate_id = identifier(required=True)
    purpose = fields.String(required=True, validate=PURPOSE)


class _AsOf(Schema):
    at = fields.AwareDateTime(load_default=None)
    ledger_source = fields.String(load_default=None, validate=validate.OneOf(SOURCES))
    ledger_position = fields.Integer(load_default=None, strict=True,
                                     validate=validate.Range(min=1))

    @validates_schema
    def one_point(self, data: dict[str, Any], **_: Any) -> None:
        by_ledger = data.get("ledger_source") is not None or data.get("ledger_position") is not None
        if by_ledger and (data.get("ledger_source") is None or data.get("ledger_position") is None):
            raise ValidationError("Give both ledger_source and ledger_position.", "ledger_position")
        if by_ledger and data.get("at") is not None:
            raise ValidationError("Give either a time or a ledger position, not both.", "at")


class FileAsOf(_AsOf):
    """An archive file as it was at a time or ledger position."""

    file_id = fields.UUID(required=True)

    @validates_schema
    def some_point(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("at") is None and data.get("ledger_position") is None:
            raise ValidationError("Give a time (at) or a ledger position.", "at")


class GetRecord(_AsOf):
    """A record as the ledger holds it, now or at a time or ledger position."""

    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    aggregate_id = identifier(required=True)


# Answers.


class RequestId(Schema):
    request_id = fields.String(required=True)


class Grant(Schema):
    grant_id = fields.String(required=True)
    valid_until = fields.String(required=True)


class ReadAuthorized(Schema):
    grant_id = fields.String(required=True)
    read_id = fields.String(required=True)


class Head(ChainPoint):
    """A source's chain point: the last envelope of it the ledger holds."""

    source = fields.String(required=True)


class SourceReport(Schema):
    entries = fields.Integer(required=True)
    head = fields.Nested(ChainPoint, required=True)
    store_checked = fields.Boolean(required=True)
    problems = fields.List(fields.Dict(), required=True)
    ok = fields.Boolean(required=True)


class CheckpointReport(Schema):
    count = fields.Integer(required=True)
    problems = fields.List(fields.Dict(), required=True)
    ok = fields.Boolean(required=True)


class LedgerReport(Schema):
    """A verification, kept as it was answered: each source's chain and the checkpoints, with
    every problem at its exact position."""

    verification_id = fields.String(required=True)
    verified_by = fields.String(required=True)
    ok = fields.Boolean(required=True)
    checked_at = fields.String(required=True)
    since_checkpoint = fields.Integer(
        allow_none=True, metadata={"description": "The checkpoint verified from; null: all."})
    against_stores = fields.Boolean(required=True, metadata={
        "description": "Whether each chain was also compared with its source's own store."})
    checkpoint_heads = fields.List(fields.Nested(Head), allow_none=True, metadata={
        "description": "Its signed heads, where each chain was verified on from."})
    sources = fields.Dict(keys=fields.String(), values=fields.Nested(SourceReport),
                          required=True)
    checkpoints = fields.Nested(CheckpointReport, required=True)


class VerificationItem(Schema):
    verification_id = fields.String(required=True)
    checked_at = fields.String(required=True)
    verified_by = fields.String(required=True)
    ok = fields.Boolean(required=True)
    since_checkpoint = fields.Integer(allow_none=True)
    against_stores = fields.Boolean(required=True)
    entry_count = fields.Integer(required=True)
    problem_count = fields.Integer(required=True)


class LedgerItem(Schema):
    source = fields.String(required=True)
    position = fields.Integer(required=True)
    type = fields.String(required=True)
    aggregate_id = fields.String(required=True)
    school_id = fields.String(allow_none=True)
    hash = fields.String(required=True)
    prev_position = fields.Integer(allow_none=True, metadata={
        "description": "The position the envelope says it follows, as it arrived."})
    prev_hash = fields.String(allow_none=True, metadata={
        "description": "The hash the envelope says its predecessor has, as it arrived."})
    occurred_at = fields.String(required=True)
    recorded_at = fields.String(required=True)


class CheckpointItem(Schema):
    sequence = fields.Integer(required=True)
    entry_count = fields.Integer(required=True)
    heads = fields.List(fields.Nested(Head), required=True)
    signed_at = fields.String(required=True)
    key_id = fields.String(required=True)
    public_key = fields.String(required=True)
    signature = fields.String(required=True)


class ChainAlarmItem(Schema):
    """Where a source's chain broke as the ledger met it, and how."""

    source = fields.String(required=True)
    position = fields.Integer(required=True, metadata={
        "description": "The position of the envelope that did not continue the chain."})
    expected_prev_position = fields.Integer(required=True, metadata={
        "description": "The ledger's head of the source when it arrived."})
    expected_prev_hash = fields.String(required=True)
    problems = fields.List(fields.String(), required=True)
    raised_at = fields.String(required=True)


class LedgerEnvelope(Schema):
    """A ledger entry as stored, to check by hand: `hash` is the SHA-256 of `hashed_text`,
    and `prev_hash` the hash of `entry_before`."""

    source = fields.String(required=True)
    position = fields.Integer(required=True)
    recorded_at = fields.String(required=True)
    envelope = fields.Dict(required=True, metadata={
        "description": "The envelope as its source published it and the ledger stored it."})
    hash_rule = fields.String(allow_none=True, metadata={
        "description": "The envelope's hash rule; null: the rule of the first envelopes."})
    hashed_text = fields.String(allow_none=True, metadata={
        "description": "The canonical JSON of the envelope without its hash, as UTF-8 text: "
                       "what the hash is the SHA-256 of. Null under a rule not known here."})
    computed_hash = fields.String(allow_none=True, metadata={
        "description": "The SHA-256 of hashed_text, recomputed now."})
    entry_before = fields.Nested(Head, required=True, metadata={
        "description": "The source's entry the ledger holds before it, whatever the envelope "
                       "claims as its prev_position (position 0: none, the start of the "
                       "chain)."})
    alarm = fields.Nested(ChainAlarmItem, allow_none=True, metadata={
        "description": "The alarm raised when it arrived, if it broke the chain."})


class FileItem(Schema):
    """An archive file as its list shows it: identifiers, codes, dates and counts (9.4a–e)."""

    file_id = fields.String(required=True)
    file_code = fields.String(required=True)
    school_id = fields.String(required=True)
    category = fields.String(required=True)
    record_source = fields.String(required=True)
    record_id = fields.String(required=True)
    opened_on = fields.String(required=True)
    closed_on = fields.String(allow_none=True)
    majority_on = fields.String(allow_none=True)
    retention_end_on = fields.String(allow_none=True)
    status = fields.String(required=True)
    entry_count = fields.Integer(required=True)
    missing_sections = fields.List(fields.String(), required=True)
    complete = fields.Boolean(required=True)
    legal_holds = fields.Integer(required=True)
    disposal = fields.String(allow_none=True)
    disposed_on = fields.String(allow_none=True)


class FileRecord(Schema):
    """One archive file: its index by section (9.4b), completeness, retention (9.4e), legal
    holds and disposal."""

    file_id = fields.String(required=True)
    file_code = fields.String(required=True)
    version = fields.Integer(required=True)
    category = fields.String(required=True)
    category_label = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    school_id = fields.String(required=True)
    record_source = fields.String(required=True)
    record_id = fields.String(required=True)
    subject_ids = fields.List(fields.String(), required=True)
    opened_on = fields.String(required=True)
    closed_on = fields.String(allow_none=True)
    status = fields.String(required=True)
    contents = fields.Dict(keys=fields.String(), values=fields.List(fields.Dict()),
                           required=True)
    completeness = fields.Dict(required=True)
    retention = fields.Dict(required=True)
    legal_holds = fields.List(fields.Dict(), required=True)
    disposal = fields.Dict(allow_none=True)
    disposed_on = fields.String(allow_none=True)


class DisposalItem(Schema):
    """A disposal request (9.4e): requested and decided by two people."""

    disposal_id = fields.String(required=True)
    file_id = fields.String(required=True)
    file_code = fields.String(required=True)
    school_id = fields.String(required=True)
    status = fields.String(required=True)
    requested_by = fields.String(required=True)
    requested_at = fields.String(required=True)
    retention_end_on = fields.String(required=True)
    decided_by = fields.String(allow_none=True)
    decided_at = fields.String(allow_none=True)
    reason_code = fields.String(allow_none=True)
    two_person_rule_met = fields.Boolean(
        allow_none=True, metadata={"description": "Decided by someone other than the requester "
                                   "(9.4e); null while pending."})


class AccessRequestItem(Schema):
    request_id = fields.String(required=True)
    file_id = fields.String(required=True)
    file_code = fields.String(required=True)
    school_id = fields.String(allow_none=True)
    requester_id = fields.String(required=True)
    requester_role = fields.String(required=True)
    duration_hours = fields.Integer(required=True)
    status = fields.String(required=True)
    decided_by = fields.String(allow_none=True)
    reason_code = fields.String(allow_none=True)
    valid_from = fields.String(allow_none=True)
    valid_until = fields.String(allow_none=True)
    revoked_by = fields.String(allow_none=True)
    requested_at = fields.String(required=True)


class ReadItem(Schema):
    read_id = fields.String(required=True)
    file_id = fields.String(required=True)
    file_code = fields.String(required=True)
    school_id = fields.String(allow_none=True)
    outcome = fields.String(required=True)
    reader_id = fields.String(required=True)
    reader_role = fields.String(required=True)
    read_at = fields.String(required=True)
    grant_id = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class AccessRequestRecord(AccessRequestItem):
    purpose = fields.Raw(required=True, metadata={
        "description": "The requester's words; `[destroyed]` once the file is disposed."})


class ReadRecord(ReadItem):
    purpose = fields.Raw(required=True, metadata={
        "description": "The reader's words; `[destroyed]` once the file is disposed."})


class AccessReport(Schema):
    """Who asked, who decided, and every read and refused read of a file (9.4d)."""

    file_id = fields.String(required=True)
    file_code = fields.String(required=True)
    requests = fields.List(fields.Nested(AccessRequestRecord), required=True)
    reads = fields.List(fields.Nested(ReadRecord), required=True)


class RecordHistory(Schema):
    """A record's envelopes as the ledger holds them, and its status then."""

    source = fields.String(required=True)
    aggregate_id = fields.String(required=True)
    status = fields.String(allow_none=True)
    event_count = fields.Integer(required=True)
    events = fields.List(fields.Dict(), required=True)
