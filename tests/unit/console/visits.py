"""A visit to a console page as a test makes it: a request, a signed-in person, and the services
answered by a fake of the test's own (`api`: what web.Api's get and post answer)."""

from __future__ import annotations

from typing import Any

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.console.i18n import Localized
from services.console.pages import Console
from services.console.session import Session
from services.console.web import Visit
from services.runtime.context import Actor
from services.runtime.settings import settings


def visit_of(api: Any, locale: str, actor: Actor, method: str = "GET", form: Any = None,
             query: str = "") -> Visit:
    console = Console(None, settings().console, b"k" * 32)  # type: ignore[arg-type]
    request = Request(EnvironBuilder(method=method, data=form,
                                     query_string=query).get_environ())
    session = Session(csrf="t", locale=locale, actor=actor)
    return Visit(request, session, Localized(locale), console, api)
