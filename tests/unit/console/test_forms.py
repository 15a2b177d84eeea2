"""How a posted form becomes a command, and a refusal the messages beside its fields."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from services.console import forms
from services.console.i18n import Localized
from services.console.web import Problem


def test_what_was_left_empty_is_left_out_so_the_commands_rules_apply():
    step = forms.STEP_BY_NAME["assessment"]
    body = forms.command(step, MultiDict({"assessed_on": "2026-09-04", "environment": "",
                                          "problems": "哭泣\n\n睡不好 \n", "causes": ""}))
    assert body == {"assessed_on": "2026-09-04", "problems": ["哭泣", "睡不好"], "causes": [],
                    "priorities": [], "strengths": []}


def test_a_plans_goals_and_an_outcomes_scores_take_the_shape_of_their_commands():
    plan = forms.command(forms.STEP_BY_NAME["plan"], MultiDict({"goals": "安心上课\n交朋友"}))
    assert plan["goals"] == [{"goal": "安心上课"}, {"goal": "交朋友"}]
    outcome = forms.command(forms.STEP_BY_NAME["outcome_evaluation"],
                            MultiDict({"goals.2": "-1", "goals.1": "2", "goals.3": ""}))
    assert outcome["goals"] == [{"goal_number": 1, "attainment": 2},
                                {"goal_number": 2, "attainment": -1}]
    assert outcome["kind"] == "outcome"


def test_a_number_that_is_not_one_goes_as_typed_for_the_service_to_refuse():
    body = forms.payload(forms.CLIENT, MultiDict({"grade": "七", "name": "李小红"}))
    assert body == {"grade": "七", "name": "李小红"}


def test_the_next_step_is_the_first_of_8_3_not_done():
    case = {"status": "active", "consent_given": True, "assessments": [{}], "plans": [],
            "interventions": [], "evaluations": []}
    assert forms.next_step(case).name == "plan"  # type: ignore[union-attr]
    assert forms.next_step({**case, "status": "closed"}) is None


def test_field_errors_go_beside_their_fields_and_missing_steps_are_listed():
    problem = Problem.of({
        "code": "invalid_input", "detail": "Invalid input.",
        "errors": {"grade": ["Must be greater than or equal to 1 and less than or equal to 12."],
                   "guardians": {"0": {"name": ["Missing data for required field."]}}},
    }, forms.CLIENT + forms.GUARDIAN)
    zh = Localized("zh_CN")
    assert [zh.message(m) for m in problem.beside["grade"]] == ["须在 1 到 12 之间。"]
    assert [zh.message(m) for m in problem.beside["guardian_name"]] == ["此项必填。"]

    refused = Problem.of({"code": "missing_step", "detail": "Cannot close: not yet done.",
                          "errors": {"missing_step": ["timing_agreed", "plan"]}},
                         forms.STEP_BY_NAME["closing"].fields)
    assert [zh.message(m) for m in refused.beside["timing_agreed"]] == ["尚未完成。"]
    assert refused.undone == [("missing_step", "plan")]
    assert zh.message(refused.summary) == "服务流程中尚有步骤未完成（8.2.1.1）。"


def test_a_rule_the_console_does_not_know_is_shown_as_the_service_said_it():
    problem = Problem.of({"code": "invalid_input",
                          "errors": {"notes": ["Contains a forbidden word."]}},
                         forms.STEP_BY_NAME["intervention"].fields)
    assert Localized("zh_CN").message(problem.beside["notes"][0]) == (
        "不符合规则：Contains a forbidden word.")
