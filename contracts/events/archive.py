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
