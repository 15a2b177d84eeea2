"""JSON Schema of every contract event and the AsyncAPI document, generated from the registry.

`python -m contracts.export` (or `make contracts`) rewrites `contracts/jsonschema/` and
`contracts/asyncapi.yaml`; a test fails when the checked-in files differ from what the schemas
produce, so integrators always read what the services publish.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import yaml
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from marshmallow import Schema

import contracts
from contracts.envelope import EnvelopeSchema
from contracts.registry import ANY_SOURCE, SOURCES, ContractEvent

HERE = Path(__file__).resolve().parent
JSONSCHEMA_DIR = HERE / "jsonschema"
ASYNCAPI_FILE = HERE / "asyncapi.yaml"
DIALECT = "https://json-schema.org/draft/2020-12/schema"

# No spec: every nested schema is inlined, so each exported file stands alone.
_converter = OpenAPIConverter(
    openapi_version="3.1.0",
    schema_name_resolver=lambda _: None,
    spec=None,  # type: ignore[arg-type]
)


def json_schema(schema: type[Schema]) -> dict[str, Any]:
    converted: dict[str, Any] = _converter.schema2jsonschema(schema)
    return converted


def message_key(event: ContractEvent) -> str:
    return f"{event.type}.v{event.version}"


def event_json_schema(event: ContractEvent) -> dict[str, Any]:
    """The whole envelope of one event type and version, with its payload schema in place."""
    envelope = json_schema(EnvelopeSchema)
    envelope["properties"]["type"] = {"const": event.type}
    envelope["properties"]["version"] = {"const": event.version}
    envelope["properties"]["source"] = _source_schema(event)
    envelope["properties"]["payload"] = json_schema(event.schema)
    return {
        "$schema": DIALECT,
        "$id": f"urn:casebook:event:{_folder(event)}:{message_key(event)}",
        "title": message_key(event),
        "description": event.summary,
        **envelope,
    }


def jsonschema_files() -> dict[str, str]:
    """Relative path → file text, for every event and the envelope."""
    files = {
        "envelope.json": _dump_json(
            {
                "$schema": DIALECT,
                "$id": "urn:casebook:envelope",
                "title": "Envelope",
                **json_schema(EnvelopeSchema),
            }
        )
    }
    for event in contracts.all_events():
        files[f"{_folder(event)}/{message_key(event)}.json"] = _dump_json(event_json_schema(event))
    return files


def asyncapi_document() -> dict[str, Any]:
    events = list(contracts.all_events())
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Envelope": json_schema(EnvelopeSchema)}
    for event in events:
        key = message_key(event)
        schemas[f"{key}.payload"] = json_schema(event.schema)
        messages[key] = {
            "name": event.type,
            "title": f"{event.type} v{event.version}",
            "summary": event.summary,
            "contentType": "application/json",
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/Envelope"},
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": event.type},
                            "version": {"const": event.version},
                            "source": _source_schema(event),
                            "payload": {"$ref": f"#/components/schemas/{key}.payload"},
                        },
                    },
                ]
            },
            "bindings": {"amqp": {"messageType": event.type, "bindingVersion": "0.2.0"}},
        }
    channels: dict[str, Any] = {}
    for source in SOURCES:
        keys = [message_key(e) for e in events if e.published_by(source)]
        if not keys:
            continue
        channels[f"{source}.events"] = {
            "description": (
                f"Every event the {source} service publishes, in order of `position`. Topic "
                "exchange; the routing key is the event type. A durable queue bound with `#` "
                "gets the whole stream (a broker user's `<name>.from.<source>` is); catch up "
                "with the `events_since` RPC."
            ),
            "bindings": {
                "amqp": {
                    "is": "routingKey",
                    "exchange": {
                        "name": f"{source}.events",
                        "type": "topic",
                        "durable": True,
                        "autoDelete": False,
                    },
                    "bindingVersion": "0.2.0",
                }
            },
            "subscribe": {
                "operationId": f"receive_{source}_events",
                "message": {"oneOf": [{"$ref": f"#/components/messages/{k}"} for k in keys]},
            },
        }
    return {
        "asyncapi": "2.6.0",
        "info": {
            "title": "Casebook domain events",
            "version": _package_version(),
            "description": (
                "Events of Casebook, the system of record for school social work "
                "(T/JHSX 001—2026). Every message is an envelope (see Envelope) whose `hash` "
                "chains it to its predecessor from the same source. Payloads carry identifiers, "
                "codes, dates, levels and counts, never personal content."
            ),
        },
        "servers": {
            "casebook": {
                "url": "{host}:{port}/{vhost}",
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "description": (
                    "The deployment's RabbitMQ. Ask its operator for a broker user of your own "
                    "(`casebook broker-user add <name> --role integrator`): it reads the queues "
                    "made with it, `<name>.from.<source>`, each bound to its channel's exchange "
                    "with `#` (declare them passively), and calls `events_since` "
                    "(docs/integrators.md), nothing else."
                ),
                "variables": {
                    "host": {"default": "127.0.0.1"},
                    "port": {"default": "5672"},
                    "vhost": {"default": "casebook",
                              "description": "`casebook` in Compose; `/` for `casebook up`"},
                },
                "security": [{"brokerUser": []}],
            }
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "securitySchemes": {
                "brokerUser": {
                    "type": "userPassword",
                    "description": "The broker user and password the operator gave you.",
                }
            },
        },
    }


def asyncapi_text() -> str:
    header = "# Generated by `python -m contracts.export`; do not edit by hand.\n"
    return header + yaml.safe_dump(asyncapi_document(), sort_keys=False, allow_unicode=True)


def write() -> list[Path]:
    written = []
    for relative, text in jsonschema_files().items():
        path = JSONSCHEMA_DIR / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    for stale in set(JSONSCHEMA_DIR.rglob("*.json")) - set(written):
        stale.unlink()
    ASYNCAPI_FILE.write_text(asyncapi_text(), encoding="utf-8")
    written.append(ASYNCAPI_FILE)
    return written


def _folder(event: ContractEvent) -> str:
    return "any" if event.source == ANY_SOURCE else event.source


def _source_schema(event: ContractEvent) -> dict[str, Any]:
    if event.source == ANY_SOURCE:
        return {"enum": list(SOURCES)}
    return {"const": event.source}


def _dump_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def _package_version() -> str:
    try:
        return version("casebook")
    except PackageNotFoundError:
        return "0.0.0"


if __name__ == "__main__":
    for path in write():
        print(path.relative_to(HERE.parent))
