"""Personal content sealed per data subject, so that disposal can destroy it (crypto-shredding),
and committed to, so that whoever may read it can prove it is what was recorded.

Minors' personal content (names, contact details, notes) never goes into an event in clear: the
application seals it with the subject's own AES-GCM key and stores the token. Disposal (9.4e)
deletes the key: every event stays where it is, every hash chain still verifies (published
envelopes never held personal content), and the content can no longer be read anywhere. Subject
keys are wrapped with CIPHER_KEY when it is set, so a copied database alone opens nothing (and
unwrapped with an earlier key after a rotation: `services.runtime.cipher`).

Each token also carries a keyed commitment to its content (HMAC-SHA256 under a key derived from
the subject's key), which the envelope of its event publishes: the ledger then proves what was
recorded to anyone who may read it, and nothing to anyone once the key is destroyed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from contracts.envelope import canonical_json
from contracts.errors import Conflict
from services.runtime.cipher import KeyWrap
from services.runtime.clock import clock
from services.runtime.persistence import CasebookRecorder

TOKEN_PREFIX = "sealed:"
V1 = "sealed:v1:"  # sealed:v1:<subject>:<b64 nonce+ciphertext>
V2 = "sealed:v2:"  # sealed:v2:<subject>:<commitment>:<b64 nonce+ciphertext>
SHREDDED = "[destroyed]"
COMMITMENT_INFO = b"casebook commitment v1"


@dataclass(frozen=True)
class Token:
    subject_id: str
    commitment: str | None  # None for v1 tokens, sealed before commitments existed
    blob: bytes

    @property
    def aad(self) -> bytes:
        # A v2 token's commitment is authenticated with its content: changing either without
        # the subject's key makes the token unreadable.
        if self.commitment is None:
            return self.subject_id.encode()
        return f"{self.subject_id}:{self.commitment}".encode()


def parse(token: str) -> Token:
    if not isinstance(token, str) or not token.startswith((V1, V2)):
        raise ValueError("not a sealed token")
    rest, _, blob = token[len(V1):].rpartition(":")
    commitment = None
    if token.startswith(V2):
        rest, _, commitment = rest.rpartition(":")
    return Token(rest, commitment, base64.b64decode(blob))


def is_token(value: Any) -> bool:
    return isinstance(value, str) and value.startswith((V1, V2))


def commitment_of(token: str) -> str | None:
    """The keyed commitment a token carries (None for a v1 token): what envelopes publish."""
    return parse(token).commitment


class Vault:
    def __init__(self, recorder: CasebookRecorder, kek: KeyWrap) -> None:
        self.recorder = recorder
        self._kek = kek if kek else None

    def seal(self, subject_id: str, value: Any) -> str:
        """A token holding `value` (any JSON value) readable only while the subject's key lives,
        with a keyed commitment to it (`commit`)."""
        key = self._key(subject_id, create=True)
        if key is None:
            raise Conflict(
                f"The personal content of {subject_id} was destroyed; nothing new can be "
                "recorded for them.",
                code="wrong_state",
            )
        commitment = self._commit(key, subject_id, value)
        token = Token(subject_id, commitment, b"")
        nonce = os.urandom(12)
        data = AESGCM(key).encrypt(nonce, json.dumps(value).encode(), token.aad)
        return f"{V2}{subject_id}:{commitment}:{base64.b64encode(nonce + data).decode()}"

    def open(self, token: str) -> Any:
        """The sealed value, or SHREDDED once the subject's key was destroyed."""
        parsed = parse(token)
        key = self._key(parsed.subject_id, create=False)
        if key is None:
            return SHREDDED
        raw = parsed.blob
        return json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], parsed.aad))

    def check(self, token: str) -> bool | None:
        """Whether the token's content is what its commitment was made to; None when that cannot
        be known (a v1 token, or the subject's key destroyed). A token edited without its key
        does not open, and that is False too."""
        parsed = parse(token)
        key = self._key(parsed.subject_id, create=False)
        if key is None or parsed.commitment is None:
            return None
        try:
            value = self.open(token)
        except InvalidTag:
            return False
        return hmac.compare_digest(self._commit(key, parsed.subject_id, value),
                                   parsed.commitment)

    @staticmethod
    def _commit(key: bytes, subject_id: str, value: Any) -> str:
        """HMAC-SHA256 of the value's RFC 8785 form, under a key derived from the subject's key
        (HKDF, separate from the encryption key): provable by whoever may read the content,
        meaningless to everyone once the subject's key is destroyed."""
        commit_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=subject_id.encode(),
                          info=COMMITMENT_INFO).derive(key)
        return hmac.new(commit_key, canonical_json(value), hashlib.sha256).hexdigest()

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
        return "kek:" + base64.b64encode(nonce + self._kek.encrypt(nonce, key)).decode()

    def _unwrap(self, wrapped: str) -> bytes:
        kind, _, blob = wrapped.partition(":")
        raw = base64.b64decode(blob)
        if kind == "raw":
            return raw
        if self._kek is None:
            raise RuntimeError("subject keys are wrapped but CIPHER_KEY is not set")
        return self._kek.decrypt(raw[:12], raw[12:])
