"""Casebook's Compose deployment, started for real: a Docker engine (deploy/engine.sh), the
images (local ones where no registry answers), secrets from `casebook keygen`, and ports chosen
free on 127.0.0.1 so the stack stays apart from any RabbitMQ or PostgreSQL already on the host.
Everything it runs talks over 127.0.0.1 only."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from services.runtime.cli.audit import published
from services.runtime.cli.keygen import env_prefix
from services.runtime.launcher import PUBLISHERS, SERVICES
from tests.e2e.test_readme_tour import free_port
from tests.support.scrapes import served_addresses
from tests.support.services import AUDITOR, rpc
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
COMPOSE_FILES = ("deploy/compose.yaml", "deploy/compose.prod.yaml")
PROJECT = "casebook-compose-test"
# Every container of compose.yaml and compose.prod.yaml.
CONTAINERS = ("rabbitmq", "postgres", *PUBLISHERS, "gateway", "console", "proxy")
# Each service's /metrics port, by service.
METRICS_PORTS = {name: f"CASEBOOK_{env_prefix(name)}_METRICS_PORT" for name in SERVICES}
PORTS = ("CASEBOOK_AMQP_PORT", "CASEBOOK_RABBITMQ_UI_PORT", "CASEBOOK_RABBITMQ_METRICS_PORT",
         "CASEBOOK_RABBITMQ_DIST_PORT",
         "CASEBOOK_EPMD_PORT", "CASEBOOK_POSTGRES_PORT", "CASEBOOK_HTTP_PORT",
         "CASEBOOK_CONSOLE_PORT", "HTTPS_PORT", "CONSOLE_HTTPS_PORT",
         *METRICS_PORTS.values())


def run(command: list[str], env: dict[str, str], timeout: float = 600,
        check: bool = True, cwd: Path = ROOT,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                            timeout=timeout, input=stdin)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {result.returncode}:\n"
                             f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def settings(text: str) -> dict[str, str]:
    """`NAME=value` lines, as deploy/.env and the image scripts print them."""
    return dict(line.split("=", 1) for line in text.splitlines()
                if "=" in line and not line.startswith("#"))


@dataclass
class Engine:
    docker_host: str
    started: bool

    @property
    def env(self) -> dict[str, str]:
        """What docker and docker-compose run with: nothing of this test process's environment,
        which the test fixtures change (a setting passed through from there would reach the
        containers)."""
        return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"),
                "LANG": "C.UTF-8", "DOCKER_HOST": self.docker_host}

    @property
    def build_env(self) -> dict[str, str]:
        """What the image scripts run with: this machine's own settings (a proxy, a PyPI or
        Debian mirror) and the engine."""
        return {**os.environ, "DOCKER_HOST": self.docker_host}


@contextmanager
def docker_engine() -> Iterator[Engine]:
    """The engine that answers, else Casebook's own dockerd, stopped again if started here."""
    started = subprocess.run(["bash", "deploy/engine.sh", "start"], cwd=ROOT,
                             capture_output=True, text=True, timeout=180)
    assert started.returncode == 0, f"no Docker engine can run here:\n{started.stderr}"
    output = settings(started.stdout)
    engine = Engine(output["DOCKER_HOST"], output.get("CASEBOOK_ENGINE_STARTED") == "1")
    try:
        yield engine
    finally:
        if engine.started:
            run(["bash", "deploy/engine.sh", "stop"], os.environ.copy(), timeout=120)


def registry_answers(engine: Engine) -> bool:
    """Whether the official base image of deploy/Dockerfile is there or can be pulled."""
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    base = next(line.split("=", 1)[1] for line in dockerfile.splitlines()
                if line.startswith("ARG BASE_IMAGE="))
    if run(["docker", "image", "inspect", base], engine.env, check=False).returncode == 0:
        return True
    return run(["docker", "pull", base], engine.env, timeout=300, check=False).returncode == 0


