"""RPC bodies sealed on their way through RabbitMQ, and while they wait there.

A command reaches its service as an RPC request through RabbitMQ, and its answer, or a query's,
comes back the same way: both hold personal content (a client's name, a guardian's telephone, a
case's notes). RabbitMQ writes the messages of its quorum queues (each service's `rpc-<service>`
queue) to its disk before they are consumed, in its write-ahead log and then the queue's
segment files, and clears them from there only later: in clear, where neither the stores'
`CIPHER_KEY` nor the vault reaches. With `CASEBOOK_TRANSPORT_KEY` set, every RPC request and
reply a Casebook process sends is sealed with AES-GCM under it (a fresh nonce each), so the
broker's disk, its management UI and whoever may read a queue hold ciphertext only. The domain
events hold no personal content and are read by integrators: they stay plain JSON.

Every process that calls or answers RPC needs the key: each service, the gateway, the console
and the `casebook` CLI. Without one the encoding is nameko's JSON, byte for byte, so that a
deployment that sets no key speaks as it always did. A process with the key still understands
plain JSON (a caller not yet given the key, while every process is restarted with it), and
answers each request in the encoding it came in (nameko's rule). Rotation: the new key in
`CASEBOOK_TRANSPORT_KEY`, the one before in `CASEBOOK_TRANSPORT_RETIRED_KEYS` until every
process has the new key and the requests sealed with the old one are consumed.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import kombu.serialization
from kombu.utils import json

from services.runtime.cipher import KeyWrap
from services.runtime.settings import TRANSPORT_RETIRED_KEYS, settings

SERIALIZER = "casebook"  # nameko's `serializer` (deploy/config.yaml, services.runtime.replies)
ACCEPTED = [SERIALIZER, "json"]  # nameko's `ACCEPT`
SEALED = "application/x-casebook-sealed"
NONCE_BYTES = 12


def _keys() -> KeyWrap:
    return _wrap(settings().runtime.transport_keys)


@functools.lru_cache(maxsize=4)
def _wrap(keys: tuple[str, ...]) -> KeyWrap:
    # Made once per set of keys, not per message: a rotation brings a new set.
    return KeyWrap(keys, retired=TRANSPORT_RETIRED_KEYS)


def seal(body: Any) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _keys().encrypt(nonce, json.dumps(body).encode())


def unseal(data: bytes) -> Any:
    return json.loads(_keys().decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:]))


def register() -> None:
    """`casebook` as kombu knows it in this process: sealed when a transport key is configured,
    else nameko's JSON under another name. Done when this module is imported, by whatever
    speaks RPC (services.runtime.entrypoints, services.runtime.replies), before nameko checks
    that its serializer exists; again by a test that changes the key."""
    if settings().runtime.transport_keys:
        # JSON requests are answered in JSON: the content type maps back to `json` itself.
        kombu.serialization.register_json()
        kombu.serialization.register(SERIALIZER, seal, unseal, content_type=SEALED,
                                     content_encoding="binary")
    else:
        kombu.serialization.register(SERIALIZER, json.dumps, json.loads,
                                     content_type="application/json", content_encoding="utf-8")


register()
