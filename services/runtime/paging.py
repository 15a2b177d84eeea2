"""Every list is paged by keyset: a page holds up to `limit` rows in a fixed order, and `next`
is an opaque cursor for the rows after its last one. Unlike an offset, a cursor returns each row
once across pages while writes go on (a row written meanwhile before the cursor is simply not on
a later page). `total` is the number of rows the list has for the caller, counted in the same
snapshot as the page. A list whose history grows without end (a school's cases) takes its total
from counter rows its projection keeps in the transaction of the rows they count
(`Transaction.tally`), so a page costs the same at any history; other lists count their rows."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from marshmallow import Schema, fields, validate

from contracts.errors import InvalidInput
from services.runtime.views import ViewStore

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


class PageQuery(Schema):
    """The paging of a list query: every list query's schema extends it."""

    limit = fields.Integer(load_default=DEFAULT_LIMIT, strict=True,
                           validate=validate.Range(min=1, max=MAX_LIMIT))
    after = fields.String(load_default=None, allow_none=True,
                          validate=validate.Length(min=1, max=1000))


_page_schemas: dict[type[Schema], type[Schema]] = {}


def page_of(item: type[Schema]) -> type[Schema]:
    """The schema of a page of `item`s (one class per item schema, named after it)."""
    if item not in _page_schemas:
        name = item.__name__.removesuffix("Schema") + "Page"
        _page_schemas[item] = Schema.from_dict({
            "items": fields.List(fields.Nested(item), required=True),
            "total": fields.Integer(required=True),
            "limit": fields.Integer(required=True),
            "next": fields.String(required=True, allow_none=True),
        }, name=name)
        _page_schemas[item].__doc__ = f"A page of {item.__name__} rows, and the cursor after it."
    return _page_schemas[item]


def page(views: ViewStore, source: str, where: Sequence[str], params: dict[str, Any],
         order: Sequence[str], limit: int, after: str | None, descending: bool = False,
         columns: str = "*", total: str | None = None) -> dict[str, Any]:
    """One page of `SELECT columns FROM source WHERE where… ORDER BY order…`. The last column
    of `order` must be unique (the key) and none of them may be null. `total` is a query that
    answers the list's total as `n` with the same `params` (a sum over counter rows); without
    one the rows are counted."""
    keyset = list(order)
    conditions = list(where)
    bound = dict(params)
    if after is not None:
        values = _decode(after, len(keyset))
        placeholders = ", ".join(f":after_{n}" for n in range(len(keyset)))
        conditions.append(f"({', '.join(keyset)}) {'<' if descending else '>'} ({placeholders})")
        bound.update({f"after_{n}": value for n, value in enumerate(values)})
    direction = " DESC" if descending else ""
    ordering = ", ".join(f"{column}{direction}" for column in keyset)
    total_where = " AND ".join(where) or "1 = 1"
    page_where = " AND ".join(conditions) or "1 = 1"
    counted, rows = views.read_together(
        (total or f"SELECT COUNT(*) AS n FROM {source} WHERE {total_where}", params),
        (f"SELECT {columns} FROM {source} WHERE {page_where} ORDER BY {ordering} "
         "LIMIT :page_limit", {**bound, "page_limit": limit + 1}),
    )
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = _encode([rows[-1][_column(c)] for c in keyset]) if more else None
    return {"items": rows, "total": int(counted[0]["n"]), "limit": limit, "next": cursor}


def page_in_parts(views: ViewStore, source: str, parts: Sequence[tuple[str, Sequence[str]]],
                  params: dict[str, Any], order: Sequence[str], limit: int, after: str | None,
                  total: str, columns: str = "*") -> dict[str, Any]:
    """One page of a list ordered by `(part, *order)`, where each part is a value of the
    list's first column with conditions of its own (`parts`, in that column's order): each
    part is read by its own index-ordered query, up to a page of it, so a page costs the same
    however long each part is. `total` answers the list's total as `n`; all are read in one
    snapshot. The last column of `order` must be unique within a part."""
    keyset = list(order[1:])
    values = None if after is None else _decode(after, len(order))
    ordering = ", ".join(keyset)
    queries: list[tuple[str, dict[str, Any]]] = [(total, params)]
    for part, where in parts:
        if values is not None and part < str(values[0]):
            continue
        conditions = list(where)
        bound = {**params, "page_limit": limit + 1}
        if values is not None and part == values[0]:
            placeholders = ", ".join(f":after_{n}" for n in range(len(keyset)))
            conditions.append(f"({ordering}) > ({placeholders})")
            bound.update({f"after_{n}": value for n, value in enumerate(values[1:])})
        queries.append((f"SELECT {columns} FROM {source} WHERE {' AND '.join(conditions)} "
                        f"ORDER BY {ordering} LIMIT :page_limit", bound))
    counted, *found = views.read_together(*queries)
    rows = [row for part in found for row in part][:limit + 1]
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = _encode([rows[-1][_column(c)] for c in order]) if more else None
    return {"items": rows, "total": int(counted[0]["n"] or 0), "limit": limit, "next": cursor}


def _column(expression: str) -> str:
    """The result column an ORDER BY expression names (`c.opened_on` → `opened_on`)."""
    return expression.rsplit(".", 1)[-1]


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode(cursor: str, length: int) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != length or not all(
            isinstance(v, str | int) and not isinstance(v, bool) for v in values):
        raise InvalidInput.from_messages(
            {"after": ["Not a cursor of this list: give the `next` of the page before."]})
    return values
