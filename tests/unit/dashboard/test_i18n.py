"""Every label exists in Chinese and English, with the domain's own terms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from appraisal.dashboard import i18n
from appraisal.dashboard.i18n import LABELS, VOCABULARIES, Lang, Translator

pytestmark = pytest.mark.unit

TEMPLATES = Path(i18n.__file__).parent / "templates"
ZH, EN = Translator(Lang.ZH), Translator(Lang.EN)


@pytest.mark.parametrize(
    ("vocabulary", "code", "zh"),
    [
        ("verdict", "RETAIN", "保留"),
        ("verdict", "RECTIFY", "整改"),
        ("verdict", "REPLACE", "调整"),
        ("verdict", "NOT_RATED", "不予评定"),
        ("grade", "EXCELLENT", "优秀"),
        ("grade", "COMPETENT", "合格"),
        ("grade", "BASIC", "基本合格"),
        ("grade", "FAIL", "不合格"),
        ("award", "social_responsibility", "社会责任贡献奖"),
        ("award", "public_welfare", "公益爱心奖"),
    ],
)
def test_domain_terms_are_the_ones_bureaus_use(vocabulary: str, code: str, zh: str) -> None:
    assert ZH.term(vocabulary, code) == zh
    assert EN.term(vocabulary, code) not in ("", zh)


def test_every_label_and_term_has_both_languages() -> None:
    tables = {"labels": LABELS, **VOCABULARIES}
    for name, table in tables.items():
        for key, (zh, en) in table.items():
            assert zh.strip(), (name, key)
            assert en.strip(), (name, key)
            if key not in {"switch_to", "switch_title", "colon"}:  # written for the other reader
                assert re.search(r"[\u4e00-\u9fff]", zh), (name, key)


def test_the_nineteen_indicators_of_the_read_api_are_all_named() -> None:
    assert list(i18n.INDICATORS) == [
        "months_served", "months_compliant", "onsite_hours", "offsite_credit_hours",
        "lectures", "night_holiday_lectures", "mediations", "consultations", "documents",
        "committee_advice", "legal_aid_referrals", "responsiveness", "ratings", "rating_mean",
        "satisfaction_bayes", "substantiated_complaints", "inspections", "inspections_passed",
        "public_interest_hours",
    ]  # fmt: skip


def test_every_label_a_template_asks_for_exists() -> None:
    used = {
        key
        for template in TEMPLATES.glob("*.html")
        for key in re.findall(r"""\bt\(\s*["'](\w+)["']""", template.read_text("utf-8"))
    }
    assert used, "the templates name their labels"
    assert used <= set(LABELS), used - set(LABELS)


def test_sheet_titles_fit_excel_and_unknown_codes_show_as_they_are() -> None:
    for t in (ZH, EN):
        for category in i18n.AWARD_SHEETS:
            assert len(t.term("award_sheet", category)) <= 31
        for key in ("summary_sheet", "assignments_sheet", "ledger_sheet"):
            assert len(t(key)) <= 31
    assert ZH.term("verdict", "SOMETHING_NEW") == "SOMETHING_NEW"
    assert ZH.term("grade", None) == "—"


@pytest.mark.parametrize(
    ("asked", "lang"),
    [
        (None, Lang.ZH),
        ("", Lang.ZH),
        ("zh", Lang.ZH),
        ("en", Lang.EN),
        ("EN-us", Lang.EN),
        ("fr", Lang.ZH),
    ],
)
def test_pages_are_chinese_unless_english_is_asked_for(asked: str | None, lang: Lang) -> None:
    assert Lang.of(asked) is lang


def test_messages_and_placeholders_follow_the_language() -> None:
    reason = {"message_zh": "中文", "message_en": "English"}
    assert (ZH.message(reason), EN.message(reason)) == ("中文", "English")
    assert ZH("requirement_line", hours=4) == "每月要求 4 小时"
    assert EN("requirement_line", hours=4) == "Monthly requirement 4 h"
    assert (ZH.yes_no(True), EN.yes_no(False)) == ("是", "no")
