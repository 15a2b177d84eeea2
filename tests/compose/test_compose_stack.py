"""deploy/compose.yaml with compose.prod.yaml, started for real (`make compose-test`): images
built without a registry where none answers, every container healthy and listening on 127.0.0.1
only, the README's tour over HTTP and the proxy's TLS, then a crashed service, the whole stack
down and up again, one service upgraded while commands go on: nothing is lost; an integrator
added to the running broker follows the events as itself; a dump restored as
docs/operators.md says: nothing of what it undid comes back; Prometheus scrapes it with
deploy/prometheus/prometheus.yml; and no caller leaves a reply queue behind.

It needs a Docker engine (deploy/engine.sh starts one) and takes minutes; `bash deploy/local.sh
test` leaves it out and `.ci/run` runs it after the suite. Each scenario makes its own records."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import threading
from collections.abc import Iterator

import pytest

from services import __version__
from services.runtime.cli.broker_users import password_file
from services.runtime.cli.keygen import DEFINITIONS_FILE
from services.runtime.launcher import PUBLISHERS
from tests.compose.stack import (
    BIN,
    CONTAINERS,
    METRICS_PORTS,
    Engine,
    Stack,
    http,
    ledger_holds_every_published_event,
    new_stack,
    register,
    run,
    running,
    scraped_by_prometheus,
    verify,
)
from tests.e2e.test_readme_tour import tour_blocks
from tests.support.waiting import wait_for

# Building the images the first time (debootstrap, apt-get) is part of the first scenario.
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          engine: Engine, images: dict[str, str]) -> Iterator[Stack]:
    made = new_stack(engine, tmp_path_factory.mktemp("compose"), images)
    with running(made, request) as stack:
        yield stack


@pytest.fixture(scope="module")
def worker(stack: Stack) -> str:
    """A token of the README's demo worker, whom `casebook demo` staffs at school JD001."""
    return stack.token("social_worker", "demo-worker-1", "JD001")


def test_casebook_image_builds_with_no_network_at_all_on_the_local_base(engine, images):
    if "CASEBOOK_BASE_IMAGE" not in images:
        pytest.skip("the stack runs on the official Python image, which installs libpq5 from "
                    "the Debian mirror: the build with no network at all is the local base's")
    # No cache: every step runs, and none of them can reach anything.
    tag = f"casebook-offline-check:{os.getpid()}"
    build = ["docker", "build", "--no-cache", "--network", "none", "--tag", tag,
             "--build-arg", f"BASE_IMAGE={images['CASEBOOK_BASE_IMAGE']}",
             "--file", "deploy/Dockerfile", "."]
    built = run(build, engine.env)
    try:
        imports = run(["docker", "run", "--rm", "--network", "none", "--entrypoint", "python",
                       tag, "-c", "import nameko, eventsourcing, psycopg; print('ok')"],
                      engine.env)
        assert imports.stdout.strip() == "ok"
    finally:
        # The image, and its build stage, which no cache will use: what this build left
        # untagged, never an image of the stack's own build.
        run(["docker", "image", "rm", tag], engine.env)
        made = set(re.findall(r"---> ([0-9a-f]{12})", built.stdout))
        dangling = set(run(["docker", "images", "--quiet", "--filter", "dangling=true"],
                           engine.env).stdout.split())
        for image in sorted(made & dangling):
            run(["docker", "image", "rm", image], engine.env, check=False)


