"""Secrets come from a variable or from the file its `_FILE` form names (Compose `secrets:`),
and reach every reader of them: the stores, the gateway, the ledger, the broker URI."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from services.gateway.auth import dev_secret, keys_from_settings
from services.runtime.secrets import (
    SecretError,
    secret_value,
    shuffled_nodes,
    with_amqp_password,
)
from services.runtime.settings import settings
from services.runtime.store import store_env

ROOT = Path(__file__).resolve().parents[2]


def secret_file(tmp_path: Path, text: str, name: str = "secret") -> str:
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o600)
    return str(path)


def test_a_secret_is_the_variable_or_the_content_of_its_file(tmp_path):
    assert secret_value("CIPHER_KEY", {"CIPHER_KEY": "k1"}) == "k1"
    # Files written by hand end in a line break; the secret does not.
    environ = {"CIPHER_KEY_FILE": secret_file(tmp_path, "k2\n")}
    assert secret_value("CIPHER_KEY", environ) == "k2"
    assert secret_value("CIPHER_KEY", {}) is None


def test_a_secret_given_twice_or_unreadable_is_refused_with_its_name(tmp_path):
    both = {"CIPHER_KEY": "k1", "CIPHER_KEY_FILE": secret_file(tmp_path, "k2")}
    with pytest.raises(SecretError, match="CIPHER_KEY and CIPHER_KEY_FILE"):
        secret_value("CIPHER_KEY", both)
    missing = {"POSTGRES_PASSWORD_FILE": str(tmp_path / "absent")}
    with pytest.raises(SecretError, match=r"POSTGRES_PASSWORD_FILE=.*absent"):
        secret_value("POSTGRES_PASSWORD", missing)


def test_the_amqp_password_goes_into_the_uri_of_its_user(tmp_path):
    uri = "amqp://cases@127.0.0.1:5673/casebook"
    assert with_amqp_password(uri, {}) == uri
    environ = {"AMQP_PASSWORD_FILE": secret_file(tmp_path, "p@ss/word")}
    assert with_amqp_password(uri, environ) == "amqp://cases:p%40ss%2Fword@127.0.0.1:5673/casebook"
    # Applied twice (the entrypoint, then the CLI inside the container): the same URI.
    twice = with_amqp_password(with_amqp_password(uri, environ), environ)
    assert twice == with_amqp_password(uri, environ)


def test_a_cluster_failover_uri_gets_the_password_in_each_of_its_uris(tmp_path):
    uri = "amqp://cases@127.0.0.1:5781/casebook;amqp://cases@127.0.0.1:5782/casebook"
    environ = {"AMQP_PASSWORD_FILE": secret_file(tmp_path, "pw")}
    assert with_amqp_password(uri, environ) == (
        "amqp://cases:pw@127.0.0.1:5781/casebook;amqp://cases:pw@127.0.0.1:5782/casebook")


NODES = [f"amqp://cases:pw@127.0.0.1:{port}/casebook" for port in (5672, 5682, 5692)]


def test_each_process_takes_a_cluster_s_nodes_in_an_order_of_its_own():
    draws = [shuffled_nodes(";".join(NODES), random.Random(seed)).split(";")
             for seed in range(300)]
    assert all(sorted(nodes) == sorted(NODES) for nodes in draws)
    # Every node is the first (the one connected to) of about a third of the processes, and
    # the nodes a process falls back on are not the same for all: the first node's clients
    # would otherwise all move to one second node when it goes.
    firsts = Counter(nodes[0] for nodes in draws)
    assert set(firsts) == set(NODES) and min(firsts.values()) > 60, firsts
    assert len({tuple(nodes) for nodes in draws}) == 6
    assert shuffled_nodes(NODES[0]) == NODES[0]


def test_the_readers_of_secrets_take_them_from_files(tmp_path, monkeypatch):
    key_file = secret_file(tmp_path, "c2VjcmV0LWtleS1vZi10aGlydHktdHdvLWJ5dGVzIQ==\n")
    monkeypatch.setenv("CIPHER_KEY_FILE", key_file)
    assert store_env("cases", {"SQLITE_DBNAME": ":memory:"})["CIPHER_KEY"] == (
        "c2VjcmV0LWtleS1vZi10aGlydHktdHdvLWJ5dGVzIQ=="
    )
    monkeypatch.setenv("CASEBOOK_LEDGER_SIGNING_KEY_FILE", key_file)
    assert settings().archive.ledger_signing_key == "c2VjcmV0LWtleS1vZi10aGlydHktdHdvLWJ5dGVzIQ=="
    monkeypatch.setenv("AMQP_URI", "amqp://operator@127.0.0.1:5673/casebook")
    monkeypatch.setenv("AMQP_PASSWORD_FILE", secret_file(tmp_path, "pw", "amqp_password"))
    assert settings().runtime.amqp_uri == "amqp://operator:pw@127.0.0.1:5673/casebook"
    monkeypatch.setenv("CASEBOOK_JWT_SECRET_FILE", key_file)
    monkeypatch.setenv("CASEBOOK_DATA_DIR", str(tmp_path))
    assert keys_from_settings().secret == dev_secret() == (
        "c2VjcmV0LWtleS1vZi10aGlydHktdHdvLWJ5dGVzIQ=="
    )
    assert not (tmp_path / "jwt-secret").exists()  # no development secret made instead


def test_the_entrypoint_runs_the_command_with_the_password_in_amqp_uri(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "AMQP_URI": "amqp://gateway@127.0.0.1:5673/casebook",
        "AMQP_PASSWORD_FILE": secret_file(tmp_path, "pw\n"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "services.runtime.secrets",
         sys.executable, "-c", "import os; print(os.environ['AMQP_URI'])"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "amqp://gateway:pw@127.0.0.1:5673/casebook"


def test_the_entrypoint_gives_each_process_the_cluster_s_nodes_in_its_own_order(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "AMQP_URI": ";".join(NODES)}
    command = [sys.executable, "-m", "services.runtime.secrets",
               sys.executable, "-c", "import os; print(os.environ['AMQP_URI'])"]
    orders = {subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                             timeout=60, check=True).stdout.strip() for _ in range(12)}
    # Twelve processes in one order would happen once in 6**11 runs.
    assert len(orders) > 1
    assert all(sorted(order.split(";")) == sorted(NODES) for order in orders)
