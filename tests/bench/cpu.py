"""Where a timed phase's CPU goes, process by process, read from Linux's /proc.

A ratio of commands to no-op RPC says how far apart they are, not why: on a small machine the
services, RabbitMQ and the client share its cores, and a command keeps more of them busy than
the call it is compared with. Each phase is timed with the CPU seconds every process spent in
it, so the table shows what a command costs in all and which process spends it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CLIENT = "client"  # the bench's own process, whose greenlets are the clients
LISTENING = "0A"  # a socket's state in /proc/net/tcp: TCP_LISTEN


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds the process has spent so far (proc(5): utime, stime)."""
    # The command's name, in parentheses, may hold spaces: the fields are counted after it.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def listener_pid(port: int) -> int | None:
    """The process listening on a local TCP port (RabbitMQ's, for the broker the bench uses),
    or None where it cannot be told: another user's file descriptors are readable by root
    only, and a broker may run on another machine."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == LISTENING:
                inodes.add(f"socket:[{fields[9]}]")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                return int(entry.name)
        except OSError:
            continue
    return None


@dataclass(frozen=True)
class Phase:
    """A timed phase: how many operations, in how long, and each process's CPU seconds."""

    operations: int
    seconds: float
    cpu: dict[str, float]

    @property
    def rate(self) -> float:
        return self.operations / self.seconds


def combined(phases: Iterable[Phase]) -> Phase:
    """Rounds of the same phase as one: their operations, seconds and CPU added up."""
    phases = list(phases)
    return Phase(
        sum(phase.operations for phase in phases),
        sum(phase.seconds for phase in phases),
        {name: sum(phase.cpu[name] for phase in phases) for name in phases[0].cpu},
    )


def split(phase: Phase) -> tuple[str, str]:
    """A phase's CPU per operation in milliseconds; and how it splits by process, with the
    cores the phase kept busy."""
    per_operation = {name: seconds * 1000 / phase.operations for name, seconds in phase.cpu.items()}
    parts = ", ".join(f"{name} {ms:.1f}" for name, ms in per_operation.items())
    busy = sum(phase.cpu.values()) / phase.seconds
    return (f"{sum(per_operation.values()):.1f}",
            f"{parts}; {busy:.2f}/{os.cpu_count()} cores busy")


class Meter:
    """Times phases with the CPU of the named processes, and of this one as the client."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids

    def _now(self) -> dict[str, float]:
        spent = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        spent[CLIENT] = time.process_time()
        return spent

    def timed(self, operations: int, run: Callable[[], None]) -> Phase:
        before = self._now()
        started = time.perf_counter()
        run()
        seconds = time.perf_counter() - started
        after = self._now()
        return Phase(operations, seconds, {name: after[name] - before[name] for name in after})
