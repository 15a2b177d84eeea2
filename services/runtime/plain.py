"""Query results as plain JSON types, so every RPC caller (in any language) reads the same."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID


def plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value
