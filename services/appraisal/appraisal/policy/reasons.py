"""Reasons that explain a verdict or an award exclusion, in Chinese and English."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["ExclusionCode", "Reason", "ReasonCode", "ReasonValue", "exclusion", "reason"]

ReasonValue = int | Decimal | str
"""An observed value or threshold: a count, a rounded exact value, or a verdict name."""


class ReasonCode(enum.StrEnum):
    """Verdict reason codes of DESIGN §7.1, in precedence order (REPLACE first)."""

    GRADE_FAIL = "GRADE_FAIL"
    COMPLAINTS_2_PLUS = "COMPLAINTS_2_PLUS"
    NONCOMPLIANT_MONTHS_6_PLUS = "NONCOMPLIANT_MONTHS_6_PLUS"
    CONSECUTIVE_RECTIFY = "CONSECUTIVE_RECTIFY"
    GRADE_BASIC = "GRADE_BASIC"
    COMPLAINT_1 = "COMPLAINT_1"
    NONCOMPLIANT_MONTHS_3_PLUS = "NONCOMPLIANT_MONTHS_3_PLUS"
    LECTURES_SHORT = "LECTURES_SHORT"
    NIGHT_HOLIDAY_LECTURES_SHORT = "NIGHT_HOLIDAY_LECTURES_SHORT"
    LOW_SATISFACTION = "LOW_SATISFACTION"
    INSPECTIONS_FAILED = "INSPECTIONS_FAILED"
    INSUFFICIENT_SERVICE = "INSUFFICIENT_SERVICE"


class ExclusionCode(enum.StrEnum):
    """Why an advisor is not eligible for the lawyer-association awards."""

    NO_RATED_ASSIGNMENT = "NO_RATED_ASSIGNMENT"
    VERDICT_NOT_RETAIN = "VERDICT_NOT_RETAIN"
    SUBSTANTIATED_COMPLAINTS = "SUBSTANTIATED_COMPLAINTS"
    TOO_FEW_RATINGS = "TOO_FEW_RATINGS"
    SCORE_BELOW_MINIMUM = "SCORE_BELOW_MINIMUM"


@dataclass(frozen=True, slots=True)
class Reason:
    """One triggered rule: what was observed, against which threshold, in both languages."""

    code: ReasonCode | ExclusionCode
    observed: ReasonValue
    threshold: ReasonValue
    message_zh: str
    message_en: str


_VERDICT_MESSAGES: dict[ReasonCode, tuple[str, str]] = {
    ReasonCode.GRADE_FAIL: (
        "考核得分 {observed} 分，低于基本合格线 {threshold} 分（不合格），应予调整",
        "score {observed} is below the pass mark {threshold} (grade FAIL): replace",
    ),
    ReasonCode.COMPLAINTS_2_PLUS: (
        "经查实投诉 {observed} 件，达到调整线 {threshold} 件，应予调整",
        "{observed} substantiated complaints, at or above the limit of {threshold}: replace",
    ),
    ReasonCode.NONCOMPLIANT_MONTHS_6_PLUS: (
        "履职未达标月份 {observed} 个，达到调整线 {threshold} 个，应予调整",
        "{observed} served months short of the duty requirement, at or above the limit of "
        "{threshold}: replace",
    ),
    ReasonCode.CONSECUTIVE_RECTIFY: (
        "连续 {observed} 年应予整改（上一年度已整改），达到调整线 {threshold} 年，应予调整",
        "{observed} consecutive years of RECTIFY (last year's included), at the limit of "
        "{threshold}: replace",
    ),
    ReasonCode.GRADE_BASIC: (
        "考核得分 {observed} 分，低于合格线 {threshold} 分（基本合格），应予整改",
        "score {observed} is below {threshold} (grade BASIC): rectify",
    ),
    ReasonCode.COMPLAINT_1: (
        "经查实投诉 {observed} 件，应予整改",
        "{observed} substantiated complaint (threshold {threshold}): rectify",
    ),
    ReasonCode.NONCOMPLIANT_MONTHS_3_PLUS: (
        "履职未达标月份 {observed} 个，达到整改线 {threshold} 个，应予整改",
        "{observed} served months short of the duty requirement, at or above {threshold}: rectify",
    ),
    ReasonCode.LECTURES_SHORT: (
        "法治讲座 {observed} 场，少于要求的 {threshold} 场，应予整改",
        "{observed} lectures, fewer than the required {threshold}: rectify",
    ),
    ReasonCode.NIGHT_HOLIDAY_LECTURES_SHORT: (
        "夜间或节假日讲座 {observed} 场，少于要求的 {threshold} 场，应予整改",
        "{observed} night/holiday lectures, fewer than the required {threshold}: rectify",
    ),
    ReasonCode.LOW_SATISFACTION: (
        "群众评价平均分 {observed}，低于 {threshold}，应予整改",
        "mean citizen rating {observed} is below {threshold}: rectify",
    ),
    ReasonCode.INSPECTIONS_FAILED: (
        "司法所月度检查通过率 {observed}，低于 {threshold}，应予整改",
        "monthly inspection pass ratio {observed} is below {threshold}: rectify",
    ),
    ReasonCode.INSUFFICIENT_SERVICE: (
        "本年度履职月份 {observed} 个，少于 {threshold} 个，不予评定",
        "served {observed} months, fewer than {threshold}: not rated",
    ),
}

_EXCLUSION_MESSAGES: dict[ExclusionCode, tuple[str, str]] = {
    ExclusionCode.NO_RATED_ASSIGNMENT: (
        "本年度没有参加评定的服务村（社区）",
        "no rated assignment this year ({observed} of at least {threshold})",
    ),
    ExclusionCode.VERDICT_NOT_RETAIN: (
        "{observed} 个服务村（社区）考核结论不是保留",
        "{observed} rated assignments are not RETAIN (allowed: {threshold})",
    ),
    ExclusionCode.SUBSTANTIATED_COMPLAINTS: (
        "经查实投诉 {observed} 件，超过 {threshold} 件",
        "{observed} substantiated complaints (allowed: {threshold})",
    ),
    ExclusionCode.TOO_FEW_RATINGS: (
        "有效群众评价 {observed} 条，少于 {threshold} 条",
        "{observed} valid ratings, fewer than {threshold}",
    ),
    ExclusionCode.SCORE_BELOW_MINIMUM: (
        "顾问综合得分 {observed} 分，低于 {threshold} 分",
        "advisor score {observed} is below {threshold}",
    ),
}


def reason(code: ReasonCode, observed: ReasonValue, threshold: ReasonValue) -> Reason:
    """A verdict reason with its bilingual messages."""
    zh, en = _VERDICT_MESSAGES[code]
    return Reason(
        code,
        observed,
        threshold,
        zh.format(observed=observed, threshold=threshold),
        en.format(observed=observed, threshold=threshold),
    )


def exclusion(code: ExclusionCode, observed: ReasonValue, threshold: ReasonValue) -> Reason:
    """An award exclusion reason with its bilingual messages."""
    zh, en = _EXCLUSION_MESSAGES[code]
    return Reason(
        code,
        observed,
        threshold,
        zh.format(observed=observed, threshold=threshold),
        en.format(observed=observed, threshold=threshold),
    )