def test_every_container_is_healthy_and_listens_on_the_loopback_only(stack):
    assert stack.health() == {service: "healthy" for service in CONTAINERS}

    def loopback(*names: str) -> set[str]:
        return {f"127.0.0.1:{stack.ports[name]}" for name in names}

    expected = {
        "rabbitmq": loopback("CASEBOOK_AMQP_PORT", "CASEBOOK_RABBITMQ_UI_PORT",
                             "CASEBOOK_RABBITMQ_METRICS_PORT", "CASEBOOK_RABBITMQ_DIST_PORT",
                             "CASEBOOK_EPMD_PORT")
        # The Erlang port mapper listens on the IPv6 loopback as well, whatever it is told.
        | {f"[::1]:{stack.ports['CASEBOOK_EPMD_PORT']}"},
        "postgres": loopback("CASEBOOK_POSTGRES_PORT"),
        "gateway": loopback("CASEBOOK_HTTP_PORT", METRICS_PORTS["gateway"]),
        "console": loopback("CASEBOOK_CONSOLE_PORT", METRICS_PORTS["console"]),
        "proxy": loopback("HTTPS_PORT", "CONSOLE_HTTPS_PORT"),
    }
    # The other services listen only for the scrape of their metrics; else they connect, to
    # RabbitMQ and PostgreSQL.
    for service, port in METRICS_PORTS.items():
        expected.setdefault(service, loopback(port))
    sockets = run(["ss", "-Htlnp"], stack.engine.env).stdout.splitlines()
    assert {service: stack.listeners(sockets, stack.container(service))
            for service in CONTAINERS} == {
        service: expected.get(service, set()) for service in CONTAINERS
    }
    for service, port in METRICS_PORTS.items():
        metrics = run(["curl", "--silent", "--show-error", "--fail", "--max-time", "30",
                       f"http://127.0.0.1:{stack.ports[port]}/metrics"], stack.engine.env)
        assert "process_resident_memory_bytes" in metrics.stdout, service
        if service in PUBLISHERS:  # the front ends store no events of their own to relay
            assert f'casebook_relay_lag{{service="{service}"}}' in metrics.stdout, service
        # Which build the process runs: the commit the image was built from, as Compose gave it.
        assert (f'casebook_build_info{{revision="compose-test",service="{service}",'
                f'version="{__version__}"}} 1.0') in metrics.stdout, service


def test_no_caller_leaves_a_reply_queue_behind(stack):
    """Every RPC caller's reply queue is exclusive, gone with its connection
    (services.runtime.replies): also the health checks', which have pinged each service every
    2 s since the stack started. nameko's own proxy, which they used, left a durable queue (a
    quorum queue in this vhost) at every check, each for five minutes."""
    replies = [queue for queue in stack.queues() if queue["name"].startswith("rpc.reply-")]
    assert replies  # the services' own, for their calls to each other
    assert [queue for queue in replies if queue["durable"] or not queue["exclusive"]] == []


def test_prometheus_scrapes_every_target_and_evaluates_every_alert(stack, tmp_path):
    scrape = scraped_by_prometheus(stack, "prometheus.yml", tmp_path)
    assert scrape.scraped == scrape.served
    assert scrape.failing_rules == []
    assert {"rpc-cases", "archive.from.cases"} <= scrape.queues


def test_every_container_keeps_its_logs_bounded(stack):
    """Docker was given the Compose files' rotation for each container, not its default of one
    file that grows for as long as the service runs."""
    rotated = {"Type": "json-file", "Config": {"max-size": "20m", "max-file": "5"}}
    assert {service: stack.inspect(service)["HostConfig"]["LogConfig"]
            for service in CONTAINERS} == {service: rotated for service in CONTAINERS}


def test_the_readme_tour_works_against_the_stack_and_through_the_tls_proxy(stack, worker):
    script = "set -euo pipefail\n" + "\n".join(tour_blocks()).replace(
        "http://127.0.0.1:8000", stack.api)
    tour = run(["bash", "-c", script], stack.cli_env(), timeout=600, check=False)
    assert tour.returncode == 0, tour.stderr[-3000:] + tour.stdout[-3000:]
    assert "school JD001 staffed" in tour.stdout
    assert '"missing_step"' in tour.stdout
    assert "verified" in tour.stdout

    # The proxy's certificate is trusted only by whoever is given it, and forwards to the API.
    certificate = str(stack.secrets / "tls.crt")
    curl = ["curl", "--silent", "--show-error", "--max-time", "30"]
    ready = run([*curl, "--cacert", certificate, "--write-out", "%{http_code}",
                 "--output", "/dev/null", f"{stack.tls_api}/readyz"], stack.engine.env)
    assert ready.stdout == "200"
    untrusted = run([*curl, f"{stack.tls_api}/readyz"], stack.engine.env, check=False)
    assert untrusted.returncode == 60  # the peer's certificate cannot be authenticated
    client_id = register(stack, worker)
    client = run([*curl, "--cacert", certificate, "--header", f"Authorization: Bearer {worker}",
                  f"{stack.tls_api}/clients/{client_id}"], stack.engine.env)
    assert json.loads(client.stdout)["details"]["name"] == "王小明"
    # Those commands and answers crossed RabbitMQ sealed under the transport key: the guardian's
    # telephone they carried is nowhere in what RabbitMQ wrote to its disk (its quorum queues'
    # log holds each message; grep exits 1 when it finds nothing).
    on_disk = run(stack.compose_command("exec", "-T", "rabbitmq", "grep", "-rlF",
                                        "139-0000-0000", "/var/lib/rabbitmq"),
                  stack.engine.env, check=False)
    assert on_disk.returncode == 1, on_disk.stdout + on_disk.stderr

    # The console through the proxy's TLS: its sign-in page, in Chinese, with a session cookie
    # the browser sends over TLS only.
    sign_in = run([*curl, "--cacert", certificate, "--include", f"{stack.tls_console}/sign-in"],
                  stack.engine.env)
    head, _, page = sign_in.stdout.partition("\n\n")  # text mode has made CRLF a newline
    assert head.startswith("HTTP/1.1 200")
    cookie = next(line for line in head.splitlines() if line.lower().startswith("set-cookie:"))
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert "<title>登录" in page


