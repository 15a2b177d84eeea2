"""`casebook demo`: drive realistic cases through the services' public RPC."""

from __future__ import annotations

import random
import secrets

import click

from services.runtime.cli.journeys import (
    DEMO_PROVIDER,
    case_journey,
    staff_school,
    stock_register,
)
from services.runtime.cli.rpc import cluster

SCHOOL = "JD001"
WORKER = "demo-worker-1"
SUPERVISOR = "demo-supervisor"
ELIGIBILITY_WAIT_SECONDS = 30


@click.command()
@click.option("--cases", "count", default=10, show_default=True, help="How many cases to drive.")
@click.option("--seed", default=2026, show_default=True,
              help="Random seed: the same seed walks the same journeys (with new clients).")
def demo(count: int, seed: int) -> None:
    """Staff school JD001 with a qualified, trained worker and the worker's supervisor, stock
    its resource register with a provider and the tutoring it offers, then open and work COUNT
    cases as that worker would: the odd-numbered ones closed, the others
    left open at evaluation, their interventions logged, so that the caseload has cases in it."""
    rng = random.Random(seed)
    # Client ids are new on every run, whatever the seed: the register refuses a client it has
    # already, and a second run on the same stores would stop at its first case.
    run = secrets.randbelow(10**6)
    with cluster("school_admin", actor_id="demo-admin", school_id=SCHOOL) as admin:
        staff_school(admin, SCHOOL, WORKER, SUPERVISOR)
    click.echo(f"school {SCHOOL} staffed: {WORKER} qualified (6.2.1.2) and trained (9.1a), "
               f"supervised by {SUPERVISOR} (6.2.2)")
    with cluster("social_worker", actor_id=WORKER, school_id=SCHOOL) as worker:
        if stock_register(worker, SCHOOL) is not None:
            click.echo(f"resource register of {SCHOOL}: {DEMO_PROVIDER} offers weekend maths "
                       "tutoring (9.3a)")
        for number in range(1, count + 1):
            closed = number % 2 == 1
            case_id = case_journey(
                worker, f"demo-{run}-{number}", WORKER, interventions=rng.randint(2, 5),
                close=closed, rng=rng, eligibility_wait=ELIGIBILITY_WAIT_SECONDS,
            )
            click.echo(f"case {number}/{count}: {case_id} "
                       + ("(closed)" if closed else "(open, at evaluation)"))
    click.echo("Done. See the events flow with `casebook status`.")
