"""Bearer JWT authentication: who the caller is, as the actor the services authorise.

Keys come from the environment (docs/permissions.md lists the variables):
- `CASEBOOK_JWT_SECRET` (or the file `CASEBOOK_JWT_SECRET_FILE` names): HS256 shared secret,
  for development and `casebook token`.
- `CASEBOOK_JWT_PUBLIC_KEY`: path to a PEM public key, RS256 tokens of an identity provider.
- `CASEBOOK_JWT_JWKS`: path to a JWKS file, RS256 keys chosen by the token's `kid`.
- `CASEBOOK_JWT_ISSUER`, `CASEBOOK_JWT_AUDIENCE`: checked when set; required when
  `CASEBOOK_ENVIRONMENT=production`, where no secret is generated either.
With none of the three keys set, a random HS256 secret is made once under CASEBOOK_DATA_DIR
(`jwt-secret`, mode 0600), so a fresh checkout runs without a secret checked in anywhere, and
`casebook token` on the same machine mints tokens the gateway accepts.

Each key is bound to its algorithm: a token is verified only with the key of the algorithm in
its header, so an RS256 public key can never be used as an HS256 secret.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt.algorithms import RSAAlgorithm

from contracts.envelope import ROLES, SCHOOL_SCOPED_ROLES
from services.gateway.problems import Unauthenticated
from services.runtime.context import Actor
from services.runtime.settings import ConfigurationError, settings

DEV_SECRET_FILE = "jwt-secret"
# Roles a person can hold; `system` is the services' own actor and never comes from a token.
TOKEN_ROLES = tuple(role for role in ROLES if role != "system")
LEEWAY_SECONDS = 30


@dataclass(frozen=True)
class Keys:
    secret: str | None = None
    public_keys: Mapping[str | None, Any] = field(default_factory=dict)
    issuer: str | None = None
    audience: str | None = None


def keys_from_settings() -> Keys:
    """The token keys the gateway's settings name (services.runtime.settings)."""
    config = settings()
    gateway = config.gateway
    public: dict[str | None, Any] = {}
    if gateway.jwt_public_key:
        public[None] = load_pem_public_key(gateway.jwt_public_key.read_bytes())
    if gateway.jwt_jwks:
        document = json.loads(gateway.jwt_jwks.read_text())
        for jwk in document.get("keys", []):
            if jwk.get("kty") == "RSA" and jwk.get("use", "sig") == "sig":
                public[jwk.get("kid")] = RSAAlgorithm.from_jwk(json.dumps(jwk))
    secret = gateway.jwt_secret
    if config.runtime.production:
        # A token from another issuer, or minted for another application, must not open
        # minors' records: both are checked on every token, so both must be configured.
        missing = [name for name, value in (("CASEBOOK_JWT_ISSUER", gateway.jwt_issuer),
                                            ("CASEBOOK_JWT_AUDIENCE", gateway.jwt_audience))
                   if not value]
        if secret is None and not public:
            missing.append("CASEBOOK_JWT_SECRET (or CASEBOOK_JWT_PUBLIC_KEY / CASEBOOK_JWT_JWKS)")
        if missing:
            raise ConfigurationError(
                "CASEBOOK_ENVIRONMENT=production needs " + ", ".join(missing) + "."
            )
    if secret is None and not public:
        secret = dev_secret()
    return Keys(secret=secret, public_keys=public, issuer=gateway.jwt_issuer,
                audience=gateway.jwt_audience)


def dev_secret() -> str:
    """The development HS256 secret: CASEBOOK_JWT_SECRET, else one made once in the data dir."""
    config = settings()
    if config.gateway.jwt_secret:
        return config.gateway.jwt_secret
    path = config.runtime.data_dir / DEV_SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: read theirs
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def authenticate(authorization: str | None, keys: Keys) -> Actor:
    """The actor of a `Bearer <jwt>` header; Unauthenticated for anything else."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send a bearer token: `Authorization: Bearer <jwt>`.")
    token = token.strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthenticated("The bearer token is not a JWT.") from None
    algorithm = header.get("alg")
    if algorithm == "HS256" and keys.secret:
        key: Any = keys.secret
    elif algorithm == "RS256" and keys.public_keys:
        kid = header.get("kid")
        key = keys.public_keys.get(kid) or keys.public_keys.get(None)
        if key is None:
            raise Unauthenticated(f"No configured key has the token's kid {kid!r}.")
    else:
        raise Unauthenticated(f"Tokens signed with {algorithm!r} are not accepted here.")
    try:
        claims = jwt.decode(
            token, key, algorithms=[algorithm], issuer=keys.issuer, audience=keys.audience,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "sub"], "verify_aud": keys.audience is not None},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("The bearer token has expired.") from None
    except jwt.PyJWTError as error:
        raise Unauthenticated(f"The bearer token is not valid: {error}.") from None
    return actor_from_claims(claims)


def actor_from_claims(claims: Mapping[str, Any]) -> Actor:
    """The actor a token's claims name (`sub`, `role`, `school_id`), checked as for any caller."""
    subject, role, school = claims.get("sub"), claims.get("role"), claims.get("school_id")
    if not isinstance(subject, str) or not 1 <= len(subject) <= 128:
        raise Unauthenticated("The token's `sub` must be the actor id (1 to 128 characters).")
    if role not in TOKEN_ROLES:
        raise Unauthenticated(f"The token's `role` must be one of: {', '.join(TOKEN_ROLES)}.")
    if school is not None and (not isinstance(school, str) or not 1 <= len(school) <= 64):
        raise Unauthenticated("The token's `school_id` must be a school identifier or absent.")
    if role in SCHOOL_SCOPED_ROLES and not school:
        raise Unauthenticated(
            f"The role {role} works for one school: the token must carry its `school_id`."
        )
    return Actor(id=subject, role=str(role), school_id=school)


def mint(
    secret: str, role: str, subject: str, school_id: str | None = None, ttl: int = 3600,
    issuer: str | None = None, audience: str | None = None, now: float | None = None,
) -> str:
    """An HS256 development token with the claims the gateway reads."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {"sub": subject, "role": role, "iat": issued, "exp": issued + ttl}
    if school_id:
        claims["school_id"] = school_id
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")

