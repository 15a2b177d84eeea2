"""Running the console for browser tests: the services a journey needs and the console, each as
its own process as `casebook up` runs them, and a journey (journeys_*.py) in Debian's Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.broker import free_port
from tests.support.services import ServiceProcess, processes
from tests.support.waiting import wait_for

CHROMIUM = Path(os.environ.get("CASEBOOK_CHROMIUM", "/usr/bin/chromium"))
ROOT = Path(__file__).resolve().parents[3]
ARTEFACTS = Path(os.environ.get("CASEBOOK_ARTEFACTS_DIR", ROOT / "tmp" / "artefacts")) / "console"
JOURNEY = Path(__file__).with_name("journey.py")
JOURNEY_SECONDS = 240
# axe-core checks each page the journeys screenshot (no serious or critical violation).
AXE_PACKAGE = "axe-core@4.14.1"
NODE_PACKAGES = ROOT / "tmp" / "node"


@contextmanager
def console(amqp_uri: str, data_dir: Path, address: str, services: tuple[str, ...] = ("cases",),
            **settings: str) -> Iterator[str]:
    """The console's URL, with `services` behind it."""
    settings = {"CASEBOOK_REQUIRE_ELIGIBLE_WORKERS": "false", "CONSOLE_ADDRESS": address,
                **settings}
    with processes(amqp_uri, data_dir, *services, **settings):
        process = ServiceProcess("console", amqp_uri, data_dir, settings).start(wait=False)
        try:
            wait_for(lambda: _answers(f"http://{address}/healthz", process), timeout=60,
                     what="the console to answer")
            yield f"http://{address}"
        finally:
            process.stop()


def console_address() -> str:
    return f"127.0.0.1:{free_port()}"


def _answers(url: str, process: ServiceProcess) -> bool:
    assert process.process is not None and process.process.poll() is None, (
        f"the console exited; log:\n{process.log_path.read_text()[-3000:]}")
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def npm_package(spec: str, directory: Path = NODE_PACKAGES) -> Path:
    """The folder of an npm package, installed once from the registry under tmp/."""
    name = spec.rsplit("@", 1)[0]
    installed = directory / "node_modules" / name
    if not installed.exists():
        assert shutil.which("npm"), "npm is needed (deploy/local.sh installs it)"
        directory.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix",
                        str(directory), spec], check=True, timeout=300)
    return installed


def run_journey(name: str, console_url: str) -> dict[str, Any]:
    """A journey of journey.py in a process of its own: the tests' process is monkey-patched by
    eventlet, which Playwright's event loop does not survive."""
    assert CHROMIUM.exists(), (f"no Chromium at {CHROMIUM}: `apt-get install chromium "
                               "fonts-noto-cjk` (deploy/local.sh installs them)")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    axe = npm_package(AXE_PACKAGE) / "axe.min.js"
    run = subprocess.run([sys.executable, str(JOURNEY), name, console_url, str(ARTEFACTS),
                          str(CHROMIUM)], capture_output=True, text=True, timeout=JOURNEY_SECONDS,
                         cwd=ROOT, env={**os.environ, "CASEBOOK_AXE_JS": str(axe)})
    assert run.returncode == 0, run.stderr[-6000:]
    seen: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return seen
