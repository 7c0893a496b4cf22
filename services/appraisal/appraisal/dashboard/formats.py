"""How the API's numbers are written on pages and in reports (no arithmetic on them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from appraisal.dashboard.i18n import VERDICTS, Lang, Translator

MISSING = "—"
BEIJING = ZoneInfo("Asia/Shanghai")


def display(value: Any) -> str:
    """Counts as integers, measured values with 2 decimals, nothing as a dash."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def yuan(value: float | int | None) -> str:
    """An amount in yuan to the fen, with thousands separators."""
    return MISSING if value is None else f"{value:,.2f}"


def reason_value(value: Any, t: Translator) -> str:
    """A reason's observed value or threshold: a number, or a verdict named in the page language."""
    if isinstance(value, str) and value in VERDICTS:
        return t.term("verdict", value)
    return display(value)


def reason_text(reason: dict[str, Any], t: Translator) -> str:
    """A reason on one line: its explanation, observed value and threshold."""
    observed = reason_value(reason["observed"], t)
    threshold = reason_value(reason["threshold"], t)
    if t.lang is Lang.ZH:
        return f"{t.message(reason)}（实际值 {observed}，阈值 {threshold}）"
    return f"{t.message(reason)} (observed {observed}, threshold {threshold})"


def beijing_time(iso: str) -> str:
    """An RFC 3339 instant as Beijing wall-clock time, to the second."""
    return datetime.fromisoformat(iso).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
