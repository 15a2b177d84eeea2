"""Every page a person of each role can reach by following the console's links, after
`casebook demo`: none fails, none is a missing record, each is in Chinese. The journeys test
what the pages do; this finds a link that leads nowhere for someone who only clicks.

Over plain HTTP (the pages work without JavaScript), with the development sign-in's people,
whom `casebook demo` staffs school JD001 with."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections import deque
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import pytest

from services.console.pages import DEMO_PEOPLE, SECURITY_HEADERS
from services.runtime.cli.demo import SCHOOL, WORKER
from tests.e2e.console.conftest import console, console_address
from tests.support.services import rpc

pytestmark = pytest.mark.e2e

SERVICES = ("cases", "supervision", "archive", "resources")
# Enough for every page of every role and a few of each kind of record; the auditor's ledger
# alone links to a page per entry.
MOST_PAGES = 150
LINK = re.compile(r'href="([^"#]*)"')
TITLE = re.compile(r"<title>(.*?)</title>", re.S)
FORM = re.compile(r"<form\b[^>]*>")
MISSING_RECORD = "没有这条记录"


class Browser:
    """One person's visit: cookies kept, redirects not followed (each is checked)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), NoRedirects())

    def open(self, path: str, form: dict[str, str] | None = None) -> tuple[int, dict, str]:
        data = urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.url + path, data=data, timeout=30) as answer:
                return answer.status, dict(answer.headers), text_of(answer)
        except urllib.error.HTTPError as refused:
            return refused.code, dict(refused.headers), text_of(refused)

    def sign_in(self, person: int) -> str:
        status, _, page = self.open("/sign-in")
        assert status == 200, status
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf, "the sign-in form carries no CSRF token"
        status, headers, _ = self.open("/sign-in", {"csrf": csrf.group(1), "person": str(person)})
        assert status in (302, 303), status
        return urlsplit(headers["Location"]).path


def text_of(answer: Any) -> str:
    """A page's text; a download (PDF, XLSX) is checked by its status only."""
    body = answer.read()
    return body.decode() if answer.headers.get_content_type().startswith("text/") else ""


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def reachable(browser: Browser, home: str) -> dict[str, tuple[int, str]]:
    """Each page linked from `home` onwards, breadth first, redirects followed: its status
    and text."""
    seen: dict[str, tuple[int, str]] = {}
    waiting = deque([home])
    queued = {home}
    while waiting and len(seen) < MOST_PAGES:
        path = waiting.popleft()
        status, headers, text = browser.open(path)
        carries_the_console_headers(path, headers)
        seen[path] = (status, text)
        if status in (302, 303):
            targets = [headers["Location"]]
        elif status == 200 and headers.get("Content-Type", "").startswith("text/html"):
            targets = [html.unescape(href) for href in LINK.findall(text)]
        else:
            continue
        for href in targets:
            target = urlsplit(urljoin(browser.url + path, href))
            if target.netloc != urlsplit(browser.url).netloc or target.path.startswith(
                    ("/static/", "/sign-out")):
                continue
            link = target.path + (f"?{target.query}" if target.query else "")
            if link not in queued:
                queued.add(link)
                waiting.append(link)
    return seen


def carries_the_console_headers(path: str, headers: dict[str, str]) -> None:
    """Records of minors: no cache keeps a page, and a page runs nothing but the console's."""
    sent = {name: headers.get(name) for name in SECURITY_HEADERS}
    assert sent == SECURITY_HEADERS, (path, sent)


def crawl_every_role(url: str) -> dict[str, dict[str, tuple[int, str]]]:
    """Each demo person's reachable pages, checked: none fails, none is a missing record, each
    page is in Chinese."""
    reached = {}
    for number, person in enumerate(DEMO_PEOPLE):
        browser = Browser(url)
        pages = reachable(browser, browser.sign_in(number))
        failed = {path: status for path, (status, _) in pages.items()
                  if status not in (200, 302, 303)}
        assert failed == {}, (person.role, failed)
        missing = [path for path, (_, text) in pages.items() if MISSING_RECORD in text]
        assert missing == [], (person.role, missing)
        english = [path for path, (status, text) in pages.items()
                   if status == 200 and "<html" in text and '<html lang="zh-CN">' not in text]
        assert english == [], (person.role, english)
        reached[person.role] = pages
    return reached


