"""The clock that retention, SLAs, reminders and event timestamps read (DESIGN.md "Time").

All instants are timezone-aware UTC; calendar dates (`today`) are the schools' own, in
`CASEBOOK_TIMEZONE` (Asia/Shanghai by default). Tests set the clock instead of sleeping:
in-process with `clock.set(...)`, and for services running as separate processes by pointing
`CASEBOOK_CLOCK_FILE` at a file holding an ISO 8601 instant (empty file: real time).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.runtime.settings import settings


class Clock:
    def __init__(self) -> None:
        self._fixed: datetime | None = None

    def now(self) -> datetime:
        if self._fixed is not None:
            return self._fixed
        file = settings().runtime.clock_file
        if file:
            text = file.read_text(encoding="utf-8").strip() if file.exists() else ""
            if text:
                return as_utc(datetime.fromisoformat(text))
        return datetime.now(UTC)

    def today(self) -> date:
        """Today's date where the schools are: what a record's dates are compared with."""
        return local_date(self.now())

    def set(self, when: datetime) -> None:
        self._fixed = as_utc(when)

    def advance(self, delta: timedelta) -> None:
        self._fixed = self.now() + delta

    def reset(self) -> None:
        self._fixed = None


def local_date(when: datetime) -> date:
    """The schools' calendar date of an instant (`CASEBOOK_TIMEZONE`): the date a record
    dates by, where the instant's UTC date is the day before until 08:00 in China."""
    return when.astimezone(settings().runtime.timezone).date()


def as_utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError(f"{when.isoformat()} has no timezone; Casebook keeps UTC instants only")
    return when.astimezone(UTC)


clock = Clock()
