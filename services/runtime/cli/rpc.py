"""The broker from the command line: RPC to the services, and the errors a person at the
terminal can act on. Whoever holds broker credentials is trusted to say who acts (the broker is
the trust boundary, DESIGN.md); the CLI acts as the role each command needs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import click
import eventlet
from kombu import Connection
from nameko.exceptions import RpcTimeout, UnknownService

from contracts.errors import CasebookError  # also registers the error types with nameko
from services.runtime.broker import BROKER_ERRORS
from services.runtime.secrets import without_amqp_password
from services.runtime.settings import settings

_patched = False


@contextmanager
def cluster(
    role: str, actor_id: str = "casebook-cli", school_id: str | None = None, timeout: float = 30
) -> Iterator[Any]:
    global _patched
    if not _patched:
        eventlet.monkey_patch()
        _patched = True
    from services.runtime.replies import cluster_rpc

    context = {"actor": {"id": actor_id, "role": role, "school_id": school_id}}
    uri = settings().runtime.amqp_uri
    # What a person at the terminal can act on, in one line, instead of a traceback: only the
    # connection is the broker's (the command's own files may fail with an OSError too), and
    # a call that is not answered is a service that is not running or not keeping up.
    with ExitStack() as stack:
        try:
            proxy = stack.enter_context(
                cluster_rpc({"AMQP_URI": uri}, context_data=context, timeout=timeout))
        except BROKER_ERRORS as error:
            raise broker_unreachable(uri, error) from error
        try:
            yield proxy
        except RpcTimeout as error:
            raise click.ClickException(
                f"a service did not answer within {timeout:g} s: is Casebook running, and "
                "is every service up? `casebook status` shows which answer") from error
        except UnknownService as error:
            raise click.ClickException(
                f"{error}: it has never run on this broker (RabbitMQ has no queue for it). "
                "`casebook up` starts Casebook") from error
        except CasebookError as error:  # a refusal: what the API would answer, in one line
            raise click.ClickException(f"{error.detail} ({error.code})") from error


@contextmanager
def broker_connection(uri: str, **options: Any) -> Iterator[Connection]:
    """A kombu connection to the broker, connected: a broker that does not answer is the one
    error a person can act on (`broker_unreachable`), not a traceback later."""
    with Connection(uri, connect_timeout=3, **options) as connection:
        try:
            connection.ensure_connection(max_retries=1)
        except BROKER_ERRORS as error:
            raise broker_unreachable(uri, error) from error
        yield connection


def broker_unreachable(uri: str, error: Exception) -> click.ClickException:
    return click.ClickException(
        f"RabbitMQ does not answer at {without_amqp_password(uri)} ({error}). Start it with "
        "`make services` (or `rabbitmq-server -detached`), or set AMQP_URI.")
