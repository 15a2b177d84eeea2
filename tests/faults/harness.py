"""The fault matrix's world: every service as its own process behind the HTTP gateway, social
workers running whole case journeys over HTTP the way a careful client does (an Idempotency-Key
on every POST, retried on 5xx and on lost connections), and faults thrown at it meanwhile.

What the clients were told is kept, so that afterwards the record can be held against it: every
command a client was told was carried out is in the record once, none is there twice, and none
whose caller was told "504: not carried out" and gave up is there at all.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from services.gateway.auth import mint
from services.gateway.routes import ROUTES, Route
from services.runtime.cli.journeys import case_journey
from services.runtime.launcher import PUBLISHERS
from tests.support.broker import PrivateBroker, free_port, private_broker
from tests.support.services import AUDITOR, ServiceProcess, ledgered, rpc
from tests.support.waiting import wait_for

SECRET = "fault-matrix-secret-that-is-long-enough-for-hs256"
SCHOOL = "JD001"
# Short deadlines, so that outages turn into 504s and settlements within the run.
GATEWAY_ENV = {"CASEBOOK_GATEWAY_RPC_TIMEOUT": "4", "CASEBOOK_GATEWAY_SETTLE_TIMEOUT": "3",
               "CASEBOOK_JWT_SECRET": SECRET}
ANSWER_WITHIN_SECONDS = 180  # a command no retry could get answered in this long is a failure


class Refused(Exception):
    """A 4xx answer: the service refused the command (journeys expect none)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status} {problem.get('code')}: {problem.get('detail')}")
        self.status = status
        self.problem = problem


class GaveUp(Exception):
    """A 504 to a client that does not retry: it was told "not carried out"."""


@dataclass
class Told:
    """What one client was told, command by command."""

    carried_out: list[tuple[str, dict[str, Any], Any]] = field(default_factory=list)
    gave_up: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    answers: Counter[int] = field(default_factory=Counter)


