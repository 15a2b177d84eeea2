"""The archive application: the audit ledger and its checkpoints, archive files built from the
cases service's events, retention and disposal, access approval, point-in-time views."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from contracts.envelope import chain_problems
from contracts.errors import NotAllowed, NotFound
from services.archive import signing
from services.archive.access import AccessRequest, ReadRefusal, RecordView, describe
from services.archive.domain import ChainAlarm, LedgerCheckpoint, LedgerEntry
from services.archive.files import (
    CLOSING_DATES,
    OPENERS,
    RECORD_FIELDS,
    REOPENERS,
    SECTIONS,
    ArchiveFile,
    ClientProfile,
    CodeSequence,
    file_id,
    unified_code,
)
from services.archive.ledger import Recompute, Recorded, verify_checkpoints, verify_sources
from services.archive.retention import (
    category_for,
    estimated_majority,
    retention_end,
    retention_years,
)
from services.runtime import config
from services.runtime.clock import clock
from services.runtime.context import SYSTEM, Actor, acting_as, current_actor, require_role
from services.runtime.persistence import Cursor
from services.runtime.plain import plain
from services.runtime.store import CasebookApplication
from services.runtime.vault import SHREDDED, TOKEN_PREFIX

# The aggregates' event classes are made by @event at runtime; mypy cannot see them.
AlarmEvents: Any = ChainAlarm
CheckpointEvents: Any = LedgerCheckpoint
EntryEvents: Any = LedgerEntry
FileEvents: Any = ArchiveFile
RefusalEvents: Any = ReadRefusal
RequestEvents: Any = AccessRequest
ViewEvents: Any = RecordView

LEDGER_READERS = ("auditor", "archivist", "operator", "system")
FILE_READERS = ("auditor", "archivist", "supervisor", "school_admin", "operator", "system")
ACCESS_REQUESTERS = ("social_worker", "supervisor", "archivist", "school_admin", "auditor")
ACCESS_APPROVERS = ("supervisor", "school_admin")
GRANT_REVOKERS = ("supervisor", "school_admin", "archivist")
HOLD_KEEPERS = ("archivist", "school_admin")
DISPOSAL_REQUESTERS = ("archivist",)
DISPOSAL_APPROVERS = ("supervisor",)

PAGE = 500
SAVE_ATTEMPTS = 5
UNASSIGNED_SCHOOL = "NOSCHOOL"
CHECKPOINT_TYPE = "LedgerCheckpointSigned"
STATUS_BY_TYPE = {
    "CaseOpened": "open", "IntakeDeclined": "declined", "CaseClosed": "closed",
    "CaseReopened": "open", "GroupFormed": "open", "GroupClosed": "closed",
    "LetterReceived": "received", "LetterAnswered": "answered", "ClassHeld": "held",
}


class ArchiveApplication(CasebookApplication):
    service = "archive"

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
        trusted = {self.signer.public_key, *config.ledger_trusted_keys()}
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
            due = (len(counted) >= config.checkpoint_every_entries()
                   or clock.now() - since >= timedelta(minutes=config.checkpoint_every_minutes()))
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
            if self._find(ArchiveFile, file_id("cases", record_id)) is None:
                return self._open_file(envelope, category, record_id, payload[date_field])
        for record_id in self._record_ids(envelope):
            file = self._find(ArchiveFile, file_id("cases", record_id))
            if file is not None:
                file.index(envelope, _closing_date(envelope), type_ in REOPENERS)
                return [file]
        return []

    def _client_registered(self, envelope: dict[str, Any]) -> list[Any]:
        payload = envelope["payload"]
        if self._find(ClientProfile, ClientProfile.create_id(payload["client_id"])) is not None:
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
        sequence = self._find(CodeSequence, sequence_id) or CodeSequence(
            school_code=school, year=opened_on.year, category=category)
        new_id = file_id("cases", record_id)
        number = sequence.allocate(str(new_id))
        client_id = envelope["payload"].get("client_id")
        profile = (self._find(ClientProfile, ClientProfile.create_id(client_id))
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

    @staticmethod
    def _record_ids(envelope: dict[str, Any]) -> list[str]:
        payload = envelope["payload"]
        ids = [str(payload[f]) for f in RECORD_FIELDS if payload.get(f)]
        return [*ids, envelope["aggregate_id"]]

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

    def _describe(self, file: ArchiveFile) -> dict[str, Any]:
        category = category_for(file.category)
        missing = file.missing_sections()
        if file.disposed_on is not None:
            status = "disposed"
        elif file.closed_on is not None:
            status = "closed"
        else:
            status = "active"
        return plain({
            "file_id": file.id,
            "file_code": file.code,
            "version": file.version,
            "category": file.category,
            "category_label": {"zh": category.label_zh, "en": category.label_en},
            "school_id": file.school_id,
            "record_source": file.record_source,
            "record_id": file.record_id,
            "subject_ids": file.subject_ids,
            "opened_on": file.opened_on,
            "closed_on": file.closed_on,
            "status": status,
            "contents": {section: [e for e in file.entries if section in e["sections"]]
                         for section in (*SECTIONS, "other")},
            "completeness": {"complete": not missing, "missing": missing},
            "retention": {
                "years": retention_years(file.category),
                "majority_estimated_on": file.majority_on,
                "end_on": retention_end(file.category, file.closed_on, file.majority_on),
                "reason": category.reason,
            },
            "legal_holds": sorted(file.holds.values(), key=lambda h: h["hold_id"]),
            "disposal": file.disposal,
            "disposed_on": file.disposed_on,
        })

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

    # Access approval (9.4d, 4.5).

    def request_access(self, file_id_: str, purpose: str, duration_hours: int) -> str:
        actor = require_role(*ACCESS_REQUESTERS)
        file = self._file(file_id_, actor)
        if file.disposed_on is not None:
            raise NotFound(f"File {file.code} was disposed: there is nothing left to read.")
        request = AccessRequest(
            school_id=file.school_id, file_id=str(file.id), file_code=file.code,
            requester_id=actor.id, requester_role=actor.role,
            purpose=self._seal_purpose(file, purpose), duration_hours=duration_hours,
        )
        self.save(request)
        return str(request.id)

    def approve_access(self, request_id: str, valid_hours: int | None = None) -> dict[str, Any]:
        actor = require_role(*ACCESS_APPROVERS)
        request = self._request(request_id, actor)
        request.approve(actor.id, clock.now(), valid_hours)
        self.save(request)
        return plain({"grant_id": request.id, "valid_until": request.valid_until})

    def deny_access(self, request_id: str, reason_code: str) -> None:
        actor = require_role(*ACCESS_APPROVERS)
        request = self._request(request_id, actor)
        request.deny(actor.id, reason_code)
        self.save(request)

    def revoke_access(self, grant_id: str, reason_code: str) -> None:
        actor = require_role(*GRANT_REVOKERS)
        request = self._request(grant_id, actor)
        request.revoke(actor.id, reason_code, clock.now())
        self.save(request)

    def authorize_read(self, source: str, aggregate_id: str, purpose: str) -> dict[str, Any]:
        """Check the current actor's grant on the file of a record before its personal content
        is shown, and record the read; or record the refusal and refuse (9.4d, 4.5)."""
        actor = current_actor()
        file = self._find(ArchiveFile, file_id(source, aggregate_id))
        if file is None:
            raise NotFound(f"The archive holds no file for {source} record {aggregate_id}.")
        now = clock.now()
        reason = "file_disposed" if file.disposed_on is not None else "no_grant"
        if file.disposed_on is None:
            for request in self._requests(str(file.id), requester_id=actor.id):
                refusal = request.refusal(now)
                if refusal is None:
                    view = RecordView(
                        school_id=file.school_id, file_id=str(file.id), file_code=file.code,
                        grant_id=str(request.id), reader_id=actor.id, reader_role=actor.role,
                        purpose=self._seal_purpose(file, purpose),
                    )
                    self.save(view)
                    return {"grant_id": str(request.id), "read_id": str(view.id)}
                if reason == "no_grant" or refusal == "grant_revoked":
                    reason = refusal
        self.save(ReadRefusal(
            school_id=file.school_id, file_id=str(file.id), file_code=file.code,
            reader_id=actor.id, reader_role=actor.role,
            purpose=self._seal_purpose(file, purpose), reason=reason,
        ))
        raise NotAllowed(
            f"{actor.id} has no live grant to read file {file.code} ({reason}); request access "
            "and have it approved by someone else (9.4d).", code="grant_required")

    def get_access_report(self, file_id_: str) -> dict[str, Any]:
        """Who asked, who decided, and every read and refused read: who, when, and why."""
        actor = require_role(*FILE_READERS)
        file = self._file(file_id_, actor)
        requests = [describe(r, self._open_purpose(r.purpose))
                    for r in self._requests(str(file.id))]
        reads = []
        for _, event in self._events_of(ViewEvents.Viewed, RefusalEvents.Refused):
            if event.file_id != str(file.id):
                continue
            viewed = isinstance(event, ViewEvents.Viewed)
            reads.append({
                "read_id": event.originator_id,
                "outcome": "viewed" if viewed else "refused",
                "reader_id": event.reader_id,
                "reader_role": event.reader_role,
                "at": event.timestamp,
                "purpose": self._open_purpose(event.purpose),
                "grant_id": event.grant_id if viewed else None,
                "reason": None if viewed else event.reason,
            })
        return plain({"file_id": file.id, "file_code": file.code, "requests": requests,
                      "reads": reads})

    def _requests(self, file_id_: str, requester_id: str | None = None) -> list[AccessRequest]:
        found: list[AccessRequest] = []
        for _, event in self._events_of(RequestEvents.Requested):
            if event.file_id == file_id_ and requester_id in (None, event.requester_id):
                found.append(self.repository.get(event.originator_id))
        return found

    def _request(self, request_id: str, actor: Actor) -> AccessRequest:
        request = self._find(AccessRequest, _uuid(request_id, "access request"))
        if request is None:
            raise NotFound(f"No access request {request_id}.")
        _check_school(actor, request.school_id)
        return request

    def _seal_purpose(self, file: ArchiveFile, purpose: str) -> str:
        if not file.subject_ids:
            return purpose
        subject_id = file.subject_ids[0]
        if self.vault.is_shredded(subject_id):
            return SHREDDED
        return self.vault.seal(subject_id, purpose)

    def _open_purpose(self, stored: str) -> Any:
        return self.vault.open(stored) if stored.startswith(TOKEN_PREFIX) else stored

    # Point in time: a file or a record as it was at a time or a ledger position.

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
        position): its envelopes in order, and its status, replayed from the ledger alone."""
        require_role(*FILE_READERS)
        through = None
        if ledger_source is not None and ledger_position is not None:
            through = self._ledger_entry(ledger_source, ledger_position).notification_id
        events = []
        status = None
        for recorded in self._recorded():
            if through is not None and recorded.notification_id > through:
                break
            if at is not None and recorded.recorded_at > at:
                break
            envelope = recorded.envelope
            if envelope["source"] != source or aggregate_id not in self._record_ids(envelope):
                continue
            status = STATUS_BY_TYPE.get(envelope["type"], status)
            events.append({key: envelope[key] for key in
                           ("type", "version", "position", "occurred_at", "actor", "payload")})
        if not events:
            raise NotFound(f"The ledger holds nothing of {source} record {aggregate_id} "
                           "by then.")
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

    # Reading the store.

    def _recorded(self, after: int = 0) -> Iterator[Recorded]:
        for notification_id, event in self._events_of(EntryEvents.Recorded, after=after):
            yield Recorded(notification_id, event.timestamp, event.envelope)

    def _events_of(self, *classes: type, after: int = 0) -> Iterator[tuple[int, Any]]:
        """Domain events of the given classes in store order, with their notification ids."""
        topics = [get_topic(cls) for cls in classes]
        position = after
        while True:
            notifications = list(
                self.recorder.select_notifications(start=position + 1, limit=PAGE, topics=topics)
            )
            for notification in notifications:
                yield notification.id, self.mapper.to_domain_event(notification)
            if len(notifications) < PAGE:
                return
            position = notifications[-1].id

    def _find(self, cls: type, aggregate_id: UUID) -> Any:
        try:
            aggregate: Any = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def _file(self, file_id_: str, actor: Actor) -> ArchiveFile:
        file = self._find(ArchiveFile, _uuid(file_id_, "archive file"))
        if file is None:
            raise NotFound(f"No archive file {file_id_}.")
        _check_school(actor, file.school_id)
        return file


def _closing_date(envelope: dict[str, Any]) -> date | None:
    field = CLOSING_DATES.get(envelope["type"])
    value = envelope["payload"].get(field) if field else None
    return date.fromisoformat(value) if value else None


def _check_school(actor: Actor, school_id: str | None) -> None:
    if actor.school_id and actor.school_id != school_id:
        raise NotAllowed(f"The actor works for school {actor.school_id}, not {school_id}.")


def _uuid(value: str, what: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise NotFound(f"No {what} {value}.") from None
