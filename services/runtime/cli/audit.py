"""Auditors' commands: `casebook verify`, `casebook replay`, `casebook rebuild`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from contracts.chain import ChainWalk, Problem, compare_with_store, reaches, recomputed
from services.runtime.cli.rpc import cluster
from services.runtime.launcher import PUBLISHERS

PAGE = 500


def published(proxy: Any, source: str, position: int = 0) -> Iterator[dict[str, Any]]:
    while batch := proxy[source].events_since(position, PAGE):
        yield from batch
        position = batch[-1]["position"]


def rebuilt(
    proxy: Any, source: str, position: int = 0, prev_hash: str = "0" * 64
) -> Iterator[dict[str, Any]]:
    return recomputed(proxy[source].recompute_since, position, prev_hash, PAGE)


def verify_source(
    proxy: Any, source: str, progress: Progress, start: dict[str, Any] | None = None
) -> list[Problem]:
    """A source's published stream: every link, and every envelope against its own store; from
    its genesis, or on from a signed checkpoint's head of it (`start`). The stream is walked
    without keeping it: it is compared with the store by its head (`reaches`), and read again,
    kept, and compared position by position only where the two differ."""
    head = proxy[source].status()["published_position"]
    task = progress.add_task(source, total=head or None)
    after = start or {"position": 0, "hash": "0" * 64}
    walk, problems = ChainWalk("published"), []
    walk.position, walk.hash = after["position"], after["hash"]
    for envelope in published(proxy, source, walk.position):
        problems.extend(walk.step(envelope))
        progress.update(task, completed=envelope["position"])
    store = rebuilt(proxy, source, after["position"], after["hash"])
    if walk.count and (problems or not reaches(walk.position, walk.hash, store)):
        recorded = {envelope["position"]: envelope
                    for envelope in published(proxy, source, after["position"])}
        problems.extend(compare_with_store(
            recorded, rebuilt(proxy, source, after["position"], after["hash"])))
    progress.update(task, completed=head)
    return problems


def verify_content(proxy: Any, source: str) -> tuple[int, int, list[str]]:
    """A source's sealed values against their commitments: (proved, unprovable, failures)."""
    proved, unprovable, failures = 0, 0, list[str]()
    position: int | None = 0
    while position is not None:
        report = proxy[source].verify_content(position, PAGE)
        proved += report["proved"]
        unprovable += report["unprovable"]
        failures.extend(f"{source} position {p['position']} (content): {p['field']}: "
                        f"{p['problem']}" for p in report["problems"])
        position = report["next"]
    return proved, unprovable, failures


@click.command()
@click.option("--timeout", default=300.0, show_default=True, help="Seconds per RPC call.")
@click.option("--since-checkpoint", is_flag=True,
              help="Only what follows the last signed checkpoint: its signature, and every "
                   "chain on from its signed heads (a daily check costs the day's events). "
                   "Everything, while no checkpoint is signed yet.")
@click.option("--content", is_flag=True,
              help="Also check every readable sealed value against its keyed commitment.")
def verify(timeout: float, since_checkpoint: bool, content: bool) -> None:
    """Verify every hash chain and checkpoint, from the archive's ledger and from each source's
    own store; with --content, every sealed value too. Exits non-zero on any failure, naming
    the source and exact positions."""
    failures: list[str] = []
    columns = (TextColumn("{task.description:12}"), BarColumn(), MofNCompleteColumn())
    # The console after the cluster: its locks must be made once eventlet has patched them.
    with (
        cluster("auditor", timeout=timeout) as proxy,
        Progress(*columns, console=Console(stderr=True)) as progress,
    ):
        ledger_task = progress.add_task("ledger", total=None)
        report = proxy.archive.verify_ledger({"since_checkpoint": since_checkpoint})
        progress.update(ledger_task, total=1, completed=1)
        starts = {head["source"]: head for head in report.get("checkpoint_heads") or []}
        for source in PUBLISHERS:
            for problem in verify_source(proxy, source, progress, starts.get(source)):
                failures.append(
                    f"{source} position {problem.position} ({problem.where}): {problem.problem}"
                )
        sealed = [0, 0]
        for source in PUBLISHERS if content else ():
            proved, unprovable, problems = verify_content(proxy, source)
            sealed[0] += proved
            sealed[1] += unprovable
            failures.extend(problems)
    for source, section in sorted(report["sources"].items()):
        for problem in section["problems"]:
            failures.append(
                f"ledger {source} position {problem['position']} "
                f"({problem['where']}): {problem['problem']}"
            )
    for problem in report.get("checkpoints", {}).get("problems", []):
        failures.append(f"checkpoint: {json.dumps(problem, ensure_ascii=False)}")
    counts = ", ".join(f"{s}: {v['entries']}" for s, v in sorted(report["sources"].items()))
    # The archive keeps every verification of its ledger: this one can be read again.
    click.echo(f"the ledger's report is kept as verification {report['verification_id']} "
               f"(GET /ledger/verifications/{report['verification_id']})")
    if since_checkpoint and not report.get("since_checkpoint"):
        click.echo("no checkpoint is signed yet: every entry was checked")
    if failures:
        for line in failures:
            click.echo(line)
        raise click.ClickException(f"verification failed: {len(failures)} problem(s)")
    scope = (f"since checkpoint #{report['since_checkpoint']}"
             if report.get("since_checkpoint") else "every")
    click.echo(f"verified: {scope} chain and checkpoint holds "
               f"(ledger entries {counts or 'none'})")
    if content:
        click.echo(f"verified: every readable sealed value is what was recorded ({sealed[0]} "
                   f"proved; {sealed[1]} no longer provable: destroyed, or sealed before "
                   "commitments)")


@click.command()
@click.option("--service", required=True, type=click.Choice(PUBLISHERS))
@click.option("--aggregate", "aggregate_id", required=True, help="The aggregate's id.")
@click.option("--at", default=None, help="An ISO 8601 instant, e.g. 2026-10-01T00:00:00+00:00.")
@click.option("--version", type=int, default=None, help="The aggregate version.")
def replay(service: str, aggregate_id: str, at: str | None, version: int | None) -> None:
    """Print an aggregate's state as it was at a time or version (personal content sealed)."""
    if at and version:
        raise click.UsageError("give --at or --version, not both")
    with cluster("auditor") as proxy:
        state = proxy[service].replay(aggregate_id, at, version)
    click.echo(json.dumps(state, ensure_ascii=False, indent=2))


@click.command()
@click.option("--service", required=True, type=click.Choice(PUBLISHERS))
@click.option("--swap", is_flag=True,
              help="Put the rebuilt tables in place of the live ones (as the operator).")
def rebuild(service: str, swap: bool) -> None:
    """Rebuild SERVICE's views from its event log into fresh tables and compare them with the
    live ones row by row; exits non-zero on any difference, naming table, key and column.
    With --swap the rebuilt tables replace the live ones while the service keeps running."""
    with cluster("operator" if swap else "auditor", timeout=3600) as proxy:
        result = proxy[service].rebuild(swap)
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    if not result["equal"] and not swap:
        raise click.ClickException(
            f"{len(result['differences'])} difference(s) between the live views and the log")
