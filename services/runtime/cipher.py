"""Encryption at rest under `CIPHER_KEY`, with key rotation.

A store's events are immutable, so a key they were encrypted with is needed for as long as they
are kept. Rotation therefore means: the new key (`CIPHER_KEY`) encrypts everything written from
now on, and the earlier keys (`CIPHER_RETIRED_KEYS`, newest first) still decrypt what they
encrypted. AES-GCM authenticates, so trying the keys in turn is safe: a wrong key fails its tag,
never yields garbage. The same keys wrap the vault's subject keys (`services.runtime.vault`).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import Cipher

from services.runtime.secrets import rotated_keys

CIPHER_KEY = "CIPHER_KEY"
RETIRED_KEYS = "CIPHER_RETIRED_KEYS"
TOPIC = "services.runtime.cipher:RotatingCipher"


class NoKeyOpens(RuntimeError):
    """No configured key (current or retired) decrypts this: a retired key is missing. A
    failure of configuration, never "not found" nor bad input."""


def keys_of(env: Mapping[str, str]) -> list[str]:
    """The current key, then the retired ones, as configured in `env` (base64 each)."""
    return rotated_keys(env.get(CIPHER_KEY), env.get(RETIRED_KEYS))


class RotatingCipher(Cipher):
    """eventsourcing's AES-GCM cipher (its stored format), encrypting with the current key and
    decrypting with whichever configured key the data was encrypted with."""

    def __init__(self, environment: Mapping[str, str]) -> None:
        keys = keys_of(environment)
        if not keys:
            raise OSError(f"'{CIPHER_KEY}' not in env")
        self._ciphers = [AESCipher({CIPHER_KEY: key}) for key in keys]  # type: ignore[arg-type]

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._ciphers[0].encrypt(plaintext)

    def decrypt(self, ciphertext: bytes) -> bytes:
        for cipher in self._ciphers:
            try:
                return cipher.decrypt(ciphertext)
            except ValueError as error:  # eventsourcing raises ValueError on a failed tag
                if not isinstance(error.__cause__, InvalidTag):
                    raise
        raise NoKeyOpens(f"none of the {len(self._ciphers)} configured cipher keys decrypts "
                         f"this record: is an earlier key missing from {RETIRED_KEYS}?")


class KeyWrap:
    """AES-GCM under the current key for new data, any configured key for old: what wraps the
    vault's subject keys, and seals RPC bodies (services.runtime.transport)."""

    def __init__(self, keys: Sequence[str], retired: str = RETIRED_KEYS) -> None:
        self._keys = [AESGCM(base64.b64decode(key)) for key in keys]
        self._retired = retired  # where an earlier key is configured, for the error

    def __bool__(self) -> bool:
        return bool(self._keys)

    def encrypt(self, nonce: bytes, data: bytes) -> bytes:
        return self._keys[0].encrypt(nonce, data, None)

    def decrypt(self, nonce: bytes, data: bytes) -> bytes:
        for key in self._keys:
            try:
                return key.decrypt(nonce, data, None)
            except InvalidTag:
                continue
        raise NoKeyOpens(f"none of the {len(self._keys)} configured keys opens this: is an "
                         f"earlier key missing from {self._retired}?")
