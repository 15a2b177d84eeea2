"""A social worker's day in a real browser (Debian's Chromium, driven by Playwright): sign in,
register a student, open a case and take it from intake through refusals to closing, every page
in Chinese (journey.py). Each main page is saved as a screenshot under tmp/artefacts/console/
(or $CASEBOOK_ARTEFACTS_DIR/console/)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.broker import free_port
from tests.support.services import ServiceProcess, processes
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

CHROMIUM = Path(os.environ.get("CASEBOOK_CHROMIUM", "/usr/bin/chromium"))
ROOT = Path(__file__).resolve().parents[3]
ARTEFACTS = Path(os.environ.get("CASEBOOK_ARTEFACTS_DIR", ROOT / "tmp" / "artefacts")) / "console"
JOURNEY = Path(__file__).with_name("journey.py")
JOURNEY_SECONDS = 240


@pytest.fixture
def console_url(amqp_uri: str, tmp_path: Path) -> Iterator[str]:
    """The cases service and the console, each its own process as `casebook up` runs them."""
    address = f"127.0.0.1:{free_port()}"
    settings = {"CASEBOOK_REQUIRE_ELIGIBLE_WORKERS": "false",
                "CASEBOOK_CONSOLE_DEV_SIGN_IN": "true", "CONSOLE_ADDRESS": address}
    with processes(amqp_uri, tmp_path, "cases", **settings):
        console = ServiceProcess("console", amqp_uri, tmp_path, settings).start(wait=False)
        try:
            wait_for(lambda: _answers(f"http://{address}/healthz", console), timeout=60,
                     what="the console to answer")
            yield f"http://{address}"
        finally:
            console.stop()


def _answers(url: str, console: ServiceProcess) -> bool:
    assert console.process is not None and console.process.poll() is None, (
        f"the console exited; log:\n{console.log_path.read_text()[-3000:]}")
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def test_a_social_worker_runs_a_case_from_intake_to_closing(console_url):
    assert CHROMIUM.exists(), (f"no Chromium at {CHROMIUM}: `apt-get install chromium "
                               "fonts-noto-cjk` (deploy/local.sh installs them)")
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    ARTEFACTS.mkdir(parents=True)
    run = subprocess.run([sys.executable, str(JOURNEY), console_url, str(ARTEFACTS),
                          str(CHROMIUM)], capture_output=True, text=True, timeout=JOURNEY_SECONDS,
                         cwd=ROOT)
    assert run.returncode == 0, run.stderr[-6000:]
    shots = sorted(path.name for path in ARTEFACTS.glob("*.png"))
    assert shots[-1] == "09-caseload-after-closing.png", shots