class Stack:
    """The five services, each its own process, on a broker of their own, and what may be done
    to them."""

    def __init__(self, broker: PrivateBroker, data_dir: Path, port: int) -> None:
        self.broker = broker
        amqp_uri = self.amqp_uri = broker.uri
        self.port = port
        env = {"CASEBOOK_REQUIRE_ELIGIBLE_WORKERS": "false"}
        gateway = {**env, **GATEWAY_ENV, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}
        self.processes = {
            name: ServiceProcess(name, amqp_uri, data_dir, gateway if name == "gateway" else env)
            for name in (*PUBLISHERS, "gateway")
        }
        self.base_url = f"http://127.0.0.1:{port}"

    def start(self, name: str) -> None:
        process = self.processes[name].start(wait=False)
        if name == "gateway":
            wait_for(self.gateway_answers, timeout=60, interval=0.2, what="the gateway")
        else:
            process.wait_ready()

    def gateway_answers(self) -> bool:
        try:
            return requests.get(f"{self.base_url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def gateway_for(self, client: int) -> str:
        """The gateway a client talks to: the one gateway here (the cluster's has two)."""
        return self.base_url

    def kill(self, name: str) -> None:
        self.processes[name].kill()

    def signal(self, name: str, signum: int) -> None:
        process = self.processes[name].process
        assert process is not None and process.poll() is None
        process.send_signal(signum)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.process is not None and process.process.poll() is None:
                process.process.send_signal(signal.SIGCONT)  # a paused one must hear SIGTERM
                process.stop()


@contextmanager
def stack(directory: Path) -> Iterator[Stack]:
    """The stack on its own broker (the tests restart it), with its stores under `directory`."""
    with private_broker() as broker:
        world = Stack(broker, directory / "var", free_port())
        try:
            for process in world.processes.values():
                process.start(wait=False)
            for name in PUBLISHERS:
                world.processes[name].wait_ready()
            wait_for(world.gateway_answers, timeout=60, interval=0.2, what="the gateway")
            yield world
        finally:
            world.stop_all()


class HttpClient:
    """The RPC proxy's interface (`client.cases.open_case(payload)`) over the HTTP API, so the
    journeys the demo and the tests use run unchanged, as a careful client runs them."""

    def __init__(self, base_url: str, worker_id: str, told: Told,
                 on_reply: Callable[[str], None], give_up_on_504: bool) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        token = mint(SECRET, "social_worker", worker_id, SCHOOL, ttl=3600 * 4)
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.told = told
        self.on_reply = on_reply
        self.give_up_on_504 = give_up_on_504

    def __getattr__(self, service: str) -> _Service:
        return _Service(self, service)

    def post(self, route: Route, payload: dict[str, Any]) -> Any:
        path, body = _fill(route, payload)
        key = str(uuid.uuid4())  # one per command, reused on every retry of it
        deadline = time.monotonic() + ANSWER_WITHIN_SECONDS
        # What the client last got, for the failure to say when no answer comes in time.
        last = "nothing"
        while time.monotonic() < deadline:
            try:
                response = self.session.post(self.base_url + path, json=body, timeout=30,
                                             headers={"Idempotency-Key": key})
            except requests.RequestException as error:
                last = repr(error)
                time.sleep(0.5)  # the gateway is down or restarting
                continue
            self.told.answers[response.status_code] += 1
            if not response.headers.get("Content-Type", "").endswith("json"):
                raise AssertionError(f"{route.rpc}: {response.status_code} answered without "
                                     f"JSON: {response.text[:300]!r}")
            if response.status_code < 300:
                answer = response.json()
                self.told.carried_out.append((route.rpc, payload, answer))
                self.on_reply(route.service)
                return answer
            problem = response.json()
            if response.status_code == 504 and self.give_up_on_504 \
                    and route.rpc == "log_intervention":
                self.told.gave_up.append((route.rpc, payload))
                raise GaveUp(problem["detail"])
            if response.status_code >= 500 or problem.get("code") == "request_in_progress":
                last = f"{response.status_code} {problem.get('code')}: {problem.get('detail')}"
                time.sleep(min(float(response.headers.get("Retry-After", "1")), 3.0))
                continue
            raise Refused(response.status_code, problem)
        raise AssertionError(f"{route.rpc} got no answer in {ANSWER_WITHIN_SECONDS}s "
                             f"from {self.base_url}; last: {last}")


class _Service:
    def __init__(self, client: HttpClient, name: str) -> None:
        self.client = client
        self.name = name

    def __getattr__(self, rpc: str) -> Callable[[dict[str, Any]], Any]:
        route = next(r for r in ROUTES if r.service == self.name and r.rpc == rpc
                     and r.method == "POST")
        return lambda payload: self.client.post(route, payload)


def _fill(route: Route, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    path, body = route.openapi_path, dict(payload)
    for name in route.path_params:
        path = path.replace("{" + name + "}", str(body.pop(name)))
    return path, body


class Load:
    """Social workers running case journeys until told to stop, each in its own greenthread."""

    def __init__(self, world: Stack, workers: int, seed: int, give_up_on_504: bool = True) -> None:
        self.world = world
        self.give_up_on_504 = give_up_on_504
        self.running = True
        self.kill_after_next_reply = threading.Event()
        self.told = [Told() for _ in range(workers)]
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._work, args=(n, seed + n), daemon=True)
                        for n in range(workers)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.running = False
        for thread in self.threads:
            thread.join(timeout=ANSWER_WITHIN_SECONDS * 2)
        assert not self.errors, self.errors

    def _on_reply(self, service: str) -> None:
        # "Right after a reply": the service answered; kill it before it may have acked.
        if service == "cases" and self.kill_after_next_reply.is_set():
            self.kill_after_next_reply.clear()
            self.world.kill("cases")

    def _work(self, number: int, seed: int) -> None:
        rng = random.Random(seed)
        client = HttpClient(self.world.gateway_for(number), f"worker-{number + 1}",
                            self.told[number], self._on_reply,
                            give_up_on_504=self.give_up_on_504 and number % 2 == 1)
        journey = 0
        try:
            while self.running:
                journey += 1
                try:
                    case_journey(client, f"w{number}-s{seed}-j{journey}",
                                 worker_id=f"worker-{number + 1}", interventions=3, rng=rng)
                except GaveUp:
                    continue  # told "not carried out": that case stays open, on to the next
        except BaseException as error:
            self.errors.append(error)


# Faults: each leaves every service running again when it returns.


def kill_and_restart(world: Stack, name: str) -> None:
    world.kill(name)
    time.sleep(0.5)
    world.start(name)


def kill_right_after_a_reply(world: Stack, load: Load) -> None:
    load.kill_after_next_reply.set()
    wait_for(lambda: not load.kill_after_next_reply.is_set(), timeout=60,
             what="a reply from cases")
    wait_for(lambda: world.processes["cases"].process.poll() is not None, timeout=30)
    world.start("cases")


def restart_the_broker(world: Stack) -> None:
    world.broker.restart()


def service_down_while_commands_arrive(world: Stack, seconds: float) -> None:
    world.processes["cases"].stop()
    time.sleep(seconds)
    world.start("cases")


def pause_a_consumer(world: Stack, name: str, seconds: float) -> None:
    world.signal(name, signal.SIGSTOP)
    time.sleep(seconds)
    world.signal(name, signal.SIGCONT)


# Afterwards: the record against what the clients were told.


def quiet(world: Stack, timeout: float = 180) -> None:
    """Every service up, every relay published, every subscriber and the ledger caught up."""
    for name, process in world.processes.items():
        if process.process is None or process.process.poll() is not None:
            world.start(name)

    seen: dict[str, Any] = {}

    def caught_up() -> bool:
        asking = "status"
        try:
            with rpc(world.amqp_uri, AUDITOR, timeout=10) as proxy:
                states = {}
                for name in PUBLISHERS:
                    asking = f"{name}.status"
                    states[name] = proxy[name].status()
                asking = "archive.ledger_head"
                ledger = {name: ledgered(proxy, name) for name in PUBLISHERS}
        except Exception as error:
            # Which service did not answer is what a failure here needs to say.
            seen["error"] = f"{asking}: {error!r}"
            return False
        seen.update(states=states, ledger=ledger)
        heads = {name: s["published_position"] for name, s in states.items()}
        return all(
            s["relay_read_through"] == s["stored_position"]
            and all(c["position"] == heads[source] for source, c in s["cursors"].items())
            for s in states.values()
        ) and all(ledger[name] == heads[name] for name in PUBLISHERS)

    try:
        wait_for(caught_up, timeout=timeout, interval=1, what="every service to catch up")
    except AssertionError as error:
        # The stack's directory is gone with the run: what the silent one logged goes along.
        silent = str(seen.get("error", "")).split(".", 1)[0]
        logs = {name: process.log_path for name, process in world.processes.items()
                if name == silent or silent == "status"}
        # A silent one that is still alive says where it waits (services.runtime.stacks).
        for name in logs:
            process = world.processes[name].process
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGUSR1)
        time.sleep(2)
        tails = "".join(f"\n--- {name}.log (end) ---\n{_tail(path, 400)}"
                        for name, path in logs.items())
        raise AssertionError(f"{error}; last seen: {seen}{tails}") from None


