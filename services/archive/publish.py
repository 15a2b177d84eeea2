"""Archive domain events → contract events. Ledger entries are not re-published: they are
copies of other services' envelopes."""

from __future__ import annotations

from typing import Any

from services.archive.domain import ChainAlarm
from services.runtime.publishing import Publications

PUBLICATIONS = Publications("archive")


@PUBLICATIONS.maps(ChainAlarm.Raised, "LedgerChainBroken", 1)
def ledger_chain_broken(event: Any) -> dict[str, Any]:
    return {
        "source": event.source,
        "position": event.position,
        "expected_prev_position": event.expected_prev_position,
        "expected_prev_hash": event.expected_prev_hash,
        "problems": event.problems,
    }
