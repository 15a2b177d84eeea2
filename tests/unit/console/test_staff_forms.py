"""The staff forms' refusals (supervisor.py): the supervision service's own rules are said in
the locale's words beside their fields, and a rule the console does not know stays as it came;
a survey's mean score typed as read and sent in thousandths (school_admin.py)."""

from __future__ import annotations

from services.console.forms import Field
from services.console.i18n import Localized
from services.console.school_admin import SURVEY, permille
from services.console.supervisor import TRAINING, reworded, session_fields
from services.console.web import Problem


def beside(errors: dict[str, list[str]], locale: str = "zh_CN",
           fields: tuple[Field, ...] = session_fields(("w-1",)) + TRAINING,
           ) -> dict[str, list[str]]:
    problem = reworded(Problem.of({"code": "invalid_input", "errors": errors}, fields))
    text = Localized(locale)
    return {name: [text.message(m) for m in messages] for name, messages in problem.beside.items()}


def test_the_services_own_rules_are_said_in_chinese():
    assert beside({
        "kinds": ["Give at least one kind: administrative, educational, supportive."],
        "topics": ["Give at least one topic (6.2.1.3)."],
        "format": ["An individual session has exactly one supervisee."],
        "held_on": ["Must not be in the future (2026-12-04)."],
        "completed_on": ["Continuing education must not predate registration (2026-09-01)."],
    }) == {
        "kinds": ["请至少选择一种督导类型。"],
        "topics": ["请至少选择一项培训内容（6.2.1.3）。"],
        "format": ["个别督导只能有一名被督导者。"],
        "held_on": ["不得晚于今天。"],
        "completed_on": ["继续教育不得早于登记日期（2026-09-01）。"],
    }


def test_marshmallows_rules_keep_their_words_and_an_unknown_rule_stays_as_it_came():
    assert beside({"minutes": ["Missing data for required field."],
                   "kind": ["Something new."]}, "en") == {
        "minutes": ["Required."], "kind": ["Breaks a rule: Something new."]}


def test_a_mean_score_is_sent_in_thousandths_and_what_is_not_a_number_as_typed():
    assert permille("4.25") == 4250
    assert permille("5") == 5000
    assert permille("4.2505") == 4250  # to the nearest thousandth, half to even
    assert permille("四点五") == "四点五"


def test_more_satisfied_than_asked_is_said_in_chinese():
    assert beside({"satisfied_count": ["Must not exceed respondent_count (10)."]},
                  fields=SURVEY) == {
        "satisfied_count": ["不得多于调查人数（10）。"]}
