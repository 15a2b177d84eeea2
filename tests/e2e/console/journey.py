"""Runs one console journey in Chromium, as a process of its own: the tests' process runs under
eventlet's monkey patching, which Playwright's own event loop does not survive. The journeys
are in the journeys_*.py modules beside this file, one per role, each with its JOURNEYS.

    python tests/e2e/console/journey.py JOURNEY CONSOLE_URL ARTEFACTS_DIR [CHROMIUM]
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, sync_playwright

Journey = Callable[[Browser, str, Path], "dict[str, Any] | None"]


def journeys() -> dict[str, Journey]:
    found: dict[str, Journey] = {}
    for module in sorted(Path(__file__).parent.glob("journeys_*.py")):
        found.update(importlib.import_module(module.stem).JOURNEYS)
    return found


def main(journey: str, console_url: str, artefacts: str,
         chromium: str = "/usr/bin/chromium") -> None:
    run = journeys()[journey]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            # What the journey saw, for the test that ran it to check (the last line).
            print(json.dumps(run(browser, console_url, Path(artefacts)) or {},
                             ensure_ascii=False))
        finally:
            browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
