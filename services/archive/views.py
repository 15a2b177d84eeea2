"""The archive's read models (DESIGN.md "Reads"): the ledger's index, archive files (9.4a–c),
disposal requests (9.4e), access requests and reads (9.4d), checkpoints and chain alarms, as
tables kept by projections of the archive's own events; and what it learns from the cases
service's events alone (client profiles for the majority rule, unified code sequences) in
learned tables, written with the subscription's cursor.

No row holds personal content in clear: a purpose is the sealed token, opened by the
application for the report that shows it. Ledger rows hold positions, hashes and types; the
envelopes themselves stay in the store, where `verify` reads them.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from services.archive.access import AccessRequest, ReadRefusal, RecordView
from services.archive.domain import ChainAlarm, LedgerCheckpoint, LedgerEntry, LedgerVerification
from services.archive.files import REQUIRED, ArchiveFile, ClientProfile, CodeSequence, record_ids
from services.archive.ledger import entry_count, problem_count
from services.archive.retention import retention_end
from services.runtime.context import Actor
from services.runtime.paging import DEFAULT_LIMIT, page
from services.runtime.views import Table, Transaction, Views, projects

# The aggregates' event classes are made by @event at runtime; mypy cannot see them.
AlarmEvents: Any = ChainAlarm
CheckpointEvents: Any = LedgerCheckpoint
EntryEvents: Any = LedgerEntry
FileEvents: Any = ArchiveFile
ProfileEvents: Any = ClientProfile
RefusalEvents: Any = ReadRefusal
RequestEvents: Any = AccessRequest
SequenceEvents: Any = CodeSequence
VerificationEvents: Any = LedgerVerification
ViewEvents: Any = RecordView

LEDGER = Table(
    "ledger_entry",
    """source TEXT NOT NULL, position BIGINT NOT NULL, arrival BIGINT NOT NULL,
    type TEXT NOT NULL, aggregate_id TEXT NOT NULL, school_id TEXT, hash TEXT NOT NULL,
    prev_position BIGINT, prev_hash TEXT, occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL""",
    key=("source", "position"),
    indexes=(("arrival",),),
)
# Which records each ledger entry concerns (the envelope's aggregate and the records its
# payload names), so a record's history is found without reading the whole ledger.
LEDGER_RECORD = Table(
    "ledger_record",
    "source TEXT NOT NULL, record_id TEXT NOT NULL, position BIGINT NOT NULL",
    key=("source", "record_id", "position"),
)
FILE = Table(
    "archive_file",
    """file_id TEXT NOT NULL, file_code TEXT NOT NULL, school_id TEXT NOT NULL,
    category TEXT NOT NULL, record_source TEXT NOT NULL, record_id TEXT NOT NULL,
    opened_on TEXT NOT NULL, closed_on TEXT, majority_on TEXT, retention_end_on TEXT,
    status TEXT NOT NULL, entry_count BIGINT NOT NULL, present_types TEXT NOT NULL,
    missing_sections TEXT NOT NULL, complete BOOLEAN NOT NULL, legal_holds BIGINT NOT NULL,
    disposal TEXT, disposed_on TEXT""",
    key=("file_id",),
    indexes=(("school_id", "file_code"), ("retention_end_on", "file_code"),
             ("record_source", "record_id")),
)
# 9.4e: the holds on each file, so that a hold placed twice under one id counts once.
HOLD = Table(
    "legal_hold",
    """file_id TEXT NOT NULL, hold_id TEXT NOT NULL, authority TEXT NOT NULL,
    placed_by TEXT NOT NULL""",
    key=("file_id", "hold_id"),
)
DISPOSAL = Table(
    "disposal_request",
    """disposal_id TEXT NOT NULL, file_id TEXT NOT NULL, file_code TEXT NOT NULL,
    school_id TEXT NOT NULL, status TEXT NOT NULL, requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL, retention_end_on TEXT NOT NULL, decided_by TEXT,
    decided_at TEXT, reason_code TEXT, two_person_rule_met BOOLEAN""",
    key=("disposal_id",),
    indexes=(("school_id", "requested_at"), ("file_id",)),
    lookups=(("file_id",),),  # a file's pending request, decided
)
ACCESS = Table(
    "access_request",
    """request_id TEXT NOT NULL, file_id TEXT NOT NULL, file_code TEXT NOT NULL, school_id TEXT,
    requester_id TEXT NOT NULL, requester_role TEXT NOT NULL, purpose TEXT NOT NULL,
    duration_hours BIGINT NOT NULL, status TEXT NOT NULL, seq BIGINT NOT NULL,
    decided_by TEXT, reason_code TEXT,
    valid_from TEXT, valid_until TEXT, revoked_by TEXT, requested_at TEXT NOT NULL""",
    key=("request_id",),
    indexes=(("school_id", "seq"), ("file_id", "requester_id"), ("seq",)),
)
READ = Table(
    "file_read",
    """read_id TEXT NOT NULL, file_id TEXT NOT NULL, file_code TEXT NOT NULL, school_id TEXT,
    outcome TEXT NOT NULL, reader_id TEXT NOT NULL, reader_role TEXT NOT NULL,
    read_at TEXT NOT NULL, purpose TEXT NOT NULL, grant_id TEXT, reason TEXT,
    seq BIGINT NOT NULL""",
    key=("read_id",),
    indexes=(("file_id", "seq"), ("school_id", "seq"), ("seq",)),
)
CHECKPOINT = Table(
    "ledger_checkpoint",
    """sequence BIGINT NOT NULL, entry_count BIGINT NOT NULL, through BIGINT NOT NULL,
    heads TEXT NOT NULL, signed_at TEXT NOT NULL, key_id TEXT NOT NULL,
    public_key TEXT NOT NULL, signature TEXT NOT NULL""",
    key=("sequence",),
)
ALARM = Table(
    "chain_alarm",
    """source TEXT NOT NULL, position BIGINT NOT NULL, expected_prev_position BIGINT NOT NULL,
    expected_prev_hash TEXT NOT NULL, problems TEXT NOT NULL, raised_at TEXT NOT NULL""",
    key=("source", "position"),
)
# Verifications as they were answered, the newest first (`seq`); the report whole, for the
# page that shows one again (it names positions, hashes and problems, nothing personal).
VERIFICATION = Table(
    "ledger_verification",
    """verification_id TEXT NOT NULL, seq BIGINT NOT NULL, checked_at TEXT NOT NULL,
    verified_by TEXT NOT NULL, ok BOOLEAN NOT NULL, since_checkpoint BIGINT,
    against_stores BOOLEAN NOT NULL, entry_count BIGINT NOT NULL,
    problem_count BIGINT NOT NULL, report TEXT NOT NULL""",
    key=("verification_id",),
    indexes=(("seq",), ("ok", "seq")),
)
VERIFICATION_COLUMNS = ("verification_id, checked_at, verified_by, ok, since_checkpoint, "
                        "against_stores, entry_count, problem_count")
# What each retired code sequence was of (its later events name only the number).
RETIRED_SEQUENCE = Table(
    "retired_code_sequence",
    """aggregate_id TEXT NOT NULL, school_code TEXT NOT NULL, year BIGINT NOT NULL,
    category TEXT NOT NULL""",
    key=("aggregate_id",),
)
# Learned from the cases service's ClientRegistered: enough to estimate when a minor comes of
# age (services.archive.retention), nothing personal.
CLIENT_PROFILE = Table(
    "client_profile",
    """client_id TEXT NOT NULL, school_id TEXT, client_type TEXT NOT NULL, grade BIGINT,
    is_minor BOOLEAN NOT NULL, registered_on TEXT NOT NULL""",
    key=("client_id",),
)
# 9.4a: the last sequence number given in each (school, year, category). Only the cases
# subscription allocates, one envelope at a time behind its cursor, so the number and the file
# it went to are stored in one transaction.
CODE_SEQUENCE = Table(
    "code_sequence",
    """school_code TEXT NOT NULL, year BIGINT NOT NULL, category TEXT NOT NULL,
    last_number BIGINT NOT NULL""",
    key=("school_code", "year", "category"),
)

FILE_COLUMNS = ("file_id, file_code, school_id, category, record_source, record_id, opened_on, "
                "closed_on, majority_on, retention_end_on, status, entry_count, "
                "missing_sections, complete, legal_holds, disposal, disposed_on")


class ArchiveViews(Views):
    tables = (LEDGER, LEDGER_RECORD, FILE, HOLD, DISPOSAL, ACCESS, READ, CHECKPOINT, ALARM,
              VERIFICATION, RETIRED_SEQUENCE)
    learned = (CLIENT_PROFILE, CODE_SEQUENCE)

    # The ledger.

    @projects(EntryEvents.Recorded)
    def _recorded(self, tx: Transaction, event: Any) -> None:
        envelope = event.envelope
        tx.insert("ledger_entry", source=event.source, position=event.position,
                  arrival=_next(tx, "ledger_entry", "arrival"),
                  type=envelope["type"], aggregate_id=envelope["aggregate_id"],
                  school_id=envelope.get("school_id"), hash=envelope["hash"],
                  # The link as the envelope claims it, kept as it came (a broken one too):
                  # the ledger's pages show it without reading the source's stream.
                  prev_position=envelope.get("prev_position"),
                  prev_hash=envelope.get("prev_hash"),
                  occurred_at=envelope["occurred_at"], recorded_at=event.timestamp.isoformat())
        for record_id in dict.fromkeys(record_ids(envelope)):
            tx.insert("ledger_record", source=event.source, record_id=record_id,
                      position=event.position)

    @projects(CheckpointEvents.Signed)
    def _checkpoint(self, tx: Transaction, event: Any) -> None:
        tx.insert("ledger_checkpoint", sequence=event.sequence, entry_count=event.entry_count,
                  through=event.through, heads=json.dumps(event.heads), signed_at=event.signed_at,
                  key_id=event.key_id, public_key=event.public_key, signature=event.signature)

    @projects(AlarmEvents.Raised)
    def _alarm(self, tx: Transaction, event: Any) -> None:
        tx.insert("chain_alarm", source=event.source, position=event.position,
                  expected_prev_position=event.expected_prev_position,
                  expected_prev_hash=event.expected_prev_hash,
                  problems=json.dumps(event.problems), raised_at=event.timestamp.isoformat())

    @projects(VerificationEvents.Reported)
    def _verification(self, tx: Transaction, event: Any) -> None:
        report = event.report
        tx.insert("ledger_verification", verification_id=str(event.originator_id),
                  seq=_next(tx, "ledger_verification", "seq"), checked_at=report["checked_at"],
                  verified_by=event.verified_by, ok=report["ok"],
                  since_checkpoint=report["since_checkpoint"],
                  against_stores=report["against_stores"], entry_count=entry_count(report),
                  problem_count=problem_count(report), report=json.dumps(report))

    # Files (9.4a–c).

    @projects(FileEvents.Opened)
    def _file_opened(self, tx: Transaction, event: Any) -> None:
        tx.insert("archive_file", file_id=str(event.originator_id), file_code=event.code,
                  school_id=event.school_id, category=event.category,
                  record_source=event.record_source, record_id=event.record_id,
                  opened_on=event.opened_on.isoformat(), closed_on=None,
                  majority_on=_iso(event.majority_on), retention_end_on=None, status="active",
                  entry_count=0, present_types="[]",
                  missing_sections=json.dumps(list(REQUIRED[event.category])), complete=False,
                  legal_holds=0, disposal=None, disposed_on=None)

    @projects(FileEvents.Indexed)
    def _file_indexed(self, tx: Transaction, event: Any) -> None:
        file = self._file(tx, event)
        present = sorted({*json.loads(file["present_types"]), event.entry["type"]})
        missing = [section for section, types in REQUIRED[file["category"]].items()
                   if not types & set(present)]
        closed_on = file["closed_on"]
        if event.reopened:
            closed_on = None
        elif event.closed_on is not None:
            closed_on = event.closed_on.isoformat()
        majority_on = date.fromisoformat(file["majority_on"]) if file["majority_on"] else None
        # The period as configured when the event is applied (CASEBOOK_RETENTION_YEARS, 9.4e):
        # after a change of the setting, `casebook rebuild` shows the rows it changes and
        # `--swap` brings them all to it.
        end = retention_end(file["category"],
                            date.fromisoformat(closed_on) if closed_on else None, majority_on)
        tx.update("archive_file", {"file_id": file["file_id"]},
                  entry_count=file["entry_count"] + 1, present_types=json.dumps(present),
                  missing_sections=json.dumps(missing), complete=not missing,
                  closed_on=closed_on, retention_end_on=_iso(end),
                  status="closed" if closed_on else "active")

    @projects(FileEvents.HoldPlaced, FileEvents.HoldLifted)
    def _hold(self, tx: Transaction, event: Any) -> None:
        file_id = str(event.originator_id)
        if type(event).__name__ == "HoldPlaced":
            tx.upsert("legal_hold", file_id=file_id, hold_id=event.hold_id,
                      authority=event.authority, placed_by=event.placed_by)
        else:
            tx.delete("legal_hold", file_id=file_id, hold_id=event.hold_id)
        tx.execute("UPDATE {archive_file} SET legal_holds = (SELECT COUNT(*) FROM {legal_hold} "
                   "WHERE file_id = :id) WHERE file_id = :id", id=file_id)

    # Disposal (9.4e): each request is a row, with who decided and whether that was a second
    # person (the two-person rule).

    @projects(FileEvents.DisposalRequested)
    def _disposal_requested(self, tx: Transaction, event: Any) -> None:
        file = self._file(tx, event)
        tx.insert("disposal_request",
                  disposal_id=f"{file['file_id']}:{event.originator_version:08d}",
                  file_id=file["file_id"], file_code=event.code, school_id=file["school_id"],
                  status="pending", requested_by=event.requested_by,
                  requested_at=event.timestamp.isoformat(),
                  retention_end_on=event.retention_end.isoformat(), decided_by=None,
                  decided_at=None, reason_code=None, two_person_rule_met=None)
        tx.update("archive_file", {"file_id": file["file_id"]}, disposal="requested")

    @projects(FileEvents.DisposalApproved, FileEvents.DisposalRejected)
    def _disposal_decided(self, tx: Transaction, event: Any) -> None:
        approved = type(event).__name__ == "DisposalApproved"
        decided_by = event.approved_by if approved else event.rejected_by
        tx.execute("UPDATE {disposal_request} SET status = :status, decided_by = :decided_by, "
                   "decided_at = :decided_at, reason_code = :reason_code, "
                   "two_person_rule_met = :met WHERE file_id = :file_id AND status = 'pending'",
                   status="approved" if approved else "rejected", decided_by=decided_by,
                   decided_at=event.timestamp.isoformat(),
                   reason_code=None if approved else event.reason_code,
                   met=decided_by != event.requested_by, file_id=str(event.originator_id))
        tx.update("archive_file", {"file_id": str(event.originator_id)},
                  disposal="approved" if approved else None)

    @projects(FileEvents.Disposed)
    def _disposed(self, tx: Transaction, event: Any) -> None:
        tx.update("archive_file", {"file_id": str(event.originator_id)}, status="disposed",
                  disposal="disposed", disposed_on=event.disposed_on.isoformat())

    # Access requests and reads (9.4d, 4.5).

    @projects(RequestEvents.Requested)
    def _access_requested(self, tx: Transaction, event: Any) -> None:
        tx.insert("access_request", request_id=str(event.originator_id), file_id=event.file_id,
                  file_code=event.file_code, school_id=event.school_id,
                  requester_id=event.requester_id, requester_role=event.requester_role,
                  purpose=event.purpose, duration_hours=event.duration_hours, status="pending",
                  decided_by=None, reason_code=None, valid_from=None, valid_until=None,
                  revoked_by=None, requested_at=event.timestamp.isoformat(),
                  seq=_next(tx, "access_request", "seq"))

    @projects(RequestEvents.Approved)
    def _access_approved(self, tx: Transaction, event: Any) -> None:
        tx.update("access_request", {"request_id": str(event.originator_id)}, status="approved",
                  decided_by=event.approver_id, valid_from=event.valid_from.isoformat(),
                  valid_until=event.valid_until.isoformat())

    @projects(RequestEvents.Denied)
    def _access_denied(self, tx: Transaction, event: Any) -> None:
        tx.update("access_request", {"request_id": str(event.originator_id)}, status="denied",
                  decided_by=event.approver_id, reason_code=event.reason_code)

    @projects(RequestEvents.Revoked)
    def _access_revoked(self, tx: Transaction, event: Any) -> None:
        tx.update("access_request", {"request_id": str(event.originator_id)}, status="revoked",
                  revoked_by=event.revoked_by, reason_code=event.reason_code)

    @projects(ViewEvents.Viewed, RefusalEvents.Refused)
    def _read(self, tx: Transaction, event: Any) -> None:
        viewed = type(event).__name__ == "Viewed"
        tx.insert("file_read", read_id=str(event.originator_id), file_id=event.file_id,
                  file_code=event.file_code, school_id=event.school_id,
                  outcome="viewed" if viewed else "refused", reader_id=event.reader_id,
                  reader_role=event.reader_role, read_at=event.timestamp.isoformat(),
                  purpose=event.purpose, grant_id=event.grant_id if viewed else None,
                  reason=None if viewed else event.reason, seq=_next(tx, "file_read", "seq"))

    # What stores from before these were learned tables hold as events of their own (retired
    # classes): they fill the learned tables once, never below what was learned since.

    @projects(ProfileEvents.Registered)
    def _old_profile(self, tx: Transaction, event: Any) -> None:
        learn_profile(tx, event.client_id, event.school_id, event.client_type, event.grade,
                      event.is_minor, event.registered_on)

    @projects(SequenceEvents.Started)
    def _old_sequence(self, tx: Transaction, event: Any) -> None:
        tx.insert("retired_code_sequence", aggregate_id=str(event.originator_id),
                  school_code=event.school_code, year=event.year, category=event.category)

    @projects(SequenceEvents.Allocated)
    def _old_allocation(self, tx: Transaction, event: Any) -> None:
        sequence = tx.fetchone("SELECT * FROM {retired_code_sequence} WHERE aggregate_id = :id",
                               id=str(event.originator_id))
        assert sequence is not None, f"no first event of code sequence {event.originator_id}"
        learn_allocation(tx, sequence["school_code"], sequence["year"], sequence["category"],
                         event.number)

    def _file(self, tx: Transaction, event: Any) -> dict[str, Any]:
        file = tx.get("archive_file", file_id=str(event.originator_id))
        assert file is not None, f"no archive file {event.originator_id}"
        return file

    # Queries: school scope first, in SQL.

    def file(self, file_id: str) -> dict[str, Any] | None:
        return self.store.one(f"SELECT {FILE_COLUMNS} FROM {{archive_file}} "
                              "WHERE file_id = :id", id=file_id)

    def files(self, actor: Actor, today: date, limit: int = DEFAULT_LIMIT, after: str | None = None,
              school_id: str | None = None, category: str | None = None,
              status: str | None = None, due_within_days: int | None = None,
              incomplete_only: bool = False,
              legal_hold: bool | None = None) -> dict[str, Any]:
        """9.4: the files of the actor's school (any school's for an actor bound to none, or
        the one asked for); with `due_within_days`, only those whose retention ends by then and
        that are not disposed (9.4e), soonest first."""
        where, params = _filtered(actor, school_id, category=category, status=status)
        if incomplete_only:
            where.append("complete = :complete")
            params["complete"] = False
        if legal_hold is not None:
            where.append("legal_holds > 0" if legal_hold else "legal_holds = 0")
        order: tuple[str, ...] = ("file_code",)
        if due_within_days is not None:
            where += ["retention_end_on IS NOT NULL", "retention_end_on <= :horizon",
                      "status <> 'disposed'"]
            params["horizon"] = (today + timedelta(days=due_within_days)).isoformat()
            order = ("retention_end_on", "file_code")
        found = page(self.store, "{archive_file}", where, params, order, limit, after,
                     columns=FILE_COLUMNS)
        found["items"] = [file_row(row) for row in found["items"]]
        return found

    def disposals(self, actor: Actor, limit: int = DEFAULT_LIMIT, after: str | None = None,
                  school_id: str | None = None, status: str | None = None,
                  file_id: str | None = None) -> dict[str, Any]:
        where, params = _filtered(actor, school_id, status=status, file_id=file_id)
        return page(self.store, "{disposal_request}", where, params,
                    ("requested_at", "disposal_id"), limit, after)

    def access_request(self, request_id: str) -> dict[str, Any] | None:
        return self.store.one("SELECT * FROM {access_request} WHERE request_id = :id",
                              id=request_id)

    def access_requests(self, actor: Actor, limit: int = DEFAULT_LIMIT, after: str | None = None,
                        school_id: str | None = None, status: str | None = None,
                        requester_id: str | None = None,
                        file_id: str | None = None) -> dict[str, Any]:
        where, params = _filtered(actor, school_id, status=status, requester_id=requester_id,
                                  file_id=file_id)
        return page(self.store, "{access_request}", where, params,
                    ("seq",), limit, after)

    def requests_of(self, file_id: str, requester_id: str | None = None) -> list[dict[str, Any]]:
        """Every access request on one file (of one requester), oldest first."""
        where = "file_id = :file_id" + (" AND requester_id = :requester_id"
                                        if requester_id is not None else "")
        return self.store.select(f"SELECT * FROM {{access_request}} WHERE {where} "
                                 "ORDER BY seq", file_id=file_id,
                                 requester_id=requester_id)

    def reads(self, actor: Actor, limit: int = DEFAULT_LIMIT, after: str | None = None,
              school_id: str | None = None, file_id: str | None = None, outcome: str | None = None,
              reader_id: str | None = None) -> dict[str, Any]:
        where, params = _filtered(actor, school_id, file_id=file_id, outcome=outcome,
                                  reader_id=reader_id)
        return page(self.store, "{file_read}", where, params, ("seq",), limit, after)

    def reads_of(self, file_id: str) -> list[dict[str, Any]]:
        return self.store.select("SELECT * FROM {file_read} WHERE file_id = :file_id "
                                 "ORDER BY seq", file_id=file_id)

    def checkpoints(self, limit: int = DEFAULT_LIMIT, after: str | None = None) -> dict[str, Any]:
        found = page(self.store, "{ledger_checkpoint}", [], {}, ("sequence",), limit, after,
                     descending=True)
        found["items"] = [checkpoint_row(row) for row in found["items"]]
        return found

    def last_checkpoint(self) -> dict[str, Any] | None:
        row = self.store.one("SELECT * FROM {ledger_checkpoint} ORDER BY sequence DESC LIMIT 1")
        return None if row is None else checkpoint_row(row)

    def ledger(self, source: str, limit: int = DEFAULT_LIMIT, after: str | None = None,
               type_: str | None = None) -> dict[str, Any]:
        where, params = ["source = :source"], {"source": source}
        if type_ is not None:
            where.append("type = :type")
            params["type"] = type_
        return page(self.store, "{ledger_entry}", where, params, ("position",), limit, after,
                    columns="source, position, type, aggregate_id, school_id, hash, "
                            "prev_position, prev_hash, occurred_at, recorded_at")

    def entry(self, source: str, position: int) -> dict[str, Any] | None:
        return self.store.one("SELECT * FROM {ledger_entry} WHERE source = :source "
                              "AND position = :position", source=source, position=position)

    def entry_before(self, source: str, position: int) -> dict[str, Any] | None:
        """The source's entry the ledger holds just before `position`: the one whose hash the
        entry at `position` must name as its prev_hash (published positions have gaps)."""
        return self.store.one("SELECT position, hash FROM {ledger_entry} WHERE source = :source "
                              "AND position < :position ORDER BY position DESC LIMIT 1",
                              source=source, position=position)

    def entries_of(self, source: str, record_id: str) -> list[dict[str, Any]]:
        """The ledger entries of one record, in chain order."""
        return self.store.select(
            "SELECT e.position, e.arrival, e.recorded_at FROM {ledger_record} r JOIN "
            "{ledger_entry} e ON e.source = r.source AND e.position = r.position "
            "WHERE r.source = :source AND r.record_id = :record_id ORDER BY e.position",
            source=source, record_id=record_id)

    def alarms(self, limit: int = DEFAULT_LIMIT, after: str | None = None,
               source: str | None = None) -> dict[str, Any]:
        where, params = ([], {}) if source is None else (["source = :source"], {"source": source})
        found = page(self.store, "{chain_alarm}", where, params, ("source", "position"), limit,
                     after)
        found["items"] = [{**row, "problems": json.loads(row["problems"])}
                          for row in found["items"]]
        return found

    def alarm(self, source: str, position: int) -> dict[str, Any] | None:
        row = self.store.one("SELECT * FROM {chain_alarm} WHERE source = :source "
                             "AND position = :position", source=source, position=position)
        return None if row is None else {**row, "problems": json.loads(row["problems"])}

    def verifications(self, limit: int = DEFAULT_LIMIT, after: str | None = None,
                      ok: bool | None = None) -> dict[str, Any]:
        where, params = ([], {}) if ok is None else (["ok = :ok"], {"ok": ok})
        return page(self.store, "{ledger_verification}", where, params, ("seq",), limit, after,
                    descending=True, columns=VERIFICATION_COLUMNS + ", seq")

    def verification(self, verification_id: str) -> dict[str, Any] | None:
        row = self.store.one("SELECT verification_id, verified_by, report "
                             "FROM {ledger_verification} WHERE verification_id = :id",
                             id=verification_id)
        if row is None:
            return None
        return {"verification_id": row["verification_id"], "verified_by": row["verified_by"],
                **json.loads(row["report"])}

    # What the cases subscription learned.

    def profile(self, client_id: str) -> dict[str, Any] | None:
        row = self.store.one("SELECT grade, is_minor, registered_on FROM {client_profile} "
                             "WHERE client_id = :id", id=client_id)
        if row is None:
            return None
        return {**row, "registered_on": date.fromisoformat(row["registered_on"])}

    def last_number(self, school_code: str, year: int, category: str) -> int:
        row = self.store.one("SELECT last_number FROM {code_sequence} WHERE school_code = :school "
                             "AND year = :year AND category = :category",
                             school=school_code, year=year, category=category)
        return 0 if row is None else int(row["last_number"])


def learn_profile(tx: Transaction, client_id: str, school_id: str | None, client_type: str,
                  grade: int | None, is_minor: bool, registered_on: date) -> None:
    """A client is registered once: the first word on them stands."""
    if tx.fetchone("SELECT client_id FROM {client_profile} WHERE client_id = :id",
                   id=client_id) is None:
        tx.insert("client_profile", client_id=client_id, school_id=school_id,
                  client_type=client_type, grade=grade, is_minor=is_minor,
                  registered_on=registered_on.isoformat())


def learn_allocation(tx: Transaction, school_code: str, year: int, category: str,
                     number: int) -> None:
    """9.4a: a number once given is never given again, whatever order this is learned in."""
    row = tx.fetchone("SELECT last_number FROM {code_sequence} WHERE school_code = :school "
                      "AND year = :year AND category = :category",
                      school=school_code, year=year, category=category)
    if row is None:
        tx.insert("code_sequence", school_code=school_code, year=year, category=category,
                  last_number=number)
    elif int(row["last_number"]) < number:
        tx.update("code_sequence", {"school_code": school_code, "year": year,
                                    "category": category}, last_number=number)


def file_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "missing_sections": json.loads(row["missing_sections"])}


def checkpoint_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "heads": json.loads(row["heads"])}


def _filtered(
    actor: Actor, school_id: str | None, **equal: Any
) -> tuple[list[str], dict[str, Any]]:
    """An actor bound to a school sees that school's rows only; one bound to none, every
    school's, or the one asked for; then each filter given (a column equal to the value)."""
    school = actor.school_id or school_id
    where, params = ([], {}) if school is None else (["school_id = :scope"], {"scope": school})
    for column, value in equal.items():
        if value is not None:
            where.append(f"{column} = :{column}")
            params[column] = value
    return where, params


def _next(tx: Transaction, table: str, column: str) -> int:
    """The next number of a row in the order the store holds its events. Events are projected
    once each, in that order, so it is the same in the live tables and in any rebuild
    (notification ids are not: they have gaps, and the projection does not see them)."""
    return tx.next_number(table, column)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()
