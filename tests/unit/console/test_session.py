"""The console's session cookie and CSRF tokens, through the console's own request handling (no
service is called before sign-in)."""

from __future__ import annotations

import base64
import json
import re

import pytest
from environs import EnvValidationError
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from services.console import session as session_module
from services.console.pages import Console
from services.console.service import ConsoleIdempotency
from services.console.session import COOKIE, Session, session_key
from services.gateway.auth import Keys
from services.gateway.dispatch import Gateway
from services.runtime.context import Actor
from services.runtime.settings import ConfigurationError, settings


def nothing_called(*_: object) -> None:
    raise AssertionError("no service is called before sign-in")


def console_client() -> Client:
    """A browser of the console as the settings now are."""
    config = settings()
    console = Console(Gateway(Keys(), ConsoleIdempotency(), config.gateway), config.console,
                      session_key())

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        response: Response = console.handle(Request(environ), nothing_called)
        return response(environ, start_response)

    return Client(app)


@pytest.fixture
def browser(monkeypatch) -> Client:
    monkeypatch.setenv("CASEBOOK_CONSOLE_DEV_SIGN_IN", "true")
    return console_client()


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_the_cookie_is_httponly_and_samesite_lax_and_secure_only_over_tls(browser):
    plain = browser.get("/sign-in").headers["Set-Cookie"]
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    proxied = browser.get("/sign-in", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in proxied.headers["Set-Cookie"]


def test_a_form_without_the_sessions_csrf_token_is_refused(browser):
    page = browser.get("/sign-in").get_data(as_text=True)
    assert browser.post("/sign-in", data={"person": "0"}).status_code == 403
    assert browser.post("/sign-in", data={"person": "0", "csrf": "forged"}).status_code == 403
    signed_in = browser.post("/sign-in", data={"person": "0", "csrf": csrf_of(page)})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/caseload"


def test_a_signed_in_session_ends_at_sign_out_and_its_token_with_it(browser):
    token = csrf_of(browser.get("/sign-in").get_data(as_text=True))
    browser.post("/sign-in", data={"person": "0", "csrf": token})
    page = browser.get("/clients/new")  # signed in: the page renders without a service call
    fresh = csrf_of(page.get_data(as_text=True))
    assert fresh != token  # a new token at sign-in
    assert browser.post("/sign-out", data={"csrf": fresh}).status_code == 302
    assert browser.get("/clients/new").headers["Location"] == "/sign-in"
    assert browser.post("/sign-out", data={"csrf": fresh}).status_code == 403


def test_an_altered_cookie_is_a_new_signed_out_session(browser):
    token = csrf_of(browser.get("/sign-in").get_data(as_text=True))
    browser.post("/sign-in", data={"person": "0", "csrf": token})
    value = browser.get_cookie(COOKIE).value
    body, _, signature = value.rpartition(".")
    browser.set_cookie(COOKIE, body[:-4] + "AAA=" + "." + signature)
    assert browser.get("/caseload").headers["Location"] == "/sign-in"


def test_the_development_sign_in_is_off_unless_configured(browser, monkeypatch):
    monkeypatch.delenv("CASEBOOK_CONSOLE_DEV_SIGN_IN")
    client = console_client()
    page = client.get("/sign-in").get_data(as_text=True)
    assert 'name="person"' not in page
    assert client.post("/sign-in", data={"person": "0", "csrf": csrf_of(page)}).status_code == 400


def test_production_has_no_development_sign_in_whatever_the_setting(browser, monkeypatch):
    monkeypatch.setenv("CASEBOOK_ENVIRONMENT", "production")
    assert 'name="person"' not in browser.get("/sign-in").get_data(as_text=True)


def test_production_needs_a_session_secret(monkeypatch):
    monkeypatch.setenv("CASEBOOK_ENVIRONMENT", "production")
    monkeypatch.delenv("CASEBOOK_CONSOLE_SECRET", raising=False)
    with pytest.raises(ConfigurationError, match="CASEBOOK_CONSOLE_SECRET"):
        session_key()


def test_pages_answer_in_chinese_until_english_is_asked_for(browser):
    page = browser.get("/sign-in").get_data(as_text=True)
    assert "<title>登录" in page
    browser.post("/language", data={"locale": "en", "next": "/sign-in", "csrf": csrf_of(page)})
    assert "<title>Sign in" in browser.get("/sign-in").get_data(as_text=True)


def test_every_page_names_the_consoles_icon_and_the_icon_is_served(browser):
    # Without one, a browser asks for /favicon.ico on every page and logs its 404 as an error.
    page = browser.get("/sign-in").get_data(as_text=True)
    icon = re.search(r'<link rel="icon" href="([^"]+)"', page)
    assert icon and icon.group(1).startswith("/static/")
    answer = browser.get(icon.group(1))
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("image/svg+xml")
    assert answer.get_data(as_text=True).startswith("<svg ")


class Clock:
    """The session's wall clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += minutes * 60


def test_a_sign_in_ends_after_its_idle_minutes_without_a_request(browser, monkeypatch):
    # CASEBOOK_CONSOLE_IDLE_MINUTES as it is unless set: thirty.
    clock = Clock()
    monkeypatch.setattr(session_module, "time", clock)
    browser.post("/sign-in", data={"person": "0", "csrf": csrf_of(
        browser.get("/sign-in").get_data(as_text=True))})
    page = browser.get("/clients/new")
    assert page.status_code == 200
    # The page says how long the sign-in lasts unused, for static/idle.js to warn before.
    assert 'data-idle-seconds="1800"' in page.get_data(as_text=True)
    # Each request starts the thirty minutes again: an hour in use stays signed in.
    for _ in range(2):
        clock.advance(29)
        assert browser.get("/clients/new").status_code == 200
    clock.advance(25)
    assert browser.get("/still-here").status_code == 204  # what idle.js sends: a request too
    clock.advance(29)
    assert browser.get("/clients/new").status_code == 200
    # Thirty-one minutes unused: signed out, the page and idle.js's request alike.
    clock.advance(31)
    assert browser.get("/clients/new").headers["Location"] == "/sign-in"
    assert browser.get("/still-here").headers["Location"] == "/sign-in"
    signed_out = browser.get("/sign-in").get_data(as_text=True)
    assert "data-idle-seconds" not in signed_out and "idle.js" not in signed_out


def test_a_sign_in_ends_at_its_hours_however_much_it_is_used(browser, monkeypatch):
    monkeypatch.setenv("CASEBOOK_CONSOLE_SESSION_HOURS", "1")
    browser = console_client()
    clock = Clock()
    monkeypatch.setattr(session_module, "time", clock)
    browser.post("/sign-in", data={"person": "0", "csrf": csrf_of(
        browser.get("/sign-in").get_data(as_text=True))})
    for _ in range(3):
        clock.advance(19)
        assert browser.get("/clients/new").status_code == 200
    clock.advance(4)
    assert browser.get("/clients/new").headers["Location"] == "/sign-in"


@pytest.mark.parametrize(("minutes", "rule"), [
    ("0", "Must be greater than 0"), ("-5", "Must be greater than 0"),
    ("soon", "Not a valid number")])
def test_idle_minutes_that_are_not_a_positive_number_are_refused(monkeypatch, minutes, rule):
    monkeypatch.setenv("CASEBOOK_CONSOLE_IDLE_MINUTES", minutes)
    with pytest.raises(EnvValidationError, match=f"CASEBOOK_CONSOLE_IDLE_MINUTES.*{rule}"):
        settings()


def test_a_provider_sign_in_ended_unattended_has_the_provider_ask_for_the_login_next():
    worker = Actor(id="worker-1", role="social_worker", school_id="JD001")
    at_provider = Session(csrf="token").signed_in(worker, 12, at_provider=True)
    assert at_provider.ended_unattended().log_in_again is True
    # Signed out by the person, the provider's session was ended too: nothing to ask for.
    assert at_provider.signed_out().log_in_again is False
    assert Session(csrf="token").signed_in(worker, 12).ended_unattended().log_in_again is False
    # Once signed in again, asked or not, the next end decides afresh.
    again = at_provider.ended_unattended().signed_in(worker, 12, at_provider=True)
    assert again.log_in_again is False


def test_a_sign_in_that_does_not_say_when_it_was_last_used_counts_as_unused():
    # A cookie signed before the idle limit existed holds no `seen`: nothing shows that the
    # computer was attended, so it is signed out once rather than trusted for its hours.
    key = session_key()
    worker = Actor(id="worker-1", role="social_worker", school_id="JD001")
    signed_in = Session(csrf="token").signed_in(worker, 12)
    response = Response()
    session_module.store(response, signed_in, key, secure=False)
    value = response.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    body = base64.urlsafe_b64decode(value.split(".")[0])
    state = json.loads(body)
    assert state.pop("seen") > 0
    older = base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode())
    cookie = f"{older.decode('ascii')}.{session_module._signature(older, key)}"
    request = Request.from_values(headers={"Cookie": f"{COOKIE}={cookie}"})
    assert session_module.load(request, key, idle_minutes=30).actor is None
    # The same cookie as it is now, with `seen`, stays signed in.
    request = Request.from_values(headers={"Cookie": f"{COOKIE}={value}"})
    assert session_module.load(request, key, idle_minutes=30).actor == worker
