"""`casebook demo`: drive realistic cases through the services' public RPC."""

from __future__ import annotations

import random

import click

from services.runtime.cli.journeys import case_journey
from services.runtime.cli.rpc import cluster

SCHOOL = "JD001"


@click.command()
@click.option("--cases", "count", default=10, show_default=True, help="How many cases to drive.")
@click.option("--seed", default=2026, show_default=True, help="Random seed, for repeatable runs.")
def demo(count: int, seed: int) -> None:
    """Open, work and close COUNT cases as social workers of school JD001 would."""
    rng = random.Random(seed)
    worker = {"id": "demo-worker-1", "school_id": SCHOOL}
    with cluster("social_worker", actor_id=worker["id"], school_id=SCHOOL) as proxy:
        for number in range(1, count + 1):
            case_id = case_journey(proxy, rng, worker_id=worker["id"], label=f"demo-{number}")
            click.echo(f"case {number}/{count}: {case_id}")
    click.echo("Done. See the events flow with `casebook status`.")
