"""The RPC encoding (services.runtime.transport): JSON without a key, sealed with one, opened
with a retired key after a rotation; a wrong key setting refuses to start, naming it."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import pytest
from kombu.serialization import dumps, loads

from services.runtime import transport
from services.runtime.cipher import NoKeyOpens
from services.runtime.settings import ConfigurationError, settings

BODY = {"args": [{"name": "王小明", "guardians": [{"contact": "138-0000-0000"}]}], "kwargs": {}}


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def keys(monkeypatch) -> Iterator[pytest.MonkeyPatch]:
    """The environment to set keys in; the encoding registered afresh from it, and as it was
    after the test."""
    yield monkeypatch
    for name in ("CASEBOOK_TRANSPORT_KEY", "CASEBOOK_TRANSPORT_RETIRED_KEYS"):
        monkeypatch.delenv(name, raising=False)
    transport.register()


def test_without_a_key_the_encoding_is_nameko_s_json(keys):
    transport.register()
    assert dumps(BODY, transport.SERIALIZER) == dumps(BODY, "json")


def test_with_a_key_each_body_is_sealed_afresh_and_opens_again(keys):
    keys.setenv("CASEBOOK_TRANSPORT_KEY", key())
    transport.register()
    content_type, encoding, first = dumps(BODY, transport.SERIALIZER)
    second = dumps(BODY, transport.SERIALIZER)[2]
    assert (content_type, encoding) == (transport.SEALED, "binary")
    assert first != second  # a nonce of its own each time
    for sealed in (first, second):
        assert "王小明".encode() not in sealed and b"138-0000-0000" not in sealed
        assert loads(sealed, content_type, encoding) == BODY
    # JSON still comes in, and is still answered in JSON (nameko answers in the request's type).
    plain = dumps(BODY, "json")
    assert loads(plain[2], plain[0], plain[1]) == BODY
    assert dumps(BODY, "json")[0] == "application/json"


def test_after_a_rotation_the_retired_key_still_opens_and_a_stranger_s_does_not(keys):
    old, new = key(), key()
    keys.setenv("CASEBOOK_TRANSPORT_KEY", old)
    transport.register()
    sealed = transport.seal(BODY)
    keys.setenv("CASEBOOK_TRANSPORT_KEY", new)
    keys.setenv("CASEBOOK_TRANSPORT_RETIRED_KEYS", old)
    assert transport.unseal(sealed) == BODY
    assert transport.unseal(transport.seal(BODY)) == BODY
    keys.delenv("CASEBOOK_TRANSPORT_RETIRED_KEYS")
    with pytest.raises(NoKeyOpens, match="missing from CASEBOOK_TRANSPORT_RETIRED_KEYS"):
        transport.unseal(sealed)


def test_the_key_may_be_a_file(keys, tmp_path):
    path = tmp_path / "casebook_transport_key"
    written = key()
    path.write_text(written + "\n")
    keys.setenv("CASEBOOK_TRANSPORT_KEY_FILE", str(path))
    assert settings().runtime.transport_keys == (written,)


@pytest.mark.parametrize(("environment", "message"), [
    ({"CASEBOOK_TRANSPORT_KEY": "not base64!"},
     "CASEBOOK_TRANSPORT_KEY: Must be an AES key of 16, 24 or 32 bytes in base64"),
    ({"CASEBOOK_TRANSPORT_KEY": base64.b64encode(b"short").decode()},
     "CASEBOOK_TRANSPORT_KEY: Must be an AES key of 16, 24 or 32 bytes in base64"),
    ({"CASEBOOK_TRANSPORT_KEY": key(), "CASEBOOK_TRANSPORT_RETIRED_KEYS": "AAAA"},
     "CASEBOOK_TRANSPORT_RETIRED_KEYS: Must be an AES key of 16, 24 or 32 bytes in base64"),
    ({"CASEBOOK_TRANSPORT_RETIRED_KEYS": key()},
     "CASEBOOK_TRANSPORT_RETIRED_KEYS is set without CASEBOOK_TRANSPORT_KEY"),
], ids=["not-base64", "too-short", "retired-too-short", "retired-alone"])
def test_a_wrong_key_setting_is_refused_naming_it(keys, environment, message):
    for name, value in environment.items():
        keys.setenv(name, value)
    with pytest.raises(ConfigurationError, match=message):
        settings()
