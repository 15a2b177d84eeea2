"""Command payloads of the archive service."""

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

MAX_GRANT_HOURS = 24 * 90  # a grant is for a task, not a standing right: at most a school term
PURPOSE = validate.Length(min=10, max=2000, error="State the purpose in 10 to 2000 characters.")


class LedgerHead(Schema):
    source = fields.String(required=True, validate=validate.OneOf(SOURCES))


class VerifyLedger(Schema):
    """Recompute every source's hash chain and report each problem."""

    against_stores = fields.Boolean(load_default=True)


class FileRef(Schema):
    file_id = fields.UUID(required=True)


class FindFile(Schema):
    """The archive file of a record (9.4a)."""

    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    record_id = identifier(required=True)


class ListFiles(Schema):
    """Archive files, filtered by category, completeness or retention due (9.4)."""

    due_within_days = fields.Integer(load_default=None, strict=True,
                                     validate=validate.Range(min=0, max=36500))
    incomplete_only = fields.Boolean(load_default=False)
    category = one_of(FILE_CATEGORIES, load_default=None)


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
