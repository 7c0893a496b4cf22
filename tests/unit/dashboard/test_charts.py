"""The SVG charts: self-contained, script-free, labelled in the page language."""

from __future__ import annotations

import re

import pytest

from appraisal.dashboard.charts import integer_ticks, ledger_chart, score_distribution_chart
from appraisal.dashboard.i18n import Lang, Translator
from tests.unit.dashboard import bodies

pytestmark = pytest.mark.unit

ZH, EN = Translator(Lang.ZH), Translator(Lang.EN)


def _self_contained(svg: str) -> None:
    assert svg.startswith("<svg ")
    assert 'role="img"' in svg
    assert "<script" not in svg
    assert "<!--" not in svg
    # No stylesheet, font or image fetched from anywhere (the namespace is not a fetch).
    assert re.findall(r"https?://", svg.replace("http://www.w3.org/", "")) == []
    assert "WenQuanYi Micro Hei" in svg


@pytest.mark.parametrize("t", [ZH, EN])
def test_the_score_distribution_is_a_self_contained_svg(t: Translator) -> None:
    svg = score_distribution_chart(bodies.summary(), t)
    _self_contained(svg)
    assert t("score_distribution") in svg
    assert "90–100" in svg


@pytest.mark.parametrize("t", [ZH, EN])
def test_the_ledger_chart_shows_hours_credit_and_the_requirement(t: Translator) -> None:
    months = bodies.county()["assignments"][0]["ledger"]
    svg = ledger_chart(months, 4, t)
    _self_contained(svg)
    for label in (t("onsite_hours"), t("capped_credit"), t("requirement_line", hours=4)):
        assert label in svg
    assert 'class="major guide line"' in svg, "the requirement is the one major guide"


@pytest.mark.parametrize(
    ("top", "requirement", "ticks"),
    [
        (0.5, None, [0, 1]),
        (6, 4, [0, 1, 2, 3, 4, 5, 6]),
        (11, None, [0, 2, 4, 6, 8, 10, 12]),
        (23, 4, [0, 4, 5, 10, 15, 20, 25]),
        (310, None, [0, 50, 100, 150, 200, 250, 300, 350]),
    ],
)
def test_axis_ticks_are_whole_numbers_and_include_the_requirement(
    top: float, requirement: float | None, ticks: list[float]
) -> None:
    assert integer_ticks(top, requirement) == ticks