def test_an_integrator_added_to_the_running_broker_exports_the_events_as_itself(stack, worker):
    # As docs/operators.md says: the user added to the definitions, loaded into the running
    # broker through rabbitmqctl's standard input.
    added = stack.casebook("broker-user", "add", "acme", "--role", "integrator",
                           "--secrets", str(stack.secrets))
    assert "import_definitions" in added.stdout
    run(stack.compose_command("exec", "-T", "rabbitmq", "rabbitmqctl", "import_definitions",
                              "--format", "json"), stack.engine.env,
        stdin=(stack.secrets / DEFINITIONS_FILE).read_text())
    register(stack, worker)
    # The integrator holds its own password and no transport key: events_since answers it in
    # JSON, and nothing else would (tests/integration/deploy/test_broker_users.py).
    integrator = {
        **{name: value for name, value in stack.cli_env().items()
           if name != "CASEBOOK_TRANSPORT_KEY_FILE"},
        "AMQP_URI": f"amqp://acme@127.0.0.1:{stack.ports['CASEBOOK_AMQP_PORT']}/casebook",
        "AMQP_PASSWORD_FILE": str(stack.secrets / password_file("acme")),
    }
    exported = wait_for(
        lambda: run([str(BIN / "casebook"), "export", "--source", "cases"], integrator,
                    check=False).stdout, timeout=60, interval=1,
        what="the broker to let the integrator in")
    by_operator = stack.casebook("export", "--source", "cases").stdout
    ours = exported.splitlines()
    assert ours and by_operator.splitlines()[:len(ours)] == ours
    # Its queue, made with it, kept what was registered since, unread: what the alert
    # CasebookIntegratorNotReading watches, as deploy/prometheus/prometheus.yml scrapes it.
    scrape = (f"http://127.0.0.1:{stack.ports['CASEBOOK_RABBITMQ_METRICS_PORT']}/metrics/"
              "detailed?vhost=casebook&family=queue_coarse_metrics&family=queue_consumer_count")

    def figures() -> dict[str, float]:
        """acme.from.cases's figures, once the broker's statistics (every 5 s) hold it."""
        metrics = run(["curl", "--silent", "--show-error", "--fail", "--max-time", "30", scrape],
                      stack.engine.env).stdout
        return {name: float(value) for name, value in re.findall(
            r'^(rabbitmq_detailed_queue_\w+)\{[^}]*queue="acme\.from\.cases"[^}]*\} (\S+)$',
            metrics, flags=re.MULTILINE)}

    def unread() -> dict[str, float] | None:
        seen = figures()
        return seen if seen.get("rabbitmq_detailed_queue_messages", 0) > 0 else None

    counted = wait_for(unread, timeout=60, interval=1,
                       what="the broker's metrics to count the envelopes in acme.from.cases")
    assert counted["rabbitmq_detailed_queue_consumers"] == 0


def test_a_crashed_service_is_restarted_and_catches_up(stack, worker):
    # `docker kill` is a deliberate stop to Docker, after which no restart policy restarts the
    # container; a crash is the process dying under it, as here.
    archive = stack.inspect("archive")
    os.kill(archive["State"]["Pid"], signal.SIGKILL)
    # Work goes on while the archive is down; its queue keeps what it misses.
    for _ in range(5):
        register(stack, worker)
    wait_for(lambda: stack.inspect("archive")["RestartCount"] > archive["RestartCount"],
             timeout=120, interval=0.5, what="the restart policy to restart the archive")
    stack.wait_healthy()

    counts = wait_for(lambda: ledger_holds_every_published_event(stack), timeout=180,
                      interval=1, what="the archive's ledger to catch up with every source")
    verify(stack, counts)


