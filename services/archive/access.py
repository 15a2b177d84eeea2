"""Access approval for archived files (T/JHSX 001—2026 9.4d, 4.5).

A request (who, which file, why, for how long) is approved or denied by someone other than the
requester; an approval is a grant that lives until it expires or is revoked. Every read of an
archived file's personal content, allowed or refused, is its own record, so the file's access
report answers "who saw this, when, and why". The purpose is the reader's own words and may name
the client, so it is sealed under the file's subject and is destroyed with the file.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from eventsourcing.domain import event

from contracts.errors import Conflict, InvalidInput, NotAllowed
from services.runtime.domain import CasebookAggregate


class AccessRequest(CasebookAggregate):
    """A request and, once approved, the grant (the grant id is the request id)."""

    @event("Requested")
    def __init__(
        self,
        school_id: str | None,
        file_id: str,
        file_code: str,
        requester_id: str,
        requester_role: str,
        purpose: str,
        duration_hours: int,
    ) -> None:
        self.school_id = school_id
        self.file_id = file_id
        self.file_code = file_code
        self.requester_id = requester_id
        self.requester_role = requester_role
        self.purpose = purpose
        self.duration_hours = duration_hours
        self.status = "pending"
        self.decided_by: str | None = None
        self.reason_code: str | None = None
        self.valid_from: datetime | None = None
        self.valid_until: datetime | None = None
        self.revoked_by: str | None = None

    def approve(self, approver_id: str, now: datetime, valid_hours: int | None) -> None:
        self._require_pending(approver_id)
        hours = valid_hours or self.duration_hours
        if hours > self.duration_hours:
            raise InvalidInput.from_messages({"valid_hours": [
                f"Must not exceed the {self.duration_hours} hours requested."]})
        self._approved(file_id=self.file_id, requester_id=self.requester_id,
                       approver_id=approver_id, valid_from=now,
                       valid_until=now + timedelta(hours=hours))

    @event("Approved")
    def _approved(
        self, file_id: str, requester_id: str, approver_id: str, valid_from: datetime,
        valid_until: datetime,
    ) -> None:
        self.status = "approved"
        self.decided_by = approver_id
        self.valid_from = valid_from
        self.valid_until = valid_until

    def deny(self, approver_id: str, reason_code: str) -> None:
        self._require_pending(approver_id)
        self._denied(file_id=self.file_id, requester_id=self.requester_id, approver_id=approver_id,
                     reason_code=reason_code)

    @event("Denied")
    def _denied(
        self, file_id: str, requester_id: str, approver_id: str, reason_code: str
    ) -> None:
        self.status = "denied"
        self.decided_by = approver_id
        self.reason_code = reason_code

    def revoke(self, revoked_by: str, reason_code: str, now: datetime) -> None:
        if self.status != "approved":
            raise Conflict(f"Request {self.id} is {self.status}: only a grant can be revoked.",
                           code="wrong_state")
        assert self.valid_until is not None
        if now >= self.valid_until:
            raise Conflict(f"Grant {self.id} already expired at {self.valid_until.isoformat()}.",
                           code="wrong_state")
        self._revoked(file_id=self.file_id, requester_id=self.requester_id, revoked_by=revoked_by,
                      reason_code=reason_code)

    @event("Revoked")
    def _revoked(
        self, file_id: str, requester_id: str, revoked_by: str, reason_code: str
    ) -> None:
        self.status = "revoked"
        self.revoked_by = revoked_by
        self.reason_code = reason_code

    def refusal(self, now: datetime) -> str | None:
        """Why this request does not allow a read at `now`; None if it does."""
        if self.status == "revoked":
            return "grant_revoked"
        if self.status != "approved":
            return "no_grant"
        assert self.valid_from is not None and self.valid_until is not None
        if not self.valid_from <= now < self.valid_until:
            return "grant_expired"
        return None

    def _require_pending(self, approver_id: str) -> None:
        if self.status != "pending":
            raise Conflict(f"Request {self.id} was already {self.status}.", code="wrong_state")
        if approver_id == self.requester_id:
            raise NotAllowed(f"{approver_id} made this request and cannot decide on it "
                             "(9.4d: approval by another person).", code="two_person_rule")


class RecordView(CasebookAggregate):
    """One read of an archived record's personal content, under a live grant."""

    @event("Viewed")
    def __init__(
        self,
        school_id: str | None,
        file_id: str,
        file_code: str,
        grant_id: str,
        reader_id: str,
        reader_role: str,
        purpose: str,
    ) -> None:
        self.school_id = school_id
        self.file_id = file_id
        self.file_code = file_code
        self.grant_id = grant_id
        self.reader_id = reader_id
        self.reader_role = reader_role
        self.purpose = purpose


class ReadRefusal(CasebookAggregate):
    """One refused read: recorded like a read (4.5: every attempt on personal data is seen)."""

    @event("Refused")
    def __init__(
        self,
        school_id: str | None,
        file_id: str,
        file_code: str,
        reader_id: str,
        reader_role: str,
        purpose: str,
        reason: str,
    ) -> None:
        self.school_id = school_id
        self.file_id = file_id
        self.file_code = file_code
        self.reader_id = reader_id
        self.reader_role = reader_role
        self.purpose = purpose
        self.reason = reason