def _tail(path: Path, lines: int = 60) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def record_against_what_clients_were_told(world: Stack, load: Load) -> list[str]:
    """Every difference between the cases stream and what its clients were told."""
    with rpc(world.amqp_uri, AUDITOR, timeout=60) as proxy:
        stream: list[dict[str, Any]] = []
        while batch := proxy.cases.events_since(stream[-1]["position"] if stream else 0, 1000):
            stream.extend(batch)
    problems = []
    by_aggregate = Counter(envelope["aggregate_id"] for envelope in stream)
    registered = Counter(e["payload"]["client_id"] for e in stream
                         if e["type"] == "ClientRegistered")
    opened = {e["aggregate_id"]: e["payload"]["client_id"] for e in stream
              if e["type"] == "CaseOpened"}
    told_cases: Counter[str] = Counter()
    told_clients: set[str] = set()
    for told in load.told:
        for rpc_name, payload, answer in told.carried_out:
            if rpc_name == "register_client":
                told_clients.add(answer["client_id"])
            elif rpc_name == "open_case":
                told_cases[answer["case_id"]] += 1
                if opened.get(answer["case_id"]) != payload["client_id"]:
                    problems.append(f"case {answer['case_id']} told opened, not in the record")
            else:
                told_cases[str(payload["case_id"])] += 1
    for client_id, count in registered.items():
        if count != 1 or client_id not in told_clients:
            problems.append(f"client {client_id} registered {count}x, told: "
                            f"{client_id in told_clients}")
    for case_id in set(opened) | set(told_cases):
        if by_aggregate[case_id] != told_cases[case_id]:
            problems.append(f"case {case_id}: {by_aggregate[case_id]} events in the record, "
                            f"{told_cases[case_id]} commands told carried out")
    return problems


def fault_minutes() -> float:
    """How long the long form runs (`make faults`); the short form in CI runs each fault once."""
    return float(os.environ.get("CASEBOOK_FAULT_MINUTES", "0"))


def verified_ledger(world: Stack, timeout: float = 120) -> dict[str, Any]:
    """The archive's verification, at an instant the ledger holds what every source has
    published: the archive goes on signing checkpoints on its timer and recording its own
    envelopes after the load stops, so a report and the sources' positions read apart may
    differ by what came in between. The positions are read first: each verification is kept
    and published itself, after its report, so positions read after it are always one ahead."""
    with rpc(world.amqp_uri, AUDITOR, timeout=300) as proxy:
        def agreeing() -> dict[str, Any] | None:
            stored = {name: proxy[name].status()["published_position"] for name in PUBLISHERS}
            report = proxy.archive.verify_ledger()
            heads = {s: section["head"]["position"] for s, section in report["sources"].items()}
            return report if heads == {s: p for s, p in stored.items() if p} else None

        report: dict[str, Any] = wait_for(
            agreeing, timeout=timeout, interval=1,
            what="the ledger to hold what every source published")
        return report
