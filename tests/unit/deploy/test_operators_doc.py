"""docs/operators.md documents every configuration variable the code reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "operators.md"
# Names Casebook's own variables start with, and the store and broker variables it reads.
VARIABLE = re.compile(
    r"""["'{](CASEBOOK_[A-Z0-9_]+|POSTGRES_[A-Z]+|AMQP_URI|CIPHER_KEY|SQLITE_DBNAME|"""
    r"""WEB_SERVER_ADDRESS)[}"':]"""
)


def variables_read_by_the_code() -> set[str]:
    found: set[str] = set()
    for folder in ("services", "contracts"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(VARIABLE.findall(path.read_text(encoding="utf-8")))
    found |= set(VARIABLE.findall((ROOT / "deploy" / "config.yaml").read_text(encoding="utf-8")))
    found |= set(VARIABLE.findall((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8")))
    return found


def test_the_scan_finds_the_variables_it_should():
    found = variables_read_by_the_code()
    assert {"AMQP_URI", "CIPHER_KEY", "POSTGRES_DBNAME", "CASEBOOK_DATA_DIR",
            "CASEBOOK_LOG_LEVEL", "CASEBOOK_HANDLER_ATTEMPTS"} <= found


def test_every_variable_is_documented():
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", DOC.read_text(encoding="utf-8")))
    missing = sorted(variables_read_by_the_code() - documented)
    assert not missing, f"docs/operators.md does not document {missing}"
