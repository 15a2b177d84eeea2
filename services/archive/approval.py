"""Access approval (9.4d, 4.5): requests to read an archived file's personal content, decided by
someone other than the requester; every read and every refused read is recorded, with its
purpose sealed under the file's subject."""

from __future__ import annotations

from typing import Any

from contracts.errors import NotAllowed, NotFound
from services.archive.access import AccessRequest, ReadRefusal, RecordView, describe
from services.archive.base import FILE_READERS, ArchiveBase, check_school, record_uuid
from services.archive.files import ArchiveFile, file_id
from services.runtime.clock import clock
from services.runtime.context import Actor, current_actor, require_role
from services.runtime.plain import plain
from services.runtime.vault import SHREDDED, TOKEN_PREFIX

# The aggregates' event classes are made by @event at runtime; mypy cannot see them.
RefusalEvents: Any = ReadRefusal
RequestEvents: Any = AccessRequest
ViewEvents: Any = RecordView

ACCESS_REQUESTERS = ("social_worker", "supervisor", "archivist", "school_admin", "auditor")
ACCESS_APPROVERS = ("supervisor", "school_admin")
GRANT_REVOKERS = ("supervisor", "school_admin", "archivist")


class AccessApproval(ArchiveBase):
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
        file = self.find_aggregate(ArchiveFile, file_id(source, aggregate_id))
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
        request = self.find_aggregate(AccessRequest, record_uuid(request_id, "access request"))
        if request is None:
            raise NotFound(f"No access request {request_id}.")
        check_school(actor, request.school_id)
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
