"""The mailbox's and groups' own logic in the console: a letter's days past its reply deadline
(8.2.2), goal attainment scores as typed (10.2.2), a name for each kind of group."""

from __future__ import annotations

from datetime import date

from contracts.events.cases import GROUP_KINDS
from services.console.activities import GROUP_KIND_LABELS, overdue_days, scores

LETTER = {"letter_id": "l-1", "received_on": "2026-09-01", "reply_due_on": "2026-09-08",
          "answered_on": None}


def test_an_unanswered_letter_is_overdue_by_the_days_past_its_deadline():
    assert overdue_days(LETTER, date(2026, 9, 8)) == 0  # the deadline day itself is in time
    assert overdue_days(LETTER, date(2026, 9, 11)) == 3


def test_an_answered_letter_is_never_overdue():
    assert overdue_days({**LETTER, "answered_on": "2026-09-20"}, date(2026, 10, 1)) == 0


def test_scores_are_whole_numbers_with_either_minus_and_anything_else_as_typed():
    assert scores(["1", "+2", "-1", "−2", "－1", "0"]) == [1, 2, -1, -2, -1, 0]
    assert scores(["much better", "1.5"]) == ["much better", "1.5"]


def test_every_kind_of_group_has_a_name_of_its_own():
    assert set(GROUP_KIND_LABELS) == set(GROUP_KINDS)
