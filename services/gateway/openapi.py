"""The OpenAPI 3.1 document at /openapi.json and the reference page at /docs, both generated.

Command payload schemas come from the services themselves: each answers `describe()` with the
schema of every RPC it declares with `@command(Schema)`, as JSON Schema (converted by apispec
from the marshmallow schemas that also validate the commands) and with the schema's docstring
as the operation's summary, so the document cannot drift from what the services accept. The
gateway adds its routes, parameters and its own response shapes (apispec again).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import time
from collections.abc import Callable
from copy import deepcopy
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema

from contracts.export import json_schema
from services.gateway import schemas
from services.gateway.routes import BACKENDS, ROUTES, Route
from services.runtime.service import ServiceStatus

TITLE = "Casebook HTTP API"
DESCRIPTION = (
    "The HTTP API of Casebook, the system of record for school social work "
    "(T/JHSX 001—2026). Every route but the health checks and this reference needs a bearer "
    "JWT (`casebook token` mints development tokens). Errors are application/problem+json with "
    "a stable `code`. POST routes honour an `Idempotency-Key` header: the same key, caller and "
    "body give the first response again."
)
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
# 1 to 255 visible ASCII characters: what the gateway accepts as an Idempotency-Key.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
# How long a service that could not describe itself is left alone before asking again.
RETRY_SECONDS = 30.0

Describe = Callable[[str], dict[str, Any]]
ERROR_STATUSES = {
    "400": "Invalid input or a malformed request; `errors` names each field and rule.",
    "401": "No valid bearer token.",
    "403": "The caller's role, school or assignment does not allow this.",
    "404": "No such record or route.",
    "409": "The record's state does not allow this, or the Idempotency-Key was reused.",
    "413": "The body is larger than the gateway accepts.",
    "415": "The body is not application/json.",
    "502": "A service failed to handle the call.",
    "503": "A service is not running.",
    "504": "A service did not answer in time.",
}


class Catalogue:
    """Each service's command schemas, asked for once and kept; asked again on a miss."""

    def __init__(self) -> None:
        self._commands: dict[str, dict[str, Any]] = {}
        self._asked_at: dict[str, float] = {}

    def commands(self, service: str, describe: Describe, rpc: str | None = None) -> dict[str, Any]:
        known = self._commands.get(service)
        missing = known is None or (rpc is not None and rpc not in known)
        asked_at = self._asked_at.get(service, -RETRY_SECONDS)
        if missing and time.monotonic() - asked_at >= RETRY_SECONDS:
            self._asked_at[service] = time.monotonic()
            # A service that does not answer is documented without its schemas until it does.
            with contextlib.suppress(Exception):
                self._commands[service] = describe(service)["commands"]
        return self._commands.get(service, {})

    def command(self, service: str, rpc: str, describe: Describe) -> dict[str, Any] | None:
        """The RPC's described payload: its JSON Schema and its summary."""
        entry: dict[str, Any] | None = self.commands(service, describe, rpc).get(rpc)
        return entry

    def schema(self, service: str, rpc: str, describe: Describe) -> dict[str, Any] | None:
        entry = self.command(service, rpc, describe)
        return entry["schema"] if entry else None


def document(catalogue: Catalogue, describe: Describe, server_url: str = "/") -> dict[str, Any]:
    spec = APISpec(
        title=TITLE, version="1", openapi_version="3.1.0", plugins=[MarshmallowPlugin()],
        info={"description": DESCRIPTION}, servers=[{"url": server_url}],
    )
    spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    for name in ("Problem", "EventPage", "Health", "Readiness"):
        spec.components.schema(name, schema=getattr(schemas, name))
    spec.components.schema("ServiceStatus", schema=ServiceStatus)
    for status, description in ERROR_STATUSES.items():
        spec.components.response(status, {
            "description": description,
            "content": {"application/problem+json": {"schema": PROBLEM_REF}},
        })
    _gateway_paths(spec)
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        if route.service == "gateway":
            continue  # described by _gateway_paths, with their own response shapes
        service = route.service if route.service != "<service>" else None
        command = catalogue.command(service, route.rpc, describe) if service else None
        paths.setdefault(route.openapi_path, {})[route.method.lower()] = _operation(route, command)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    result: dict[str, Any] = spec.to_dict()
    return result