def form_of(page: str) -> dict[str, str]:
    """The hidden fields a form of `page` carries: its CSRF token and idempotency key."""
    return dict(re.findall(r'<input type="hidden" name="(csrf|idempotency_key)" value="([^"]+)"',
                           page))


def test_every_page_each_role_reaches_by_its_links_answers_in_chinese(amqp_uri, tmp_path):
    with console(amqp_uri, tmp_path, console_address(), services=SERVICES,
                 CASEBOOK_CONSOLE_DEV_SIGN_IN="true") as url:
        # A fresh Casebook, as a person who signs in before anything is recorded finds it.
        before = crawl_every_role(url)
        # The same on what the crawl passes over: a file, a path that is no page, the sign-in.
        visitor = Browser(url)
        for path, status in (("/static/console.css", 200), ("/no/such/page", 404),
                             ("/sign-in", 200)):
            answered, headers, _ = visitor.open(path)
            assert answered == status, (path, answered)
            carries_the_console_headers(path, headers)
        assert "/school/new" in before["school_admin"]  # where the admin lands (8.1)
        # The operator lands on every school's escalations, and reaches the schools, a school's
        # registration and the services' status from there.
        assert {"/escalations", "/schools", "/schools/new", "/services"} <= set(
            before["operator"])

        # The admin registers the school through the form; a refusal names the field.
        admin = Browser(url)
        admin.sign_in([person.role for person in DEMO_PEOPLE].index("school_admin"))
        _, _, page = admin.open("/school/new")
        school = {"name": "", "district": "JD", "service_mode": "resident",
                  "facility_kinds": "office"}
        status, _, page = admin.open("/school/new", {**form_of(page), **school})
        name_input = re.search(r'<input[^>]* name="name"[^>]*>', page)
        assert status == 400 and name_input and 'aria-invalid="true"' in name_input.group(0)
        status, headers, _ = admin.open("/school/new", {**form_of(page), **school,
                                                        "name": "嘉定第一中学"})
        assert (status, urlsplit(headers["Location"]).path) == (302, "/staff")
        with rpc(amqp_uri, {"id": "demo-admin", "role": "school_admin",
                            "school_id": SCHOOL}) as proxy:
            registered = proxy.supervision.get_school({"school_id": SCHOOL})
        assert (registered["name"], registered["service_mode"],
                registered["facility_kinds"]) == ("嘉定第一中学", "resident", ["office"])

        demo = subprocess.run(
            [str(Path(sys.executable).parent / "casebook"), "demo", "--cases", "2"],
            env={**os.environ, "AMQP_URI": amqp_uri, "CASEBOOK_DATA_DIR": str(tmp_path)},
            capture_output=True, text=True, timeout=180)
        assert demo.returncode == 0, demo.stderr[-3000:]
        after = crawl_every_role(url)
        for role, pages in after.items():
            # Each role's pages link to more than its header does: the crawl went past it.
            assert len(pages) > 5, (role, sorted(pages))
        # The demo leaves its second case open: the worker's caseload is not empty.
        _, caseload = after["social_worker"]["/caseload"]
        assert "共 1 个个案" in caseload
        # The demo assigns its worker to the demo supervisor (6.2.2): the worker's cases are
        # the supervisor's to see.
        _, cases = after["supervisor"]["/supervisees"]
        assert f'<option value="{WORKER}"' in cases
        # A page's title stays in the browser's history (and goes wherever the browser syncs
        # it) long after the page: it names no one. The demo's clients are named on the pages.
        with rpc(amqp_uri, {"id": WORKER, "role": "social_worker", "school_id": SCHOOL}) as proxy:
            clients = proxy.cases.list_clients({"limit": 100})["items"]
        names = {client["name"] for client in clients if client["name"]}
        texts = [text for pages in after.values() for _, text in pages.values()]
        assert names and all(any(name in text for text in texts) for name in names)
        titles = [html.unescape(title) for text in texts for title in TITLE.findall(text)]
        assert len(titles) > 20
        assert [title for title in titles if any(name in title for name in names)] == []
        # Nor does the browser keep what was typed into a form, to offer it to the next person
        # at the same computer.
        forms = {tag for text in texts for tag in FORM.findall(text)}
        assert len(forms) > 10
        assert [tag for tag in forms if 'autocomplete="off"' not in tag] == []
