"""RPC from the command line. Whoever holds broker credentials is trusted to say who acts (the
broker is the trust boundary, DESIGN.md); the CLI acts as the role each command needs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import eventlet

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
    import contracts  # noqa: F401  (registers the error types)
    from services.runtime.replies import cluster_rpc

    context = {"actor": {"id": actor_id, "role": role, "school_id": school_id}}
    with cluster_rpc(
        {"AMQP_URI": settings().runtime.amqp_uri}, context_data=context, timeout=timeout
    ) as proxy:
        yield proxy
