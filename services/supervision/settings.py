"""The numbers the supervision service's rules use, read from the environment at each use so an
operator can change them without a rebuild. The standard fixes some (36 hours, 9.1b); the others
are policy settings with the documented defaults below.

| variable                                   | default | rule                                    |
|--------------------------------------------|---------|-----------------------------------------|
| CASEBOOK_SUPERVISION_INTERVAL_DAYS         | 30      | 9.1c: longest time without supervision  |
| CASEBOOK_QC_ASSESSMENT_DAYS                | 14      | 9.5c: intake → first assessment         |
| CASEBOOK_QC_PLAN_DAYS                      | 14      | 9.5c: first assessment → plan adopted   |
| CASEBOOK_QC_INTERVENTION_GAP_DAYS          | 30      | 9.5c: open case without intervention    |
| CASEBOOK_QC_FOLLOW_UP_GRACE_DAYS           | 7       | 9.2b: follow-up past its due date       |
| CASEBOOK_QC_LETTER_DAYS                    | 7       | 8.2.2: letter without an answer         |
| CASEBOOK_COMPLAINT_ACKNOWLEDGE_DAYS        | 2       | 10.1.2: complaint acknowledged          |
| CASEBOOK_COMPLAINT_ANSWER_DAYS             | 15      | 9.2c, 10.1.2: complaint answered        |
| CASEBOOK_SUPERVISOR_MIN_YEARS              | 3       | 6.2.2.1: supervisor's years of practice |
| CASEBOOK_ESCALATION_POLICY                 | (none)  | 9.6b: JSON file overriding table rows   |
| CASEBOOK_SUPERVISION_TIMER_SECONDS         | 60      | how often deadlines are checked         |
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# 9.1b: "每年应接受不少于 36 个学时的继续教育" — fixed by the standard, not a setting.
CONTINUING_EDUCATION_HOURS_PER_YEAR = 36


def _days(name: str, default: int) -> int:
    value = int(os.environ.get(name, str(default)))
    if value < 0:
        raise ValueError(f"{name} must be 0 or more, not {value}")
    return value


@dataclass(frozen=True)
class Settings:
    supervision_interval_days: int
    assessment_days: int
    plan_days: int
    intervention_gap_days: int
    follow_up_grace_days: int
    letter_days: int
    complaint_acknowledge_days: int
    complaint_answer_days: int
    supervisor_min_years: int


def settings() -> Settings:
    return Settings(
        supervision_interval_days=_days("CASEBOOK_SUPERVISION_INTERVAL_DAYS", 30),
        assessment_days=_days("CASEBOOK_QC_ASSESSMENT_DAYS", 14),
        plan_days=_days("CASEBOOK_QC_PLAN_DAYS", 14),
        intervention_gap_days=_days("CASEBOOK_QC_INTERVENTION_GAP_DAYS", 30),
        follow_up_grace_days=_days("CASEBOOK_QC_FOLLOW_UP_GRACE_DAYS", 7),
        letter_days=_days("CASEBOOK_QC_LETTER_DAYS", 7),
        complaint_acknowledge_days=_days("CASEBOOK_COMPLAINT_ACKNOWLEDGE_DAYS", 2),
        complaint_answer_days=_days("CASEBOOK_COMPLAINT_ANSWER_DAYS", 15),
        supervisor_min_years=_days("CASEBOOK_SUPERVISOR_MIN_YEARS", 3),
    )


def timer_seconds() -> int:
    return max(1, int(os.environ.get("CASEBOOK_SUPERVISION_TIMER_SECONDS", "60")))
