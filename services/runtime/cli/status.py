"""`casebook status`: each service's positions, each subscriber's lag and dead letters, the
archive's last signed checkpoint, and under `casebook up` each process's restarts."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from services.runtime.cli.rpc import cluster
from services.runtime.cli.up import read_state
from services.runtime.launcher import PUBLISHERS
from services.runtime.service import behind_source
from services.runtime.settings import settings


def collect(timeout: float = 5) -> dict[str, Any]:
    """Every publishing service's status (or why it gave none), every subscription's lag and
    dead letters, and the last checkpoint."""
    statuses: dict[str, Any] = {}
    checkpoint = None
    with cluster("operator", timeout=timeout) as proxy:
        for name in PUBLISHERS:
            try:
                statuses[name] = proxy[name].status()
            except Exception as error:
                statuses[name] = {"error": f"{type(error).__name__}: {error}"}
        if "error" not in statuses.get("archive", {"error": "not running"}):
            newest = proxy.archive.list_checkpoints({"limit": 1})["items"]
            checkpoint = newest[0] if newest else None
    subscriptions = []
    for name, state in statuses.items():
        for source, cursor in sorted(state.get("cursors", {}).items()):
            subscriptions.append(
                {
                    "subscriber": name,
                    "source": source,
                    "processed": cursor["position"],
                    "lag": behind_source(statuses, source, cursor["position"]),
                    "dead_letters": state.get("dead_letters", {}).get(source, 0),
                    "halted": state.get("halted", {}).get(source),
                }
            )
    return {"services": statuses, "subscriptions": subscriptions, "last_checkpoint": checkpoint,
            "processes": read_state(settings().runtime.data_dir)}


@click.command()
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for each service.")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(timeout: float, as_json: bool) -> None:
    """Published positions per service; lag and dead letters per subscription; the last signed
    ledger checkpoint. Exits non-zero if a service does not answer or a subscription halted."""
    report = collect(timeout)
    failed = (any("error" in state for state in report["services"].values())
              or any(row["halted"] for row in report["subscriptions"]))
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print(report)
    if failed:
        raise SystemExit(1)


def _print(report: dict[str, Any]) -> None:
    console = Console()
    services = Table(title="Services")
    for column in ("service", "stored", "published", "relay lag", "head hash", "version"):
        services.add_column(column)
    for name, state in report["services"].items():
        if "error" in state:
            services.add_row(name, "-", "-", "-", f"[red]not answering: {state['error']}[/red]",
                             "-")
            continue
        services.add_row(
            name,
            str(state["stored_position"]),
            str(state["published_position"]),
            str(state["relay_lag"]),
            state["published_hash"][:16],
            f"{state['version']} ({state['revision']})",
        )
    subscriptions = Table(title="Subscriptions")
    for column in ("subscriber", "source", "processed", "lag", "dead letters"):
        subscriptions.add_column(column)
    for row in report["subscriptions"]:
        lag = "?" if row["lag"] is None else str(row["lag"])
        dead = str(row["dead_letters"])
        subscriptions.add_row(
            row["subscriber"],
            row["source"],
            str(row["processed"]),
            lag,
            f"[red]{dead}[/red]" if row["dead_letters"] else dead,
        )
    console.print(services)
    console.print(subscriptions)
    for row in report["subscriptions"]:
        if row["halted"]:
            console.print(f"[red]{row['subscriber']} halted its subscription to "
                          f"{row['source']}:[/red] {row['halted']}")
    if report["processes"]:
        processes = Table(title="Processes (casebook up)")
        for column in ("service", "pid", "started", "restarts", "last exit"):
            processes.add_column(column)
        for name, child in report["processes"]["children"].items():
            last_exit = (f"status {child['last_exit_status']} at {child['last_exit_at']}"
                         if child["last_exit_at"] else "-")
            restarts = str(child["restarts"])
            processes.add_row(
                name,
                str(child["pid"]) if child["pid"] else f"[red]restarting at "
                                                       f"{child['restart_at']}[/red]",
                child["started_at"] or "-",
                f"[yellow]{restarts}[/yellow]" if child["restarts"] else restarts,
                last_exit,
            )
        console.print(processes)
    checkpoint = report["last_checkpoint"]
    if checkpoint:
        console.print(
            f"Last signed checkpoint: #{checkpoint['sequence']} at {checkpoint['signed_at']}, "
            f"{checkpoint['entry_count']} ledger entries, key {checkpoint['key_id']}"
        )
    else:
        console.print("No ledger checkpoint signed yet.")
