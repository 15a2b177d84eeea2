"""What every console journey does in the browser: a person at phone width in Chinese, labelled
fields, forms sent and their answers checked, each main page screenshotted and checked by
axe-core. Imported by the journeys_*.py modules, run in a process of their own by journey.py."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page

from services.console.session import COOKIE

PHONE = {"width": 390, "height": 844}
AXE = os.environ.get("CASEBOOK_AXE_JS")
SEVERE = ("serious", "critical")


def accessible(page: Page) -> None:
    """axe-core finds no serious or critical violation on the page (WCAG 2.1 A and AA)."""
    if not AXE:
        raise AssertionError("CASEBOOK_AXE_JS must name axe.min.js")
    page.add_script_tag(path=AXE)
    found = page.evaluate("""async () => (await axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations
        .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))""")
    severe = [violation for violation in found if violation["impact"] in SEVERE]
    assert severe == [], (page.url, severe)


def follow(link: Locator) -> None:
    """Follow a link to another page, and wait for that page to load with its stylesheet: a
    click returns once the page starts to load, and what a test then reads of it (inner text,
    a table's rows as cards at phone width) depends on its layout."""
    link.click()
    link.page.wait_for_load_state()


class Person:
    """One person in a browser context of their own (phone width, zh-CN)."""

    def __init__(self, browser: Browser, console_url: str, artefacts: Path) -> None:
        # The console's policy allows no script but its own: axe-core comes in past it.
        self.context = browser.new_context(viewport=PHONE, locale="zh-CN", bypass_csp=True)
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.console_url = console_url
        self.artefacts = artefacts

    def sign_in_as(self, person_id: str) -> Person:
        """The development sign-in, as one of its demo people."""
        self.page.goto(f"{self.console_url}/sign-in")
        self.page.get_by_label(re.compile(re.escape(person_id))).check()
        self.save("登录")
        return self

    def field(self, label: str) -> Locator:
        """The field labelled `label`, with or without its "(required)" mark."""
        return self.page.get_by_label(re.compile("^" + re.escape(label) + r"(\s|（|$)"))

    def fill(self, values: dict[str, str]) -> None:
        for label, value in values.items():
            self.field(label).fill(value)

    def reload_until(self, ready: Callable[[], bool], seconds: float) -> None:
        """Reload the page until `ready()`, at most `seconds`: what another service carries on
        (the resources service taking a request up) reaches the page a moment later."""
        deadline = time.monotonic() + seconds
        # The page a click just asked for, loaded with its stylesheet first: what `ready` and
        # the caller then read of it (inner text) depends on its layout.
        self.page.wait_for_load_state()
        while not ready() and time.monotonic() < deadline:
            time.sleep(1)
            self.page.reload()

    def said_beside(self, label: str) -> str:
        """What the page says beside the field labelled `label` (its refusal, once refused)."""
        described = (self.field(label).get_attribute("aria-describedby") or "").split()
        # A field with a hint is described by the hint too: the refusal is its error.
        errors = [name for name in described if name.startswith("error-")] or described
        return " ".join(self.page.locator(f"#{name}").inner_text() for name in errors)

    def save(self, button: str, status: int = 302) -> None:
        """Send the form with `button`; its answer is a redirect unless it was refused."""
        page = self.page
        page.evaluate("window.beforeSending = true")  # gone once the answer's page is shown
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.get_by_role("button", name=button).click()
        page.wait_for_function("!window.beforeSending")
        page.wait_for_load_state()
        assert posted.value.status == status, (posted.value.status, page.content()[-3000:])

    def shot(self, name: str) -> None:
        """A screenshot of the page under its name, axe-core's check of it, and what the
        browser keeps of the visit so far: the session's cookie, no page's content."""
        self.page.screenshot(path=str(self.artefacts / f"{name}.png"), full_page=True)
        kept = self.page.evaluate("""() => [...Array(localStorage.length).keys()]
            .map(i => 'local:' + localStorage.key(i)).concat([...Array(sessionStorage.length)
            .keys()].map(i => 'session:' + sessionStorage.key(i)))""")
        cookies = sorted(cookie["name"] for cookie in self.context.cookies(self.console_url))
        # htmx keeps the path of the page it shows, for the tab's back button: an id at most.
        kept = [key for key in kept if key != "session:htmx-current-path-for-history"]
        assert (kept, cookies) == ([], [COOKIE]), (self.page.url, kept, cookies)
        accessible(self.page)
