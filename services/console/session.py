"""The console's session: who is signed in, their CSRF token and language, in one cookie.

The cookie is signed (HMAC-SHA256 with CASEBOOK_CONSOLE_SECRET) and so cannot be forged or
altered; it holds no personal content, only the actor's id, role and school. It is HttpOnly (no
script reads it), SameSite=Lax (no other site's form or frame sends it) and Secure whenever the
console is reached over TLS. Every form carries the session's CSRF token and every POST is
refused without it, so a signed-in person's browser cannot be made to submit one elsewhere.

A sign-in ends CASEBOOK_CONSOLE_SESSION_HOURS after it began, and CASEBOOK_CONSOLE_IDLE_MINUTES
after its last request: school computers are shared, and one left signed in would otherwise
show the next person a social worker's cases for the rest of the day. The pages warn before
that and take themselves off the screen when it comes (static/idle.js).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from werkzeug.wrappers import Request, Response

from services.console.i18n import DEFAULT_LOCALE, negotiate
from services.gateway.auth import dev_secret
from services.runtime.context import Actor
from services.runtime.settings import ConfigurationError, settings

COOKIE = "casebook_console"


@dataclass(frozen=True)
class Session:
    csrf: str
    locale: str = DEFAULT_LOCALE
    actor: Actor | None = None
    expires: float = 0.0  # epoch seconds; the sign-in ends then
    seen: float = 0.0  # epoch seconds of the sign-in's last request
    # A sign-in under way at the identity provider: its state, nonce and PKCE verifier.
    pending: dict[str, str] | None = None
    # Signed in at the identity provider: signing out ends the provider's session too.
    at_provider: bool = False
    # A sign-in at the provider that ended with nobody there to be sent to the provider's
    # end-session page (unused, or its hours over): the provider's own session may still be
    # open, and would sign the next person at this browser in as the last without asking. The
    # next sign-in there asks the provider to ask for the login again.
    log_in_again: bool = False

    def signed_in(self, actor: Actor, hours: float, at_provider: bool = False) -> Session:
        # A new CSRF token at sign-in: a token seen before it is worth nothing after.
        now = time.time()
        return replace(self, actor=actor, csrf=secrets.token_urlsafe(32),
                       expires=now + hours * 3600, seen=now, pending=None,
                       at_provider=at_provider, log_in_again=False)

    def signed_out(self) -> Session:
        return Session(csrf=secrets.token_urlsafe(32), locale=self.locale)

    def ended_unattended(self) -> Session:
        """Signed out by the console itself, not by the person (see `log_in_again`)."""
        return replace(self.signed_out(), log_in_again=self.at_provider)

    def accepts(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf, str(token))


def session_key() -> bytes:
    """The key that signs the cookies: CASEBOOK_CONSOLE_SECRET; in development one derived from
    the development token secret, so a fresh checkout runs with none checked in."""
    config = settings()
    if config.console.secret:
        return config.console.secret.encode("utf-8")
    if config.runtime.production:
        raise ConfigurationError("CASEBOOK_ENVIRONMENT=production needs CASEBOOK_CONSOLE_SECRET.")
    return hmac.new(dev_secret().encode("utf-8"), b"casebook console sessions",
                    hashlib.sha256).digest()


def load(request: Request, key: bytes, idle_minutes: float) -> Session:
    """The request's session, this request its last; a new, signed-out one if it has none, or
    a forged one, or one whose sign-in has ended (its hours over, or `idle_minutes` since its
    last request)."""
    state = _verified(request.cookies.get(COOKIE, ""), key)
    if state is None:
        return Session(csrf=secrets.token_urlsafe(32))
    actor = state.get("actor")
    session = Session(csrf=str(state["csrf"]), locale=negotiate(state.get("locale")),
                      actor=Actor(**actor) if actor else None,
                      expires=float(state.get("expires", 0)), seen=float(state.get("seen", 0)),
                      pending=state.get("pending"), at_provider=bool(state.get("at_provider")),
                      log_in_again=bool(state.get("log_in_again")))
    if session.actor is None:
        return session
    now = time.time()
    if session.expires < now or session.seen + idle_minutes * 60 < now:
        return session.ended_unattended()
    return replace(session, seen=now)


def store(response: Response, session: Session, key: bytes, secure: bool) -> None:
    state: dict[str, Any] = {"csrf": session.csrf, "locale": session.locale,
                             "actor": asdict(session.actor) if session.actor else None,
                             "expires": session.expires, "seen": session.seen,
                             "pending": session.pending,
                             "at_provider": session.at_provider,
                             "log_in_again": session.log_in_again}
    body = base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode("utf-8"))
    value = f"{body.decode('ascii')}.{_signature(body, key)}"
    response.set_cookie(COOKIE, value, httponly=True, samesite="Lax", secure=secure, path="/")


def _signature(body: bytes, key: bytes) -> str:
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def _verified(value: str, key: bytes) -> dict[str, Any] | None:
    body, _, signature = value.encode("ascii", "replace").rpartition(b".")
    if not body or not hmac.compare_digest(_signature(body, key).encode("ascii"), signature):
        return None
    try:
        state = json.loads(base64.urlsafe_b64decode(body))
    except (binascii.Error, ValueError):
        return None
    return state if isinstance(state, dict) and "csrf" in state else None
