"""`make bench`: the read side at 1×, 10× and 100× history, commands beside a no-op RPC (with
the CPU each costs, process by process), and the event pipe's throughput and latency, printed
as one table with each ratio and its target.

A benchmark, not a test: numbers depend on the machine and on what else runs on it, so nothing
here asserts a speed. Every figure is measured in this run, on a fresh RabbitMQ vhost, with the
services as separate processes (as `casebook up` runs them) on SQLite files; each timed round
of commands or no-op RPC starts from a still pipe (`settle`).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
import uuid
import warnings
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

from eventlet.greenpool import GreenPool  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from services.runtime.cli.journeys import (  # noqa: E402
    OPENED_ON,
    intervention,
    open_case,
    ready_case,
    register_student,
)
from tests.bench import queries  # noqa: E402
from tests.bench.cpu import Meter, Phase, combined, listener_pid, split  # noqa: E402
from tests.bench.ledger import (  # noqa: E402
    DEFAULT_ENTRIES,
    VERIFY_AS_RUN,
    ledger_rates,
    rows,
)
from tests.support.broker import HOST_URI, Broker  # noqa: E402
from tests.support.services import AUDITOR, WORKER, ledgered, processes, rpc  # noqa: E402

PLANNED = OPENED_ON + timedelta(days=6)  # the day after `ready_case` adopts the plan
ROUNDS = 3  # turns of no-op RPC and commands at each concurrency
CLIENTS = (1, 20)  # the concurrencies commands and the no-op RPC are measured at
PIPE = ("cases", "archive")  # the services `make bench` runs, each ledgered by the archive
AMQP_PORT = urlsplit(HOST_URI).port


def pipe_behind(uri: str) -> list[str]:
    """What the pipe still has to do: for each service, events stored and not yet on the broker
    (its `status`'s relay lag, as its metrics report it), or envelopes published and not yet in
    the archive's ledger. Empty when the pipe is still."""
    behind = []
    with rpc(uri, AUDITOR) as auditor:
        for source in PIPE:
            state = auditor[source].status()
            in_ledger = ledgered(auditor, source)
            if state["relay_lag"]:
                behind.append(f"{source}: {state['relay_lag']} events stored not yet on "
                              "the broker")
            if in_ledger < state["published_position"]:
                behind.append(f"{source}: ledgered {in_ledger} of "
                              f"{state['published_position']} published")
    return behind


def settle(uri: str, timeout: float = 120) -> None:
    """Wait for the pipe to be still before a timed phase. Every command leaves the relays and
    the archive work that goes on after its reply: a phase timed while the last one's backlog
    still ran shared the machine's cores with it (no-op RPC at twenty clients right after
    twenty clients' commands: 381/s; from a still pipe, 611–667/s), and flattered the ratio
    of commands to no-op RPC by as much."""
    deadline = time.monotonic() + timeout
    while behind := pipe_behind(uri):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the pipe was not still after {timeout} s: {'; '.join(behind)}")
        eventlet.sleep(0.2)


def commands_phase(uri: str, meter: Meter, commands: int, clients: int, round_: int = 0) -> Phase:
    """`open_case` and `log_intervention` in turns, `commands` in all, over `clients` concurrent
    connections, timed with each process's CPU. Clients to open cases for, and a case ready
    for interventions (consent and plan recorded, as 8.3 and 4.2 require), are prepared first
    and not timed."""
    per_client = commands // (2 * clients)
    prepared: dict[int, tuple[list[str], str]] = {}

    def prepare(number: int) -> None:
        with rpc(uri, WORKER) as proxy:
            label = f"bench-{clients}-{round_}-{number}"
            ready_id, _ = ready_case(proxy, f"{label}-ready", WORKER["id"])
            prepared[number] = (
                [register_student(proxy, f"{label}-{index}") for index in range(per_client)],
                ready_id,
            )

    def work(number: int) -> None:
        client_ids, ready_id = prepared[number]
        with rpc(uri, WORKER) as proxy:
            for index, client_id in enumerate(client_ids):
                open_case(proxy, client_id, WORKER["id"], ["7.1.3a"])
                proxy.cases.log_intervention(intervention(ready_id, PLANNED, index + 1))

    pool = GreenPool(clients)
    for number in range(clients):
        pool.spawn(prepare, number)
    pool.waitall()
    settle(uri)

    def run() -> None:
        for number in range(clients):
            pool.spawn(work, number)
        pool.waitall()

    return meter.timed(2 * per_client * clients, run)


def noop_rpc_phase(uri: str, meter: Meter, calls: int, clients: int) -> Phase:
    """The transport's own ceiling: `ping` (no store, no check) over `clients` connections,
    timed with each process's CPU."""
    per_client = calls // clients
    settle(uri)

    def work(_: int) -> None:
        with rpc(uri, WORKER) as proxy:
            for _ in range(per_client):
                proxy.cases.ping()

    pool = GreenPool(clients)

    def run() -> None:
        for number in range(clients):
            pool.spawn(work, number)
        pool.waitall()

    return meter.timed(per_client * clients, run)


def end_to_end_latencies(uri: str, samples: int) -> list[float]:
    """Seconds from sending a command to its event being in the archive's ledger, from a still
    pipe: timed behind the last phase's backlog, the first samples measured that backlog (a
    99th percentile of 1.1 s after twenty clients' commands, against 50 ms from a still
    pipe)."""
    settle(uri)
    latencies = []
    with rpc(uri, WORKER) as worker, rpc(uri, AUDITOR) as auditor:
        case_id, _ = ready_case(worker, "bench-latency", WORKER["id"])
        for number in range(samples):
            started = time.perf_counter()
            worker.cases.log_intervention(intervention(case_id, PLANNED, number + 1))
            target = auditor.cases.status()["stored_position"]
            while ledgered(auditor, "cases") < target:
                eventlet.sleep(0.001)
            latencies.append(time.perf_counter() - started)
    return latencies


def replay_rate(uri: str, data_dir: Path) -> tuple[int, float]:
    """Rebuild an archive ledger from the whole cases log, in process, in the runs a catching-up
    subscription makes (services.runtime.subscription.RUN_LIMIT): events per second."""
    from contracts.envelope import envelope_hash
    from services.archive.app import ArchiveApplication
    from services.runtime.context import SYSTEM, acting_as
    from services.runtime.persistence import Cursor
    from services.runtime.subscription import RUN_LIMIT

    with rpc(uri, AUDITOR) as proxy:
        envelopes, position = [], 0
        while batch := proxy.cases.events_since(position, 1000):
            envelopes.extend(batch)
            position = batch[-1]["position"]
    ledger = ArchiveApplication(env={"SQLITE_DBNAME": str(data_dir / "replay.sqlite")})
    started = time.perf_counter()
    with acting_as(SYSTEM):
        previous = 0
        for start in range(0, len(envelopes), RUN_LIMIT):
            run = envelopes[start:start + RUN_LIMIT]
            last = run[-1]
            ledger.record_envelopes(
                run, Cursor("cases", last["position"], envelope_hash(last), previous))
            previous = last["position"]
    return len(envelopes), len(envelopes) / (time.perf_counter() - started)


def exactly_once_cost(data_dir: Path, commands: int) -> tuple[float, float]:
    """Clients registered per second at the application layer (a new record each, so no
    aggregate grows), each carried out with a command id (the id looked up, stored with the
    events in their transaction, the outcome kept) and each saved plainly: the same commands,
    the same kind of store, in this run."""
    from services.cases.app import CasesApplication
    from services.runtime.commands import carry_out
    from services.runtime.context import Actor, acting_as

    worker = Actor(WORKER["id"], WORKER["role"], WORKER["school_id"])

    def rate(exactly_once: bool, round_: int) -> float:
        app = CasesApplication(
            env={"SQLITE_DBNAME": str(data_dir / f"once-{exactly_once}-{round_}.db")})

        def register() -> str:
            return app.register_client(client_type="teacher", name="张老师")

        started = time.perf_counter()
        for _ in range(commands):
            if exactly_once:
                with acting_as(worker, command_id=str(uuid.uuid4())):
                    carry_out(app, "register_client", register)
            else:
                with acting_as(worker):
                    register()
        return commands / (time.perf_counter() - started)

    # Alternating rounds, medians: a shared machine drifts; both kinds see the same drift.
    rounds = [(rate(False, n), rate(True, n)) for n in range(3)]
    return (statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds))


