"""Structured JSON logs, one object a line, with the service and correlation id when known."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from services.runtime.context import _meta
from services.runtime.settings import settings


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": settings().runtime.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        meta = _meta.get()
        if meta is not None:
            entry["correlation_id"] = meta.correlation_id
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
