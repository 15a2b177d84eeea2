"""What every part of the archive application shares: reading its store in order, loading a
file within the actor's school, and showing a file as the queries return it (9.4b–e)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from contracts.errors import NotAllowed, NotFound
from services.archive.domain import LedgerEntry
from services.archive.files import RECORD_FIELDS, SECTIONS, ArchiveFile
from services.archive.ledger import Recorded
from services.archive.retention import category_for, retention_end, retention_years
from services.runtime.context import Actor
from services.runtime.plain import plain
from services.runtime.store import CasebookApplication

# The aggregates' event classes are made by @event at runtime; mypy cannot see them.
EntryEvents: Any = LedgerEntry

FILE_READERS = ("auditor", "archivist", "supervisor", "school_admin", "operator", "system")
PAGE = 500


class ArchiveBase(CasebookApplication):
    service = "archive"

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

    def _file(self, file_id_: str, actor: Actor) -> ArchiveFile:
        file = self.find_aggregate(ArchiveFile, record_uuid(file_id_, "archive file"))
        if file is None:
            raise NotFound(f"No archive file {file_id_}.")
        check_school(actor, file.school_id)
        return file

    # Which records an envelope concerns, and a file as the queries show it.

    @staticmethod
    def _record_ids(envelope: dict[str, Any]) -> list[str]:
        payload = envelope["payload"]
        ids = [str(payload[f]) for f in RECORD_FIELDS if payload.get(f)]
        return [*ids, envelope["aggregate_id"]]

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


def check_school(actor: Actor, school_id: str | None) -> None:
    if actor.school_id and actor.school_id != school_id:
        raise NotAllowed(f"The actor works for school {actor.school_id}, not {school_id}.")


def record_uuid(value: str, what: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise NotFound(f"No {what} {value}.") from None
