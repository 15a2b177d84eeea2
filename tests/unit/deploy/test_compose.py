"""deploy/compose.yaml runs what `casebook up` runs: the same services, commands, nameko
configuration and environment, with a broker user, a schema and a CIPHER_KEY of their own; its
secrets are files made by `casebook keygen`; every container listens on 127.0.0.1 only.
(tests/compose/ starts it for real.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from services import __version__
from services.runtime.cli.keygen import (
    IMAGE_UID,
    TLS_CERTIFICATE_FILE,
    TLS_KEY_FILE,
    env_prefix,
    fresh_secrets,
    keygen,
    secret_file_name,
)
from services.runtime.launcher import (
    CONFIG_FILE,
    METRICS_PORTS,
    PUBLISHERS,
    SERVICES,
    service_command,
)
from services.runtime.secrets import SECRETS

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
PRODUCTION = DEPLOY / "compose.prod.yaml"
CLUSTER = DEPLOY / "compose.cluster.yaml"
IMAGE_ROOT = Path("/app")  # WORKDIR of deploy/Dockerfile
ENGINES = {"rabbitmq", "postgres"}
DEFAULT = re.compile(r"^\$\{(\w+):-(.*)\}$")


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="module")
def compose() -> dict:
    return load(COMPOSE)


@pytest.fixture(scope="module")
def production() -> dict:
    return load(PRODUCTION)


def default(value: str) -> str:
    """The value Compose uses when the variable of `${VARIABLE:-default}` is unset."""
    match = DEFAULT.match(value)
    return match.group(2) if match else value


def test_compose_runs_exactly_the_services_of_the_code_and_the_two_engines(compose, production):
    assert set(compose["services"]) == set(SERVICES) | ENGINES
    assert set(production["services"]) == {"proxy"}


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


def test_the_image_installs_offline_and_holds_the_config_file_where_the_commands_look():
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    lines = dockerfile.splitlines()
    assert f"WORKDIR {IMAGE_ROOT}" in lines
    assert "COPY deploy/config.yaml ./deploy/config.yaml" in lines
    # Only the wheelhouse: no package index is asked, so the build works with none reachable.
    assert "pip install --no-cache-dir --no-index --find-links /wheelhouse" in dockerfile
    assert "ARG BASE_IMAGE=python:3.11-slim-bookworm" in lines
    # The entrypoint gives AMQP_PASSWORD_FILE's password to nameko's configuration.
    assert 'ENTRYPOINT ["python", "-m", "services.runtime.secrets"]' in lines
    # The services' user owns the secret files keygen writes.
    assert f"--uid {IMAGE_UID}" in dockerfile


@pytest.mark.parametrize("name", list(SERVICES))
def test_each_service_has_its_own_user_schema_and_key_given_as_files(compose, name):
    service = compose["services"][name]
    environment = service["environment"]
    prefix = env_prefix(name).lower()
    # What `casebook up` sets for every child process (services/runtime/cli/up.py).
    assert environment["CASEBOOK_SERVICE"] == name
    assert environment["PYTHONWARNINGS"] == "ignore"
    assert environment["AMQP_URI"] == f"amqp://{name}@127.0.0.1:${{CASEBOOK_AMQP_PORT:-5672}}/casebook"
    assert environment["AMQP_PASSWORD_FILE"] == f"/run/secrets/{prefix}_amqp_password"
    assert environment["POSTGRES_SCHEMA"] == name
    assert environment["POSTGRES_DBNAME"] == "casebook"
    assert environment["POSTGRES_HOST"] == "127.0.0.1"
    # Encryption at rest is on: no service starts without its key.
    assert environment["CIPHER_KEY_FILE"] == f"/run/secrets/{prefix}_cipher_key"
    assert environment["CASEBOOK_DATA_DIR"] == "/data"
    # Its own secrets and no other service's; none of them as a value in the environment.
    own = {f"{prefix}_amqp_password", f"{prefix}_cipher_key"}
    others = {f"{env_prefix(o).lower()}_{kind}" for o in SERVICES if o != name
              for kind in ("amqp_password", "cipher_key")}
    assert own <= set(service["secrets"]) and not others & set(service["secrets"])
    for file_variable, path in environment.items():
        if file_variable.endswith("_FILE") and path.startswith("/run/secrets/"):
            assert path.rsplit("/", 1)[1] in service["secrets"], file_variable
    assert not set(SECRETS) & set(environment), "a secret given as a value"


def test_every_container_restarts_has_a_healthcheck_and_a_pinned_image(compose, production):
    for name, service in {**compose["services"], **production["services"]}.items():
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"][0] == "CMD", name
        image = default(service["image"])
        assert ":" in image and not image.endswith(":latest"), name
        assert any(ch.isdigit() for ch in image.split(":", 1)[1]), name
    assert "/healthz" in " ".join(compose["services"]["gateway"]["healthcheck"]["test"])
    for name in PUBLISHERS:
        assert compose["services"][name]["environment"]["CASEBOOK_LIVENESS_FILE"], name


@pytest.mark.parametrize(("age_seconds", "healthy"), [(5, True), (50, True), (70, False),
                                                      (None, False)])
def test_a_publishing_service_is_healthy_while_its_own_ping_came_back_within_a_minute(
        compose, tmp_path, age_seconds, healthy):
    """The health check's command, run as Docker runs it (`$$` is Compose's `$`), against the
    file the service touches (services.runtime.liveness) at each pong: None, never touched."""
    kind, *command = compose["services"]["cases"]["healthcheck"]["test"]
    assert kind == "CMD"
    alive = tmp_path / "casebook-alive"
    if age_seconds is not None:
        alive.touch()
        then = time.time() - age_seconds
        os.utime(alive, (then, then))
    checked = subprocess.run([part.replace("$$", "$") for part in command],
                             env={"PATH": "/usr/bin:/bin", "CASEBOOK_LIVENESS_FILE": str(alive)},
                             capture_output=True, timeout=30)
    assert (checked.returncode == 0) is healthy, checked


def test_casebooks_image_is_tagged_with_casebooks_version_and_reports_its_commit(compose):
    cluster = load(DEPLOY / "compose.cluster.yaml")
    images = {name: default(service["image"]) for name, service in
              [*compose["services"].items(), *cluster["services"].items()]
              if not name.startswith(tuple(ENGINES)) and "image" in service}
    assert images.keys() == {*SERVICES, "gateway-2"}
    assert set(images.values()) == {f"casebook:{__version__}"}
    lines = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines()
    assert "ENV CASEBOOK_REVISION=${CASEBOOK_REVISION}" in lines


def test_every_container_of_every_file_keeps_its_logs_bounded(compose, production):
    """Docker's json-file driver keeps a container's output in one file without end unless
    given a size and a count; a service runs for years. The overlays' own containers too: a
    service an overlay only changes keeps the base file's setting when Compose merges them."""
    rotated = {"driver": "json-file", "options": {"max-size": "${CASEBOOK_LOG_FILE_SIZE:-20m}",
                                                  "max-file": "${CASEBOOK_LOG_FILES:-5}"}}
    cluster = load(CLUSTER)
    containers = {**compose["services"], **production["services"]}
    for name, service in cluster["services"].items():
        containers[name] = {**containers.get(name, {}), **service}
    assert {"rabbitmq-2", "rabbitmq-3", "gateway-2", "proxy"} <= set(containers)
    for name, service in containers.items():
        assert service.get("logging") == rotated, name


