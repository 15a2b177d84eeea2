"""`casebook token`: a development bearer token for the HTTP API (HS256)."""

from __future__ import annotations

import click

from services.gateway.auth import TOKEN_ROLES, dev_secret, mint
from services.runtime.settings import settings


@click.command()
@click.option("--role", required=True, type=click.Choice(TOKEN_ROLES), help="The actor's role.")
@click.option("--sub", "subject", required=True, help="The actor id, e.g. worker-1.")
@click.option("--school", "school_id", default=None, help="The actor's school, e.g. JD001.")
@click.option("--ttl", default=3600, show_default=True, type=click.IntRange(min=1),
              help="Seconds until the token expires.")
def token(role: str, subject: str, school_id: str | None, ttl: int) -> None:
    """Print an HS256 token signed with CASEBOOK_JWT_SECRET (or the development secret in
    CASEBOOK_DATA_DIR), with the CASEBOOK_JWT_ISSUER and CASEBOOK_JWT_AUDIENCE the gateway
    checks, for `Authorization: Bearer <token>`."""
    gateway = settings().gateway
    click.echo(mint(dev_secret(), role, subject, school_id, ttl, issuer=gateway.jwt_issuer,
                    audience=gateway.jwt_audience))