def _gateway_paths(spec: APISpec) -> None:
    def public(summary: str, schema: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"get": {
            "summary": summary, "tags": ["gateway"], "security": [],
            "responses": {"200": {"description": "OK", "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{schema}"}}}}, **(extra or {})},
        }}

    spec.path(path="/healthz", operations=public("The gateway is up.", "Health"))
    spec.path(path="/readyz", operations=public(
        "Every service answers a ping within the timeout.", "Readiness",
        {"503": {"$ref": "#/components/responses/503"}}))
    for path, summary, content in (
        ("/openapi.json", "This document.", "application/json"),
        ("/docs", "The API reference, as HTML.", "text/html"),
    ):
        spec.path(path=path, operations={"get": {
            "summary": summary, "tags": ["gateway"], "security": [],
            "responses": {"200": {"description": "OK", "content": {content: {"schema": {}}}}},
        }})


def _operation(route: Route, described: dict[str, Any] | None) -> dict[str, Any]:
    command = deepcopy(described["schema"]) if described else None
    properties: dict[str, Any] = (command or {}).get("properties", {})
    parameters = [
        {"name": name, "in": "path", "required": True,
         "schema": _scalar(properties.get(name) or _path_schema(name))}
        for name in route.path_params
    ]
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        # The service's own words for its command (the schema's docstring) come first; the
        # route's are for the RPC that take bare ids and have no schema to describe.
        "summary": (described or {}).get("summary") or route.summary,
        "tags": [route.tag],
        "security": [{"bearer": []}],
        "parameters": parameters,
    }
    if route.roles:
        operation["description"] = f"Only for the roles: {', '.join(route.roles)}."
    # False while the service has not described this RPC's payload: the document then accepts
    # any object and any string parameter, and only the service knows the rules.
    open_params = [name for name in route.path_params if name != "service"]
    operation["x-casebook-payload-described"] = command is not None or (
        route.call != "payload" and not open_params)
    body_schema: dict[str, Any] = (
        _without(command, route.path_params) if command else {"type": "object"}
    )
    if route.method == "POST":
        operation["parameters"].append({
            "name": "Idempotency-Key", "in": "header", "required": False,
            "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
            "description": "Send the same key again to get the first response again.",
        })
        operation["requestBody"] = {
            # An empty body is the empty object, which is enough when no field is required.
            "required": bool(body_schema.get("required")),
            "content": {"application/json": {"schema": body_schema}},
        }
    elif route.call == "payload":
        required = set(body_schema.get("required", []))
        for name, schema in body_schema.get("properties", {}).items():
            parameter = _scalar(schema)
            operation["parameters"].append({
                "name": name, "in": "query", "required": name in required,
                "schema": parameter, **_explode(parameter),
            })
    if route.returns == "events":
        operation["parameters"] += _params(schemas.EventParams)
    content_type = "text/csv" if route.returns == "csv" else "application/json"
    operation["responses"] = {
        str(route.status): {"description": "OK", "content": {content_type: {
            "schema": (described or {}).get("returns") or _result_schema(route)}}},
        **{status: {"$ref": f"#/components/responses/{status}"} for status in ERROR_STATUSES},
    }
    return operation


def _result_schema(route: Route) -> dict[str, Any]:
    if route.returns == "events":
        return {"$ref": "#/components/schemas/EventPage"}
    if route.returns == "status":
        return {"$ref": "#/components/schemas/ServiceStatus"}
    if route.returns == "array":
        return {"type": "array", "items": {"type": "object"}}
    if route.returns == "csv":
        return {"type": "string"}
    # A service that has not described itself yet (it did not answer): any answer.
    return {"type": ["object", "null"]}


def _path_schema(name: str) -> dict[str, Any]:
    if name == "service":
        return {"type": "string", "enum": list(BACKENDS)}
    return {"type": "string", "minLength": 1, "maxLength": 64}


