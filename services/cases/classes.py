"""Experiential classes (8.2.3): life education, study or career planning, adolescence
education, or another theme, with §7 codes, date and attendance."""

from __future__ import annotations

from datetime import date

from eventsourcing.domain import event

from services.runtime.domain import CasebookAggregate


class ExperientialClass(CasebookAggregate):
    @event("Held")
    def __init__(self, school_id: str, theme: str, topic: str, service_codes: list[str],
                 held_on: date, attendance: int, grade: int | None,
                 social_worker_id: str) -> None:
        self.school_id = school_id
        self.theme = theme
        self.topic = topic
        self.service_codes = list(service_codes)
        self.held_on = held_on
        self.attendance = attendance
        self.grade = grade
        self.social_worker_id = social_worker_id
