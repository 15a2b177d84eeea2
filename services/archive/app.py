"""The archive application: the audit ledger and its checkpoints, archive files built from the
cases service's events, retention and disposal. Access approval is in `approval.py`,
point-in-time views in `history.py`, what they share in `base.py`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from eventsourcing.persistence import IntegrityError

from contracts.envelope import chain_problems
from services.archive import signing
from services.archive.approval import AccessApproval
from services.archive.base import FILE_READERS, ArchiveBase
from services.archive.domain import ChainAlarm, LedgerCheckpoint, LedgerEntry
from services.archive.files import (
    CLOSING_DATES,
    OPENERS,
    REOPENERS,
    ArchiveFile,
    ClientProfile,
    CodeSequence,
    file_id,
    unified_code,
)
from services.archive.history import PointInTime
from services.archive.ledger import Recompute, Recorded, verify_checkpoints, verify_sources
from services.archive.publish import PUBLICATIONS
from services.archive.retention import estimated_majority, retention_end
from services.runtime.clock import clock
from services.runtime.context import SYSTEM, Actor, acting_as, require_role
from services.runtime.persistence import Cursor
from services.runtime.plain import plain
from services.runtime.settings import settings

# The aggregates' event classes are made by @event at runtime; mypy cannot see them.
AlarmEvents: Any = ChainAlarm
CheckpointEvents: Any = LedgerCheckpoint
FileEvents: Any = ArchiveFile

LEDGER_READERS = ("auditor", "archivist", "operator", "system")
HOLD_KEEPERS = ("archivist", "school_admin")
DISPOSAL_REQUESTERS = ("archivist",)
DISPOSAL_APPROVERS = ("supervisor",)

SAVE_ATTEMPTS = 5
UNASSIGNED_SCHOOL = "NOSCHOOL"
CHECKPOINT_TYPE = "LedgerCheckpointSigned"


class ArchiveApplication(AccessApproval, PointInTime, ArchiveBase):
    service = "archive"
    publications = PUBLICATIONS

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self.signer = signing.load_signer()

    # The ledger: one transaction per envelope (entry, file changes, cursor).

    def record_envelope(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        """Append an envelope to the ledger, checking that it continues its source's chain, and
        keep the archive files it concerns. An envelope that breaks its chain is recorded with
        an alarm but changes no file: the ledger keeps what it was given, files only what
        verifies. A concurrent change to a file or code sequence is retried."""
        source, position = envelope["source"], envelope["position"]
        for attempt in range(SAVE_ATTEMPTS):
            head = self.cursor(source)
            if head.position >= position:
                return  # another worker stored it meanwhile
            problems = chain_problems(envelope, head.position, head.hash)
            # File changes come first so their timestamps do not follow the entry's.
            changes = [] if problems else self._file_changes(envelope)
            entry = LedgerEntry(source=source, position=position, envelope=envelope)
            alarm = None
            if problems:
                alarm = ChainAlarm(
                    source=source,
                    position=position,
                    expected_prev_position=head.position,
                    expected_prev_hash=head.hash,
                    problems=problems,
                )
            try:
                self.save_processed(*changes, entry, alarm, cursor=cursor)
                break
            except IntegrityError:
                if attempt == SAVE_ATTEMPTS - 1:
                    raise
        if source == "archive" and envelope["type"] == "ArchiveFileDisposed" and not problems:
            # The approval shredded these already; this makes it certain after a crash between.
            for subject_id in envelope["payload"]["subject_ids"]:
                self.vault.shred(subject_id)

    def ledger_head(self, source: str) -> dict[str, Any]:
        require_role(*LEDGER_READERS)
        head = self.cursor(source)
        return {"source": source, "position": head.position, "hash": head.hash}

    def ledger_entries(self) -> Iterator[dict[str, Any]]:
        """Every ledger entry in arrival order."""
        for recorded in self._recorded():
            yield recorded.envelope

    def chain_alarms(self) -> list[dict[str, Any]]:
        return [
            {
                "source": event.source,
                "position": event.position,
                "problems": event.problems,
                "raised_at": event.timestamp.isoformat(),
            }
            for _, event in self._events_of(AlarmEvents.Raised)
        ]

    def verify_ledger(self, recompute: Recompute | None = None) -> dict[str, Any]:
        """Recompute every source's chain from the ledger and, with `recompute`, from the
        source's own store; check every checkpoint; report each problem at its exact position."""
        require_role(*LEDGER_READERS)
        entries = list(self._recorded())
        report, by_source = verify_sources(entries, recompute)
        trusted = {self.signer.public_key, *settings().archive.ledger_trusted_keys}
        checkpoints = verify_checkpoints(
            (event for _, event in self._events_of(CheckpointEvents.Signed)),
            entries, by_source, trusted,
        )
        return {
            "ok": checkpoints["ok"] and all(section["ok"] for section in report.values()),
            "checked_at": clock.now().isoformat(),
            "sources": report,
            "checkpoints": checkpoints,
        }

    # Checkpoints: every N entries or T minutes, whichever comes first.

    def checkpoint_if_due(self) -> dict[str, Any] | None:
        """Sign a checkpoint if N entries arrived since the last one
        (`CASEBOOK_CHECKPOINT_EVERY_ENTRIES`, default 1000: a small fraction of a school year's
        events, so a rewrite of history is pinned within days) or T minutes passed since then
        (`CASEBOOK_CHECKPOINT_EVERY_MINUTES`, default 60: a quiet ledger is still pinned every
        hour) and something arrived. Checkpoints' own ledger entries do not count, or each
        checkpoint would call for the next. Runs as the system; a driver calls it on a timer."""
        with acting_as(SYSTEM):
            last = self._last_checkpoint()
            new = list(self._recorded(after=last.through if last else 0))
            counted = [r for r in new if not (r.envelope["source"] == self.service
                                              and r.envelope["type"] == CHECKPOINT_TYPE)]
            if not counted:
                return None
            since = (datetime.fromisoformat(last.signed_at) if last
                     else counted[0].recorded_at)
            every = settings().archive
            due = (len(counted) >= every.checkpoint_every_entries
                   or clock.now() - since >= timedelta(minutes=every.checkpoint_every_minutes))
            if not due:
                return None
            return self._sign_checkpoint(last, new)

    def list_checkpoints(self) -> list[dict[str, Any]]:
        require_role(*LEDGER_READERS)
        return [
            {"sequence": e.sequence, "entry_count": e.entry_count, "heads": e.heads,
             "signed_at": e.signed_at, "key_id": e.key_id, "public_key": e.public_key,
             "signature": e.signature}
            for _, e in self._events_of(CheckpointEvents.Signed)
        ]

    def _sign_checkpoint(
        self, last: CheckpointEvents.Signed | None, new: list[Recorded]
    ) -> dict[str, Any] | None:
        heads = {h["source"]: h for h in (last.heads if last else [])}
        for recorded in new:
            envelope = recorded.envelope
            heads[envelope["source"]] = {"source": envelope["source"],
                                         "position": envelope["position"],
                                         "hash": envelope["hash"]}
        sequence = (last.sequence if last else 0) + 1
        entry_count = (last.entry_count if last else 0) + len(new)
        head_list = [heads[source] for source in sorted(heads)]
        signed_at = clock.now().isoformat()
        signature = self.signer.sign(signing.statement(sequence, entry_count, head_list, signed_at))
        checkpoint = LedgerCheckpoint(
            sequence=sequence, entry_count=entry_count, through=new[-1].notification_id,
            heads=head_list, signed_at=signed_at, key_id=self.signer.key_id,
            public_key=self.signer.public_key, signature=signature,
        )
        try:
            self.save(checkpoint)
        except IntegrityError:
            return None  # another instance signed this sequence number first
        return {"sequence": sequence, "entry_count": entry_count, "heads": head_list}

    def newest_checkpoint(self, after: int = 0) -> tuple[int, datetime, dict[str, int]] | None:
        """The newest checkpoint stored after notification `after`: its notification id, when
        it was signed and the ledger position it pins per source. For the operators' metrics
        (services/runtime/metrics.py), which ask from the last one they saw."""
        newest = None
        for notification_id, event in self._events_of(CheckpointEvents.Signed, after=after):
            newest = (notification_id, datetime.fromisoformat(event.signed_at),
                      {head["source"]: head["position"] for head in event.heads})
        return newest

    def _last_checkpoint(self) -> CheckpointEvents.Signed | None:
        last = None
        for _, event in self._events_of(CheckpointEvents.Signed):
            last = event
        return last

    # Files (9.4a–c), built from the cases service's events.

    def _file_changes(self, envelope: dict[str, Any]) -> list[Any]:
        if envelope["source"] != "cases":
            return []
        type_, payload = envelope["type"], envelope["payload"]
        if type_ == "ClientRegistered":
            return self._client_registered(envelope)
        if type_ in OPENERS:
            category, field, date_field = OPENERS[type_]
            record_id = str(payload[field]) if field else envelope["aggregate_id"]
            if self.find_aggregate(ArchiveFile, file_id("cases", record_id)) is None:
                return self._open_file(envelope, category, record_id, payload[date_field])
        for record_id in self._record_ids(envelope):
            file = self.find_aggregate(ArchiveFile, file_id("cases", record_id))
            if file is not None:
                file.index(envelope, _closing_date(envelope), type_ in REOPENERS)
                return [file]
        return []

    def _client_registered(self, envelope: dict[str, Any]) -> list[Any]:
        payload = envelope["payload"]
        profile_id = ClientProfile.create_id(payload["client_id"])
        if self.find_aggregate(ClientProfile, profile_id) is not None:
            return []
        return [ClientProfile(
            school_id=envelope["school_id"], client_id=payload["client_id"],
            client_type=payload["client_type"], grade=payload.get("grade"),
            is_minor=payload["is_minor"],
            registered_on=datetime.fromisoformat(envelope["occurred_at"]).date(),
        )]

    def _open_file(
        self, envelope: dict[str, Any], category: str, record_id: str, opened: str
    ) -> list[Any]:
        opened_on = date.fromisoformat(opened)
        school = envelope["school_id"] or UNASSIGNED_SCHOOL
        sequence_id = CodeSequence.create_id(school, opened_on.year, category)
        sequence = self.find_aggregate(CodeSequence, sequence_id) or CodeSequence(
            school_code=school, year=opened_on.year, category=category)
        new_id = file_id("cases", record_id)
        number = sequence.allocate(str(new_id))
        client_id = envelope["payload"].get("client_id")
        profile = (self.find_aggregate(ClientProfile, ClientProfile.create_id(client_id))
                   if client_id else None)
        file = ArchiveFile(
            school_id=school, record_source="cases", record_id=record_id, category=category,
            code=unified_code(school, opened_on.year, category, number), year=opened_on.year,
            sequence=number, opened_on=opened_on, subject_ids=[client_id] if client_id else [],
            majority_on=estimated_majority(category, opened_on,
                                           profile.as_dict() if profile else None),
        )
        file.index(envelope, _closing_date(envelope), reopened=False)
        return [sequence, file]

    def get_file(self, file_id_: str) -> dict[str, Any]:
        actor = require_role(*FILE_READERS)
        file = self._file(file_id_, actor)
        return self._describe(file)

    def find_file(self, source: str, record_id: str) -> dict[str, Any]:
        actor = require_role(*FILE_READERS)
        return self._describe(self._file(str(file_id(source, record_id)), actor))

    def list_files(
        self, due_within_days: int | None = None, incomplete_only: bool = False,
        category: str | None = None,
    ) -> list[dict[str, Any]]:
        """Files of the actor's school; with `due_within_days`, only those whose retention ends
        by then and are not yet disposed (9.4e); with `incomplete_only`, only files missing a
        section of 9.4b."""
        actor = require_role(*FILE_READERS)
        horizon = clock.today() + timedelta(days=due_within_days) if due_within_days is not None \
            else None
        found = []
        for _, opened in self._events_of(FileEvents.Opened):
            if actor.school_id and opened.school_id != actor.school_id:
                continue
            if category and opened.category != category:
                continue
            described = self._describe(self.repository.get(opened.originator_id))
            end = described["retention"]["end_on"]
            if horizon is not None and (described["status"] == "disposed" or end is None
                                        or date.fromisoformat(end) > horizon):
                continue
            if incomplete_only and described["completeness"]["complete"]:
                continue
            found.append(described)
        if horizon is not None:
            found.sort(key=lambda f: (f["retention"]["end_on"], f["file_code"]))
        return found

    # Legal holds and disposal (9.4e).

    def place_legal_hold(self, file_id_: str, hold_id: str, authority: str, reference: str) -> None:
        actor = require_role(*HOLD_KEEPERS)
        self._change_file(file_id_, actor, lambda f: f.place_hold(
            hold_id=hold_id, authority=authority, reference=reference, placed_by=actor.id))

    def lift_legal_hold(self, file_id_: str, hold_id: str) -> None:
        actor = require_role(*HOLD_KEEPERS)
        self._change_file(file_id_, actor, lambda f: f.lift_hold(hold_id, lifted_by=actor.id))

    def request_disposal(self, file_id_: str) -> None:
        actor = require_role(*DISPOSAL_REQUESTERS)
        self._change_file(file_id_, actor, lambda f: f.request_disposal(
            actor.id, clock.today(), retention_end(f.category, f.closed_on, f.majority_on)))

    def approve_disposal(self, file_id_: str) -> None:
        """Dispose of the file: the approval publishes `ArchiveFileDisposed`, on which the cases
        service destroys its clients' keys; the archive destroys its own (the sealed purposes
        of access requests) at once."""
        actor = require_role(*DISPOSAL_APPROVERS)
        file = self._change_file(file_id_, actor, lambda f: f.approve_disposal(
            actor.id, clock.today(), retention_end(f.category, f.closed_on, f.majority_on)))
        for subject_id in file.subject_ids:
            self.vault.shred(subject_id)

    def reject_disposal(self, file_id_: str, reason_code: str) -> None:
        actor = require_role(*DISPOSAL_APPROVERS)
        self._change_file(file_id_, actor, lambda f: f.reject_disposal(actor.id, reason_code))

    def _change_file(self, file_id_: str, actor: Actor, change: Any) -> ArchiveFile:
        """Apply a command to a file, retrying if the subscription changed it meanwhile."""
        for attempt in range(SAVE_ATTEMPTS):
            file = self._file(file_id_, actor)
            change(file)
            try:
                self.save(file)
                return file
            except IntegrityError:
                if attempt == SAVE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    # Read models, for `casebook rebuild`.

    def read_models(self) -> dict[str, Any]:
        """What the archive derives from its log: each file by its unified code (category,
        completeness, retention end, holds, disposal state: 9.4a–e), each source's ledger
        entries and head, the signed checkpoints and the chain alarms. Identifiers, codes,
        dates and counts only; files by code, sources by name, alarms by position."""
        files = {}
        for _, opened in self._events_of(FileEvents.Opened):
            file: ArchiveFile = self.repository.get(opened.originator_id)
            files[file.code] = {
                "file_id": str(file.id),
                "category": file.category,
                "record_id": file.record_id,
                "entry_count": len(file.entries),
                "closed_on": file.closed_on,
                "missing_sections": file.missing_sections(),
                "retention_end_on": retention_end(file.category, file.closed_on,
                                                  file.majority_on),
                "legal_hold_ids": sorted(file.holds),
                "disposal": ("disposed" if file.disposed_on is not None
                             else "requested" if file.disposal is not None else None),
                "disposed_on": file.disposed_on,
            }
        ledger: dict[str, dict[str, Any]] = {}
        for recorded in self._recorded():
            envelope = recorded.envelope
            seen = ledger.get(envelope["source"], {"entry_count": 0})
            ledger[envelope["source"]] = {"entry_count": seen["entry_count"] + 1,
                                          "head_position": envelope["position"],
                                          "head_hash": envelope["hash"]}
        signed = [event for _, event in self._events_of(CheckpointEvents.Signed)]
        last = signed[-1] if signed else None
        return plain({
            "files_by_code": dict(sorted(files.items())),
            "ledger_by_source": dict(sorted(ledger.items())),
            "checkpoints": {
                "count": len(signed),
                "last_entry_count": last.entry_count if last else 0,
                "last_heads": last.heads if last else [],
            },
            "chain_alarms": sorted(
                ({"source": a["source"], "position": a["position"], "problems": a["problems"]}
                 for a in self.chain_alarms()),
                key=lambda a: (a["source"], a["position"])),
        })



def _closing_date(envelope: dict[str, Any]) -> date | None:
    field = CLOSING_DATES.get(envelope["type"])
    value = envelope["payload"].get(field) if field else None
    return date.fromisoformat(value) if value else None
