"""Key rotation on SQLite and PostgreSQL. CIPHER_KEY: after it, what was stored under the old key
is still read (events, command outcomes, subject keys), everything new is encrypted under the new
key only, and a store whose old key was not kept says so instead of answering garbage. The
ledger signing key: checkpoints signed before verify once their key is trusted, new ones are
signed with the new key."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from typing import TypeVar

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.application import Application
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import MapperDeserialisationError

from services.archive.app import ArchiveApplication
from services.cases.app import CasesApplication
from services.runtime.cipher import NoKeyOpens
from services.runtime.commands import carry_out
from services.runtime.context import Actor, acting_as
from tests.unit.archive.streams import CasesStream, feed

A = TypeVar("A", bound=Application)
WORKER = Actor("worker-1", "social_worker", "JD001")
AUDITOR = Actor("auditor-1", "auditor", None)
OLD_KEY = base64.b64encode(os.urandom(32)).decode()
NEW_KEY = base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(autouse=True)
def closing() -> Iterator[None]:
    """Every application a test opens is closed after it: a PostgreSQL pool each."""
    yield
    while OPENED:
        OPENED.pop().close()


OPENED: list[Application] = []


def opened(kind: type[A], env: dict[str, str]) -> A:
    app = kind(env=env)
    OPENED.append(app)
    return app


def register(app: CasesApplication, name: str) -> tuple[str, str]:
    """A teacher registered by a command (so its outcome is stored too): (client id, command id)."""
    client_id, command_id = str(uuid.uuid4()), str(uuid.uuid4())
    with acting_as(WORKER, command_id=command_id):
        carry_out(app, "register_client", lambda: app.register_client(
            client_type="teacher", name=name, client_id=client_id))
    return client_id, command_id


def stored_states(app: CasesApplication, after: int) -> list[bytes]:
    return [notification.state for notification in app.notifications_after(after, 1000)]


def opens(key: str, state: bytes) -> bool:
    try:
        AESCipher({"CIPHER_KEY": key}).decrypt(state)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True


def unwraps(key: str, wrapped: str) -> bool:
    raw = base64.b64decode(wrapped.partition(":")[2])
    try:
        AESGCM(base64.b64decode(key)).decrypt(raw[:12], raw[12:], None)
    except Exception:
        return False
    return True


def test_after_a_rotation_old_records_read_and_new_ones_use_the_new_key(store):
    before = opened(CasesApplication, {**store, "CIPHER_KEY": OLD_KEY})
    old_client, old_command = register(before, "张老师")
    written = before.max_position()
    assert all(opens(OLD_KEY, state) for state in stored_states(before, 0))

    after = opened(CasesApplication, {**store, "CIPHER_KEY": NEW_KEY,
                                  "CIPHER_RETIRED_KEYS": f" {OLD_KEY} "})
    with acting_as(WORKER):
        assert after.get_client(old_client)["details"]["name"] == "张老师"
    assert after.stored_command(old_command) is not None
    new_client, new_command = register(after, "李老师")

    new_states = stored_states(after, written)
    assert new_states
    assert all(opens(NEW_KEY, state) and not opens(OLD_KEY, state) for state in new_states)
    new_key = after.outbox.subject_key(new_client)
    old_key = after.outbox.subject_key(old_client)
    assert new_key is not None and old_key is not None
    assert unwraps(NEW_KEY, new_key.wrapped_key) and not unwraps(OLD_KEY, new_key.wrapped_key)
    assert unwraps(OLD_KEY, old_key.wrapped_key)
    with acting_as(WORKER):
        assert after.get_client(new_client)["details"]["name"] == "李老师"
    outcome = after.stored_command(new_command)
    assert outcome is not None and after.decode_outcome(outcome.outcome) is not None


def test_a_rotation_that_dropped_the_old_key_is_named_not_misread(store):
    before = opened(CasesApplication, {**store, "CIPHER_KEY": OLD_KEY})
    client_id, _ = register(before, "张老师")

    forgot = opened(CasesApplication, {**store, "CIPHER_KEY": NEW_KEY})
    with acting_as(WORKER), pytest.raises(MapperDeserialisationError,
                                          match="missing from CIPHER_RETIRED_KEYS") as failed:
        forgot.get_client(client_id)
    assert isinstance(failed.value.__cause__, NoKeyOpens)


def test_keys_of_a_rotation_may_come_from_secret_files(store, tmp_path, monkeypatch):
    retired = tmp_path / "retired"
    retired.write_text(OLD_KEY + "\n")
    before = opened(CasesApplication, {**store, "CIPHER_KEY": OLD_KEY})
    client_id, _ = register(before, "张老师")
    monkeypatch.setenv("CIPHER_RETIRED_KEYS_FILE", str(retired))
    after = opened(CasesApplication, {**store, "CIPHER_KEY": NEW_KEY})
    with acting_as(WORKER):
        assert after.get_client(client_id)["details"]["name"] == "张老师"


def test_after_a_signing_key_rotation_old_checkpoints_verify_and_new_ones_use_the_new_key(
    store, monkeypatch
):
    monkeypatch.setenv("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", "1")
    stream = CasesStream()
    monkeypatch.setenv("CASEBOOK_LEDGER_SIGNING_KEY", OLD_KEY)
    before = opened(ArchiveApplication, store)
    feed(before, stream.open_case("client-1"))
    before.checkpoint_if_due()

    monkeypatch.setenv("CASEBOOK_LEDGER_SIGNING_KEY", NEW_KEY)
    after = opened(ArchiveApplication, store)
    with acting_as(AUDITOR):
        problems = after.verify_ledger(None)["checkpoints"]["problems"]
    # Not trusted until the operator says so: a rotation never silently vouches for old keys.
    assert [p["problem"] for p in problems] == [
        f"signed by key {before.signer.key_id}, which is not a trusted ledger key"]

    monkeypatch.setenv("CASEBOOK_LEDGER_TRUSTED_KEYS", before.signer.public_key)
    after = opened(ArchiveApplication, store)
    feed(after, stream.open_case("client-2"))
    after.checkpoint_if_due()
    with acting_as(AUDITOR):
        assert after.verify_ledger(None)["ok"]
        # Newest first.
        signed_by = [c["key_id"] for c in reversed(after.list_checkpoints()["items"])]
    assert signed_by[0] == before.signer.key_id != after.signer.key_id == signed_by[-1]
