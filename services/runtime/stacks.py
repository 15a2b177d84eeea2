"""Where a silent service waits: on SIGUSR1 a service logs the stack of each of its greenthreads.

A service that stops answering (its `status` RPC times out) and logs nothing may be waiting on
the broker, on its store, or on a container that is dying. `kill -USR1 <pid>` makes it say
where, without stopping it (docs/operators.md, "A service that stops answering").
"""

from __future__ import annotations

import gc
import logging
import signal
import traceback
from types import FrameType

import greenlet

log = logging.getLogger(__name__)

_installed = False


def log_stacks_on_signal(signum: int = signal.SIGUSR1) -> None:
    """Install the handler once per process (every container of the process shares it)."""
    global _installed
    if not _installed:
        signal.signal(signum, _log_stacks)
        _installed = True


def _log_stacks(signum: int, frame: FrameType | None) -> None:
    try:
        # type(), not isinstance(): the heap holds weak proxies, whose isinstance() raises
        # once their object is gone.
        stacks = [("the signalled one", frame)] + [
            (repr(thread), thread.gr_frame)
            for thread in gc.get_objects()
            if issubclass(type(thread), greenlet.greenlet) and thread.gr_frame is not None
        ]
        for number, (name, top) in enumerate(stacks, start=1):
            log.warning("greenthread %d of %d, %s:\n%s", number, len(stacks), name,
                        "".join(traceback.format_stack(top)))
    except Exception:
        # A diagnostic must never be what stops the service.
        log.exception("could not log the greenthreads' stacks")