def raw_save_rate(data_dir: Path, events: int) -> float:
    """The ceiling: eventsourcing saving one new aggregate at a time to a SQLite file."""
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate

    app = Application(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(data_dir / "raw.sqlite"),
        }
    )
    started = time.perf_counter()
    for _ in range(events):
        app.save(Aggregate())
    return events / (time.perf_counter() - started)


def arguments(argv: list[str] | None = None) -> tuple[argparse.Namespace, tuple[int, ...]]:
    """The command line and its scales; a value no measure can be taken with is refused, named
    with its rule, before anything runs."""
    least = 2 * max(CLIENTS)  # an open_case and a log_intervention from every client
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=400,
                        help=f"commands per round, shared by the clients (at least {least})")
    parser.add_argument("--samples", type=int, default=200,
                        help="command-to-ledger latencies timed (at least 1)")
    parser.add_argument("--scales", default="1,10,100",
                        help="history sizes for the read side, as multiples of the first")
    parser.add_argument("--ledger-entries", type=int, default=DEFAULT_ENTRIES)
    args = parser.parse_args(argv)
    if args.commands < least:
        parser.error(f"--commands must be at least {least}: each of "
                     f"{max(CLIENTS)} clients sends open_case and log_intervention at least once")
    if args.samples < 1:
        parser.error("--samples must be at least 1")
    try:
        scales = tuple(int(scale) for scale in args.scales.split(","))
    except ValueError:
        scales = ()
    if not scales or min(scales) < 1 or list(scales) != sorted(set(scales)):
        parser.error(f"--scales must be whole numbers of at least 1, ascending, comma-separated "
                     f"(as 1,10,100), not {args.scales!r}")
    return args, scales


