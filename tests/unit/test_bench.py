"""`make bench` at a toy scale: CI does not run the benchmark, so this keeps it from rotting
unseen. The read side (tests/bench/queries.py) is held to what its ratios rest on: each scale is
read from a store kept as it stood, and every query is timed at every scale alike. The ledger's
rates (tests/bench/ledger.py) must each be measured, the verify target's row among them; the CPU
split (tests/bench/cpu.py) must find the processes it names and count what they spend."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from tests.bench import __main__ as bench
from tests.bench import cpu, ledger, queries


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> None:
    # History sets this itself; set through monkeypatch, it is gone again after the test.
    monkeypatch.setenv("CASEBOOK_REQUIRE_ELIGIBLE_WORKERS", "false")
    monkeypatch.setattr(queries, "CASES_AT_1X", 24)
    monkeypatch.setattr(queries, "SAMPLES", 4)
    monkeypatch.setattr(queries, "ROUNDS", 2)


def test_a_scale_is_read_as_it_stood_while_the_history_grows(toy, tmp_path) -> None:
    history = queries.History(tmp_path)
    history.grow_to(24)
    written = history.app.max_position()
    kept = history.as_it_stands(1)
    history.grow_to(48)
    try:
        assert written > 0
        assert history.app.max_position() > written
        assert kept.max_position() == written
    finally:
        kept.close()
        history.app.close()


def test_every_query_is_timed_at_every_scale_with_all_its_samples(toy, tmp_path) -> None:
    measured = queries.measure(tmp_path, scales=(1, 2))

    events = measured["events"]
    assert 0 < events[1] < events[2]
    timed = {(timing.query, timing.scale) for timing in measured["timings"]}
    names = {"caseload, first page (worker)", "caseload, next page (worker)",
             "caseload by stage (worker)", "caseload, whole school (admin)",
             "open cases by stage (admin)", "overdue steps (admin)", "clients (worker)"}
    assert timed == {(name, scale) for name in names for scale in (1, 2)}
    assert len(measured["timings"]) == len(timed)
    for timing in measured["timings"]:
        assert 0 < timing.p50_ms <= timing.p99_ms
    stored, rebuilt, raw = measured["rebuild"]
    assert stored == events[2]
    assert rebuilt > 0 and raw > 0


def test_each_round_times_the_scales_sample_by_sample(toy, tmp_path, monkeypatch) -> None:
    """A stall of the machine must land on every scale's samples alike: the scales alternate
    at each sample, never one scale's block of samples after another's."""
    history = queries.History(tmp_path)
    history.grow_to(24)
    apps = {1: history.as_it_stands(1), 2: history.as_it_stands(2)}
    order: list[int] = []
    listed = queries.queries

    def recording(app):
        scale = next(scale for scale, kept in apps.items() if kept is app)
        return {name: (actor, lambda query=query: (order.append(scale), query()))
                for name, (actor, query) in listed(app).items()}

    monkeypatch.setattr(queries, "queries", recording)
    try:
        list(queries.time_queries(apps))
    finally:
        for app in apps.values():
            app.close()
        history.app.close()
    per_query = 2 * (1 + queries.SAMPLES)  # a warming read and the samples, at each scale
    assert len(order) == queries.ROUNDS * 7 * per_query
    for start in range(0, len(order), per_query):
        assert order[start:start + per_query] == [1, 2] * (1 + queries.SAMPLES)


@pytest.fixture
def toy_ledger(monkeypatch: pytest.MonkeyPatch) -> None:
    # The benchmark sets this itself; set through monkeypatch, it is gone again after the test.
    monkeypatch.setenv("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", "1")
    # Two ranges, so that the row the verify target stands on (less the processes' start) is
    # measured as it is at 200,000 entries.
    monkeypatch.setenv("CASEBOOK_VERIFY_PROCESSES", "2")
    monkeypatch.setenv("CASEBOOK_VERIFY_RANGE_LEAST", "100")


def test_every_ledger_rate_is_measured_on_a_ledger_that_verifies(toy_ledger, tmp_path) -> None:
    results = ledger.ledger_rates(tmp_path, 400)

    begins = ["ingest, one envelope a transaction", "ingest, runs of up to 500 a transaction",
              "raw eventsourcing replay", "views rebuild",
              "verify, full, in the archive's process", f"{ledger.VERIFY_AS_RUN}: 2 range(s)",
              f"{ledger.VERIFY_AS_RUN}, less", "verify --since-checkpoint"]
    assert len(results) == len(begins)
    for (name, *_), begin in zip(results, begins, strict=True):
        assert name.startswith(begin)
    assert [target for *_, target in results].count(ledger.VERIFY_TARGET) == 1
    for name, count, seconds, target in results:
        # The row less the processes' start subtracts two timings: at 200,000 entries seconds
        # apart, at this toy size a few milliseconds of noise either way.
        assert count > 0 and (seconds > 0 or target == ledger.VERIFY_TARGET), name
    assert len(ledger.rows(results)) == len(results)


def test_the_verifications_are_timed_in_turns_and_reported_by_their_medians(
        toy_ledger, tmp_path, monkeypatch) -> None:
    from services.archive import verifier
    from services.archive.app import ArchiveApplication

    ways: list[str] = []
    verify_ledger, walk_in_processes = ArchiveApplication.verify_ledger, verifier.walk_in_processes

    def verify(app, recompute=None, since_checkpoint=False):
        ways.append("since" if since_checkpoint else
                    f"processes={os.environ['CASEBOOK_VERIFY_PROCESSES']}")
        return verify_ledger(app, recompute, since_checkpoint)

    def start(*args, **kwargs):
        ways.append("started")
        return walk_in_processes(*args, **kwargs)

    # What each verification took, in the order they run: full, in process, since, started.
    scripted = iter([1.0, 2.0, 3.0, 4.0,
                     9.0, 8.0, 7.0, 0.5,
                     5.0, 6.0, 5.0, 2.5])
    timed = ledger._timed

    def script(work):
        ran = len(ways)
        measured = timed(work)
        return next(scripted) if len(ways) > ran else measured

    monkeypatch.setattr(ArchiveApplication, "verify_ledger", verify)
    monkeypatch.setattr(verifier, "walk_in_processes", start)
    monkeypatch.setattr(ledger, "_timed", script)

    results = ledger.ledger_rates(tmp_path, 400)

    assert ways == ["processes=2", "processes=1", "since", "started"] * ledger.ROUNDS
    assert os.environ["CASEBOOK_VERIFY_PROCESSES"] == "2"  # as it was before
    verifications = results[-4:]
    # Medians: in process 6 of (2, 8, 6); full 5 of (1, 9, 5); its start 2.5 of (4, 0.5, 2.5);
    # since 5 of (3, 7, 5).
    assert [seconds for _, _, seconds, _ in verifications] == [6.0, 5.0, 5.0 - 2.5, 5.0]
    assert f"less {2.5:.2f} s to start" in verifications[2][0]
    assert all(name.endswith(f"median of {ledger.ROUNDS}") for name, *_ in verifications)


@pytest.mark.parametrize(("argv", "rule"), [
    (["--commands", "20"], "--commands must be at least 40"),
    (["--samples", "0"], "--samples must be at least 1"),
    (["--scales", "1,x"], "--scales must be whole numbers of at least 1, ascending"),
    (["--scales", "10,1"], "--scales must be whole numbers of at least 1, ascending"),
    (["--scales", "0,10"], "--scales must be whole numbers of at least 1, ascending"),
])
def test_a_value_no_measure_can_be_taken_with_is_refused_by_its_rule(
        argv: list[str], rule: str, capsys: pytest.CaptureFixture[str]) -> None:
    # 20 commands among 20 clients once measured none at all and printed "0 commands/s".
    with pytest.raises(SystemExit) as refused:
        bench.arguments(argv)
    assert refused.value.code == 2
    assert rule in capsys.readouterr().err


def test_the_defaults_measure_every_scale_and_concurrency() -> None:
    args, scales = bench.arguments([])
    assert scales == (1, 10, 100)
    assert args.commands >= 2 * max(bench.CLIENTS) and args.samples >= 1


def test_the_cpu_of_a_phase_is_counted_for_the_process_that_spent_it(tmp_path) -> None:
    # A child spends about a fifth of a second of CPU; this process, the client, waits.
    busy = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\nsys.stdin.readline()\nend = time.process_time() + 0.2\n"
        "while time.process_time() < end: pass\nsys.stdin.readline()")],
        stdin=subprocess.PIPE, text=True)
    assert busy.stdin is not None
    meter = cpu.Meter({"busy": busy.pid})

    def run() -> None:
        busy.stdin.write("go\n")
        busy.stdin.flush()
        spent_before = cpu.cpu_seconds(busy.pid)
        while cpu.cpu_seconds(busy.pid) < spent_before + 0.2:
            subprocess.run(["sleep", "0.02"], check=True)

    try:
        phase = meter.timed(4, run)
    finally:
        busy.stdin.write("done\n")
        busy.stdin.flush()
        busy.wait(timeout=10)
    assert set(phase.cpu) == {"busy", cpu.CLIENT}
    assert phase.cpu["busy"] >= 0.2
    assert phase.cpu[cpu.CLIENT] < phase.cpu["busy"]
    per_operation, by_process = cpu.split(cpu.combined([phase, phase]))
    assert float(per_operation) == pytest.approx(
        sum(phase.cpu.values()) * 1000 / 4, abs=0.05)
    assert by_process.startswith(f"busy {phase.cpu['busy'] * 1000 / 4:.1f}, client ")


def test_the_broker_s_process_is_found_by_the_port_it_listens_on() -> None:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        assert cpu.listener_pid(listening.getsockname()[1]) == os.getpid()
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening
        assert cpu.listener_pid(port) is None
