"""Personal content sealed per data subject, so that disposal can destroy it (crypto-shredding).

Minors' personal content (names, contact details, notes) never goes into an event in clear: the
application seals it with the subject's own AES-GCM key and stores the token. Disposal (9.4e)
deletes the key: every event stays where it is, every hash chain still verifies (published
envelopes never held personal content), and the content can no longer be read anywhere. Subject
keys are wrapped with CIPHER_KEY when it is set, so a copied database alone opens nothing.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from contracts.errors import Conflict
from services.runtime.clock import clock
from services.runtime.persistence import CasebookRecorder

TOKEN_PREFIX = "sealed:v1:"
SHREDDED = "[destroyed]"


class Vault:
    def __init__(self, recorder: CasebookRecorder, cipher_key: str | None) -> None:
        self.recorder = recorder
        self._kek = AESGCM(base64.b64decode(cipher_key)) if cipher_key else None

    def seal(self, subject_id: str, value: Any) -> str:
        """A token holding `value` (any JSON value) readable only while the subject's key lives."""
        key = self._key(subject_id, create=True)
        if key is None:
            raise Conflict(
                f"The personal content of {subject_id} was destroyed; nothing new can be "
                "recorded for them.",
                code="wrong_state",
            )
        nonce = os.urandom(12)
        data = AESGCM(key).encrypt(nonce, json.dumps(value).encode(), subject_id.encode())
        return f"{TOKEN_PREFIX}{subject_id}:{base64.b64encode(nonce + data).decode()}"

    def open(self, token: str) -> Any:
        """The sealed value, or SHREDDED once the subject's key was destroyed."""
        if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
            raise ValueError("not a sealed token")
        subject_id, _, blob = token[len(TOKEN_PREFIX) :].rpartition(":")
        key = self._key(subject_id, create=False)
        if key is None:
            return SHREDDED
        raw = base64.b64decode(blob)
        return json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], subject_id.encode()))

    def shred(self, subject_id: str) -> bool:
        """Destroy the subject's key; True if there was one to destroy."""
        return self.recorder.shred_subject_key(subject_id, clock.now().isoformat())

    def is_shredded(self, subject_id: str) -> bool:
        stored = self.recorder.subject_key(subject_id)
        return stored is not None and stored.wrapped_key is None

    def _key(self, subject_id: str, create: bool) -> bytes | None:
        stored = self.recorder.subject_key(subject_id)
        if stored is None and create:
            self.recorder.insert_subject_key(subject_id, self._wrap(AESGCM.generate_key(256)))
            stored = self.recorder.subject_key(subject_id)
        if stored is None or stored.wrapped_key is None:
            return None
        return self._unwrap(stored.wrapped_key)

    def _wrap(self, key: bytes) -> str:
        if self._kek is None:
            return "raw:" + base64.b64encode(key).decode()
        nonce = os.urandom(12)
        return "kek:" + base64.b64encode(nonce + self._kek.encrypt(nonce, key, None)).decode()

    def _unwrap(self, wrapped: str) -> bytes:
        kind, _, blob = wrapped.partition(":")
        raw = base64.b64decode(blob)
        if kind == "raw":
            return raw
        if self._kek is None:
            raise RuntimeError("subject keys are wrapped but CIPHER_KEY is not set")
        return self._kek.decrypt(raw[:12], raw[12:], None)
