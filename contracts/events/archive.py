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
