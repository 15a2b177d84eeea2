"""`casebook up`: every service as its own process, logs to the terminal. A child that exits is
started again, with a growing pause, and its restarts are kept in `<data dir>/up.json` for
`casebook status`; Ctrl-C (or SIGTERM) stops them all."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from services import __version__
from services.runtime.cli.rpc import broker_connection
from services.runtime.launcher import METRICS_PORTS, SERVICES, service_command
from services.runtime.secrets import shuffled_nodes, without_amqp_password
from services.runtime.settings import settings
from services.runtime.store import postgres_configured

STOP_SECONDS = 30
POLL_SECONDS = 0.2
# The pause before a restart doubles from the first to the last; a child that then stays up
# for STABLE_SECONDS is healthy again and its next restart is quick.
FIRST_PAUSE_SECONDS = 1.0
LONGEST_PAUSE_SECONDS = 60.0
STABLE_SECONDS = 60.0
STATE_FILE = "up.json"
PR_SET_PDEATHSIG = 1  # prctl(2)
PUBLIC_FIELDS = ("name", "pid", "started_at", "restarts", "last_exit_status", "last_exit_at",
                 "restart_at")


@dataclass
class Child:
    """One service process, as `casebook status` shows it."""

    name: str
    metrics_address: str | None = None
    pid: int | None = None
    started_at: str | None = None
    restarts: int = 0
    last_exit_status: int | None = None
    last_exit_at: str | None = None
    restart_at: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    started_monotonic: float = field(default=0.0, repr=False)
    pause: float = field(default=FIRST_PAUSE_SECONDS, repr=False)
    due: float | None = field(default=None, repr=False)

    def start(self) -> None:
        # nameko reads the broker from AMQP_URI alone: give it the password of
        # AMQP_PASSWORD(_FILE) already in place, and a cluster's nodes in an order of its own.
        env = {**os.environ, "CASEBOOK_SERVICE": self.name, "PYTHONWARNINGS": "ignore",
               "AMQP_URI": shuffled_nodes(settings().runtime.amqp_uri)}
        if self.metrics_address:
            env["CASEBOOK_METRICS_ADDRESS"] = self.metrics_address
        # A new process group: Ctrl-C reaches only this parent, which stops the children.
        self.process = subprocess.Popen(service_command(self.name), env=env,
                                        start_new_session=True, preexec_fn=_die_with(os.getpid()))
        self.pid = self.process.pid
        self.started_at = _now()
        self.started_monotonic = time.monotonic()
        self.due = None
        self.restart_at = None

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def schedule_restart(self) -> float:
        """Note the exit; return the pause before the restart."""
        assert self.process is not None
        if time.monotonic() - self.started_monotonic >= STABLE_SECONDS:
            self.pause = FIRST_PAUSE_SECONDS
        pause = self.pause
        self.pause = min(LONGEST_PAUSE_SECONDS, self.pause * 2)
        self.last_exit_status = self.process.returncode
        self.last_exit_at = _now()
        self.process, self.pid = None, None
        self.due = time.monotonic() + pause
        self.restart_at = datetime.fromtimestamp(time.time() + pause, UTC).isoformat()
        return pause

    def public(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in PUBLIC_FIELDS}


@click.command()
@click.option(
    "--only",
    multiple=True,
    type=click.Choice(sorted(SERVICES)),
    help="Start only these services (repeatable).",
)
@click.option("--metrics", is_flag=True,
              help="Each service serves /metrics on 127.0.0.1 at its own port (9101-9105).")
def up(only: tuple[str, ...], metrics: bool) -> None:
    """Start every Casebook service against AMQP_URI (SQLite under CASEBOOK_DATA_DIR unless
    POSTGRES_* is set), restart any that exits, and stop them all cleanly on Ctrl-C."""
    runtime = settings().runtime
    uri = runtime.amqp_uri
    data_dir = runtime.data_dir
    running = read_state(data_dir)
    if running is not None:
        # A second set of every service on the same stores would run beside the first, as
        # instances scaled out do, and take over its file of restarts: never what was meant.
        raise click.ClickException(
            f"Casebook is already running from {data_dir} (casebook up, pid {running['pid']}). "
            "Stop it with Ctrl-C in its terminal, or give this one another CASEBOOK_DATA_DIR; "
            f"if pid {running['pid']} is not Casebook, remove {data_dir / STATE_FILE}.")
    with broker_connection(uri):
        pass  # it answers
    data_dir.mkdir(parents=True, exist_ok=True)
    children = {
        name: Child(name, f"127.0.0.1:{METRICS_PORTS[name]}" if metrics else None)
        for name in (only or SERVICES)
    }
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    # SIGHUP: the terminal `casebook up` runs in was closed.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    store = "PostgreSQL" if postgres_configured() else f"SQLite in {data_dir}"
    click.echo(
        f"casebook: starting {', '.join(children)} ({__version__}) on "
        f"{without_amqp_password(uri)}, stores: {store}",
        err=True,
    )
    state = data_dir / STATE_FILE
    try:
        for child in children.values():
            child.start()
        if "gateway" in children:
            address = settings().gateway.address
            click.echo(f"casebook: HTTP API on http://{address} (reference: /docs)", err=True)
        if metrics:
            click.echo("casebook: metrics at " + ", ".join(
                f"http://{child.metrics_address}/metrics ({name})"
                for name, child in children.items()), err=True)
        if "console" in children:
            click.echo(f"casebook: console on http://{settings().console.address}", err=True)
        _write_state(state, children)
        while not stopping:
            if _tend(children):
                _write_state(state, children)
            time.sleep(POLL_SECONDS)
    finally:
        # Whatever ends this loop, no child outlives it: they run in sessions of their own.
        _stop_all(children)
        state.unlink(missing_ok=True)
    click.echo("casebook: stopped", err=True)


def _tend(children: dict[str, Child]) -> bool:
    """Notice exits and make due restarts; True if anything changed."""
    changed = False
    for child in children.values():
        if child.exited():
            status = child.process.returncode if child.process else None
            pause = child.schedule_restart()
            click.echo(f"casebook: {child.name} exited with status {status}; "
                       f"restarting it in {pause:g}s", err=True)
            changed = True
        elif child.due is not None and time.monotonic() >= child.due:
            child.restarts += 1
            child.start()
            click.echo(f"casebook: {child.name} restarted (restart {child.restarts})", err=True)
            changed = True
    return changed


def read_state(data_dir: Path) -> dict[str, Any] | None:
    """What `casebook up` last wrote, if it is still running."""
    try:
        state: dict[str, Any] = json.loads((data_dir / STATE_FILE).read_text(encoding="utf-8"))
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return state


def _write_state(path: Path, children: dict[str, Child]) -> None:
    state = {"pid": os.getpid(), "written_at": _now(),
             "children": {name: child.public() for name, child in children.items()}}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=2), encoding="utf-8")
    temporary.replace(path)  # atomic: `casebook status` never reads half a file


def _die_with(parent: int) -> Callable[[], None] | None:
    """What a child runs before the service: on Linux, ask for SIGTERM when `casebook up` dies,
    even by SIGKILL, which leaves it no time to stop its children (an orphaned service would go
    on holding its ports and consuming its queues unseen)."""
    if sys.platform != "linux":
        return None
    libc = ctypes.CDLL(None)  # found here: the child, between fork and exec, only calls

    def ask() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # it died before the request was in place
            os.kill(os.getpid(), signal.SIGTERM)

    return ask


def _stop_all(children: dict[str, Child]) -> None:
    running = [child.process for child in children.values()
               if child.process is not None and child.process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _now() -> str:
    return datetime.now(UTC).isoformat()
