"""The whole pipe with every service in its own process, as `casebook up` runs it."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from services import __version__
from services.runtime.launcher import PUBLISHERS
from tests.support.scenarios import drive_case, events_per_case
from tests.support.services import AUDITOR, WORKER, ledgered, processes, rpc
from tests.support.waiting import wait_for

CASES = 200


def test_two_hundred_cases_reach_the_ledger_exactly_once_in_order(amqp_uri, tmp_path):
    with processes(amqp_uri, tmp_path, "cases", "archive"):
        with rpc(amqp_uri, WORKER) as proxy:
            for number in range(CASES):
                drive_case(proxy, f"client-{number}")
        with rpc(amqp_uri, AUDITOR) as proxy:
            published = proxy.cases.status()["published_position"]
            wait_for(
                lambda: ledgered(proxy, "cases") == published,
                timeout=120,
                what="the ledger to reach the last published position",
            )
            report = proxy.archive.verify_ledger()
    section = report["sources"]["cases"]
    # Every event once (the count), in order and unaltered (the chain, checked against the store).
    assert section["entries"] == CASES * events_per_case()
    assert report["ok"], section["problems"][:5]
    assert section["store_checked"]


def casebook(*args: str, env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "casebook"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def test_casebook_up_runs_the_demo_twice_verifies_and_stops_on_ctrl_c(amqp_uri, tmp_path):
    env = {**os.environ, "AMQP_URI": amqp_uri, "CASEBOOK_DATA_DIR": str(tmp_path / "var")}
    up = subprocess.Popen(
        [str(Path(sys.executable).parent / "casebook"), "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(
            lambda: casebook("status", "--timeout", "2", env=env).returncode == 0,
            timeout=90,
            interval=0.5,
            what="every service to answer status",
        )
        demo = casebook("demo", "--cases", "3", env=env)
        assert demo.returncode == 0, demo.stderr
        assert demo.stdout.count("case ") == 3
        assert (demo.stdout.count("(closed)"), demo.stdout.count("(open, at evaluation)")) == (
            2, 1)
        assert "school JD001 staffed" in demo.stdout
        assert "resource register of JD001: 阳光公益基金会 offers" in demo.stdout
        again = casebook("demo", "--cases", "1", env=env)  # on the same stores, the same seed
        assert again.returncode == 0, again.stdout + again.stderr
        assert again.stdout.count("case ") == 1
        assert "resource register" not in again.stdout  # stocked once

        def archive_caught_up() -> bool:
            shown = casebook("status", "--json", env=env)
            if shown.returncode != 0:
                return False
            lags = {(row["subscriber"], row["source"]): row["lag"]
                    for row in json.loads(shown.stdout)["subscriptions"]}
            return lags.get(("archive", "cases")) == 0

        wait_for(archive_caught_up, timeout=60, interval=0.5, what="the archive lag to be 0")
        # Which build each service runs: the version, and the commit (none given here).
        report = json.loads(casebook("status", "--json", env=env).stdout)
        assert {name: (state["version"], state["revision"])
                for name, state in report["services"].items()} == {
            name: (__version__, "unknown") for name in PUBLISHERS}
        table = casebook("status", env={**env, "COLUMNS": "200"}).stdout
        assert table.count(f"{__version__} (unknown)") == len(PUBLISHERS), table
        assert casebook("--version", env=env).stdout == f"casebook {__version__}\n"
        # As the tour runs it, in a process of its own: eventlet patches the standard library
        # when the command first calls a service, and a lock made before then (its progress
        # display's) would not be a green one. Eventlet says so on stderr, except under pytest.
        verified = casebook("verify", env={name: value for name, value in env.items()
                                           if name != "PYTEST_CURRENT_TEST"})
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "verified: every chain and checkpoint holds" in verified.stdout
        assert "not greened" not in verified.stderr, verified.stderr
    finally:
        up.send_signal(signal.SIGINT)
        output, _ = up.communicate(timeout=60)
    assert up.returncode == 0, output[-2000:]
    assert "casebook: stopped" in output
