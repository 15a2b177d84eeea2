"""The broker from the command line: RPC to the services, and the errors a person at the
terminal can act on. Whoever holds broker credentials is trusted to say who acts (the broker is
the trust boundary, DESIGN.md); the CLI acts as the role each command needs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import click
import eventlet
from amqp.exceptions import NotFound
from kombu import Connection
from nameko.exceptions import RpcTimeout, UnknownService

from contracts.errors import CasebookError  # also registers the error types with nameko
from services.runtime.broker import BROKER_ERRORS
from services.runtime.proxies import within
from services.runtime.secrets import without_amqp_password
from services.runtime.settings import settings

_patched = False
LATER_SECONDS = 2.0


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
            # The exchange is the services' to declare: an integrator's or an auditor's broker
            # user may not (services.runtime.replies).
            proxy = stack.enter_context(cluster_rpc(
                {"AMQP_URI": uri}, context_data=context, timeout=timeout,
                declare_exchange=False))
        except BROKER_ERRORS as error:
            raise broker_unreachable(uri, error) from error
        except NotFound as error:
            raise click.ClickException(
                f"no service has run on this broker yet ({error.reply_text}): `casebook up` "
                "starts Casebook") from error
        try:
            yield BoundedCluster(proxy, timeout)
        except (RpcTimeout, eventlet.Timeout) as error:
            raise click.ClickException(
                f"a service did not answer within {timeout:g} s: is Casebook running, and "
                "is every service up? `casebook status` shows which answer. If RabbitMQ is "
                "blocking publishers (its disk or memory low), nothing moves until that ends: "
                "`rabbitmq-diagnostics alarms` says") from error
        except UnknownService as error:
            raise click.ClickException(
                f"{error}: it has never run on this broker (RabbitMQ has no queue for it). "
                "`casebook up` starts Casebook") from error
        except CasebookError as error:  # a refusal: what the API would answer, in one line
            raise click.ClickException(f"{error.detail} ({error.code})") from error


class BoundedCluster:
    """A standalone cluster proxy whose every call ends by its timeout, its publish too
    (`services.runtime.proxies.within`): nameko's own timeout is for the reply only, and while
    RabbitMQ blocks publishers a command at the terminal would wait for as long as that lasts."""

    def __init__(self, proxy: Any, timeout: float) -> None:
        self._proxy, self._timeout = proxy, timeout

    def __getitem__(self, service: str) -> _BoundedService:
        return _BoundedService(self._proxy[service], self._timeout)

    def __getattr__(self, service: str) -> _BoundedService:
        return self[service]


class _BoundedService:
    def __init__(self, service: Any, timeout: float) -> None:
        self._service, self._timeout = service, timeout

    def __getattr__(self, method: str) -> Callable[..., Any]:
        method_proxy = getattr(self._service, method)

        def call(*args: Any, **kwargs: Any) -> Any:
            # Later than nameko's timeout: a reply that does not come is its RpcTimeout, which
            # a command may handle (`casebook status` reports the service and goes on).
            return within(self._timeout + LATER_SECONDS, lambda: method_proxy(*args, **kwargs))

        return call


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
