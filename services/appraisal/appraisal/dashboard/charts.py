"""Server-side SVG charts (pygal) for the dashboard: no JavaScript, no external resources.

Charts plot the API's values as they are; every chart has a data table next to
it on the page, so nothing is only in the picture.
"""

from __future__ import annotations

import math
import re
from html import escape
from typing import Any

import pygal
from pygal.style import Style

from appraisal.dashboard.i18n import Translator

# Debian's fonts-wqy-microhei first: without a CJK font, Chinese labels render as boxes.
FONT_FAMILY = '"WenQuanYi Micro Hei","Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif'

_STYLE: dict[str, Any] = {
    "background": "transparent",
    "plot_background": "#ffffff",
    "foreground": "#1f2933",
    "foreground_strong": "#1f2933",
    "foreground_subtle": "#9aa5b1",
    "colors": ("#1f6feb", "#2da44e", "#cf222e", "#8250df"),
    "title_font_size": 16,
    "legend_font_size": 13,
    "label_font_size": 12,
    "major_label_font_size": 12,
    **{
        f"{part}font_family": FONT_FAMILY
        for part in (
            *("", "label_", "major_label_", "value_", "value_label_"),
            *("tooltip_", "title_", "legend_", "no_data_"),
        )
    },
}
STYLE = Style(**_STYLE)
# The monthly requirement is drawn as the only major y guide: a dashed red line.
LEDGER_STYLE = Style(
    **{**_STYLE, "major_guide_stroke_color": "#cf222e", "major_guide_stroke_dasharray": "8,5"}
)

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# pygal always embeds its config for the tooltip script; pages run no script, so drop it.
# (etree escapes "<" in text, so a chart label can never end the element early.)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)


def _config(title: str, **options: Any) -> dict[str, Any]:
    return {
        "title": title,
        "style": STYLE,
        "js": [],  # pygal links its tooltip script from a CDN by default
        "disable_xml_declaration": True,
        "width": 760,
        "height": 320,
        "legend_at_bottom": True,
        "print_zeroes": False,
        **options,
    }


def _svg(chart: Any, label: str) -> str:
    # The generator comments carry a render date: drop them so pages are stable.
    svg = _SCRIPT.sub("", _COMMENT.sub("", chart.render(is_unicode=True)))
    return svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)


def integer_ticks(top: float, must_include: float | None = None) -> list[float]:
    """Whole-number axis labels from 0 to at least `top`, at most about 10 of them."""
    step = next((n for n in (1, 2, 5, 10, 20, 50, 100, 200, 500) if top / n <= 10), 1000)
    ticks: list[float] = list(range(0, math.ceil(top / step) * step + 1, step))
    if must_include is not None and must_include not in ticks:
        ticks = sorted([*ticks, must_include])
    return ticks


def score_distribution_chart(summary: dict[str, Any], t: Translator) -> str:
    """Assignments per 10-point score range, from the county summary."""
    title = t("score_distribution")
    buckets = summary["score_distribution"]
    chart = pygal.Bar(
        **_config(
            title,
            show_legend=False,
            x_title=t("score_range"),
            y_title=t("count"),
            y_labels=integer_ticks(max([1, *(b["count"] for b in buckets)])),
        )
    )
    chart.x_labels = [f"{b['from']}–{b['to']}" for b in buckets]
    chart.add(t("count"), [b["count"] for b in buckets])
    return _svg(chart, title)


def ledger_chart(months: list[dict[str, Any]], requirement_hours: float, t: Translator) -> str:
    """On-site hours and capped off-site credit per month, stacked, against the requirement.

    pygal draws no bar-and-line combination, so the requirement is the one major
    y guide (a dashed red line, see `LEDGER_STYLE`) with a legend entry of its own.
    """
    title = t("monthly_ledger")
    tallest = max([0, *(m["onsite_hours"] + m["capped_credit_hours"] for m in months)])
    chart = pygal.StackedBar(
        **_config(
            title,
            style=LEDGER_STYLE,
            x_title=t("month"),
            y_title=t("hours"),
            y_labels=integer_ticks(max(tallest, requirement_hours * 1.5), requirement_hours),
            y_labels_major=[requirement_hours],
        )
    )
    chart.x_labels = [m["month"][-2:] for m in months]
    chart.add(t("onsite_hours"), [m["onsite_hours"] for m in months])
    chart.add(t("capped_credit"), [m["capped_credit_hours"] for m in months])
    chart.add(t("requirement_line", hours=requirement_hours), [None] * len(months))
    return _svg(chart, title)
