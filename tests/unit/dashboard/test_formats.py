"""How API numbers are written: copied, never recomputed."""

from __future__ import annotations

from typing import Any

import pytest

from appraisal.dashboard.formats import beijing_time, display, reason_text, reason_value, yuan
from appraisal.dashboard.i18n import Lang, Translator

pytestmark = pytest.mark.unit

ZH, EN = Translator(Lang.ZH), Translator(Lang.EN)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "—"),
        (12, "12"),
        (0, "0"),
        (95.0, "95.00"),
        (88.53, "88.53"),
        (True, "true"),
        ("x", "x"),
    ],
)
def test_counts_stay_whole_and_measures_get_two_decimals(value: Any, shown: str) -> None:
    assert display(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "—"), (0, "0.00"), (18000.0, "18,000.00"), (1234567.5, "1,234,567.50")],
)
def test_yuan_are_written_to_the_fen_with_separators(value: float | None, shown: str) -> None:
    assert yuan(value) == shown


def test_reason_values_name_verdicts_in_the_page_language() -> None:
    assert reason_value("RECTIFY", ZH) == "整改"
    assert reason_value("RECTIFY", EN) == "Rectify"
    assert reason_value(3.5, ZH) == "3.50"
    reason = {"observed": 7, "threshold": 6, "message_zh": "未达标", "message_en": "short"}
    assert reason_text(reason, ZH) == "未达标（实际值 7，阈值 6）"
    assert reason_text(reason, EN) == "short (observed 7, threshold 6)"


def test_issue_times_are_shown_in_beijing_time() -> None:
    assert beijing_time("2025-01-04T18:30:00+00:00") == "2025-01-05 02:30:00"
