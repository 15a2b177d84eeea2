"""Configuration from the environment: one place that names every variable Casebook reads.
`docs/operators.md` documents each; a test checks that it documents them all."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"


def amqp_uri() -> str:
    return os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)


def data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get("CASEBOOK_DATA_DIR", "./var")).resolve()


def postgres_configured() -> bool:
    return bool(os.environ.get("POSTGRES_DBNAME"))


def relay_batch_size() -> int:
    return int(os.environ.get("CASEBOOK_RELAY_BATCH", "100"))


def handler_max_attempts() -> int:
    """How often a subscription handler is tried before its message is dead-lettered."""
    return int(os.environ.get("CASEBOOK_HANDLER_ATTEMPTS", "3"))
