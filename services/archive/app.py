"""The archive application: the audit ledger and its signed checkpoints; archive files built
from the cases service's events (9.4a–c); legal holds, retention and disposal (9.4e); access
approval and the record of every read (9.4d, 4.5); files and records as they were at an earlier
point. Commands and queries in plain types; every list reads the views (`views.py`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import LRUCache
from eventsourcing.persistence import IntegrityError

from contracts.envelope import (
    GENESIS_HASH,
    GENESIS_POSITION,
    Unhashable,
    canonical_json,
    chain_problems,
    envelope_hash,
)
from contracts.errors import NotAllowed, NotFound
from services.archive import signing
from services.archive.access import AccessRequest, ReadRefusal, RecordView
from services.archive.domain import (
    ChainAlarm,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerVerification,
    ledger_entry_id,
)
from services.archive.files import (
    CLOSING_DATES,
    OPENERS,
    REOPENERS,
    SECTIONS,
    ArchiveFile,
    file_id,
    record_ids,
    unified_code,
)
from services.archive.ledger import (
    RangeWalk,
    Recompute,
    Recorded,
    Start,
    agrees_with_store,
    checkpoint_heads,
    compare_source,
    source_report,
    stitch,
    verify_checkpoint_heads,
    verify_checkpoints,
    verify_signature,
    walk_range,
)
from services.archive.publish import PUBLICATIONS
from services.archive.retention import (
    category_for,
    estimated_majority,
    retention_end,
    retention_years,
)
from services.archive.verifier import (
    BATCH,
    in_memory,
    ranges,
    recorded_entries,
    walk_in_processes,
)
from services.archive.views import ArchiveViews, learn_allocation, learn_profile
from services.runtime.clock import clock, local_date
from services.runtime.context import SYSTEM, Actor, acting_as, current_actor, require_role
from services.runtime.paging import DEFAULT_LIMIT
from services.runtime.persistence import ChainHead, Cursor, CursorMoved
from services.runtime.plain import plain
from services.runtime.settings import settings
from services.runtime.store import CasebookApplication
from services.runtime.vault import SHREDDED, TOKEN_PREFIX
from services.runtime.views import Transaction

# The aggregates' event classes are made by @event at runtime; mypy cannot see them.
CheckpointEvents: Any = LedgerCheckpoint
EntryEvents: Any = LedgerEntry

LEDGER_READERS = ("auditor", "archivist", "operator", "system")
FILE_READERS = ("auditor", "archivist", "supervisor", "school_admin", "operator", "system")
HOLD_KEEPERS = ("archivist", "school_admin")
DISPOSAL_REQUESTERS = ("archivist",)
DISPOSAL_APPROVERS = ("supervisor",)
ACCESS_REQUESTERS = ("social_worker", "supervisor", "archivist", "school_admin", "auditor")
# The archivist keeps the files and so decides on access to them too (issue 15); whoever
# decides, it is never the requester (9.4d, AccessRequest._require_pending).
ACCESS_APPROVERS = ("supervisor", "school_admin", "archivist")
GRANT_REVOKERS = ("supervisor", "school_admin", "archivist")

SAVE_ATTEMPTS = 5
UNASSIGNED_SCHOOL = "NOSCHOOL"
CHECKPOINT_TYPE = "LedgerCheckpointSigned"

STATUS_BY_TYPE = {
    "CaseOpened": "open", "IntakeDeclined": "declined", "CaseClosed": "closed",
    "CaseReopened": "open", "GroupFormed": "open", "GroupClosed": "closed",
    "LetterReceived": "received", "LetterAnswered": "answered", "ClassHeld": "held",
}

Learn = Callable[[Transaction], None]

# Files the ledger keeps as its runs stored them, for the next runs to index into (a file
# weighs about a kilobyte with its first few entries, some tens with a long case's
# hundreds): a case's events come one or a few to a run, and reading its file back from the
# store (its snapshot and the events after it) was a third of a replay's time.
FILES_KEPT = 4096


@dataclass
class _Run:
    """What a run of envelopes changes, in the order it happens, to be stored in one
    transaction; and what the run learned so far, which the views do not hold until then."""

    events: list[Any] = field(default_factory=list)
    files: dict[UUID, ArchiveFile] = field(default_factory=dict)
    disposed: list[str] = field(default_factory=list)
    _learned: list[Learn] = field(default_factory=list)
    _numbers: dict[tuple[str, int, str], int] = field(default_factory=dict)
    _profiles: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, *aggregates: Any) -> None:
        """Take the aggregates' new events, in the order they were triggered."""
        for aggregate in aggregates:
            self.events.extend(aggregate.collect_events())

    def allocate(self, views: ArchiveViews, school: str, year: int, category: str) -> int:
        """9.4a: the next number of a school's year and category, after those given earlier in
        this run."""
        key = (school, year, category)
        number = (self._numbers[key] if key in self._numbers else views.last_number(*key)) + 1
        self._numbers[key] = number
        self._learned.append(lambda tx: learn_allocation(tx, school, year, category, number))
        return number

    def learn_profile(self, client_id: str, school_id: str | None, client_type: str,
                      grade: int | None, is_minor: bool, registered_on: date) -> None:
        self._profiles.setdefault(
            client_id, {"grade": grade, "is_minor": is_minor, "registered_on": registered_on})
        self._learned.append(lambda tx: learn_profile(
            tx, client_id, school_id, client_type, grade, is_minor, registered_on))

    def profile(self, views: ArchiveViews, client_id: str) -> dict[str, Any] | None:
        """A client's profile: the stored one stands (the first word on a client), else the
        one this run learned."""
        return views.profile(client_id) or self._profiles.get(client_id)

    def learn(self, tx: Transaction) -> None:
        for learned in self._learned:
            learned(tx)


