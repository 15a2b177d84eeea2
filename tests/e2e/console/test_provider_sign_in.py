"""Sign-in through a real OpenID Connect provider (node `oidc-provider`, run on 127.0.0.1 from
oidc_provider.mjs): the authorization code flow with PKCE, role and school mapped from the
provider's own claims, and signing out at the provider too (RP-Initiated Logout), in Debian's
Chromium (journeys_social_worker.py)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.console.conftest import (
    NODE_PACKAGES,
    console,
    console_address,
    npm_package,
    run_journey,
)
from tests.support.broker import free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

PROVIDER_PACKAGE = "oidc-provider@9.13.3"
SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
CLIENT_ID, CLIENT_SECRET = "casebook-console", "a-test-only-client-secret"


@pytest.fixture(scope="module")
def provider_installed() -> Path:
    """The provider's script beside its package, installed once from the npm registry: ES
    modules resolve packages from their own folder."""
    npm_package(PROVIDER_PACKAGE)
    shutil.copy(SCRIPT, NODE_PACKAGES / SCRIPT.name)
    return NODE_PACKAGES / SCRIPT.name


@pytest.fixture
def provider(provider_installed: Path, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The provider's issuer, and the console address registered with it."""
    port, address = free_port(), console_address()
    log = (tmp_path / "provider.log").open("wb")
    process = subprocess.Popen(
        ["node", str(provider_installed), str(port), CLIENT_ID, CLIENT_SECRET,
         f"http://{address}/sign-in/callback"],
        cwd=provider_installed.parent, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: b"listening" in (tmp_path / "provider.log").read_bytes()
                 or process.poll() is not None, timeout=30, what="the provider to listen")
        assert process.poll() is None, (tmp_path / "provider.log").read_text()
        yield f"http://127.0.0.1:{port}", address
    finally:
        process.terminate()
        process.wait(timeout=10)


def settings_for(issuer: str) -> dict[str, str]:
    """The console's settings for the test provider."""
    return {"CASEBOOK_CONSOLE_OIDC_ISSUER": issuer,
            "CASEBOOK_CONSOLE_OIDC_CLIENT_ID": CLIENT_ID,
            "CASEBOOK_CONSOLE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "CASEBOOK_CONSOLE_OIDC_SCOPES": "openid casebook",
            "CASEBOOK_CONSOLE_OIDC_ROLE_CLAIM": "casebook_role",
            "CASEBOOK_CONSOLE_OIDC_SCHOOL_CLAIM": "school",
            "CASEBOOK_CONSOLE_OIDC_ROLES": "sw=social_worker"}


def test_a_social_worker_signs_in_at_the_organisations_provider(amqp_uri, tmp_path, provider):
    issuer, address = provider
    with console(amqp_uri, tmp_path, address, **settings_for(issuer)) as url:
        seen = run_journey("provider_sign_in", url)
    assert "登录未成功" in seen["refused"]  # known to the provider, but no Casebook role
    assert "oidc-worker-1 · 社会工作者 · JD001" in seen["signed_in_as"]
    # Signed out of the console and of the provider: back at sign-in, asked to log in again.
    assert seen["after_sign_out"].startswith("登录")
    assert seen["asked_to_log_in_again"] is True


def test_after_a_sign_in_ends_unused_the_provider_asks_the_next_person_to_log_in(
        amqp_uri, tmp_path, provider):
    issuer, address = provider
    with console(amqp_uri, tmp_path, address, CASEBOOK_CONSOLE_IDLE_MINUTES="0.25",
                 **settings_for(issuer)) as url:
        seen = run_journey("provider_sign_in_after_idle", url)
    assert seen["signed_in"] is True
    # The provider's login form, not the last person's caseload.
    assert seen["asked_to_log_in"] == 1, seen["after"]
    assert not seen["after"].startswith(url)
