"""docs/operators.md documents every configuration variable the code reads."""

from __future__ import annotations

import re
from pathlib import Path

from services.runtime.secrets import SECRETS

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
    # The nameko configuration, both compose files, and the scripts that build and run them.
    deploy = ROOT / "deploy"
    for path in [*deploy.glob("*.yaml"), *deploy.rglob("*.sh")]:
        found |= set(VARIABLE.findall(path.read_text(encoding="utf-8")))
    return found


def test_the_scan_finds_the_variables_it_should():
    found = variables_read_by_the_code()
    assert {"AMQP_URI", "CIPHER_KEY", "POSTGRES_DBNAME", "CASEBOOK_DATA_DIR",
            "CASEBOOK_LOG_LEVEL", "CASEBOOK_HANDLER_ATTEMPTS", "CASEBOOK_HTTPS_ADDRESS",
            "CASEBOOK_CACHE"} <= found


def documented() -> set[str]:
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", DOC.read_text(encoding="utf-8")))


def test_every_variable_is_documented():
    missing = sorted(variables_read_by_the_code() - documented())
    assert not missing, f"docs/operators.md does not document {missing}"


def test_every_secret_is_documented_with_its_file_form():
    names = {form for name in SECRETS for form in (name, f"{name}_FILE")}
    missing = sorted(names - documented())
    assert not missing, f"docs/operators.md does not document {missing}"
