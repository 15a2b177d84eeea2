"""nameko's `RpcProxy`, with a bound on how long a worker waits for the answer.

nameko waits for a reply for ever, and a reply published while the broker restarts is lost with
the caller's non-durable reply queue: the worker that asked would hang for good, and a service
has only `max_workers` of them. Every service-to-service call waits at most its bound and is
answered `Unavailable` after it, which the caller's own caller can retry.

Its replies come back on an exclusive reply queue (services.runtime.replies), as every caller's
do: on a cluster the queue is declared afresh on whichever node the caller fails over to.

`within` bounds a whole call, its publish too, for the callers a person waits on (the gateway,
the CLI): while RabbitMQ blocks publishers (its disk or memory alarm) a publish waits for its
confirm until the alarm ends.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any, TypeVar

import eventlet

from contracts.errors import Unavailable
from services.runtime.replies import RpcProxy

T = TypeVar("T")

CLEANUP_SECONDS = 1.0


def within(seconds: float, call: Callable[[], T]) -> T:
    """`call()`, or `eventlet.Timeout` raised here once `seconds` (and CLEANUP_SECONDS) have
    passed, whatever the call is doing. It runs in a greenthread of its own, with a timeout of
    `seconds` inside: while RabbitMQ blocks publishers a publish waits for its confirm, and
    after that timeout kombu closes the connection it interrupted by waiting for the broker's
    close-ok, which does not come until the alarm ends. The caller stops waiting a moment
    later; the call, left to finish when the alarm ends, gives its producer back to the pool
    (interrupted there, it never would: ten such calls and the process could publish no more).
    Its exception, whatever it is, is raised here, in the caller's greenthread."""

    def attempt() -> tuple[bool, Any]:
        try:
            with eventlet.Timeout(seconds):
                return True, call()
        except BaseException as error:
            return False, error

    thread = eventlet.spawn(contextvars.copy_context().run, attempt)
    with eventlet.Timeout(seconds + CLEANUP_SECONDS):
        answered, outcome = thread.wait()
    if answered:
        return outcome
    raise outcome


class AnsweringProxy(RpcProxy):
    """`RpcProxy(service)` whose calls wait at most `answer_within()` seconds (read at each call,
    so that a setting or a test can change it)."""

    def __init__(self, target_service: str, answer_within: Callable[[], float],
                 **options: Any) -> None:
        super().__init__(target_service, **options)
        self.answer_within = answer_within

    def get_dependency(self, worker_ctx: Any) -> Bounded:
        return Bounded(super().get_dependency(worker_ctx), self.target_service,
                       self.answer_within)


class Bounded:
    """The service's methods, each answering within the bound or raising `Unavailable`."""

    def __init__(self, proxy: Any, service: str, answer_within: Callable[[], float]) -> None:
        self._proxy, self._service, self._answer_within = proxy, service, answer_within

    def __getattr__(self, method: str) -> Callable[..., Any]:
        method_proxy = getattr(self._proxy, method)

        def call(*args: Any, **kwargs: Any) -> Any:
            reply = method_proxy.call_async(*args, **kwargs)
            seconds = self._answer_within()
            unanswered = Unavailable(f"{self._service}.{method} did not answer in time "
                                     f"({seconds:g} s).")
            with eventlet.Timeout(seconds, unanswered):
                return reply.result()

        return call
