"""Events the archive service publishes."""

from marshmallow import Schema, fields, validate

from contracts.envelope import SHA256_HEX
from contracts.fields import identifier
from contracts.registry import contract


@contract("LedgerChainBroken", 1, source="archive")
class LedgerChainBrokenV1(Schema):
    """An envelope arrived that does not continue its source's hash chain; the ledger recorded it
    and raised this alarm instead of stopping."""

    source = identifier(required=True)
    position = fields.Integer(required=True, validate=validate.Range(min=1))
    expected_prev_position = fields.Integer(required=True, validate=validate.Range(min=0))
    expected_prev_hash = fields.String(required=True, validate=SHA256_HEX)
    problems = fields.List(fields.String(), required=True)


@contract("ArchiveFileDisposed", 1, source="archive")
class ArchiveFileDisposedV1(Schema):
    """An archive file was disposed after its retention end date with two-person approval
    (9.4e). Every service that keeps personal content of `subject_ids` destroys it (the cases
    service deletes those clients' keys); hash chains stay verifiable."""

    file_id = identifier(required=True)
    file_code = fields.String(required=True)
    category = fields.String(required=True)
    subject_ids = fields.List(identifier(), required=True)
    disposed_on = fields.Date(required=True)


FILE_CATEGORIES = ("GA", "XZ", "XX", "KT")  # 9.4a: case, group, letter, class
DENIAL_REASONS = ("purpose_insufficient", "not_need_to_know", "duration_too_long", "other")
REVOCATION_REASONS = ("purpose_fulfilled", "misuse_suspected", "role_changed", "other")
READ_REFUSALS = ("no_grant", "grant_expired", "grant_revoked", "file_disposed")
HOLD_AUTHORITIES = ("court", "procuratorate", "police", "education_bureau", "other")
DISPOSAL_REJECTIONS = ("still_needed", "pending_dispute", "policy_review", "other")


@contract("ArchiveFileOpened", 1, source="archive")
class ArchiveFileOpenedV1(Schema):
    """An archive file was opened for a case, group, letter or class, with its unified code
    `<school>-<year>-<category>-<sequence>`, unique and never reused (9.4a)."""

    file_id = identifier(required=True)
    file_code = fields.String(required=True)
    category = fields.String(required=True, validate=validate.OneOf(FILE_CATEGORIES))
    record_source = identifier(required=True)
    record_id = identifier(required=True)
    subject_ids = fields.List(identifier(), required=True)
    opened_on = fields.Date(required=True)


@contract("ArchiveAccessRequested", 1, source="archive")
class ArchiveAccessRequestedV1(Schema):
    """Someone asked to read an archive file's personal content for a purpose and a time
    (9.4d, 4.5). The purpose stays in the archive's store."""

    request_id = identifier(required=True)
    file_id = identifier(required=True)
    file_code = fields.String(required=True)
    requester_id = identifier(required=True)
    requester_role = identifier(required=True)
    duration_hours = fields.Integer(required=True, validate=validate.Range(min=1))


@contract("ArchiveAccessGranted", 1, source="archive")
class ArchiveAccessGrantedV1(Schema):
    """An access request was approved by someone other than the requester: a grant valid
    until `valid_until` unless revoked (9.4d)."""

    request_id = identifier(required=True)
    grant_id = identifier(required=True)
    file_id = identifier(required=True)
    requester_id = identifier(required=True)
    approver_id = identifier(required=True)
    valid_from = fields.DateTime(required=True)
    valid_until = fields.DateTime(required=True)


@contract("ArchiveAccessDenied", 1, source="archive")
class ArchiveAccessDeniedV1(Schema):
    """An access request was denied by someone other than the requester (9.4d)."""

    request_id = identifier(required=True)
    file_id = identifier(required=True)
    requester_id = identifier(required=True)
    approver_id = identifier(required=True)
    reason_code = fields.String(required=True, validate=validate.OneOf(DENIAL_REASONS))


@contract("ArchiveAccessRevoked", 1, source="archive")
class ArchiveAccessRevokedV1(Schema):
    """A grant was revoked before it expired; reads under it are refused from now on."""

    grant_id = identifier(required=True)
    file_id = identifier(required=True)
    requester_id = identifier(required=True)
    revoked_by = identifier(required=True)
    reason_code = fields.String(required=True, validate=validate.OneOf(REVOCATION_REASONS))


