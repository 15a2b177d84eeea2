"""`casebook keygen`: fresh secrets, RabbitMQ definitions whose users get only their own
resources, written as the files Compose mounts, and existing secrets are never overwritten by
accident."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

from services.runtime.cli.keygen import (
    DEFINITIONS_FILE,
    IMAGE_UID,
    OPERATOR_ONLY,
    OPERATOR_USER,
    ROOT_ONLY,
    broker_passwords,
    definitions,
    env_prefix,
    fresh_secrets,
    keygen,
    rabbit_password_hash,
    secret_file_name,
    subscribed_sources,
)
from services.runtime.launcher import SERVICES


def parse_env(text: str) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#")
    )


def test_the_password_hash_is_rabbitmqs_salted_sha256():
    encoded = rabbit_password_hash("s3cret", salt=b"\x01\x02\x03\x04")
    raw = base64.b64decode(encoded)
    assert raw[:4] == b"\x01\x02\x03\x04"
    assert raw[4:] == hashlib.sha256(b"\x01\x02\x03\x04" + b"s3cret").digest()
    assert rabbit_password_hash("s3cret") != rabbit_password_hash("s3cret")  # fresh salts


def test_every_secret_is_fresh_and_usable():
    first, second = fresh_secrets(), fresh_secrets()
    for service in SERVICES:
        key = first[f"{env_prefix(service)}_CIPHER_KEY"]
        assert key != second[f"{env_prefix(service)}_CIPHER_KEY"]
        cipher = AESCipher(Environment(env={"CIPHER_KEY": key}))
        assert cipher.decrypt(cipher.encrypt(b"minor's data")) == b"minor's data"
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", first[f"{env_prefix(service)}_AMQP_PASSWORD"])
    signing_key = base64.b64decode(first["CASEBOOK_LEDGER_SIGNING_KEY"])
    Ed25519PrivateKey.from_private_bytes(signing_key).sign(b"checkpoint")
    assert first["CASEBOOK_JWT_SECRET"] != second["CASEBOOK_JWT_SECRET"]
    assert first["POSTGRES_PASSWORD"] != second["POSTGRES_PASSWORD"]
    assert first["CASEBOOK_TRANSPORT_KEY"] != second["CASEBOOK_TRANSPORT_KEY"]
    assert len(base64.b64decode(first["CASEBOOK_TRANSPORT_KEY"], validate=True)) == 32


@pytest.fixture(scope="module")
def document() -> dict:
    secrets = fresh_secrets()
    return definitions(broker_passwords(secrets))


def grants(document: dict, user: str) -> dict[str, str]:
    [grant] = [p for p in document["permissions"] if p["user"] == user]
    return grant


def test_the_vhost_defaults_to_quorum_queues_and_each_service_has_a_user(document):
    [vhost] = document["vhosts"]
    assert vhost["name"] == "casebook"
    assert vhost["default_queue_type"] == vhost["metadata"]["default_queue_type"] == "quorum"
    users = {user["name"]: user for user in document["users"]}
    assert set(users) == {OPERATOR_USER, *SERVICES}
    assert all(u["hashing_algorithm"] == "rabbit_password_hashing_sha256" for u in users.values())
    assert all(u["tags"] == [] for name, u in users.items() if name != OPERATOR_USER)


@pytest.mark.parametrize("service", list(SERVICES))
def test_a_service_user_gets_only_its_own_patterns(document, service):
    grant = grants(document, service)
    sources = subscribed_sources(service)
    others = [s for s in SERVICES if s != service]

    def allows(kind: str, resource: str) -> bool:
        return re.fullmatch(grant[kind], resource) is not None

    # Its own exchange, RPC queue and reply queues.
    for kind in ("configure", "write"):
        assert allows(kind, f"{service}.events")
        assert allows(kind, f"rpc-{service}")
        assert allows(kind, "nameko-rpc")
        assert allows(kind, f"rpc.reply-{service}-1b4e28ba-2fa1-11d2-883f-0016d3cca427")
    assert allows("read", f"rpc-{service}")
    # Never another service's exchange to publish, nor its queues.
    for other in others:
        assert not allows("write", f"{other}.events")
        for kind in ("configure", "write", "read"):
            assert not allows(kind, f"rpc-{other}")
            assert not allows(kind, f"{other}.from.{service}")
            assert not allows(kind, f"{other}.from.{service}.dlq")
    # Its subscriptions: its own queues, bound to the sources' exchanges, and dead letters.
    for source in sources:
        assert allows("read", f"{source}.events")
        assert allows("configure", f"{service}.from.{source}")
        assert allows("configure", f"{service}.from.{source}.dlq")
        assert allows("read", f"{service}.from.{source}")
    for other in set(SERVICES) - set(sources) - {service}:
        assert not allows("read", f"{other}.events")
    assert allows("write", f"{service}.dead-letters") == bool(sources)
    assert not allows("write", "amq.default")  # it could reach any queue by name
    assert not allows("write", ".*") and not allows("configure", "amq.topic")


def test_on_the_rpc_exchange_a_service_binds_only_its_requests_and_its_replies(document):
    topic = {t["user"]: t for t in document["topic_permissions"]}
    assert set(topic) == set(SERVICES)
    for service, grant in topic.items():
        assert grant["exchange"] == "nameko-rpc"
        assert re.fullmatch(grant["read"], f"{service}.*")
        assert re.fullmatch(grant["read"], "1b4e28ba-2fa1-11d2-883f-0016d3cca427")
        for other in set(SERVICES) - {service}:
            assert not re.fullmatch(grant["read"], f"{other}.*")
        assert not re.fullmatch(grant["read"], "#")


def test_keygen_prints_without_writing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(keygen, [])
    assert result.exit_code == 0, result.output
    assert set(fresh_secrets()) <= set(parse_env(result.stdout))
    assert list(tmp_path.iterdir()) == []


def test_keygen_writes_secret_files_and_definitions_that_match(tmp_path):
    result = CliRunner().invoke(keygen, ["--write", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "cipher_key" in result.output  # the warning about losing keys
    secrets_dir = tmp_path / "secrets"
    assert secrets_dir.stat().st_mode & 0o077 == 0
    values = {}
    for variable in fresh_secrets():
        path = secrets_dir / secret_file_name(variable)
        assert path.stat().st_mode & 0o077 == 0, path
        if os.geteuid() == 0:  # the services' user in the image reads them; the operator's own
            owner = os.geteuid() if variable in OPERATOR_ONLY | ROOT_ONLY else IMAGE_UID
            assert path.stat().st_uid == owner, path
        values[variable] = path.read_text()
    document = json.loads((secrets_dir / DEFINITIONS_FILE).read_text())
    users = {user["name"]: user["password_hash"] for user in document["users"]}
    for user, password in broker_passwords(values).items():
        salt = base64.b64decode(users[user])[:4]
        assert rabbit_password_hash(password, salt) == users[user]
    # .env holds settings only, never a secret.
    env = (tmp_path / ".env").read_text()
    assert parse_env(env) == {"COMPOSE_PROJECT_NAME": "casebook",
                              "CASEBOOK_JWT_ISSUER": "casebook",
                              "CASEBOOK_JWT_AUDIENCE": "casebook-api"}
    assert not any(value in env for value in values.values())


def test_keygen_makes_a_self_signed_certificate_for_the_names_given(tmp_path):
    result = CliRunner().invoke(
        keygen, ["--write", str(tmp_path), "--tls-name", "localhost", "--tls-name", "127.0.0.1"]
    )
    assert result.exit_code == 0, result.output
    key = load_pem_private_key((tmp_path / "secrets" / "tls.key").read_bytes(), password=None)
    assert (tmp_path / "secrets" / "tls.key").stat().st_mode & 0o077 == 0
    certificate = x509.load_pem_x509_certificate((tmp_path / "secrets" / "tls.crt").read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert certificate.public_key() == key.public_key()
    assert certificate.issuer == certificate.subject  # self-signed: curl --cacert trusts it


def test_keygen_never_overwrites_existing_secrets_without_force(tmp_path):
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    (secrets_dir / "cases_cipher_key").write_text("the-key-that-decrypts-the-store")
    (tmp_path / ".env").write_text("CASEBOOK_HTTP_PORT=8080\n")
    result = CliRunner().invoke(keygen, ["--write", str(tmp_path)])
    assert result.exit_code != 0
    assert "unreadable" in result.output
    assert (secrets_dir / "cases_cipher_key").read_text() == "the-key-that-decrypts-the-store"
    assert sorted(p.name for p in secrets_dir.iterdir()) == ["cases_cipher_key"]

    result = CliRunner().invoke(keygen, ["--write", str(tmp_path), "--force"])
    assert result.exit_code == 0, result.output
    assert (secrets_dir / "cases_cipher_key").read_text() != "the-key-that-decrypts-the-store"
    # The site's settings stay.
    assert (tmp_path / ".env").read_text() == "CASEBOOK_HTTP_PORT=8080\n"


def test_keygen_missing_writes_only_the_secrets_an_older_deployment_lacks(tmp_path):
    assert CliRunner().invoke(keygen, ["--write", str(tmp_path)]).exit_code == 0
    secrets_dir = tmp_path / "secrets"
    before = {path.name: path.read_text() for path in secrets_dir.iterdir()}
    # Made before the transport key and the Erlang cookie were.
    added = ["casebook_transport_key", "rabbitmq_erlang_cookie"]
    for name in added:
        (secrets_dir / name).unlink()
    result = CliRunner().invoke(keygen, ["--write", str(tmp_path), "--missing"])
    assert result.exit_code == 0, result.output
    assert f"wrote {', '.join(added)}" in result.output
    after = {path.name: path.read_text() for path in secrets_dir.iterdir()}
    assert set(after) == set(before)
    assert [after[name] != before[name] for name in added] == [True, True]
    assert {name: text for name, text in after.items() if name not in added} == {
        name: text for name, text in before.items() if name not in added}
    cookie = (secrets_dir / "rabbitmq_erlang_cookie").stat()
    assert cookie.st_mode & 0o077 == 0 and cookie.st_uid == os.geteuid()
    # Nothing lacking: nothing written.
    again = CliRunner().invoke(keygen, ["--write", str(tmp_path), "--missing"])
    assert again.exit_code == 0 and "wrote nothing" in again.output


def test_keygen_missing_refuses_a_broker_password_it_would_need_definitions_for(tmp_path):
    assert CliRunner().invoke(keygen, ["--write", str(tmp_path)]).exit_code == 0
    secrets_dir = tmp_path / "secrets"
    (secrets_dir / "cases_amqp_password").unlink()
    result = CliRunner().invoke(keygen, ["--write", str(tmp_path), "--missing"])
    assert result.exit_code != 0
    assert "lacks cases_amqp_password: a broker user's password" in result.output
    assert not (secrets_dir / "cases_amqp_password").exists()
    assert CliRunner().invoke(keygen, ["--missing"]).exit_code == 2  # a usage error
