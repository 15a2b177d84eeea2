"""`casebook up` heals: a child that dies is started again, `casebook status` shows the
restart, and Ctrl-C still stops everything."""

import json
import os
import signal
import subprocess
import sys
from functools import partial
from pathlib import Path

from services import __version__
from tests.support.services import rpc
from tests.support.waiting import wait_for

CASEBOOK = str(Path(sys.executable).parent / "casebook")


def state(data_dir: Path) -> dict:
    path = data_dir / "up.json"
    return json.loads(path.read_text()) if path.exists() else {}


def answers(amqp_uri: str, service: str) -> bool:
    try:
        with rpc(amqp_uri, timeout=2) as proxy:
            return bool(proxy[service].ping() == "pong")
    except Exception:
        return False


def test_a_killed_service_is_restarted_and_the_restart_is_reported(amqp_uri, tmp_path):
    data_dir = tmp_path / "var"
    env = {**os.environ, "AMQP_URI": amqp_uri, "CASEBOOK_DATA_DIR": str(data_dir)}
    log = tmp_path / "up.log"  # a file, not a pipe: nobody drains a pipe while the test waits
    up = subprocess.Popen([CASEBOOK, "up", "--only", "cases", "--only", "archive"], env=env,
                          stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: answers(amqp_uri, "cases") and answers(amqp_uri, "archive"),
                 timeout=90, interval=0.5, what="cases and archive to answer")
        assert state(data_dir), log.read_text()
        # A second `casebook up` on the same stores is refused at once, and changes nothing.
        again = subprocess.run([CASEBOOK, "up", "--only", "cases"], env=env, capture_output=True,
                               text=True, timeout=60)
        assert again.returncode == 1, again.stderr
        assert (f"Error: Casebook is already running from {data_dir} (casebook up, pid {up.pid})"
                in again.stderr), again.stderr
        assert state(data_dir)["pid"] == up.pid
        first_pid = state(data_dir)["children"]["cases"]["pid"]
        # The cases process dies as an OOM kill would kill it.
        os.kill(first_pid, signal.SIGKILL)
        wait_for(lambda: state(data_dir)["children"]["cases"]["restarts"] == 1, timeout=60,
                 what="casebook up to restart cases")
        wait_for(lambda: answers(amqp_uri, "cases"), timeout=90, interval=0.5,
                 what="the restarted cases to answer")
        cases = state(data_dir)["children"]["cases"]
        assert cases["pid"] != first_pid and cases["last_exit_status"] == -signal.SIGKILL
        assert state(data_dir)["children"]["archive"]["restarts"] == 0
        status = subprocess.run([CASEBOOK, "status", "--json"], env=env, capture_output=True,
                                text=True, timeout=60)
        report = json.loads(status.stdout)
        assert report["processes"]["children"]["cases"]["restarts"] == 1
        assert "error" not in report["services"]["cases"]
    finally:
        up.send_signal(signal.SIGINT)
        up.wait(timeout=90)
    output = log.read_text()
    assert up.returncode == 0, output
    assert f"casebook: starting cases, archive ({__version__}) on " in output
    assert "cases exited with status -9; restarting it in 1s" in output
    assert "casebook: stopped" in output
    assert not (data_dir / "up.json").exists()
    assert not answers(amqp_uri, "cases")


def gone(pid: int) -> bool:
    """Exited (a zombie not yet reaped by whoever adopted it counts as exited)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_services_stop_when_the_terminal_closes_or_casebook_up_is_killed(amqp_uri, tmp_path):
    data_dir = tmp_path / "var"
    env = {**os.environ, "AMQP_URI": amqp_uri, "CASEBOOK_DATA_DIR": str(data_dir)}
    for signum, clean in ((signal.SIGHUP, True), (signal.SIGKILL, False)):
        log = tmp_path / f"up-{signum}.log"
        up = subprocess.Popen([CASEBOOK, "up", "--only", "cases"], env=env,
                              stdout=log.open("w"), stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: answers(amqp_uri, "cases"), timeout=90, interval=0.5,
                     what="cases to answer")
            child = state(data_dir)["children"]["cases"]["pid"]
            up.send_signal(signum)
            up.wait(timeout=60)
            # SIGHUP is a Ctrl-C; a SIGKILL leaves casebook up no time, and the child is told
            # by the kernel that its parent died.
            wait_for(partial(gone, child), timeout=60, what=f"cases to stop after {signum!r}")
        finally:
            if up.poll() is None:
                up.kill()
        if clean:
            assert up.returncode == 0, log.read_text()
            assert "casebook: stopped" in log.read_text()
        assert not answers(amqp_uri, "cases")
