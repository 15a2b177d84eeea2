"""`casebook up`: every service as its own process, logs to the terminal, Ctrl-C stops all."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import click
from kombu import Connection

from services.runtime import config
from services.runtime.launcher import SERVICES, service_command

STOP_SECONDS = 30


@click.command()
@click.option(
    "--only",
    multiple=True,
    type=click.Choice(sorted(SERVICES)),
    help="Start only these services (repeatable).",
)
def up(only: tuple[str, ...]) -> None:
    """Start every Casebook service against AMQP_URI (SQLite under CASEBOOK_DATA_DIR unless
    POSTGRES_* is set) and stop them all cleanly on Ctrl-C."""
    uri = config.amqp_uri()
    _check_broker(uri)
    data_dir = config.data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    names = list(only or SERVICES)
    children: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    store = "PostgreSQL" if config.postgres_configured() else f"SQLite in {data_dir}"
    click.echo(
        f"casebook: starting {', '.join(names)} on {_redacted(uri)}, stores: {store}", err=True
    )
    for name in names:
        env = {**os.environ, "CASEBOOK_SERVICE": name, "PYTHONWARNINGS": "ignore"}
        # A new process group: Ctrl-C reaches only this parent, which stops the children in order.
        children[name] = subprocess.Popen(service_command(name), env=env, start_new_session=True)
    if "gateway" in names:
        address = os.environ.get("WEB_SERVER_ADDRESS", "127.0.0.1:8000")
        click.echo(f"casebook: HTTP API on http://{address} (reference: /docs)", err=True)
    failed = None
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                failed = f"{name} exited with status {child.returncode}"
                stopping = True
        time.sleep(0.2)
    _stop_all(children)
    if failed:
        raise click.ClickException(f"{failed}; stopped the others")
    click.echo("casebook: stopped", err=True)


def _stop_all(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _check_broker(uri: str) -> None:
    try:
        with Connection(uri, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as error:
        raise click.ClickException(
            f"RabbitMQ does not answer at {_redacted(uri)} ({error}). Start it with "
            "`make broker` (or `rabbitmq-server -detached`), or set AMQP_URI."
        ) from None


def _redacted(uri: str) -> str:
    scheme, _, rest = uri.partition("://")
    credentials, at, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if at else uri