def test_every_container_is_on_the_hosts_network_and_listens_on_127_0_0_1_only(compose,
                                                                              production):
    services = {**compose["services"], **production["services"]}
    for name, service in services.items():
        assert service["network_mode"] == "host", name
        assert "ports" not in service, name  # nothing is published: nothing to publish from
    gateway = compose["services"]["gateway"]["environment"]
    assert gateway["WEB_SERVER_ADDRESS"] == "127.0.0.1:${CASEBOOK_HTTP_PORT:-8000}"
    # Each service's /metrics on a port of its own, the one `casebook up --metrics` uses.
    assert set(METRICS_PORTS) == set(SERVICES)
    assert len(set(METRICS_PORTS.values())) == len(SERVICES)
    for name in SERVICES:
        variable = f"CASEBOOK_{env_prefix(name)}_METRICS_PORT"
        assert compose["services"][name]["environment"]["CASEBOOK_METRICS_ADDRESS"] == (
            f"127.0.0.1:${{{variable}:-{METRICS_PORTS[name]}}}")
    assert "listen_addresses=127.0.0.1" in compose["services"]["postgres"]["command"]
    rabbitmq = compose["services"]["rabbitmq"]["environment"]
    assert rabbitmq["ERL_EPMD_ADDRESS"] == "127.0.0.1"
    assert "inet_dist_use_interface {127,0,0,1}" in rabbitmq["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"]
    listeners = (DEPLOY / "rabbitmq" / "start.sh").read_text(encoding="utf-8")
    assert "listeners.tcp.default = 127.0.0.1:" in listeners
    assert "management.tcp.ip = 127.0.0.1" in listeners
    # The proxy is the one listener meant for other machines; its operator chooses where.
    proxy = production["services"]["proxy"]["environment"]
    assert default(proxy["CASEBOOK_HTTPS_ADDRESS"]).startswith("127.0.0.1:")
    assert default(proxy["CASEBOOK_CONSOLE_HTTPS_ADDRESS"]).startswith("127.0.0.1:")


