"""Archive categories and their minimum retention periods (T/JHSX 001—2026 9.4a, 9.4e).

Each category has a unified code letter pair (the pinyin initials of its Chinese name), labels in
both languages, a default retention period with its reason, and whether its files hold minors'
personal content. Defaults are overridden per category with `CASEBOOK_RETENTION_YEARS`
(for example "GA=15,KT=5").

A file's retention end is `max(closing date, the client's estimated 18th birthday) + years`:
for minors' records the period runs at least until the client comes of age, plus the period.

The client's date of birth is sealed in the cases service and never published. What the archive
sees is `ClientRegistered`: the client type, `is_minor` and, for a student, the `grade`. We choose
the estimate that keeps records longest:

- a student of grade g is taken to be g + 5 years old at registration: Chinese schools enrol a
  child who turned six by 31 August into grade 1, so g + 5 is the youngest regular age in grade g
  (`grade + 6`, the usual age, would end retention up to a year early for the youngest pupils);
- a minor without a grade, a group or letter whose members the archive does not know, or a case
  whose client the archive never saw registered: taken to be six (the youngest school age) at the
  file's opening, so the majority date is opening + 12 years;
- a client registered as not a minor: no majority rule, only the period after closing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from contracts.errors import InvalidInput
from services.runtime.settings import settings

MAJORITY_AGE = 18
YOUNGEST_SCHOOL_AGE = 6
YOUNGEST_AGE_OVER_GRADE = 5


@dataclass(frozen=True)
class Category:
    code: str
    label_zh: str
    label_en: str
    default_years: int
    reason: str
    minors_personal_content: bool


CATEGORIES: dict[str, Category] = {
    category.code: category
    for category in (
        Category(
            "GA", "个案", "case", 10,
            "Case files hold a minor's intake, assessment and disclosures (abuse, violence). Under "
            "the Civil Code (arts. 188, 191) a minor's claim for sexual abuse only starts to run "
            "at 18 and general claims run 3 years; 10 years after the later of closing and "
            "majority covers these with a margin for re-referral and follow-up.",
            True,
        ),
        Category(
            "XZ", "小组", "group", 10,
            "Group files hold members' attendance and group evaluations with students' personal "
            "content: kept as long as case files, members being minors of unknown age.",
            True,
        ),
        Category(
            "XX", "信件", "letter", 10,
            "Mailbox letters (8.2.2) are students' own disclosures, often the first sign of a "
            "risk: kept as long as case files.",
            True,
        ),
        Category(
            "KT", "课堂", "class", 3,
            "Class records hold a theme, codes and attendance counts only, no personal content; "
            "3 years covers the annual service reports and a project evaluation cycle.",
            False,
        ),
    )
}


def category_for(code: str) -> Category:
    return CATEGORIES[code]


def retention_years(category: str) -> int:
    """The configured minimum retention period of `category`, in years."""
    years = {code: c.default_years for code, c in CATEGORIES.items()}
    overrides = (part.strip() for part in settings().archive.retention_years.split(","))
    for item in filter(None, overrides):
        code, _, value = item.partition("=")
        if code.strip() not in CATEGORIES or not value.strip().isdigit():
            raise InvalidInput.from_messages(
                {"CASEBOOK_RETENTION_YEARS": [f"{item!r} is not CODE=YEARS with CODE one of "
                                              f"{', '.join(CATEGORIES)}."]}
            )
        years[code.strip()] = int(value)
    return years[category]


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def estimated_majority(
    category: str,
    opened_on: date,
    profile: dict[str, object] | None,
) -> date | None:
    """The date the file's client is taken to turn 18 (see the module docstring), or None when
    the majority rule does not apply."""
    if not CATEGORIES[category].minors_personal_content:
        return None
    if profile is not None and profile.get("is_minor") is False:
        return None
    grade = profile.get("grade") if profile else None
    if profile is not None and isinstance(grade, int):
        registered_on = profile["registered_on"]
        assert isinstance(registered_on, date)
        return add_years(registered_on, MAJORITY_AGE - (grade + YOUNGEST_AGE_OVER_GRADE))
    return add_years(opened_on, MAJORITY_AGE - YOUNGEST_SCHOOL_AGE)


def retention_end(category: str, closed_on: date | None, majority_on: date | None) -> date | None:
    """The last day of the retention period; None while the record is still open."""
    if closed_on is None:
        return None
    start = max(closed_on, majority_on) if majority_on else closed_on
    return add_years(start, retention_years(category))
