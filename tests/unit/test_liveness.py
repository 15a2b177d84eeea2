"""The self-ping's settings: a file and an interval the health check's minute can hold."""

from __future__ import annotations

from pathlib import Path

import pytest
from environs import EnvValidationError

from services.runtime.settings import settings


def test_the_self_ping_is_off_unless_a_file_is_named(monkeypatch):
    monkeypatch.delenv("CASEBOOK_LIVENESS_FILE", raising=False)
    monkeypatch.delenv("CASEBOOK_LIVENESS_SECONDS", raising=False)
    assert settings().runtime.liveness_file is None
    assert settings().runtime.liveness_seconds == 10.0
    monkeypatch.setenv("CASEBOOK_LIVENESS_FILE", "/tmp/casebook-alive")
    assert settings().runtime.liveness_file == Path("/tmp/casebook-alive")


@pytest.mark.parametrize("value", ["0", "-5", "45", "ten"])
def test_an_interval_the_health_check_cannot_hold_is_refused_naming_the_rule(monkeypatch, value):
    monkeypatch.setenv("CASEBOOK_LIVENESS_SECONDS", value)
    with pytest.raises(EnvValidationError, match=r"CASEBOOK_LIVENESS_SECONDS.*"
                                                 r"(at most 30|Not a valid number)"):
        settings()