def test_down_and_up_keeps_every_record(stack, worker):
    kept = [register(stack, worker) for _ in range(3)]
    before = wait_for(lambda: ledger_holds_every_published_event(stack), timeout=180,
                      interval=1, what="the ledger to hold every event before `down`")

    stack.compose("down")
    assert stack.compose("ps", "-q").stdout.strip() == ""
    stack.compose("up", "--detach")
    stack.wait_healthy()

    for client_id in kept:
        status, client = http("GET", f"{stack.api}/clients/{client_id}", worker)
        assert status == 200, (client_id, client)
        assert client["details"]["name"] == "王小明"  # decrypted with the same key as before
    after = wait_for(lambda: ledger_holds_every_published_event(stack), timeout=180,
                     interval=1, what="the ledger to hold every event after `up`")
    # No command since: the chain of cases is the very same; others may have added to theirs.
    assert after["cases"] == before["cases"]
    for source, counts in before.items():
        assert after[source]["published"] >= counts["published"], source
    verify(stack, after)


def test_an_upgraded_service_loses_no_event_while_commands_go_on(stack, worker):
    others = {service: stack.container(service) for service in CONTAINERS if service != "cases"}
    registered: list[str] = []
    stop = threading.Event()

    def commands() -> None:
        while not stop.is_set():
            registered.append(register(stack, worker))

    driver = threading.Thread(target=commands)
    driver.start()
    try:
        wait_for(lambda: len(registered) >= 3, timeout=120, what="commands to flow")
        # A new build of the image (a new revision label), then only cases moves to it.
        stack.compose("build", "cases", env={"CASEBOOK_REVISION": "compose-test-upgraded"})
        stack.compose("up", "--detach", "--no-deps", "cases")
        upgraded_at = len(registered)
        wait_for(lambda: len(registered) >= upgraded_at + 3, timeout=180,
                 what="commands to go on after the upgrade")
    finally:
        stop.set()
        driver.join(timeout=180)
    stack.wait_healthy()

    labels = stack.inspect("cases")["Config"]["Labels"]
    assert labels["org.opencontainers.image.revision"] == "compose-test-upgraded"
    # The operator sees which service runs which build.
    report = json.loads(stack.casebook("status", "--json").stdout)
    assert {name: (state["version"], state["revision"])
            for name, state in report["services"].items()} == {
        name: (__version__, "compose-test-upgraded" if name == "cases" else "compose-test")
        for name in PUBLISHERS}
    assert {service: stack.container(service) for service in others} == others
    for client_id in registered:
        status, client = http("GET", f"{stack.api}/clients/{client_id}", worker)
        assert status == 200, (client_id, client)
    counts = wait_for(lambda: ledger_holds_every_published_event(stack), timeout=180,
                      interval=1, what="the ledger to hold every event after the upgrade")
    verify(stack, counts)



def test_a_dump_restored_as_the_operators_guide_says_brings_back_nothing_it_undid(
        stack, worker):
    kept = [register(stack, worker) for _ in range(2)]
    before = wait_for(lambda: ledger_holds_every_published_event(stack), timeout=180,
                      interval=1, what="the ledger to hold every event before the dump")
    dump = shlex.quote(str(stack.directory / "casebook.dump"))
    postgres = ["exec", "-T", "postgres"]
    run(["bash", "-c", shlex.join(stack.compose_command(
        *postgres, "pg_dump", "-U", "casebook", "-d", "casebook", "--format=custom"))
         + f" > {dump}"], stack.engine.env)
    # What the restore undoes: a client registered while the archive is stopped, so that its
    # events still wait in the archive's queue when the services stop.
    stack.compose("stop", "archive")
    undone = register(stack, worker)

    stack.compose("stop", *PUBLISHERS, "gateway", "console")
    run(["bash", "-c", shlex.join(stack.compose_command(
        *postgres, "pg_restore", "-U", "casebook", "-d", "casebook", "--clean", "--if-exists"))
         + f" < {dump}"], stack.engine.env)
    cleared = stack.casebook("backup", "clear-queues")
    assert re.search(r"^archive\.from\.cases: \d+ message\(s\)", cleared.stdout, re.M), \
        cleared.stdout
    stack.compose("up", "--detach")
    stack.wait_healthy()

    for client_id in kept:
        status, _ = http("GET", f"{stack.api}/clients/{client_id}", worker)
        assert status == 200, client_id
    status, _ = http("GET", f"{stack.api}/clients/{undone}", worker)
    assert status == 404
    after = wait_for(lambda: ledger_holds_every_published_event(stack), timeout=180,
                     interval=1, what="the ledger to hold every event after the restore")
    assert after["cases"] == before["cases"]  # and nothing of the undone client
    verify(stack, after)
    status = stack.casebook("status", "--json")
    assert all(row["halted"] is None for row in json.loads(status.stdout)["subscriptions"])
