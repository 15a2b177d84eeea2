"""The checked-in JSON Schema and AsyncAPI files are exactly what the contract schemas produce,
and the AsyncAPI file is valid AsyncAPI."""

import json
from pathlib import Path

import jsonschema_rs
import yaml

import contracts
from contracts import export
from contracts.registry import ANY_SOURCE, SOURCES

ASYNCAPI_SCHEMA = Path(__file__).resolve().parents[1] / "support" / "asyncapi" / "2.6.0.json"


def test_checked_in_json_schemas_match_the_registry():
    expected = export.jsonschema_files()
    on_disk = {
        str(path.relative_to(export.JSONSCHEMA_DIR)): path.read_text(encoding="utf-8")
        for path in export.JSONSCHEMA_DIR.rglob("*.json")
    }
    stale = sorted(set(on_disk) - set(expected))
    missing = sorted(set(expected) - set(on_disk))
    changed = sorted(k for k in set(expected) & set(on_disk) if expected[k] != on_disk[k])
    assert not (stale or missing or changed), (
        f"exports drifted (run `make contracts`): missing={missing} stale={stale} changed={changed}"
    )


def test_checked_in_asyncapi_matches_the_registry():
    assert Path(export.ASYNCAPI_FILE).read_text(encoding="utf-8") == export.asyncapi_text(), (
        "contracts/asyncapi.yaml drifted from the schemas: run `make contracts`"
    )


def test_the_asyncapi_document_is_valid_asyncapi_2_6_0():
    # The specification's own JSON Schema (tests/support/asyncapi/README.md): what an
    # integrator's AsyncAPI tooling parses it with.
    schema = json.loads(ASYNCAPI_SCHEMA.read_text(encoding="utf-8"))
    document = yaml.safe_load(Path(export.ASYNCAPI_FILE).read_text(encoding="utf-8"))
    validator = jsonschema_rs.validator_for(schema)
    assert [error.message for error in validator.iter_errors(document)] == []
    # The control: a server without its protocol is refused.
    del document["servers"]["casebook"]["protocol"]
    assert not validator.is_valid(document)


def test_asyncapi_lists_every_event_on_its_sources_channel():
    document = yaml.safe_load(Path(export.ASYNCAPI_FILE).read_text(encoding="utf-8"))
    for event in contracts.all_events():
        key = export.message_key(event)
        sources = SOURCES if event.source == ANY_SOURCE else (event.source,)
        for source in sources:
            channel = document["channels"][f"{source}.events"]
            refs = [m["$ref"] for m in channel["subscribe"]["message"]["oneOf"]]
            assert f"#/components/messages/{key}" in refs
        assert document["components"]["messages"][key]["summary"] == event.summary


def test_every_event_schema_fixes_type_version_and_source():
    for event in contracts.all_events():
        schema = export.event_json_schema(event)
        assert schema["properties"]["type"] == {"const": event.type}
        assert schema["properties"]["version"] == {"const": event.version}
        sources = schema["properties"]["source"]
        if event.source == ANY_SOURCE:  # the audit-only event, which every source publishes
            assert sources == {"enum": list(SOURCES)}
        else:
            assert sources == {"const": event.source}
        assert "hash" in schema["required"] and "prev_hash" in schema["required"]
