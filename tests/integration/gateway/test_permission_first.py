"""Permission before validation, on every route of the route table: a role that may not use a
route gets 403 whatever it sends, so that a refusal tells nothing about what the route would
have accepted (an integrator asking for a compliance report without its period gets 403, not
400). Which roles may use a route is what the route declares (`roles`) or what its service
declares for the RPC (`describe()`); the gateway asks the same."""

from __future__ import annotations

import re
from typing import Any

import pytest

from services.gateway.routes import ROUTES, Route
from services.runtime.replies import cluster_rpc
from tests.integration.gateway.conftest import Api
from tests.integration.gateway.permission_world import ACTORS, ROLES
from tests.support.services import config

pytestmark = pytest.mark.integration

# Each is invalid before the service could look at it: JSON that does not parse, a body that is
# not an object, a parameter given twice, a page limit out of range.
INVALID_BODIES: list[dict[str, Any]] = [
    {"data": "{\"opened_on\": ", "headers": {"Content-Type": "application/json"}},
    {"json": [1, 2]},
    {"data": "text", "headers": {"Content-Type": "text/plain"}},
    {},
]
INVALID_QUERIES: list[list[tuple[str, str]]] = [
    [("limit", "-1"), ("limit", "x"), ("after", "-1"), ("period_from", "1"),
     ("period_from", "2")],
    [],
]


def concrete(route: Route) -> str:
    """The route's path with every parameter filled (`<service>` with a backend)."""
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>",
                  lambda match: "cases" if match.group(1) == "service" else "x", route.path)


def declared_roles(route: Route, described: dict[str, dict[str, Any]]) -> tuple[str, ...] | None:
    if route.roles is not None:
        return route.roles
    if route.call != "payload":
        return None
    entry = described[route.service].get(route.rpc)
    return tuple(entry["roles"]) if entry and entry.get("roles") else None


def test_a_role_that_may_not_use_a_route_gets_403_whatever_it_sends(api: Api, amqp_uri):
    services = sorted({route.service for route in ROUTES} - {"gateway", "<service>"})
    with cluster_rpc(config(amqp_uri)) as proxy:
        described = {name: proxy[name].describe()["commands"] for name in services}
    wrong: list[str] = []
    undeclared: list[Route] = []
    checked = 0
    for route in ROUTES:
        if route.service == "gateway":
            continue  # public
        roles = declared_roles(route, described)
        if roles is None:
            undeclared.append(route)
            continue
        path = concrete(route)
        for role in ROLES:
            if role in roles:
                continue
            caller = api.as_(ACTORS[role])
            if route.method == "POST":
                answers = [caller.post(path, **body) for body in INVALID_BODIES]
            else:
                answers = [caller.get(path, params=query) for query in INVALID_QUERIES]
            for answer in answers:
                checked += 1
                code = answer.json().get("code") if answer.content else None
                if answer.status_code != 403 or code != "not_allowed":
                    wrong.append(f"{route.method} {route.path} as {role}: "
                                 f"{answer.status_code} {code}")
    assert checked > 500  # every route with declared roles, every role it does not allow
    # Every RPC behind a route declares its roles: otherwise the service alone would decide, in
    # its own order, and could validate before it refuses.
    assert undeclared == [], undeclared
    assert wrong == [], "\n".join(wrong)
