"""The gateway's own shapes: event-feed parameters, and the responses it wraps (lists are paged
by their services: `services.runtime.paging`).

Command payloads are not here: each service validates its own (`load` in its `service.py`) and
describes them over RPC (`describe`), from which the OpenAPI document takes them.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.envelope import EnvelopeSchema
from contracts.errors import CODES

MAX_EVENTS = 1000


class EventParams(Schema):
    """Reading an event feed: envelopes after position `after`, at most `limit`."""

    after = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_EVENTS))


class Problem(Schema):
    """An error, as application/problem+json (RFC 9457) with a stable Casebook `code`."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    code = fields.String(required=True, validate=validate.OneOf(tuple(CODES)))
    detail = fields.String(required=True)
    errors = fields.Dict()
    services = fields.Dict(keys=fields.String(), values=fields.String())


class EventPage(Schema):
    """Envelopes after a position; `next_after` is where to continue from."""

    items = fields.List(fields.Nested(EnvelopeSchema), required=True)
    next_after = fields.Integer(required=True)


class Health(Schema):
    """The gateway answers."""

    status = fields.String(required=True, validate=validate.Equal("ok"))


class Readiness(Schema):
    """Every service answered a ping within the timeout."""

    status = fields.String(required=True, validate=validate.Equal("ready"))
    services = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
