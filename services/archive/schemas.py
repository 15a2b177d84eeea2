"""Command payloads of the archive service."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.registry import SOURCES


class LedgerHead(Schema):
    source = fields.String(required=True, validate=validate.OneOf(SOURCES))


class VerifyLedger(Schema):
    against_stores = fields.Boolean(load_default=True)
