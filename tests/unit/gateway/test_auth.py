"""Bearer tokens: who the caller is, or 401."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from services.gateway.auth import Keys, authenticate, dev_secret, keys_from_settings, mint
from services.gateway.problems import Unauthenticated
from services.runtime.context import Actor
from services.runtime.settings import ConfigurationError

SECRET = "unit-test-secret-of-a-reasonable-length-000"
KEYS = Keys(secret=SECRET)


def bearer(token: str) -> str:
    return f"Bearer {token}"


def keys_with(monkeypatch: pytest.MonkeyPatch, **environ: str) -> Keys:
    """The keys the gateway reads from these settings."""
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return keys_from_settings()


def test_a_minted_token_names_the_actor() -> None:
    token = mint(SECRET, "social_worker", "worker-1", "JD001")
    assert authenticate(bearer(token), KEYS) == Actor("worker-1", "social_worker", "JD001")


def test_an_auditor_without_a_school() -> None:
    token = mint(SECRET, "auditor", "auditor-1")
    assert authenticate(bearer(token), KEYS) == Actor("auditor-1", "auditor", None)


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer x.y.z"])
def test_no_token_or_no_jwt_is_unauthenticated(header: str | None) -> None:
    with pytest.raises(Unauthenticated):
        authenticate(header, KEYS)


def test_an_expired_token_is_refused() -> None:
    token = mint(SECRET, "supervisor", "s-1", ttl=60, now=time.time() - 3600)
    with pytest.raises(Unauthenticated, match="expired"):
        authenticate(bearer(token), KEYS)


def test_a_forged_signature_is_refused() -> None:
    token = mint("another-secret-another-secret-another-00", "supervisor", "s-1")
    with pytest.raises(Unauthenticated, match="not valid"):
        authenticate(bearer(token), KEYS)


def test_the_system_role_and_unknown_roles_never_come_from_a_token() -> None:
    for role in ("system", "headmaster"):
        with pytest.raises(Unauthenticated, match="role"):
            authenticate(bearer(mint(SECRET, role, "x")), KEYS)


def test_a_token_without_expiry_is_refused() -> None:
    token = jwt.encode({"sub": "w", "role": "social_worker"}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated):
        authenticate(bearer(token), KEYS)


def test_issuer_and_audience_are_checked_when_configured() -> None:
    keys = Keys(secret=SECRET, issuer="https://idp.example", audience="casebook")
    good = mint(SECRET, "auditor", "a", issuer="https://idp.example", audience="casebook")
    assert authenticate(bearer(good), keys).id == "a"
    for wrong in (mint(SECRET, "auditor", "a", audience="casebook"),
                  mint(SECRET, "auditor", "a", issuer="https://idp.example", audience="other")):
        with pytest.raises(Unauthenticated):
            authenticate(bearer(wrong), keys)


def _rsa_pair() -> tuple[bytes, bytes]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
        private.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo),
    )


def _rs256(private_pem: bytes, kid: str | None = None) -> str:
    claims = {"sub": "sup-9", "role": "supervisor", "school_id": "JD002",
              "exp": int(time.time()) + 600}
    return jwt.encode(claims, private_pem, algorithm="RS256",
                      headers={"kid": kid} if kid else None)


def test_rs256_with_a_public_key_file(tmp_path, monkeypatch) -> None:
    private_pem, public_pem = _rsa_pair()
    (tmp_path / "idp.pem").write_bytes(public_pem)
    keys = keys_with(monkeypatch, CASEBOOK_JWT_PUBLIC_KEY=str(tmp_path / "idp.pem"))
    assert keys.secret is None
    assert authenticate(bearer(_rs256(private_pem)), keys).school_id == "JD002"
    # An HS256 token is not accepted when only an identity provider's key is configured.
    with pytest.raises(Unauthenticated, match="HS256"):
        authenticate(bearer(mint(SECRET, "supervisor", "x")), keys)


def test_rs256_with_a_jwks_file_chooses_the_key_by_kid(tmp_path, monkeypatch) -> None:
    first_private, first_public = _rsa_pair()
    second_private, _ = _rsa_pair()
    jwk = json.loads(RSAAlgorithm.to_jwk(serialization.load_pem_public_key(first_public)))
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [{**jwk, "kid": "k1"}]}))
    keys = keys_with(monkeypatch, CASEBOOK_JWT_JWKS=str(tmp_path / "jwks.json"))
    assert authenticate(bearer(_rs256(first_private, "k1")), keys).id == "sup-9"
    with pytest.raises(Unauthenticated):
        authenticate(bearer(_rs256(second_private, "k1")), keys)
    with pytest.raises(Unauthenticated, match="kid"):
        authenticate(bearer(_rs256(first_private, "k2")), keys)


def test_without_configured_keys_a_development_secret_is_made_once(tmp_path,
                                                                    monkeypatch) -> None:
    monkeypatch.setenv("CASEBOOK_DATA_DIR", str(tmp_path))
    first = dev_secret()
    assert first == dev_secret() == keys_from_settings().secret
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("CASEBOOK_JWT_SECRET", "configured")
    assert dev_secret() == "configured"


def test_production_needs_issuer_audience_and_a_configured_key(tmp_path, monkeypatch) -> None:
    production = {"CASEBOOK_ENVIRONMENT": "production", "CASEBOOK_DATA_DIR": str(tmp_path)}
    with pytest.raises(ConfigurationError) as missing:
        keys_with(monkeypatch, **production)
    for name in ("CASEBOOK_JWT_ISSUER", "CASEBOOK_JWT_AUDIENCE", "CASEBOOK_JWT_SECRET"):
        assert name in str(missing.value)
    assert not (tmp_path / "jwt-secret").exists()  # no development secret is made
    keys = keys_with(monkeypatch, CASEBOOK_JWT_SECRET=SECRET,
                     CASEBOOK_JWT_ISSUER="https://idp.example.test",
                     CASEBOOK_JWT_AUDIENCE="casebook")
    # And then a token from another issuer or for another audience is refused.
    with pytest.raises(Unauthenticated):
        authenticate(bearer(mint(SECRET, "auditor", "a-1", audience="casebook")), keys)
    with pytest.raises(Unauthenticated):
        authenticate(bearer(mint(SECRET, "auditor", "a-1", issuer="https://idp.example.test",
                                 audience="another-app")), keys)
    good = mint(SECRET, "auditor", "a-1", issuer="https://idp.example.test", audience="casebook")
    assert authenticate(bearer(good), keys) == Actor("a-1", "auditor")


@pytest.mark.parametrize("role", ["social_worker", "supervisor", "archivist", "school_admin"])
def test_a_school_scoped_role_needs_its_school_in_the_token(role: str) -> None:
    with pytest.raises(Unauthenticated) as refused:
        authenticate(bearer(mint(SECRET, role, "someone-1")), KEYS)
    assert "school_id" in str(refused.value)
