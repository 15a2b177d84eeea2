"""Sign-in at the organisation's OpenID Connect provider: the authorization code flow with PKCE
(RFC 7636, S256), a `state` against forged callbacks and a `nonce` against replayed ID tokens.

The person's role and school come from claims of the ID token (or of the userinfo answer, for a
provider that keeps them there), named and mapped by the console's settings, and become the
actor exactly as a bearer token's claims do at the gateway (`actor_from_claims`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.parse
import urllib.request
from dataclasses import dataclass
from functools import cache
from typing import Any

import jwt

from services.gateway.auth import LEEWAY_SECONDS, actor_from_claims
from services.gateway.problems import Unauthenticated
from services.runtime.context import Actor
from services.runtime.settings import Console as Settings

TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Pending:
    """What the console remembers between sending the person to the provider and their return."""

    state: str
    nonce: str
    verifier: str


def configured(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


@cache
def discovery(issuer: str) -> dict[str, Any]:
    """The provider's metadata (OpenID Connect Discovery 1.0), read once."""
    return _json(_open(f"{issuer.rstrip('/')}/.well-known/openid-configuration"))


def start(settings: Settings, redirect_uri: str,
          log_in_again: bool = False) -> tuple[str, Pending]:
    """The provider's authorization URL to send the person to, and what to remember; with
    `log_in_again`, one that asks the provider to ask for the login even while its own session
    is open (OpenID Connect Core 3.1.2.1, `prompt=login`)."""
    assert settings.oidc_issuer and settings.oidc_client_id
    pending = Pending(secrets.token_urlsafe(24), secrets.token_urlsafe(24),
                      secrets.token_urlsafe(48))
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(pending.verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": settings.oidc_client_id,
        "redirect_uri": redirect_uri, "scope": settings.oidc_scopes, "state": pending.state,
        "nonce": pending.nonce, "code_challenge": challenge, "code_challenge_method": "S256",
        **({"prompt": "login"} if log_in_again else {}),
    })
    endpoint = discovery(settings.oidc_issuer)["authorization_endpoint"]
    return f"{endpoint}?{query}", pending


def finish(settings: Settings, pending: Pending, state: str, code: str,
           redirect_uri: str) -> Actor:
    """The actor of the person the provider sent back with `code`; Unauthenticated if anything
    does not hold (state, token, signature, issuer, audience, nonce, role, school)."""
    assert settings.oidc_issuer and settings.oidc_client_id
    if not secrets.compare_digest(state, pending.state):
        raise Unauthenticated("The sign-in came back with another state than it was sent with.")
    metadata = discovery(settings.oidc_issuer)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": pending.verifier, "client_id": settings.oidc_client_id}
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "Accept": "application/json"}
    if settings.oidc_client_secret:
        pair = f"{_quoted(settings.oidc_client_id)}:{_quoted(settings.oidc_client_secret)}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    request = urllib.request.Request(metadata["token_endpoint"], method="POST", headers=headers,
                                     data=urllib.parse.urlencode(form).encode("ascii"))
    try:
        tokens = _json(_open(request))
    except OSError as error:
        raise Unauthenticated(f"The provider refused the sign-in code: {error}.") from None
    claims = _verified(settings, metadata, str(tokens.get("id_token", "")), pending.nonce)
    if settings.oidc_role_claim not in claims and metadata.get("userinfo_endpoint"):
        claims = {**_userinfo(metadata["userinfo_endpoint"], tokens), **claims}
    role = claims.get(settings.oidc_role_claim)
    return actor_from_claims({
        "sub": claims.get("sub"),
        "role": settings.oidc_roles.get(str(role), role),
        "school_id": claims.get(settings.oidc_school_claim),
    })


def end_session(settings: Settings, signed_out_uri: str) -> str | None:
    """Where to send a person who signs out, so that their session at the provider ends too
    (OpenID Connect RP-Initiated Logout 1.0, with `client_id` rather than the ID token, which
    the console does not keep); None for a provider that offers no such endpoint."""
    assert settings.oidc_issuer and settings.oidc_client_id
    endpoint = discovery(settings.oidc_issuer).get("end_session_endpoint")
    if not endpoint:
        return None
    query = urllib.parse.urlencode({"client_id": settings.oidc_client_id,
                                    "post_logout_redirect_uri": signed_out_uri})
    return f"{endpoint}?{query}"


def _verified(settings: Settings, metadata: dict[str, Any], id_token: str,
              nonce: str) -> dict[str, Any]:
    try:
        key = _keys(metadata["jwks_uri"]).get_signing_key_from_jwt(id_token)
        claims: dict[str, Any] = jwt.decode(
            id_token, key.key, algorithms=metadata.get("id_token_signing_alg_values_supported",
                                                       ["RS256"]),
            audience=settings.oidc_client_id, issuer=metadata["issuer"], leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub"]})
    except jwt.PyJWTError as error:
        raise Unauthenticated(f"The provider's ID token is not valid: {error}.") from None
    if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
        raise Unauthenticated("The ID token was not issued for this sign-in (nonce).")
    return claims


@cache
def _keys(jwks_uri: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(jwks_uri, timeout=TIMEOUT_SECONDS)


def _userinfo(endpoint: str, tokens: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(endpoint, headers={
        "Authorization": f"Bearer {tokens.get('access_token', '')}", "Accept": "application/json"})
    return _json(_open(request))


def _open(request: str | urllib.request.Request) -> bytes:
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
        body: bytes = answer.read()
        return body


def _json(body: bytes) -> dict[str, Any]:
    document = json.loads(body)
    if not isinstance(document, dict):
        raise Unauthenticated("The provider answered with something other than a JSON object.")
    return document


def _quoted(value: str) -> str:
    # RFC 6749 2.3.1: client credentials are form-encoded before the Basic scheme.
    return urllib.parse.quote(value, safe="")
