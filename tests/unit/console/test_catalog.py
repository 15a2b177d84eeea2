"""Chinese first: every string the console shows, in its templates or its code, has a zh_CN
translation. The strings are extracted with Babel exactly as `pybabel extract` does with
services/console/babel.cfg, and compared with the catalog."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from services.console.i18n import EVENTS, LABELS, PROBLEMS, Localized, catalog, field_message

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "services" / "console" / "babel.cfg"


def extracted() -> set[str]:
    with CONFIG.open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    return {message if isinstance(message, str) else message[0]
            for _, _, message, _, _ in extract_from_dir(
                str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS)}


def test_the_extraction_finds_the_templates_and_the_code():
    strings = extracted()
    assert "My caseload" in strings  # a template's
    assert LABELS["case_work"] in strings and EVENTS["Opened"] in strings  # the code's


def test_every_string_the_console_shows_has_a_zh_cn_translation():
    translated = {message.id: message for message in catalog("zh_CN") if message.id}
    untranslated = sorted(text for text in extracted()
                          if text not in translated or not translated[text].string
                          or translated[text].fuzzy)
    assert untranslated == [], (
        "Strings without a zh_CN translation: add them to the catalog of their pages in "
        "services/console/locale/zh_CN/LC_MESSAGES/ (docs/console.md):\n"
        + "\n".join(untranslated))


def test_each_translation_keeps_the_placeholders_of_its_source():
    problems = [(message.id, errors) for message, errors in catalog("zh_CN").check() if errors]
    assert problems == []


def test_a_problem_code_shows_in_chinese_and_on_request_in_english():
    zh, en = Localized("zh_CN"), Localized("en")
    assert zh.gettext(PROBLEMS["missing_step"]) == "服务流程中尚有步骤未完成（8.2.1.1）。"
    assert en.gettext(PROBLEMS["missing_step"]) == PROBLEMS["missing_step"]
    assert zh.label("case_work") == "个案工作"
    assert zh.service_code("7.1.3a").startswith("7.1.3a 科学")


def test_instants_are_shown_on_beijing_time():
    assert Localized("zh_CN").datetime("2026-09-01T16:30:00+00:00") == "2026年9月2日 00:30:00"
    assert Localized("zh_CN").date("2026-09-01") == "2026年9月1日"


def test_the_cases_services_own_field_rules_show_in_chinese_with_their_details():
    zh = Localized("zh_CN")
    assert zh.message(field_message("Not members of the group: c-1, c-2.")) == (
        "以下人员不是小组成员：c-1, c-2。")
    assert zh.message(field_message("The client belongs to another school.")) == (
        "该服务对象属于其他学校。")


def test_the_resources_services_quantity_rules_show_in_chinese_with_their_count():
    zh = Localized("zh_CN")
    assert [zh.message(field_message(f"Must not exceed the 3 {step}.")) for step in (
        "requested", "offered", "delivered")] == [
        "不得超过申请的 3 个。", "不得超过提供的 3 个。", "不得超过交付的 3 个。"]


def test_an_archive_files_sections_are_said_by_their_labels_in_either_language():
    sections = ["basic_information", "evaluation_reports"]
    assert Localized("zh_CN").file_sections(sections) == "基本信息、评估报告"
    assert Localized("en").file_sections(sections) == "Basic information, Evaluation reports"