@contract("ArchiveRecordViewed", 1, source="archive")
class ArchiveRecordViewedV1(Schema):
    """Personal content of an archived record was read under a live grant (4.5, 9.4d)."""

    read_id = identifier(required=True)
    file_id = identifier(required=True)
    file_code = fields.String(required=True)
    grant_id = identifier(required=True)
    reader_id = identifier(required=True)
    reader_role = identifier(required=True)


@contract("ArchiveReadRefused", 1, source="archive")
class ArchiveReadRefusedV1(Schema):
    """A read of an archived record's personal content was refused: no live grant, or the file
    was disposed. Refusals are recorded like reads."""

    read_id = identifier(required=True)
    file_id = identifier(required=True)
    file_code = fields.String(required=True)
    reader_id = identifier(required=True)
    reader_role = identifier(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(READ_REFUSALS))


@contract("DisposalRequested", 1, source="archive")
class DisposalRequestedV1(Schema):
    """An archivist asked to dispose of a file whose retention period has ended (9.4e)."""

    file_id = identifier(required=True)
    file_code = fields.String(required=True)
    requested_by = identifier(required=True)
    retention_end = fields.Date(required=True)


@contract("DisposalApproved", 1, source="archive")
class DisposalApprovedV1(Schema):
    """A supervisor other than the requester approved a disposal (9.4e, two-person rule)."""

    file_id = identifier(required=True)
    file_code = fields.String(required=True)
    requested_by = identifier(required=True)
    approved_by = identifier(required=True)


@contract("DisposalRejected", 1, source="archive")
class DisposalRejectedV1(Schema):
    """A supervisor rejected a disposal request; the file stays."""

    file_id = identifier(required=True)
    file_code = fields.String(required=True)
    requested_by = identifier(required=True)
    rejected_by = identifier(required=True)
    reason_code = fields.String(required=True, validate=validate.OneOf(DISPOSAL_REJECTIONS))


@contract("LegalHoldPlaced", 1, source="archive")
class LegalHoldPlacedV1(Schema):
    """A legal hold was placed on a file: it cannot be disposed until every hold is lifted."""

    file_id = identifier(required=True)
    hold_id = identifier(required=True)
    authority = fields.String(required=True, validate=validate.OneOf(HOLD_AUTHORITIES))
    placed_by = identifier(required=True)


@contract("LegalHoldLifted", 1, source="archive")
class LegalHoldLiftedV1(Schema):
    """A legal hold on a file was lifted."""

    file_id = identifier(required=True)
    hold_id = identifier(required=True)
    lifted_by = identifier(required=True)


class ChainHeadSchema(Schema):
    source = identifier(required=True)
    position = fields.Integer(required=True, validate=validate.Range(min=1))
    hash = fields.String(required=True, validate=SHA256_HEX)


@contract("LedgerVerified", 1, source="archive")
class LedgerVerifiedV1(Schema):
    """Someone (the envelope's actor) verified the ledger: every source's chain from its start,
    or what follows signed checkpoint `since_checkpoint` from its signed heads on; with
    `against_stores`, each chain also against its source's own store. `ok` is what they were
    told; the report itself, every problem at its position, stays in the archive
    (`GET /ledger/verifications/{verification_id}`): here are its counts and the head of each
    chain it reached."""

    verification_id = identifier(required=True)
    checked_at = fields.String(required=True)
    ok = fields.Boolean(required=True)
    since_checkpoint = fields.Integer(required=True, allow_none=True,
                                      validate=validate.Range(min=1))
    against_stores = fields.Boolean(required=True)
    entry_count = fields.Integer(required=True, validate=validate.Range(min=0))
    problem_count = fields.Integer(required=True, validate=validate.Range(min=0))
    heads = fields.List(fields.Nested(ChainHeadSchema), required=True)


@contract("LedgerCheckpointSigned", 1, source="archive")
class LedgerCheckpointSignedV1(Schema):
    """The archive signed (Ed25519) the head of every source chain in its ledger and the number
    of entries. Anyone holding the public key can check that later ledger copies extend it:
    the signature is over the canonical JSON of {sequence, entry_count, heads, signed_at}."""

    sequence = fields.Integer(required=True, validate=validate.Range(min=1))
    entry_count = fields.Integer(required=True, validate=validate.Range(min=0))
    heads = fields.List(fields.Nested(ChainHeadSchema), required=True)
    signed_at = fields.String(required=True)
    algorithm = fields.String(required=True, validate=validate.Equal("Ed25519"))
    key_id = fields.String(required=True)
    public_key = fields.String(required=True)
    signature = fields.String(required=True)
