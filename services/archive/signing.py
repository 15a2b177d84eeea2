"""Ed25519 signing of ledger checkpoints.

The private key comes from `CASEBOOK_LEDGER_SIGNING_KEY` (base64 of the raw 32 bytes). Without
it the archive generates one at its first start and keeps it in its data directory, with a
warning: fine for a laptop, not for production, where the key belongs in a secret store so that
whoever can edit the archive's database cannot also re-sign it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from contracts.envelope import canonical_json
from services.runtime.settings import settings

log = logging.getLogger(__name__)

KEY_FILE = "archive-ledger-signing.key"
ALGORITHM = "Ed25519"


def statement(
    sequence: int, entry_count: int, heads: list[dict[str, Any]], signed_at: str
) -> bytes:
    """The bytes a checkpoint signature covers."""
    return canonical_json(
        {"sequence": sequence, "entry_count": entry_count, "heads": heads, "signed_at": signed_at}
    )


def key_id(public_key: str) -> str:
    """A short, stable name for a public key (base64 raw): the first 16 hex of its SHA-256."""
    return hashlib.sha256(base64.b64decode(public_key)).hexdigest()[:16]


class LedgerSigner:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key = base64.b64encode(raw).decode()
        self.key_id = key_id(self.public_key)

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self._private_key.sign(message)).decode()


def verify(public_key: str, message: bytes, signature: str) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key))
        key.verify(base64.b64decode(signature), message)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def load_signer() -> LedgerSigner:
    """The configured signing key, or the one kept in the data directory (made if missing)."""
    configured = settings().archive.ledger_signing_key
    if configured:
        return LedgerSigner(Ed25519PrivateKey.from_private_bytes(base64.b64decode(configured)))
    path = settings().runtime.data_dir / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = os.urandom(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(base64.b64encode(raw).decode())
        log.warning(
            "CASEBOOK_LEDGER_SIGNING_KEY is not set: generated a ledger signing key in %s. "
            "Set the variable from a secret store in production.", path,
        )
    return LedgerSigner(Ed25519PrivateKey.from_private_bytes(base64.b64decode(path.read_text())))