def image_settings(engine: Engine) -> dict[str, str]:
    """The official images by default; images built from Debian's packages on a debootstrapped
    base where no registry answers (CASEBOOK_COMPOSE_IMAGES=official|local forces a choice)."""
    choice = os.environ.get("CASEBOOK_COMPOSE_IMAGES", "auto")
    if choice == "official" or (choice == "auto" and registry_answers(engine)):
        return {}
    built = run(["bash", "deploy/images/local-images.sh"], engine.build_env, timeout=1200)
    return settings(built.stdout)


@dataclass
class Stack:
    engine: Engine
    directory: Path
    ports: dict[str, int]
    images: dict[str, str]
    files: tuple[str, ...] = COMPOSE_FILES
    containers: tuple[str, ...] = CONTAINERS  # its Compose services
    env_file: Path = field(init=False)

    def __post_init__(self) -> None:
        self.env_file = self.directory / ".env"

    @property
    def secrets(self) -> Path:
        return self.directory / "secrets"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.ports['CASEBOOK_HTTP_PORT']}"

    @property
    def tls_api(self) -> str:
        return f"https://127.0.0.1:{self.ports['HTTPS_PORT']}"

    @property
    def tls_console(self) -> str:
        return f"https://127.0.0.1:{self.ports['CONSOLE_HTTPS_PORT']}"

    @property
    def operator_uri(self) -> str:
        password = (self.secrets / "rabbitmq_operator_password").read_text()
        return f"amqp://operator:{password}@127.0.0.1:{self.ports['CASEBOOK_AMQP_PORT']}/casebook"

    def compose(self, *args: str, env: dict[str, str] | None = None,
                timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return run(self.compose_command(*args), {**self.engine.env, **(env or {})},
                   timeout=timeout)

    def compose_command(self, *args: str) -> list[str]:
        """The docker-compose command line for this stack, run from the project's root."""
        files = [part for name in self.files for part in ("-f", name)]
        return ["docker-compose", *files, "--env-file", str(self.env_file), *args]

    def docker(self, *args: str) -> str:
        return run(["docker", *args], self.engine.env, timeout=120).stdout.strip()

    def container(self, service: str) -> str:
        return self.compose("ps", "-q", service).stdout.strip()

    def inspect(self, service: str) -> dict[str, Any]:
        """The container of `service` (of a replicated one, its first), as Docker has it."""
        document: list[dict[str, Any]] = json.loads(self.docker(
            "inspect", self.container(service).split()[0]))
        return document[0]

    def queues(self, node: str = "rabbitmq") -> list[dict[str, Any]]:
        """Every queue of Casebook's vhost as the RabbitMQ container `node` lists it."""
        return self._listed(node, "list_queues", "-p", "casebook", "name", "type", "durable",
                            "exclusive", "members", "leader")

    def connections(self, node: str = "rabbitmq") -> list[dict[str, Any]]:
        """Every client connection of the cluster (its server port, user and vhost) as the
        RabbitMQ container `node` lists them."""
        return self._listed(node, "list_connections", "port", "user", "vhost")

    def _listed(self, node: str, *command: str) -> list[dict[str, Any]]:
        """What `rabbitmqctl COMMAND` lists in the container `node`, as JSON rows."""
        listed = run(self.compose_command("exec", "-T", node, "rabbitmqctl", *command, "--quiet",
                                          "--formatter", "json"), self.engine.env, timeout=120)
        rows: list[dict[str, Any]] = json.loads(listed.stdout)
        return rows

    def listeners(self, sockets: list[str], container: str) -> set[str]:
        """The TCP addresses the processes of a container (its id) listen on, among `ss`
        lines."""
        pids = set(self.docker("top", container, "-eo", "pid").split()[1:])
        return {line.split()[3] for line in sockets
                if pids & set(re.findall(r"pid=(\d+)", line))}

    def print_logs(self) -> None:
        """What each container said, and its last health checks with what they printed, for
        whoever reads the failure (pytest shows it with it). Each container gets a share of its
        own: one chatty container's lines cannot push another's out."""
        for service in self.containers:
            containers = self.container(service).split()
            if not containers:
                print(f"== {service}: no container")
            for container in containers:
                [document] = json.loads(self.docker("inspect", container))
                state, health = document["State"], document["State"].get("Health") or {}
                checks = [f"{check['Start']} exit {check['ExitCode']}: "
                          f"{check['Output'].strip()[-300:]}" for check in health.get("Log") or []]
                print(f"== {service} ({container[:12]}): {state['Status']}, restarted "
                      f"{document['RestartCount']} time(s), health {health.get('Status')}",
                      *checks, sep="\n  ")
                logs = run(["docker", "logs", "--tail", "40", container], self.engine.env,
                           check=False)
                print((logs.stdout + logs.stderr)[-4000:])

    def health(self) -> dict[str, str]:
        """Each Compose service's health; a replicated one's, that of its every container."""
        states = {}
        for service in self.containers:
            containers = self.container(service).split()
            found = {self.docker("inspect", "--format", "{{.State.Health.Status}}", container)
                     for container in containers}
            states[service] = ",".join(sorted(found)) or "absent"
        return states

    def wait_healthy(self, timeout: float = 300) -> None:
        wait_for(lambda: set(self.health().values()) == {"healthy"}, timeout=timeout,
                 interval=1, what="every container of the stack to be healthy")

    def cli_env(self) -> dict[str, str]:
        """The `casebook` CLI on the host, as the operator, with the stack's own secret files."""
        return {
            **self.engine.env,
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "AMQP_URI": f"amqp://operator@127.0.0.1:{self.ports['CASEBOOK_AMQP_PORT']}/casebook",
            "AMQP_PASSWORD_FILE": str(self.secrets / "rabbitmq_operator_password"),
            "CASEBOOK_TRANSPORT_KEY_FILE": str(self.secrets / "casebook_transport_key"),
            "CASEBOOK_JWT_SECRET_FILE": str(self.secrets / "casebook_jwt_secret"),
            # The issuer and audience the gateway checks, for the tokens `casebook token` mints.
            **{name: value for name, value in settings(self.env_file.read_text()).items()
               if name in ("CASEBOOK_JWT_ISSUER", "CASEBOOK_JWT_AUDIENCE")},
            "CASEBOOK_DATA_DIR": str(self.directory / "var"),
            "PYTHONWARNINGS": "ignore",
        }

    def casebook(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run([str(BIN / "casebook"), *args], self.cli_env(), timeout=300, check=check)

    def token(self, role: str, subject: str, school: str | None = None) -> str:
        args = ["token", "--role", role, "--sub", subject]
        return self.casebook(*args, *(["--school", school] if school else [])).stdout.strip()


@contextmanager
def running(stack: Stack, request: Any) -> Iterator[Stack]:
    """The stack built, up and healthy for a test module (`request`, its pytest request), and
    down with its volumes after; each container's logs printed when one of its tests failed."""
    stack.compose("config", "--quiet")
    failed_before = request.session.testsfailed
    try:
        stack.compose("build")
        stack.compose("up", "--detach")
        stack.wait_healthy()
        yield stack
        if request.session.testsfailed > failed_before:
            stack.print_logs()
    except Exception:
        stack.print_logs()
        raise
    finally:
        stack.compose("down", "--volumes", "--remove-orphans")


@dataclass(frozen=True)
class Scrape:
    """What Prometheus made of a stack: the instances each job should have (`served`, from the
    Compose files) and those it scraped, every rule that failed to evaluate (name and error),
    and the queues RabbitMQ's figures came in for."""

    served: dict[str, list[str]]
    scraped: dict[str, list[str]]
    failing_rules: list[tuple[str, str | None]]
    queues: set[str]


def scraped_by_prometheus(stack: Stack, config_file: str, directory: Path) -> Scrape:
    """Prometheus (Debian's, which deploy/local.sh unpacks into the virtualenv) scraping the
    stack as deploy/prometheus/`config_file` says, its targets moved to the stack's ports (the
    unit tests hold the file's targets to the Compose files' defaults) and every second, once
    every target answers and every rule has been evaluated."""
    deploy = ROOT / "deploy" / "prometheus"
    config = yaml.safe_load((deploy / config_file).read_text(encoding="utf-8"))
    served = served_addresses(stack.files,
                              lambda variable, default: str(stack.ports.get(variable, default)))
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(deploy / name) for name in config["rule_files"]]
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": served[job["job_name"]]}]
    (directory / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    api = f"http://127.0.0.1:{free_port()}"
    binary = shutil.which("prometheus") or str(BIN / "prometheus")
    with (directory / "prometheus.log").open("wb") as log:
        server = subprocess.Popen(
            [binary, f"--config.file={directory / 'prometheus.yml'}",
             f"--storage.tsdb.path={directory / 'data'}",
             f"--web.listen-address={api.removeprefix('http://')}"],
            stdout=log, stderr=subprocess.STDOUT)
    try:
        def answered(path: str) -> Any:
            try:
                with urllib.request.urlopen(f"{api}{path}", timeout=10) as response:
                    return json.loads(response.read())["data"]
            except OSError:  # not listening yet
                return None

        def targets() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = (answered("/api/v1/targets") or {}).get(
                "activeTargets", [])
            return found

        def every_target_up() -> list[dict[str, Any]] | None:
            found = targets()
            return found if found and all(t["health"] == "up" for t in found) else None

        try:
            up = wait_for(every_target_up, timeout=90, interval=1,
                          what="Prometheus to scrape every target")
        except AssertionError:
            down = [(t["scrapeUrl"], t["health"], t["lastError"]) for t in targets()
                    if t["health"] != "up"]
            raise AssertionError(f"targets not up: {down}") from None

        def every_rule_evaluated() -> list[dict[str, Any]] | None:
            rules = [rule for group in (answered("/api/v1/rules") or {}).get("groups", [])
                     for rule in group["rules"]]
            return rules if rules and all(r["health"] != "unknown" for r in rules) else None

        rules = wait_for(every_rule_evaluated, timeout=60, interval=1,
                         what="Prometheus to evaluate every rule")
        queues = answered("/api/v1/query?query=rabbitmq_detailed_queue_messages")["result"]
        return Scrape(
            served=served,
            scraped={job: sorted(t["labels"]["instance"] for t in up if t["labels"]["job"] == job)
                     for job in served},
            failing_rules=[(rule["name"], rule.get("lastError")) for rule in rules
                           if rule["health"] != "ok"],
            queues={series["metric"]["queue"] for series in queues})
    finally:
        server.terminate()
        server.wait(timeout=60)


def http(method: str, url: str, token: str, body: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, Any]:
    """One HTTP request to the stack; the status and the decoded JSON body."""
    data = json.dumps(body).encode() if body is not None else None
    message = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})
    })
    try:
        with urllib.request.urlopen(message, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def student(client_id: str) -> dict[str, Any]:
    """A student (a minor, so with a guardian on record), as the README's tour registers one."""
    return {"client_id": client_id, "client_type": "student", "name": "王小明",
            "date_of_birth": "2013-05-04", "grade": 7,
            "guardians": [{"name": "王强", "relation": "father", "contact": "139-0000-0000"}]}


def register(stack: Stack, token: str, timeout: float = 120, api: str | None = None) -> str:
    """Register a client under an id of the caller's making (a UUID: ids travel on the bus and
    never hold a name), retrying with one Idempotency-Key until the gateway says it is done: a
    retry of a command that did run returns its first outcome, never a second client. A refusal
    fails at once; only outages (5xx, a gateway restarting) are retried."""
    client_id = str(uuid.uuid4())
    key = str(uuid.uuid4())

    def done() -> bool:
        try:
            status, body = http("POST", f"{api or stack.api}/clients", token, student(client_id),
                                headers={"Idempotency-Key": key})
        except OSError:  # the gateway itself restarting: connection refused or reset
            return False
        if 400 <= status < 500 and status != 409:  # 409: the first try still in progress
            raise AssertionError(f"registration refused ({status}): {body}")
        return status == 201

    wait_for(done, timeout=timeout, interval=0.5, what=f"the registration of {client_id}")
    return client_id


def ledger_and_sources(stack: Stack) -> dict[str, dict[str, Any]]:
    """Per publishing service: the events it published, and what the archive's ledger holds of
    them (entry count, head hash, whether its chain holds). The events are read first: each
    verification is kept and published itself, after its report, so the archive's events read
    after it would always be one ahead of its ledger."""
    with rpc(stack.operator_uri, AUDITOR, timeout=120) as proxy:
        streams = {source: list(published(proxy, source)) for source in PUBLISHERS}
        report = proxy.archive.verify_ledger()["sources"]
        counts = {}
        for source in PUBLISHERS:
            events = streams[source]
            ledger = report.get(source, {"entries": 0, "head": {"hash": "0" * 64}, "ok": True})
            counts[source] = {
                "published": len(events),
                "published_head": events[-1]["hash"] if events else "0" * 64,
                "ledger": ledger["entries"],
                "ledger_head": ledger["head"]["hash"],
                "ledger_ok": ledger["ok"],
            }
    return counts


def ledger_holds_every_published_event(stack: Stack) -> dict[str, dict[str, Any]] | None:
    counts = ledger_and_sources(stack)
    complete = all(c["published"] == c["ledger"] and c["published_head"] == c["ledger_head"]
                   and c["ledger_ok"] for c in counts.values())
    return counts if complete else None


def verify(stack: Stack, before: dict[str, dict[str, Any]]) -> None:
    """`casebook verify` against the stack, as the operator: it passes, and the entries it reports
    for each source lie between what the ledger held just before (`before`) and just after it.
    Exact where nothing published meanwhile; supervision's deadline timer may publish at any time,
    so a single count read beside verify would race it."""
    result = stack.casebook("verify")
    line = next(line for line in result.stdout.splitlines() if line.startswith("verified"))
    entries = {source: int(count) for source, count in
               (part.split(": ") for part in
                line.split("ledger entries ", 1)[1].rstrip(")").split(", ") if ": " in part)}
    after = ledger_and_sources(stack)
    for source in before.keys() | after.keys() | entries.keys():
        low = before.get(source, {}).get("ledger", 0)
        high = after.get(source, {}).get("ledger", 0)
        assert low <= entries.get(source, 0) <= high, (source, low, entries.get(source), high)


def new_stack(engine: Engine, directory: Path, images: dict[str, str],
              files: tuple[str, ...] = COMPOSE_FILES, containers: tuple[str, ...] = CONTAINERS,
              port_names: tuple[str, ...] = PORTS, project: str = PROJECT) -> Stack:
    """Secrets, a self-signed certificate for the proxy and deploy/.env for a stack of its own."""
    ports = {name: free_port() for name in port_names}
    run([str(BIN / "casebook"), "keygen", "--write", str(directory),
         "--tls-name", "localhost", "--tls-name", "127.0.0.1"], engine.env)
    env = settings((directory / ".env").read_text())
    env.update({
        "COMPOSE_PROJECT_NAME": project,
        "CASEBOOK_SECRETS_DIR": str(directory / "secrets"),
        "CASEBOOK_TLS_CERTIFICATE": str(directory / "secrets" / "tls.crt"),
        "CASEBOOK_TLS_KEY": str(directory / "secrets" / "tls.key"),
        "CASEBOOK_HTTPS_ADDRESS": f"127.0.0.1:{ports['HTTPS_PORT']}",
        "CASEBOOK_CONSOLE_HTTPS_ADDRESS": f"127.0.0.1:{ports['CONSOLE_HTTPS_PORT']}",
        "CASEBOOK_REVISION": "compose-test",
        # Health is checked often, so that waiting for it is short.
        "CASEBOOK_HEALTHCHECK_INTERVAL": "2s",
        # The README's tour relies on the real rule: only a qualified, trained worker takes cases.
        "CASEBOOK_REQUIRE_ELIGIBLE_WORKERS": "true",
        **{name: str(port) for name, port in ports.items() if name.startswith("CASEBOOK_")},
        **images,
    })
    (directory / ".env").write_text("".join(f"{key}={value}\n" for key, value in env.items()))
    return Stack(engine, directory, ports, images, files, containers)
