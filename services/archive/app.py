"""The archive application: the audit ledger (this issue), files, retention and access (later)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from contracts.envelope import GENESIS_HASH, GENESIS_POSITION, chain_problems
from services.archive.domain import ChainAlarm, LedgerEntry
from services.runtime.clock import clock
from services.runtime.context import require_role
from services.runtime.persistence import Cursor
from services.runtime.store import CasebookApplication

# Recompute(source, after_position, prev_hash, limit) → envelopes rebuilt from the source's store.
Recompute = Callable[[str, int, str, int], list[dict[str, Any]]]

LEDGER_READERS = ("auditor", "archivist", "operator", "system")
PAGE = 500
CONTENT_KEYS_IGNORED = ("prev_hash", "hash")


class ArchiveApplication(CasebookApplication):
    service = "archive"

    def record_envelope(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        """Append an envelope to the ledger, checking that it continues its source's chain."""
        source, position = envelope["source"], envelope["position"]
        head = self.cursor(source)
        entry = LedgerEntry(source=source, position=position, envelope=envelope)
        alarm = None
        problems = chain_problems(envelope, head.position, head.hash)
        if problems:
            alarm = ChainAlarm(
                source=source,
                position=position,
                expected_prev_position=head.position,
                expected_prev_hash=head.hash,
                problems=problems,
            )
        self.save_processed(entry, alarm, cursor=cursor)

    def ledger_head(self, source: str) -> dict[str, Any]:
        require_role(*LEDGER_READERS)
        head = self.cursor(source)
        return {"source": source, "position": head.position, "hash": head.hash}

    def ledger_entries(self) -> Iterator[dict[str, Any]]:
        """Every ledger entry in arrival order."""
        topic = f"{LedgerEntry.Recorded.__module__}:{LedgerEntry.Recorded.__qualname__}"
        position = 0
        while True:
            notifications = list(
                self.recorder.select_notifications(
                    start=position + 1, limit=PAGE, topics=[topic]
                )
            )
            for notification in notifications:
                yield self.mapper.to_domain_event(notification).envelope
            if len(notifications) < PAGE:
                return
            position = notifications[-1].id

    def chain_alarms(self) -> list[dict[str, Any]]:
        topic = f"{ChainAlarm.Raised.__module__}:{ChainAlarm.Raised.__qualname__}"
        notifications = self.recorder.select_notifications(start=1, limit=10**9, topics=[topic])
        return [
            {
                "source": event.source,
                "position": event.position,
                "problems": event.problems,
                "raised_at": event.timestamp.isoformat(),
            }
            for event in map(self.mapper.to_domain_event, notifications)
        ]

    def verify_ledger(self, recompute: Recompute | None = None) -> dict[str, Any]:
        """Recompute every source's chain from the ledger and, with `recompute`, from the
        source's own store; report each problem at its exact position."""
        require_role(*LEDGER_READERS)
        by_source: dict[str, dict[int, dict[str, Any]]] = {}
        report: dict[str, dict[str, Any]] = {}
        for envelope in self.ledger_entries():
            source = envelope["source"]
            entries = by_source.setdefault(source, {})
            section = report.setdefault(source, _new_section())
            prev = section["head"]
            for problem in chain_problems(envelope, prev["position"], prev["hash"]):
                section["problems"].append(
                    {"position": envelope["position"], "where": "ledger", "problem": problem}
                )
            entries[envelope["position"]] = envelope
            section["entries"] += 1
            section["head"] = {"position": envelope["position"], "hash": envelope["hash"]}
        if recompute is not None:
            for source, entries in by_source.items():
                report[source]["problems"].extend(_compare_with_store(source, entries, recompute))
                report[source]["store_checked"] = True
        for section in report.values():
            section["problems"].sort(key=lambda p: (p["position"], p["where"]))
            section["ok"] = not section["problems"]
        return {
            "ok": all(section["ok"] for section in report.values()),
            "checked_at": clock.now().isoformat(),
            "sources": report,
        }


def _new_section() -> dict[str, Any]:
    return {
        "entries": 0,
        "head": {"position": GENESIS_POSITION, "hash": GENESIS_HASH},
        "store_checked": False,
        "problems": [],
    }


def _content(envelope: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in envelope.items() if k not in CONTENT_KEYS_IGNORED}


def _compare_with_store(
    source: str, entries: dict[int, dict[str, Any]], recompute: Recompute
) -> list[dict[str, Any]]:
    """Positions where the source's store no longer says what the ledger recorded. An edited
    event differs in content at its own position; every later hash differs only as a consequence,
    so only the first such chain divergence is reported besides content changes."""
    problems: list[dict[str, Any]] = []
    seen: set[int] = set()
    position, prev_hash = GENESIS_POSITION, GENESIS_HASH
    chain_diverged = False
    while True:
        batch = recompute(source, position, prev_hash, PAGE)
        for rebuilt in batch:
            seen.add(rebuilt["position"])
            recorded = entries.get(rebuilt["position"])
            if recorded is None:
                problems.append({"position": rebuilt["position"], "where": "store",
                                 "problem": "in the source's store but not in the ledger"})
            elif _content(recorded) != _content(rebuilt):
                changed = sorted(
                    key for key in set(recorded) | set(rebuilt)
                    if key not in CONTENT_KEYS_IGNORED and recorded.get(key) != rebuilt.get(key)
                )
                problems.append({"position": rebuilt["position"], "where": "store",
                                 "problem": "stored event differs from what was published: "
                                 + ", ".join(changed)})
                chain_diverged = True
            elif recorded["hash"] != rebuilt["hash"] and not chain_diverged:
                problems.append({"position": rebuilt["position"], "where": "store",
                                 "problem": "recomputed hash differs from the ledger's"})
                chain_diverged = True
            position, prev_hash = rebuilt["position"], rebuilt["hash"]
        if len(batch) < PAGE:
            break
    for missing in sorted(set(entries) - seen):
        problems.append({"position": missing, "where": "store",
                         "problem": "in the ledger but no longer in the source's store"})
    return problems
