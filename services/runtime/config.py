"""Configuration from the environment: one place that names every variable Casebook reads.
`docs/operators.md` documents each; a test checks that it documents them all."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from services.runtime.secrets import secret_value, with_amqp_password

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"


def amqp_uri() -> str:
    """AMQP_URI, with the password of AMQP_PASSWORD or AMQP_PASSWORD_FILE when set."""
    return with_amqp_password(os.environ.get("AMQP_URI", DEFAULT_AMQP_URI))


def data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get("CASEBOOK_DATA_DIR", "./var")).resolve()


def postgres_configured() -> bool:
    return bool(os.environ.get("POSTGRES_DBNAME"))


def relay_batch_size() -> int:
    return int(os.environ.get("CASEBOOK_RELAY_BATCH", "100"))


def handler_max_attempts() -> int:
    """How often a subscription handler is tried before its message is dead-lettered."""
    return int(os.environ.get("CASEBOOK_HANDLER_ATTEMPTS", "3"))


# The archive (issue 4). Defaults and their reasons are in services/archive/retention.py and
# services/archive/checkpoints.py.


def archive_retention_years() -> str:
    """`CASEBOOK_RETENTION_YEARS`: per-category overrides such as "GA=10,KT=3" (9.4e)."""
    return os.environ.get("CASEBOOK_RETENTION_YEARS", "")


def ledger_signing_key() -> str | None:
    """`CASEBOOK_LEDGER_SIGNING_KEY` (or `_FILE`): base64 of a raw 32-byte Ed25519 private key."""
    return secret_value("CASEBOOK_LEDGER_SIGNING_KEY") or None


def ledger_trusted_keys() -> list[str]:
    """`CASEBOOK_LEDGER_TRUSTED_KEYS`: base64 raw public keys of earlier signing keys, comma
    separated, so checkpoints signed before a key rotation still verify."""
    return [
        k.strip()
        for k in os.environ.get("CASEBOOK_LEDGER_TRUSTED_KEYS", "").split(",")
        if k.strip()
    ]


def checkpoint_every_entries() -> int:
    return int(os.environ.get("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", "1000"))


def checkpoint_every_minutes() -> float:
    return float(os.environ.get("CASEBOOK_CHECKPOINT_EVERY_MINUTES", "60"))


def checkpoint_tick_seconds() -> float:
    return float(os.environ.get("CASEBOOK_CHECKPOINT_TICK_SECONDS", "5"))