def test_every_secret_compose_mounts_is_a_file_keygen_makes(compose, production):
    made = {secret_file_name(variable) for variable in fresh_secrets()}
    cluster = load(CLUSTER)
    assert "rabbitmq_erlang_cookie" in cluster["secrets"]
    for document in (compose, production, cluster):
        for name, secret in document["secrets"].items():
            path = default(secret["file"])
            assert Path(path).name in made | {TLS_CERTIFICATE_FILE, TLS_KEY_FILE}, name
            if Path(path).name in made:
                assert name == Path(path).name  # the same name on both sides of the mount
    used = {name for document in (compose, production, cluster)
            for service in document["services"].values() for name in service.get("secrets", ())}
    assert used == set(compose["secrets"]) | set(production["secrets"]) | set(cluster["secrets"])


@pytest.mark.skipif(shutil.which("docker-compose") is None,
                    reason="the docker-compose binary is not installed (Debian package "
                           "docker-compose; deploy/local.sh test installs it)")
@pytest.mark.parametrize("files", [[COMPOSE], [COMPOSE, PRODUCTION], [COMPOSE, CLUSTER]],
                         ids=["compose.yaml", "with compose.prod.yaml",
                              "with compose.cluster.yaml"])
def test_docker_compose_accepts_the_files(tmp_path, files):
    made = CliRunner().invoke(keygen, ["--write", str(tmp_path), "--tls-name", "localhost"])
    assert made.exit_code == 0, made.output
    with (tmp_path / ".env").open("a") as env:
        env.write(f"CASEBOOK_SECRETS_DIR={tmp_path / 'secrets'}\n")
    arguments = [part for path in files for part in ("-f", str(path))]
    result = subprocess.run(
        ["docker-compose", *arguments, "--env-file", str(tmp_path / ".env"), "config", "-q"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("ports", ["8000,80a", "8000;8001", "8000,,8001 x"])
def test_the_proxy_refuses_a_gateway_that_is_not_a_port_before_it_starts(ports):
    proxy = subprocess.run(
        ["bash", str(DEPLOY / "nginx" / "start.sh")], capture_output=True, text=True,
        timeout=30, env={"PATH": "/usr/bin:/bin", "CASEBOOK_HTTPS_ADDRESS": "127.0.0.1:443",
                         "CASEBOOK_CONSOLE_HTTPS_ADDRESS": "127.0.0.1:8443",
                         "CASEBOOK_HTTP_PORT": "8000", "CASEBOOK_CONSOLE_PORT": "8080",
                         "CASEBOOK_PROXY_GATEWAY_PORTS": ports})
    assert proxy.returncode == 1
    assert proxy.stderr.startswith(f"CASEBOOK_PROXY_GATEWAY_PORTS={ports}: '")
    assert "is not a port; give the gateways' ports separated by commas" in proxy.stderr