def main() -> None:
    args, scales = arguments()
    broker = Broker.ensure_running()
    broker_pid = listener_pid(AMQP_PORT)
    # Closing RPC proxies makes py-amqp warn about late replies it ignores: noise in a report.
    logging.getLogger("amqp").setLevel(logging.ERROR)
    with closing(broker), broker.vhost() as uri, tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory)
        os.environ["CASEBOOK_DATA_DIR"] = str(data_dir)  # nothing lands in the checkout
        read_side = queries.measure(data_dir, scales)
        # Only cases and the archive run: the pipe is what is measured, so workers' eligibility
        # (learned from the supervision service) is not enforced here.
        with processes(uri, data_dir, *PIPE,
                       CASEBOOK_REQUIRE_ELIGIBLE_WORKERS="false") as running:
            meter = Meter({name: running[name].process.pid for name in PIPE}
                          | ({"RabbitMQ": broker_pid} if broker_pid else {}))
            # Each ratio is a few seconds of a shared machine: the two are measured in turns,
            # ROUNDS times, and compared by their medians.
            rounds = {clients: [(noop_rpc_phase(uri, meter, args.commands, clients),
                                 commands_phase(uri, meter, args.commands, clients, round_))
                                for round_ in range(ROUNDS)]
                      for clients in CLIENTS}
            latencies = sorted(end_to_end_latencies(uri, args.samples))
            replayed, replay = replay_rate(uri, data_dir)
        ceiling = raw_save_rate(data_dir, 2000)
        plain, once = exactly_once_cost(data_dir, 1000)
        ledger = ledger_rates(data_dir, args.ledger_entries)

    def percentile(share: float) -> float:
        return latencies[min(len(latencies) - 1, int(share * len(latencies)))] * 1000

    table = Table(title="Casebook (SQLite; commands with the services as processes)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("ratio", justify="right")
    table.add_column("target", justify="right")

    events = read_side["events"]
    first, last = scales[0], scales[-1]
    by_query: dict[str, dict[int, queries.Timing]] = {}
    for timing in read_side["timings"]:
        by_query.setdefault(timing.query, {})[timing.scale] = timing
    for query, timings in by_query.items():
        for scale, timing in timings.items():
            ratio = timing.p99_ms / timings[first].p99_ms if scale != first else ""
            table.add_row(f"{query} at {scale}× ({events[scale]} events), p50 / p99 ms",
                          f"{timing.p50_ms:.2f} / {timing.p99_ms:.2f}",
                          f"p99 {ratio:.2f}× of {first}×" if ratio else "",
                          "≤ 1.5×" if scale == last and ratio else "")
    stored, rebuilt, raw = read_side["rebuild"]
    table.add_row(f"views rebuilt from the log, events/s ({stored} events)", f"{rebuilt:.0f}",
                  f"{rebuilt / raw:.0%} of raw replay", "≥ 50%")
    table.add_row("raw eventsourcing replay (read + decode), events/s", f"{raw:.0f}", "", "")
    table.add_row("history written through the application, events/s",
                  f"{statistics.median(read_side['write_rates'].values()):.0f}", "", "")
    for clients, measured in rounds.items():
        noop = statistics.median(pair[0].rate for pair in measured)
        commands = statistics.median(pair[1].rate for pair in measured)
        by_round = sorted(pair[1].rate / pair[0].rate for pair in measured)
        table.add_row(
            f"commands/s, {clients} client(s) (open_case + log_intervention), median of "
            f"{ROUNDS}", f"{commands:.0f}",
            f"{commands / noop:.0%} of no-op RPC ({by_round[0]:.0%}–{by_round[-1]:.0%} by round)",
            "≥ 50%")
        table.add_row(f"no-op RPC/s (ping), {clients} client(s), median of {ROUNDS}",
                      f"{noop:.0f}", "", "")
        for what, index in (("a command", 1), ("a no-op RPC", 0)):
            table.add_row(f"  CPU of {what}, {clients} client(s), ms (all {ROUNDS} rounds)",
                          *split(combined(pair[index] for pair in measured)), "")
    table.add_row("command → archive ledger, p50 (ms)", f"{percentile(0.50):.1f}", "", "")
    table.add_row("command → archive ledger, p99 (ms)", f"{percentile(0.99):.1f}", "", "")
    table.add_row(
        f"ledger replay from the cases log in runs, events/s ({replayed} events)",
        f"{replay:.0f}", f"{replay / raw:.0%} of raw replay", "≥ 50%",
    )
    table.add_row("raw eventsourcing save, events/s", f"{ceiling:.0f}", "", "")
    table.add_row("register_client/s in process, plain save", f"{plain:.0f}", "", "")
    table.add_row("register_client/s in process, exactly once (command id stored)",
                  f"{once:.0f}", f"{once / plain:.0%} of plain", "")
    for measure, per_second, seconds, target in rows(ledger):
        table.add_row(f"{measure}, per second ({seconds})", per_second, "", target)
    verified = next(count / seconds for name, count, seconds, _ in ledger
                    if name.startswith(VERIFY_AS_RUN))
    for what, rate in (("views rebuild", rebuilt), ("ledger replay", replay),
                       ("verify, full", verified)):
        table.add_row(f"a province's year ({queries.PROVINCE_YEAR:,} events): {what}, hours",
                      f"{queries.PROVINCE_YEAR / rate / 3600:.2f}", "extrapolated", "")
    Console(width=160).print(table)
    print(f"latency samples: {len(latencies)}, mean {statistics.mean(latencies) * 1000:.1f} ms")
    if broker_pid is None:
        print(f"RabbitMQ's CPU is not in the split: no process listening on port {AMQP_PORT} "
              "could be read (another user's; run as root to include it)")


if __name__ == "__main__":
    main()
