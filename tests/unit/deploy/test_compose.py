"""deploy/compose.yaml runs what `casebook up` runs: the same services, commands, nameko
configuration and environment, with a broker user, a schema and a CIPHER_KEY of their own."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from services.runtime.cli.keygen import env_file, env_prefix, fresh_secrets
from services.runtime.launcher import CONFIG_FILE, SERVICES, service_command

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "deploy" / "compose.yaml"
IMAGE_ROOT = Path("/app")  # WORKDIR of deploy/Dockerfile
ENGINES = {"rabbitmq", "postgres"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_compose_runs_exactly_the_services_of_the_code_and_the_two_engines(compose):
    assert set(compose["services"]) == set(SERVICES) | ENGINES


@pytest.mark.parametrize("name", list(SERVICES))
def test_each_service_runs_the_command_and_configuration_of_casebook_up(compose, name):
    command = compose["services"][name]["command"]
    expected = service_command(name)
    # The interpreter is the image's own; the config file is the same file of the checkout.
    assert command[0] == "python"
    config_at = command.index("--config") + 1
    assert Path(command[config_at]).relative_to(IMAGE_ROOT) == CONFIG_FILE.relative_to(ROOT)
    assert command[:config_at] == ["python", *expected[1:config_at]]
    assert command[config_at + 1:] == expected[config_at + 1:]


def test_the_image_holds_the_config_file_where_the_commands_look():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8").splitlines()
    assert f"WORKDIR {IMAGE_ROOT}" in dockerfile
    assert "COPY deploy/config.yaml ./deploy/config.yaml" in dockerfile


@pytest.mark.parametrize("name", list(SERVICES))
def test_each_service_has_its_own_user_schema_and_key(compose, name):
    environment = compose["services"][name]["environment"]
    prefix = env_prefix(name)
    # What `casebook up` sets for every child process (services/runtime/cli/up.py).
    assert environment["CASEBOOK_SERVICE"] == name
    assert environment["PYTHONWARNINGS"] == "ignore"
    assert environment["AMQP_URI"].startswith(f"amqp://{name}:${{{prefix}_AMQP_PASSWORD:?")
    assert environment["AMQP_URI"].endswith("@rabbitmq:5672/casebook")
    assert environment["POSTGRES_SCHEMA"] == name
    assert environment["POSTGRES_DBNAME"] == "casebook"
    # Encryption at rest is on: no service starts without its key.
    assert environment["CIPHER_KEY"].startswith(f"${{{prefix}_CIPHER_KEY:?")
    assert environment["CASEBOOK_DATA_DIR"] == "/data"


def test_every_container_restarts_has_a_healthcheck_and_a_pinned_image(compose):
    for name, service in compose["services"].items():
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"][0] == "CMD", name
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), name
        assert any(ch.isdigit() for ch in image.split(":", 1)[1]), name
    assert "/healthz" in " ".join(compose["services"]["gateway"]["healthcheck"]["test"])
    assert 'ping() == "pong"' in compose["services"]["cases"]["healthcheck"]["test"][-1]


def test_every_secret_compose_requires_is_made_by_keygen():
    text = COMPOSE.read_text(encoding="utf-8")
    required = {
        line.split("${", 1)[1].split(":?", 1)[0]
        for line in text.splitlines() if ":?" in line
    }
    assert required
    assert required <= set(fresh_secrets())


@pytest.mark.skipif(shutil.which("docker-compose") is None,
                    reason="the docker-compose binary is not installed (Debian package "
                           "docker-compose; deploy/local.sh test installs it)")
def test_docker_compose_accepts_the_file(tmp_path):
    env = tmp_path / ".env"
    env.write_text(env_file(fresh_secrets()))
    result = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "--env-file", str(env), "config", "-q"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
