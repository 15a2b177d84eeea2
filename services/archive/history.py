"""Point in time: an archive file as it was at a time or when the ledger recorded a given
position of a source, and any service's record as the ledger saw it then."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contracts.errors import NotFound
from services.archive.base import FILE_READERS, ArchiveBase, check_school
from services.archive.ledger import Recorded
from services.runtime.context import require_role

STATUS_BY_TYPE = {
    "CaseOpened": "open", "IntakeDeclined": "declined", "CaseClosed": "closed",
    "CaseReopened": "open", "GroupFormed": "open", "GroupClosed": "closed",
    "LetterReceived": "received", "LetterAnswered": "answered", "ClassHeld": "held",
}


class PointInTime(ArchiveBase):
    def get_file_as_of(
        self, file_id_: str, at: datetime | None = None, ledger_source: str | None = None,
        ledger_position: int | None = None,
    ) -> dict[str, Any]:
        """The file as `get_file` returned it at `at`, or when the ledger recorded
        (`ledger_source`, `ledger_position`): the last version stored by then. A file's changes
        from an envelope are stored with its ledger entry and stamped before it."""
        actor = require_role(*FILE_READERS)
        file = self._file(file_id_, actor)
        moment = at if at is not None else self._recorded_at(ledger_source, ledger_position)
        versions = [e.originator_version for e in self.events.get(file.id)
                    if e.timestamp <= moment]  # type: ignore[attr-defined]
        if not versions:
            raise NotFound(f"File {file.code} did not exist yet at {moment.isoformat()}.")
        return self._describe(self.repository.get(file.id, version=versions[-1]))

    def get_record(
        self, source: str, aggregate_id: str, at: datetime | None = None,
        ledger_source: str | None = None, ledger_position: int | None = None,
    ) -> dict[str, Any]:
        """A record of any service as the ledger saw it (live, at `at`, or through a ledger
        position): its envelopes in order, and its status, replayed from the ledger alone; for
        an actor bound to a school, only a record of that school."""
        actor = require_role(*FILE_READERS)
        through = None
        if ledger_source is not None and ledger_position is not None:
            through = self._ledger_entry(ledger_source, ledger_position).notification_id
        events: list[dict[str, Any]] = []
        status = None
        school_id = None
        for recorded in self._recorded():
            if through is not None and recorded.notification_id > through:
                break
            if at is not None and recorded.recorded_at > at:
                break
            envelope = recorded.envelope
            if envelope["source"] != source or aggregate_id not in self._record_ids(envelope):
                continue
            if not events:
                # The school the record was made in, as for its archive file.
                school_id = envelope["school_id"]
            status = STATUS_BY_TYPE.get(envelope["type"], status)
            events.append({key: envelope[key] for key in
                           ("type", "version", "position", "occurred_at", "actor", "payload")})
        if not events:
            raise NotFound(f"The ledger holds nothing of {source} record {aggregate_id} "
                           "by then.")
        check_school(actor, school_id)
        return {"source": source, "aggregate_id": aggregate_id, "status": status,
                "event_count": len(events), "events": events}

    def _recorded_at(self, source: str | None, position: int | None) -> datetime:
        if source is None or position is None:
            raise NotFound("Give a time or a ledger source and position.")
        return self._ledger_entry(source, position).recorded_at

    def _ledger_entry(self, source: str, position: int) -> Recorded:
        for recorded in self._recorded():
            if (recorded.envelope["source"], recorded.envelope["position"]) == (source, position):
                return recorded
        raise NotFound(f"The ledger holds no {source} position {position}.")
