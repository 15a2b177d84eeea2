"""The supervision service's settings, from `services.runtime.settings` where they are read,
typed and documented with every other setting; and the one number the standard fixes."""

from __future__ import annotations

from services.runtime.settings import Supervision
from services.runtime.settings import settings as runtime_settings

# 9.1b: "每年应接受不少于 36 个学时的继续教育" — fixed by the standard, not a setting.
CONTINUING_EDUCATION_HOURS_PER_YEAR = 36


def settings() -> Supervision:
    return runtime_settings().supervision


def timer_seconds() -> int:
    return runtime_settings().supervision.timer_seconds