class ArchiveApplication(CasebookApplication):
    service = "archive"
    publications = PUBLICATIONS
    views_class = ArchiveViews
    views: ArchiveViews
    # Every published event of a record is indexed in its file, which a long-lived case makes
    # as long as the case: read whole, each envelope of a case's 400th event took four times
    # its first's. A snapshot every 50 events keeps a file's read under fifty events.
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {ArchiveFile: 50}

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self.signer = signing.load_signer()
        # Files as runs stored them, the least recently used first out. A run takes out the
        # files it uses and those it stored go back, so what is here is never half-changed: a
        # run that fails or conflicts loses what it took, and its next attempt reads those
        # from the store. A file another writer changed since it was put here (a legal hold, a
        # disposal, another instance's run) is stale: a run that indexes it conflicts on the
        # file's version when it is stored, and is made again.
        self._files_stored: LRUCache[UUID, ArchiveFile] = LRUCache(maxsize=FILES_KEPT)
        # A store from before the learned tables fills them from the retired aggregates here,
        # before the subscription allocates a code from them: if that fails, the archive must
        # not start (it would give a number twice), so unlike `follow` this raises.
        self.views.store.catch_up()

    # The ledger: one transaction per run of envelopes (entries, file changes, what was
    # learned, cursor), as the subscription delivers them.

    def record_envelopes(self, envelopes: Sequence[dict[str, Any]], cursor: Cursor) -> None:
        """Append a run of one source's envelopes to the ledger, each checked to continue its
        source's chain, and keep the archive files they concern, all in one transaction that
        moves the cursor from `cursor.expected_position` to the run's last position. An
        envelope that breaks its chain is recorded with an alarm but changes no file: the
        ledger keeps what it was given, files only what verifies. A concurrent change to a file
        is retried; a cursor moved by another instance is the subscription's to resolve."""
        for attempt in range(SAVE_ATTEMPTS):
            head = self.cursor(cursor.source)
            if head.position >= cursor.position:
                return  # another worker stored it meanwhile
            if head.position != cursor.expected_position:
                raise CursorMoved(f"cursor for {cursor.source} is at {head.position}, not "
                                  f"{cursor.expected_position}: another worker moved it")
            run = _Run()
            for envelope in envelopes:
                if envelope["position"] > head.position:
                    head = self._record_in_run(envelope, head, run)
            try:
                # The files after their events: named as aggregates, they add no events (the
                # run took them) and are snapshotted when due, as saved aggregates are.
                self.save_processed(*run.events, *run.files.values(), cursor=cursor,
                                    learn=run.learn)
                break
            except CursorMoved:
                raise
            except IntegrityError:
                if attempt == SAVE_ATTEMPTS - 1:
                    raise
        for key, file in run.files.items():
            self._files_stored.put(key, file)
        for subject_id in run.disposed:
            # The approval shredded these already; this makes it certain after a crash between.
            self.vault.shred(subject_id)

    def _record_in_run(
        self, envelope: dict[str, Any], head: ChainHead, run: _Run
    ) -> ChainHead:
        """Add one envelope's entry, alarm and file changes to `run`, each event naming that
        envelope as its cause (a run holds many commands' envelopes); the chain's new head."""
        source, position = envelope["source"], envelope["position"]
        problems = chain_problems(envelope, head.position, head.hash)
        with acting_as(SYSTEM, envelope.get("correlation_id"), envelope.get("id")):
            if not problems:
                # File changes come first so their timestamps do not follow the entry's.
                run.add(*self._file_changes(envelope, run))
                if source == "archive" and envelope["type"] == "ArchiveFileDisposed":
                    run.disposed += [*envelope["payload"]["subject_ids"],
                                     envelope["aggregate_id"]]
            run.add(LedgerEntry(source=source, position=position, envelope=envelope))
            if problems:
                run.add(ChainAlarm(
                    source=source,
                    position=position,
                    expected_prev_position=head.position,
                    expected_prev_hash=head.hash,
                    problems=problems,
                ))
        return ChainHead(position, envelope.get("hash") or envelope_hash(envelope))

    def ledger_head(self, source: str) -> dict[str, Any]:
        require_role(*LEDGER_READERS)
        head = self.cursor(source)
        return {"source": source, "position": head.position, "hash": head.hash}

    def list_ledger(self, source: str, limit: int = DEFAULT_LIMIT, after: str | None = None,
                    type: str | None = None) -> dict[str, Any]:
        """One source's ledger entries in chain order: position, type, hash, when recorded."""
        require_role(*LEDGER_READERS)
        return self.views.ledger(source, limit, after, type)

    def list_chain_alarms(self, limit: int = DEFAULT_LIMIT, after: str | None = None,
                          source: str | None = None) -> dict[str, Any]:
        """The breaks in a source's chain the ledger met as envelopes arrived, by source and
        position: what it expected there and what was wrong, each with the envelope it was
        raised on. What a verification finds is in its report (`list_verifications`)."""
        require_role(*LEDGER_READERS)
        return self.views.alarms(limit, after, source)

    def get_ledger_entry(self, source: str, position: int) -> dict[str, Any]:
        """One ledger entry as the archive stores it, for an auditor to check by hand: the
        envelope as its source published it, the exact text its hash is the SHA-256 of (by the
        rule the envelope names) and that hash recomputed, the entry before it in the ledger
        (whose hash its prev_hash must be), and the alarm raised on it when it arrived."""
        require_role(*LEDGER_READERS)
        row = self._ledger_row(source, position)
        envelope = self._entry_at(source, position)
        assert envelope is not None, f"ledger view names {source}:{position}"
        # The ledger's own previous entry, not the one the envelope claims: a forged
        # prev_position must not choose what it is checked against.
        previous = self.views.entry_before(source, position)
        before = {"source": source, **(previous or {"position": GENESIS_POSITION,
                                                    "hash": GENESIS_HASH})}
        body = {key: value for key, value in envelope.items() if key != "hash"}
        hashed: str | None
        computed: str | None
        try:
            hashed = canonical_json(body, envelope.get("hash_rule")).decode("utf-8")
            computed = envelope_hash(envelope)
        except Unhashable:
            hashed = computed = None
        return {"source": source, "position": position, "recorded_at": row["recorded_at"],
                "envelope": envelope, "hash_rule": envelope.get("hash_rule"),
                "hashed_text": hashed, "computed_hash": computed, "entry_before": before,
                "alarm": self.views.alarm(source, position)}

    def verify_ledger(
        self, recompute: Recompute | None = None, since_checkpoint: bool = False
    ) -> dict[str, Any]:
        """Recompute every source's chain from the ledger and, with `recompute`, from the
        source's own store; check the checkpoints; report each problem at its exact position.

        With `since_checkpoint`, only what follows the last signed checkpoint: its signature and
        key, that its heads are the ledger's entries at those positions, and that each chain
        continues from its signed head (so a day's check costs the day's entries). An edit
        before the checkpoint is what the full check finds. With no checkpoint signed yet,
        everything is checked."""
        require_role(*LEDGER_READERS)
        trusted = {self.signer.public_key, *settings().archive.ledger_trusted_keys}
        checkpoint = self._last_checkpoint() if since_checkpoint else None
        start: Start = {} if checkpoint is None else {
            head["source"]: (head["position"], head["hash"]) for head in checkpoint.heads}
        # The checkpoints first, then the entries: a checkpoint names only entries stored
        # before it was signed, so every one read is then among the entries read. The other
        # way round, one signed while the entries were read names entries this reading has
        # not seen, and a ledger that goes on recording would be reported as rewritten.
        signed = [] if checkpoint is not None else list(self._checkpoints())
        throughs = sorted({c.through for c in signed})
        after = checkpoint.through if checkpoint is not None else 0
        walked = stitch(self._walk_ledger(after, checkpoint_heads(signed), throughs), start)
        for source, chain in walked.chains.items():
            if recompute is not None and not agrees_with_store(source, chain, recompute, start):
                # Where they differ, position by position: this source's entries read again.
                recorded = {entry.envelope["position"]: entry.envelope
                            for entry in recorded_entries(self, after)
                            if entry.envelope["source"] == source}
                compare_source(chain, source, recorded, recompute, start)
        report = source_report(walked.chains, store_checked=recompute is not None)
        if checkpoint is None:
            arrived = dict(zip(throughs, walked.arrived_through, strict=True))
            checkpoints = verify_checkpoints(signed, [arrived[c.through] for c in signed],
                                             walked.hashes, trusted)
        else:
            problems = verify_signature(checkpoint, trusted) + verify_checkpoint_heads(
                checkpoint, self._entry_at)
            checkpoints = {"count": 1, "problems": problems, "ok": not problems}
        return {
            "ok": checkpoints["ok"] and all(section["ok"] for section in report.values()),
            "checked_at": clock.now().isoformat(),
            "since_checkpoint": checkpoint.sequence if checkpoint else None,
            "against_stores": recompute is not None,
            "checkpoint_heads": checkpoint.heads if checkpoint else None,
            "sources": report,
            "checkpoints": checkpoints,
        }

    def keep_verification(
        self, recompute: Recompute | None = None, since_checkpoint: bool = False
    ) -> dict[str, Any]:
        """Verify the ledger (`verify_ledger`) and keep the report as it was answered, with who
        asked for it: a verification is itself on the record, and a failed one can be read
        again (`get_verification`). The answer is the report with its id."""
        actor = require_role(*LEDGER_READERS)
        report = self.verify_ledger(recompute, since_checkpoint)
        verification = LedgerVerification(verified_by=actor.id, report=report)
        self.save(verification)
        return {"verification_id": str(verification.id), "verified_by": actor.id, **report}

    def list_verifications(self, limit: int = DEFAULT_LIMIT, after: str | None = None,
                           ok: bool | None = None) -> dict[str, Any]:
        """The verifications kept, the newest first; with `ok`, only those that verified (true)
        or found problems (false)."""
        require_role(*LEDGER_READERS)
        return self.views.verifications(limit, after, ok)

    def get_verification(self, verification_id: str) -> dict[str, Any]:
        """A kept verification's report, whole, as it was answered."""
        require_role(*LEDGER_READERS)
        found = self.views.verification(verification_id)
        if found is None:
            raise NotFound(f"No verification {verification_id} is kept.")
        return found

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
            new = list(recorded_entries(self, last.through if last else 0))
            counted = [r for r in new if not (r.envelope["source"] == self.service
                                              and r.envelope["type"] == CHECKPOINT_TYPE)]
            if not counted:
                return None
            since = (datetime.fromisoformat(last.signed_at) if last
                     else self.decode_value(counted[0].timestamp))
            every = settings().archive
            due = (len(counted) >= every.checkpoint_every_entries
                   or clock.now() - since >= timedelta(minutes=every.checkpoint_every_minutes))
            if not due:
                return None
            return self._sign_checkpoint(last, new)

    def list_checkpoints(
        self, limit: int = DEFAULT_LIMIT, after: str | None = None
    ) -> dict[str, Any]:
        """Signed checkpoints, the newest first."""
        require_role(*LEDGER_READERS)
        return self.views.checkpoints(limit, after)

    def _sign_checkpoint(
        self, last: LedgerCheckpoint | None, new: list[Recorded]
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
        for notification_id, event in self.stored_events(CheckpointEvents.Signed, after, BATCH):
            newest = (notification_id, datetime.fromisoformat(event.signed_at),
                      {head["source"]: head["position"] for head in event.heads})
        return newest

    def _last_checkpoint(self) -> LedgerCheckpoint | None:
        """The last signed checkpoint as the store holds it (the view only says which)."""
        row = self.views.last_checkpoint()
        if row is None:
            return None
        return self.find_aggregate(LedgerCheckpoint,
                                   LedgerCheckpoint.create_id(sequence=row["sequence"]))

    def _checkpoints(self) -> Iterator[Any]:
        """Every signed checkpoint as the store holds it: by its events' type, so that one
        removed from the store leaves the others to be checked."""
        for _, event in self.stored_events(CheckpointEvents.Signed, batch=BATCH):
            yield event

    def _walk_ledger(
        self, after: int, wanted: dict[str, set[int]], throughs: list[int]
    ) -> list[RangeWalk]:
        """The ledger after a notification id, walked: in ranges by processes side by side
        when it is long (`services.archive.verifier`), else here; here too when the store is
        in memory, where no other process can read it."""
        every = settings().archive
        cuts = ranges(after, self.max_position(), every.verify_processes,
                      every.verify_range_least)
        if len(cuts) > 1 and not in_memory(self.store_env):
            return walk_in_processes(self.store_env, cuts, wanted, throughs)
        return [walk_range(recorded_entries(self, after), wanted, throughs)]

    def _entry_at(self, source: str, position: int) -> dict[str, Any] | None:
        entry = self.find_aggregate(LedgerEntry, ledger_entry_id(source, position))
        return None if entry is None else entry.envelope

    # Files (9.4a–c), built from the cases service's events.

    def _file_changes(self, envelope: dict[str, Any], run: _Run) -> list[ArchiveFile]:
        if envelope["source"] != "cases":
            return []
        type_, payload = envelope["type"], envelope["payload"]
        if type_ == "ClientRegistered":
            run.learn_profile(
                payload["client_id"], envelope["school_id"], payload["client_type"],
                payload.get("grade"), payload["is_minor"],
                local_date(datetime.fromisoformat(envelope["occurred_at"])))
            return []
        if type_ in OPENERS:
            category, field, date_field = OPENERS[type_]
            record_id = str(payload[field]) if field else envelope["aggregate_id"]
            if self._run_file(run, record_id) is None:
                return [self._open_file(envelope, category, record_id, payload[date_field], run)]
        for record_id in record_ids(envelope):
            file = self._run_file(run, record_id)
            if file is not None:
                file.index(envelope, _closing_date(envelope), type_ in REOPENERS)
                return [file]
        return []

    def _run_file(self, run: _Run, record_id: str) -> ArchiveFile | None:
        """The file of a cases record as this run has it: changed earlier in the run, or as an
        earlier run stored it, or read from the store."""
        key = file_id("cases", record_id)
        if key not in run.files:
            found: ArchiveFile | None
            try:
                found = self._files_stored.get(key, evict=True)
            except KeyError:
                found = self.find_aggregate(ArchiveFile, key)
            if found is None:
                return None
            run.files[key] = found
        return run.files[key]

    def _open_file(
        self, envelope: dict[str, Any], category: str, record_id: str, opened: str, run: _Run
    ) -> ArchiveFile:
        """9.4a: the next number of the school's year and category. Only this subscription
        allocates, one run at a time behind its cursor; the number is learned in the file's
        own transaction, so it is never given twice."""
        opened_on = date.fromisoformat(opened)
        school = envelope["school_id"] or UNASSIGNED_SCHOOL
        number = run.allocate(self.views, school, opened_on.year, category)
        client_id = envelope["payload"].get("client_id")
        profile = run.profile(self.views, client_id) if client_id else None
        file = ArchiveFile(
            school_id=school, record_source="cases", record_id=record_id, category=category,
            code=unified_code(school, opened_on.year, category, number), year=opened_on.year,
            sequence=number, opened_on=opened_on, subject_ids=[client_id] if client_id else [],
            majority_on=estimated_majority(category, opened_on, profile),
        )
        file.index(envelope, _closing_date(envelope), reopened=False)
        run.files[file.id] = file
        return file

    def get_file(self, file_id: str) -> dict[str, Any]:
        actor = require_role(*FILE_READERS)
        return self._describe(self._file(file_id, actor))

    def find_file(self, source: str, record_id: str) -> dict[str, Any]:
        actor = require_role(*FILE_READERS)
        return self._describe(self._file(str(file_id(source, record_id)), actor))

    def list_files(self, **query: Any) -> dict[str, Any]:
        """Files of the actor's school, by category, state, legal hold, completeness (9.4b) or
        retention due (9.4e)."""
        actor = require_role(*FILE_READERS)
        return self.views.files(actor, clock.today(), **query)

    # Legal holds and disposal (9.4e).

    def place_legal_hold(self, file_id: str, hold_id: str, authority: str,
                         reference: str) -> None:
        actor = require_role(*HOLD_KEEPERS)
        # The reference is free text (a court's or authority's file, which may name people):
        # sealed under the file, it goes with the file's other personal content on disposal.
        self._change_file(file_id, actor, lambda f: f.place_hold(
            hold_id=hold_id, authority=authority,
            reference=self.vault.seal(str(f.id), reference), placed_by=actor.id))

    def lift_legal_hold(self, file_id: str, hold_id: str) -> None:
        actor = require_role(*HOLD_KEEPERS)
        self._change_file(file_id, actor, lambda f: f.lift_hold(hold_id, lifted_by=actor.id))

    def request_disposal(self, file_id: str) -> None:
        actor = require_role(*DISPOSAL_REQUESTERS)
        self._change_file(file_id, actor, lambda f: f.request_disposal(
            actor.id, clock.today(), retention_end(f.category, f.closed_on, f.majority_on)))

    def approve_disposal(self, file_id: str) -> None:
        """Dispose of the file: the approval publishes `ArchiveFileDisposed`, on which the cases
        service destroys its clients' keys; the archive destroys its own (the sealed purposes
        and hold references) at once."""
        actor = require_role(*DISPOSAL_APPROVERS)
        file = self._change_file(file_id, actor, lambda f: f.approve_disposal(
            actor.id, clock.today(), retention_end(f.category, f.closed_on, f.majority_on)))
        for subject_id in (*file.subject_ids, str(file.id)):
            self.vault.shred(subject_id)

    def reject_disposal(self, file_id: str, reason_code: str) -> None:
        actor = require_role(*DISPOSAL_APPROVERS)
        self._change_file(file_id, actor, lambda f: f.reject_disposal(actor.id, reason_code))

    def list_disposals(self, **query: Any) -> dict[str, Any]:
        """Disposal requests: who asked, who decided, and whether that was a second person."""
        actor = require_role(*FILE_READERS)
        return self.views.disposals(actor, **query)

    def _change_file(self, file_id: str, actor: Actor, change: Any) -> ArchiveFile:
        """Apply a command to a file, retrying if the subscription changed it meanwhile."""
        for attempt in range(SAVE_ATTEMPTS):
            file = self._file(file_id, actor)
            change(file)
            try:
                self.save(file)
                return file
            except IntegrityError:
                if attempt == SAVE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    # Access approval (9.4d, 4.5): decided by someone other than the requester; every read and
    # every refused read is recorded, its purpose sealed under the file's subject.

    def request_access(self, file_id: str, purpose: str, duration_hours: int) -> str:
        actor = require_role(*ACCESS_REQUESTERS)
        file = self._file(file_id, actor)
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
        is shown, and record the read; or record the refusal and refuse (9.4d, 4.5). Which
        requests there are comes from the view; whether one is live, from its own record."""
        actor = current_actor()
        file = self.find_aggregate(ArchiveFile, file_id(source, aggregate_id))
        if file is None:
            raise NotFound(f"The archive holds no file for {source} record {aggregate_id}.")
        now = clock.now()
        reason = "file_disposed" if file.disposed_on is not None else "no_grant"
        if file.disposed_on is None:
            self.follow()
            for row in self.views.requests_of(str(file.id), requester_id=actor.id):
                request = self.get_aggregate(AccessRequest, row["request_id"], "access request")
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

    def get_access_report(self, file_id: str) -> dict[str, Any]:
        """Who asked, who decided, and every read and refused read: who, when, and why."""
        actor = require_role(*FILE_READERS)
        file = self._file_row(file_id, actor)
        requests = [{**row, "purpose": self._open_purpose(row["purpose"])}
                    for row in self.views.requests_of(file["file_id"])]
        reads = [{**row, "purpose": self._open_purpose(row["purpose"])}
                 for row in self.views.reads_of(file["file_id"])]
        return {"file_id": file["file_id"], "file_code": file["file_code"],
                "requests": requests, "reads": reads}

    def list_access_requests(self, **query: Any) -> dict[str, Any]:
        actor = require_role(*FILE_READERS)
        return self.views.access_requests(actor, **query)

    def list_reads(self, **query: Any) -> dict[str, Any]:
        """Reads and refused reads of archived files (4.5), without their purposes: those are
        in the file's access report."""
        actor = require_role(*FILE_READERS)
        return self.views.reads(actor, **query)

    def _request(self, request_id: str, actor: Actor) -> AccessRequest:
        request = self.get_aggregate(AccessRequest, request_id, "access request")
        check_school(actor, request.school_id)
        return request

    def _seal_purpose(self, file: ArchiveFile, purpose: str) -> str:
        """The reader's own words may name the client: sealed under the file's subject, or the
        file itself when it has none (a class), and destroyed with the file."""
        subject_id = file.subject_ids[0] if file.subject_ids else str(file.id)
        if self.vault.is_shredded(subject_id):
            return SHREDDED
        return self.vault.seal(subject_id, purpose)

    def _open_purpose(self, stored: str) -> Any:
        return self.vault.open(stored) if stored.startswith(TOKEN_PREFIX) else stored

    # Point in time: a file as it was, and any service's record as the ledger saw it.

    def get_file_as_of(
        self, file_id: str, at: datetime | None = None, ledger_source: str | None = None,
        ledger_position: int | None = None,
    ) -> dict[str, Any]:
        """The file as `get_file` returned it at `at`, or when the ledger recorded
        (`ledger_source`, `ledger_position`): the last version stored by then. A file's changes
        from an envelope are stored with its ledger entry and stamped before it."""
        actor = require_role(*FILE_READERS)
        file = self._file(file_id, actor)
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
            through = self._ledger_row(ledger_source, ledger_position)["arrival"]
        events: list[dict[str, Any]] = []
        status = None
        school_id = None
        for row in self.views.entries_of(source, aggregate_id):
            if through is not None and row["arrival"] > through:
                continue
            if at is not None and datetime.fromisoformat(row["recorded_at"]) > at:
                continue
            envelope = self._entry_at(source, row["position"])
            assert envelope is not None, f"ledger view names {source}:{row['position']}"
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
        return datetime.fromisoformat(self._ledger_row(source, position)["recorded_at"])

    def _ledger_row(self, source: str, position: int) -> dict[str, Any]:
        row = self.views.entry(source, position)
        if row is None:
            raise NotFound(f"The ledger holds no {source} position {position}.")
        return row

    # Loading a file within the actor's school, and showing it as the queries return it.

    def _file(self, file_id: str, actor: Actor) -> ArchiveFile:
        file = self.get_aggregate(ArchiveFile, file_id, "archive file")
        check_school(actor, file.school_id)
        return file

    def _file_row(self, file_id: str, actor: Actor) -> dict[str, Any]:
        row = self.views.file(_uuid_text(file_id))
        if row is None:
            raise NotFound(f"No archive file {file_id}.")
        check_school(actor, row["school_id"])
        return row

    def _describe(self, file: ArchiveFile) -> dict[str, Any]:
        category = category_for(file.category)
        missing = file.missing_sections()
        if file.disposed_on is not None:
            status = "disposed"
        elif file.closed_on is not None:
            status = "closed"
        else:
            status = "active"
        holds = [{**hold, "reference": self._open_purpose(hold["reference"])}
                 for _, hold in sorted(file.holds.items())]
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
            "legal_holds": holds,
            "disposal": file.disposal,
            "disposed_on": file.disposed_on,
        })


def check_school(actor: Actor, school_id: str | None) -> None:
    if actor.school_id and actor.school_id != school_id:
        raise NotAllowed(f"The actor works for school {actor.school_id}, not {school_id}.")


def _uuid_text(value: str) -> str:
    try:
        return str(UUID(str(value)))
    except ValueError:
        raise NotFound(f"No archive file {value}.") from None


def _closing_date(envelope: dict[str, Any]) -> date | None:
    field = CLOSING_DATES.get(envelope["type"])
    value = envelope["payload"].get(field) if field else None
    return date.fromisoformat(value) if value else None