def _without(schema: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """A command schema without the fields the path gives."""
    schema = deepcopy(schema)
    for name in names:
        schema.get("properties", {}).pop(name, None)
    if "required" in schema:
        schema["required"] = [n for n in schema["required"] if n not in names]
        if not schema["required"]:
            del schema["required"]
    return schema


def _scalar(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema: a query or path value is never null."""
    schema = deepcopy(schema)
    kinds = schema.get("type")
    if isinstance(kinds, list):
        kinds = [k for k in kinds if k != "null"]
        schema["type"] = kinds[0] if len(kinds) == 1 else kinds
    schema.pop("default", None)
    return schema


def _explode(schema: dict[str, Any]) -> dict[str, Any]:
    return {"style": "form", "explode": True} if schema.get("type") == "array" else {}


def _params(schema: type[Schema]) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "query", "required": False, "schema": parameter}
        for name, parameter in json_schema(schema)["properties"].items()
    ]


def reference_page(document: dict[str, Any]) -> str:
    """A readable, self-contained HTML reference: no scripts, no external assets."""
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(document['info']['title'])}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(document['info']['title'])}</h1>",
        f"<p>{e(document['info'].get('description', ''))}</p>",
        "<p>Machine-readable: <a href='/openapi.json'>/openapi.json</a> (OpenAPI 3.1).</p>",
        "<nav><ul>",
    ]
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    for path, method, operation in operations:
        anchor = _anchor(method, path)
        parts.append(f"<li><a href='#{anchor}'><code>{method.upper()} {e(path)}</code></a> "
                     f"{e(operation.get('summary', ''))}</li>")
    parts.append("</ul></nav>")
    for path, method, operation in operations:
        parts.append(f"<section id='{_anchor(method, path)}'>")
        parts.append(f"<h2><code>{method.upper()} {e(path)}</code></h2>")
        parts.append(f"<p>{e(operation.get('summary', ''))}</p>")
        if operation.get("description"):
            parts.append(f"<p><em>{e(operation['description'])}</em></p>")
        if operation.get("security") == []:
            parts.append("<p>No token needed.</p>")
        if operation.get("parameters"):
            parts.append("<h3>Parameters</h3><table><tr><th>name</th><th>in</th>"
                         "<th>required</th><th>schema</th></tr>")
            for parameter in operation["parameters"]:
                parts.append(
                    f"<tr><td><code>{e(parameter['name'])}</code></td><td>{e(parameter['in'])}"
                    f"</td><td>{'yes' if parameter.get('required') else ''}</td>"
                    f"<td>{_describe(parameter.get('schema', {}))}</td></tr>")
            parts.append("</table>")
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body:
            parts.append("<h3>Body (application/json)</h3>")
            parts.append(_fields_table(body["schema"]))
        parts.append("<h3>Responses</h3><ul>")
        for status, response in operation.get("responses", {}).items():
            if "$ref" in response:
                description = ERROR_STATUSES.get(status, "")
                parts.append(f"<li><code>{e(status)}</code> problem+json: {e(description)}</li>")
            else:
                parts.append(f"<li><code>{e(status)}</code> {e(response.get('description', ''))}"
                             "</li>")
        parts.append("</ul></section>")
    parts.append("</body></html>")
    return "".join(parts)


def _fields_table(schema: dict[str, Any]) -> str:
    e = html.escape
    properties = schema.get("properties")
    if not properties:
        return "<p>A JSON object.</p>"
    required = set(schema.get("required", []))
    rows = ["<table><tr><th>field</th><th>required</th><th>schema</th></tr>"]
    for name, field in properties.items():
        rows.append(f"<tr><td><code>{e(name)}</code></td><td>{'yes' if name in required else ''}"
                    f"</td><td>{_describe(field)}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def _describe(schema: dict[str, Any]) -> str:
    e = html.escape
    kinds = schema.get("type", "object" if "properties" in schema else "")
    text = "/".join(kinds) if isinstance(kinds, list) else str(kinds)
    if schema.get("format"):
        text += f" ({schema['format']})"
    if schema.get("enum"):
        text += ": one of " + ", ".join(str(v) for v in schema["enum"] if v is not None)
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        text += " of " + _describe(schema["items"])
    for key in ("minimum", "maximum", "minLength", "maxLength"):
        if key in schema:
            text += f"; {key} {schema[key]}"
    if schema.get("$ref"):
        text = schema["$ref"].rsplit("/", 1)[-1]
    return e(text)


def _anchor(method: str, path: str) -> str:
    return method + "-" + "".join(c if c.isalnum() else "-" for c in path).strip("-")


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.45;color:#222}code{font-family:ui-monospace,monospace}"
    "section{border-top:1px solid #ccc;margin-top:1.5rem}table{border-collapse:collapse}"
    "td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}"
    "nav li{margin:.15rem 0}"
)
# The reference page's Content-Security-Policy: its one inline style, named by its hash, and
# nothing else (the API's own policy allows no style at all).
REFERENCE_PAGE_POLICY = (
    "default-src 'none'; style-src 'sha256-"
    + base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
    + "'; frame-ancestors 'none'"
)
