"""Archive files (9.4a–c, 9.4e): one per case, group, letter and class, with a unified code, an
index of its contents, legal holds and disposal.

A file is built from the cases service's published events only, so it holds identifiers, codes,
dates and counts; the personal content stays sealed in the cases store. Guards raise before any
event is triggered, so a refused command changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from eventsourcing.domain import event

from contracts.errors import Conflict, NotAllowed
from services.runtime.domain import CasebookAggregate

FILES_NAMESPACE = uuid.UUID("8a4e2f61-93c7-4d0b-b5a1-6e2f0c9d7a34")

BASIC = "basic_information"
SERVICE = "service_records"
EVALUATION = "evaluation_reports"
OTHER = "other"
SECTIONS = (BASIC, SERVICE, EVALUATION)

# Which published event opens which category of file, the payload field naming the record
# (absent: the envelope's aggregate), and the field holding the opening date.
OPENERS: dict[str, tuple[str, str | None, str]] = {
    "CaseOpened": ("GA", None, "opened_on"),
    "GroupFormed": ("XZ", "group_id", "formed_on"),
    "LetterReceived": ("XX", "letter_id", "received_on"),
    "ClassHeld": ("KT", "class_id", "held_on"),
}
# Payload fields that point an event at the record whose file it belongs to.
RECORD_FIELDS = ("case_id", "group_id", "letter_id", "class_id")

# 9.4b: where each event goes in its file. Unknown types are kept under "other".
SECTIONS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "CaseOpened": (BASIC,), "IntakeCompleted": (BASIC,), "IntakeDeclined": (BASIC,),
    "ConsentRecorded": (BASIC,), "ConsentWithdrawn": (BASIC,), "AssessmentRecorded": (BASIC,),
    "CaseReassigned": (BASIC,),
    "PlanAdopted": (SERVICE,), "PlanRevised": (SERVICE,), "InterventionLogged": (SERVICE,),
    "ResourceRequested": (SERVICE,), "ReferralMade": (SERVICE,), "RiskEscalated": (SERVICE,),
    "RiskResolved": (SERVICE,), "LifeSafetyDisclosureRecorded": (SERVICE,),
    "FollowUpScheduled": (SERVICE,), "FollowUpRecorded": (SERVICE,), "CaseClosed": (SERVICE,),
    "CaseReopened": (SERVICE,),
    "EvaluationRecorded": (EVALUATION,),
    "GroupFormed": (BASIC,), "GroupMemberAdded": (BASIC,), "GroupSessionHeld": (SERVICE,),
    "GroupEvaluated": (EVALUATION,), "GroupClosed": (EVALUATION,),
    "LetterReceived": (BASIC,), "LetterAnswered": (SERVICE,),
    "ClassHeld": (BASIC, SERVICE),
}

# 9.4b: what makes each section present, per category. A letter or a class has no evaluation
# report in the standard's process (8.2.2, 8.2.3), so it is complete without one.
REQUIRED: dict[str, dict[str, frozenset[str]]] = {
    # The intake record (8.3.1) is the case's basic information; CaseOpened alone is an intake
    # that was started, not recorded.
    "GA": {BASIC: frozenset({"IntakeCompleted", "IntakeDeclined"}),
           SERVICE: frozenset({"InterventionLogged"}),
           EVALUATION: frozenset({"EvaluationRecorded"})},
    "XZ": {BASIC: frozenset({"GroupFormed"}), SERVICE: frozenset({"GroupSessionHeld"}),
           EVALUATION: frozenset({"GroupEvaluated", "GroupClosed"})},
    "XX": {BASIC: frozenset({"LetterReceived"}), SERVICE: frozenset({"LetterAnswered"})},
    "KT": {BASIC: frozenset({"ClassHeld"}), SERVICE: frozenset({"ClassHeld"})},
}

# The date field of the event that closes a record (retention starts), and what reopens it.
CLOSING_DATES: dict[str, str] = {
    "CaseClosed": "closed_on",
    "IntakeDeclined": "declined_on",
    "GroupClosed": "closed_on",
    "LetterAnswered": "answered_on",
    "ClassHeld": "held_on",
}
REOPENERS = frozenset({"CaseReopened"})


def record_ids(envelope: dict[str, Any]) -> list[str]:
    """The records an envelope concerns: those its payload points at, and its own aggregate."""
    payload = envelope["payload"]
    return [*(str(payload[f]) for f in RECORD_FIELDS if payload.get(f)), envelope["aggregate_id"]]


def file_id(record_source: str, record_id: str) -> uuid.UUID:
    return uuid.uuid5(FILES_NAMESPACE, f"file:{record_source}:{record_id}")


def unified_code(school_code: str, year: int, category: str, sequence: int) -> str:
    """9.4a: `<school code>-<year>-<category code>-<sequence>`, e.g. JD001-2026-GA-0007."""
    return f"{school_code}-{year}-{category}-{sequence:04d}"


class ArchiveFile(CasebookAggregate):
    @staticmethod
    def create_id(record_source: str, record_id: str, **_: Any) -> uuid.UUID:
        return file_id(record_source, record_id)

    @event("Opened")
    def __init__(
        self,
        school_id: str,
        record_source: str,
        record_id: str,
        category: str,
        code: str,
        year: int,
        sequence: int,
        opened_on: date,
        subject_ids: list[str],
        majority_on: date | None,
    ) -> None:
        self.school_id = school_id
        self.record_source = record_source
        self.record_id = record_id
        self.category = category
        self.code = code
        self.year = year
        self.sequence = sequence
        self.opened_on = opened_on
        self.subject_ids = list(subject_ids)
        self.majority_on = majority_on
        self.entries: list[dict[str, Any]] = []
        self.closed_on: date | None = None
        self.holds: dict[str, dict[str, Any]] = {}
        self.disposal: dict[str, Any] | None = None
        self.disposed_on: date | None = None

    # Contents, from the record's published events.

    def index(self, envelope: dict[str, Any], closed_on: date | None, reopened: bool) -> None:
        """File a published event of this record under its sections (9.4b)."""
        if self.disposed_on is not None:
            return  # nothing of a disposed record is kept any more
        subject_id = envelope["payload"].get("client_id")
        self._indexed(
            entry={
                "type": envelope["type"],
                "sections": list(SECTIONS_BY_TYPE.get(envelope["type"], (OTHER,))),
                "source": envelope["source"],
                "position": envelope["position"],
                "occurred_at": envelope["occurred_at"],
            },
            subject_id=subject_id if subject_id not in self.subject_ids else None,
            closed_on=closed_on,
            reopened=reopened,
        )

    @event("Indexed")
    def _indexed(
        self, entry: dict[str, Any], subject_id: str | None, closed_on: date | None, reopened: bool
    ) -> None:
        self.entries.append(entry)
        if subject_id:
            self.subject_ids.append(subject_id)
        if reopened:
            self.closed_on = None
        elif closed_on is not None:
            self.closed_on = closed_on

    def missing_sections(self) -> list[str]:
        present = {entry["type"] for entry in self.entries}
        return [section for section, types in REQUIRED[self.category].items()
                if not types & present]

    # Legal holds.

    def place_hold(self, hold_id: str, authority: str, reference: str, placed_by: str) -> None:
        self._require_not_disposed("place a legal hold")
        self._hold_placed(hold_id=hold_id, authority=authority, reference=reference,
                          placed_by=placed_by)

    @event("HoldPlaced")
    def _hold_placed(self, hold_id: str, authority: str, reference: str, placed_by: str) -> None:
        self.holds[hold_id] = {"hold_id": hold_id, "authority": authority,
                               "reference": reference, "placed_by": placed_by}

    def lift_hold(self, hold_id: str, lifted_by: str) -> None:
        if hold_id not in self.holds:
            raise Conflict(f"File {self.code} has no legal hold {hold_id}.", code="wrong_state")
        self._hold_lifted(hold_id=hold_id, lifted_by=lifted_by)

    @event("HoldLifted")
    def _hold_lifted(self, hold_id: str, lifted_by: str) -> None:
        del self.holds[hold_id]

    # Disposal (9.4e): after the end date, no hold, requested and approved by two people.

    def request_disposal(self, requested_by: str, today: date, end: date | None) -> None:
        self._require_disposable(today, end)
        if self.disposal is not None:
            raise Conflict(f"Disposal of {self.code} was already requested by "
                           f"{self.disposal['requested_by']}.", code="wrong_state")
        assert end is not None
        self._disposal_requested(code=self.code, requested_by=requested_by, retention_end=end)

    @event("DisposalRequested")
    def _disposal_requested(self, code: str, requested_by: str, retention_end: date) -> None:
        self.disposal = {"requested_by": requested_by, "retention_end": retention_end}

    def approve_disposal(self, approved_by: str, today: date, end: date | None) -> None:
        requested_by = self._require_pending_disposal(approved_by)
        self._require_disposable(today, end)
        self._disposal_approved(code=self.code, requested_by=requested_by, approved_by=approved_by)
        self._disposed(code=self.code, category=self.category, disposed_on=today,
                       subject_ids=list(self.subject_ids))

    @event("DisposalApproved")
    def _disposal_approved(self, code: str, requested_by: str, approved_by: str) -> None:
        assert self.disposal is not None
        self.disposal["approved_by"] = approved_by

    @event("Disposed")
    def _disposed(
        self, code: str, category: str, disposed_on: date, subject_ids: list[str]
    ) -> None:
        self.disposed_on = disposed_on

    def reject_disposal(self, rejected_by: str, reason_code: str) -> None:
        requested_by = self._require_pending_disposal(rejected_by)
        self._disposal_rejected(code=self.code, requested_by=requested_by,
                                rejected_by=rejected_by, reason_code=reason_code)

    @event("DisposalRejected")
    def _disposal_rejected(
        self, code: str, requested_by: str, rejected_by: str, reason_code: str
    ) -> None:
        self.disposal = None

    def _require_pending_disposal(self, decided_by: str) -> str:
        self._require_not_disposed("decide on its disposal")
        if self.disposal is None:
            raise Conflict(f"No disposal of {self.code} was requested.", code="wrong_state")
        requested_by: str = self.disposal["requested_by"]
        if decided_by == requested_by:
            raise NotAllowed(f"{decided_by} requested the disposal of {self.code}; a second "
                             "person must decide on it (9.4e).", code="two_person_rule")
        return requested_by

    def _require_disposable(self, today: date, end: date | None) -> None:
        self._require_not_disposed("dispose of it")
        if end is None:
            raise Conflict(f"File {self.code} is still open: its retention period has not "
                           "started (9.4e).", code="retention_not_expired")
        if today <= end:
            raise Conflict(f"File {self.code} must be kept until {end.isoformat()} (9.4e).",
                           code="retention_not_expired")
        if self.holds:
            raise Conflict(f"File {self.code} is under legal hold "
                           f"({', '.join(sorted(self.holds))}).", code="legal_hold")

    def _require_not_disposed(self, action: str) -> None:
        if self.disposed_on is not None:
            raise Conflict(f"File {self.code} was disposed on {self.disposed_on.isoformat()}: "
                           f"cannot {action}.", code="wrong_state")


# Retired: what the archive only derives from the cases service's events is learned into the
# views now (services.archive.views: code_sequence, client_profile). The classes stay so that
# stores from before keep reading; their events fill the learned tables once.


class CodeSequence(CasebookAggregate):
    """The sequence numbers of one (school, year, category), as stores from before kept them."""

    @staticmethod
    def create_id(school_code: str, year: int, category: str, **_: Any) -> uuid.UUID:
        return uuid.uuid5(FILES_NAMESPACE, f"sequence:{school_code}:{year}:{category}")

    @event("Started")
    def __init__(self, school_code: str, year: int, category: str) -> None:
        self.school_id = school_code
        self.year = year
        self.category = category
        self.last = 0

    @event("Allocated")
    def allocated(self, number: int, file_id: str) -> None:
        self.last = number


class ClientProfile(CasebookAggregate):
    """What stores from before knew about a client from `ClientRegistered`."""

    @staticmethod
    def create_id(client_id: str, **_: Any) -> uuid.UUID:
        return uuid.uuid5(FILES_NAMESPACE, f"client:{client_id}")

    @event("Registered")
    def __init__(
        self,
        school_id: str | None,
        client_id: str,
        client_type: str,
        grade: int | None,
        is_minor: bool,
        registered_on: date,
    ) -> None:
        self.school_id = school_id
        self.client_id = client_id
        self.client_type = client_type
        self.grade = grade
        self.is_minor = is_minor
        self.registered_on = registered_on
