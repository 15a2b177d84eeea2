"""The stand-alone verifiers (examples/verify/) on what `casebook export` writes after a full
`casebook demo`: both accept every source's stream, and both name the position of a one-byte
edit."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from services.runtime.cli import main
from services.runtime.launcher import PUBLISHERS
from tests.support.services import AUDITOR, SUPERVISOR, processes, rpc
from tests.support.waiting import wait_for

VERIFY = Path(__file__).resolve().parents[2] / "examples" / "verify"


def verifiers() -> dict[str, list[str]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH: THE JAVASCRIPT VERIFIER CANNOT BE CHECKED (CI has it)")
    return {"node": [node, str(VERIFY / "verify.js")],
            "python": [sys.executable, str(VERIFY / "verify.py")]}


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def verify(command: list[str], path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=120)


def edit_one_digit(line: bytes) -> bytes:
    """The line with one digit of one payload value changed: still valid JSON, another event."""
    envelope = json.loads(line)
    for key, value in envelope["payload"].items():
        written = f'"{key}":{json.dumps(value, ensure_ascii=False)}'.encode()
        digits = [i for i, byte in enumerate(written) if chr(byte).isdigit() and i > len(key) + 2]
        if digits and written in line:
            at = digits[-1]
            digit = b"1" if written[at:at + 1] != b"1" else b"2"
            changed = written[:at] + digit + written[at + 1:]
            return line.replace(written, changed, 1)
    raise AssertionError(f"no digit in the payload of {line[:200]!r}")


def test_both_verifiers_accept_every_exported_source_and_name_an_edited_position(
    amqp_uri, tmp_path, monkeypatch
):
    commands = verifiers()
    monkeypatch.setenv("AMQP_URI", amqp_uri)
    exports: dict[str, Path] = {}
    with processes(amqp_uri, tmp_path / "var", *PUBLISHERS):
        assert cli("demo", "--cases", "3").count("case ") == 3
        with rpc(amqp_uri, SUPERVISOR) as proxy:  # the demo leaves resources alone
            proxy.resources.register_provider({
                "provider_kind": "organisation", "sector": "social_organisation",
                "name": "Sunrise Foundation", "contact": {"phone": "13800000000"},
                "registered_on": "2026-09-01",
            })
        with rpc(amqp_uri, AUDITOR) as proxy:
            head = proxy.cases.status()["published_position"]
            wait_for(lambda: proxy.archive.ledger_head("cases")["position"] == head,
                     timeout=60, what="the archive's ledger to reach the cases head")
        for source in PUBLISHERS:
            exports[source] = tmp_path / f"{source}.jsonl"
            cli("export", "--source", source, "--out", str(exports[source]))

    counts: dict[str, int] = {}
    for source, path in exports.items():
        counts[source] = len(path.read_bytes().splitlines())
        for name, command in commands.items():
            result = verify(command, path)
            assert result.returncode == 0, f"{name} on {source}: {result.stdout}{result.stderr}"
            if counts[source]:
                assert result.stdout.startswith(
                    f"verified {counts[source]} envelopes of {source}: "), result.stdout
                assert "chain from genesis" in result.stdout
    assert all(counts.values()), counts

    lines = exports["cases"].read_bytes().splitlines(keepends=True)
    target = len(lines) // 2
    edited_position = json.loads(lines[target])["position"]
    lines[target] = edit_one_digit(lines[target])
    json.loads(lines[target])  # still JSON
    tampered = tmp_path / "cases-edited.jsonl"
    tampered.write_bytes(b"".join(lines))
    for name, command in commands.items():
        result = verify(command, tampered)
        assert result.returncode == 1, f"{name}: {result.stdout}{result.stderr}"
        assert result.stdout.startswith(
            f"FAILED: position {edited_position}: hash does not match"), f"{name}: {result.stdout}"
