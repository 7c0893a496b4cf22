"""Read-API-shaped bodies (DESIGN §7.1) for testing the dashboard's pure parts."""

from __future__ import annotations

from typing import Any

from appraisal.dashboard.i18n import INDICATORS

COUNTY = "440115"
YEAR = 2024


def reason(code: str, observed: Any, threshold: Any) -> dict[str, Any]:
    return {
        "code": code,
        "observed": observed,
        "threshold": threshold,
        "message_zh": f"{code} 中文说明",
        "message_en": f"{code} in English",
    }


def month(m: int, onsite: float, credit: float) -> dict[str, Any]:
    return {
        "month": f"{YEAR}-{m:02d}",
        "active_days": 31,
        "served": True,
        "onsite_hours": onsite,
        "raw_credit_hours": credit,
        "capped_credit_hours": min(credit, 2.0),
        "has_onsite_interval": onsite > 0,
        "compliant": onsite + min(credit, 2.0) >= 4,
    }


def assignment(
    advisor_id: str,
    verdict: str,
    grade: str | None,
    score: float | None,
    subsidy: float | None,
    reasons: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    indicators: dict[str, Any] = dict.fromkeys(INDICATORS, 0)
    indicators.update(months_served=12, onsite_hours=48.0, responsiveness=1.0, rating_mean=None)
    return {
        "county_id": COUNTY,
        "advisor_id": advisor_id,
        "village_id": "V-" + advisor_id,
        "year": YEAR,
        "provisional": False,
        "verdict": verdict,
        "grade": grade,
        "score": score,
        "subsidy_yuan": subsidy,
        "reasons": reasons or [],
        "indicators": indicators,
        "ledger": [month(1, 4.0, 0.0), month(2, 3.0, 1.5)],
        "version": 1,
        "policy_id": "builtin-default-v1",
    }


def county() -> dict[str, Any]:
    return {
        "county_id": COUNTY,
        "year": YEAR,
        "closed": True,
        "policy_id": "builtin-default-v1",
        "assignments": [
            assignment("A-1", "RETAIN", "EXCELLENT", 95.0, 20000.0),
            assignment(
                "A-2",
                "REPLACE",
                "COMPETENT",
                77.5,
                18000.0,
                [reason("NONCOMPLIANT_MONTHS_6_PLUS", 7, 6)],
            ),
            assignment(
                "A-3", "NOT_RATED", None, None, None, [reason("INSUFFICIENT_SERVICE", 2, 3)]
            ),
        ],
    }


def summary() -> dict[str, Any]:
    return {
        "county_id": COUNTY,
        "year": YEAR,
        "closed": True,
        "policy_id": "builtin-default-v1",
        "assignments": 3,
        "advisors": 3,
        "verdicts": {"RETAIN": 1, "RECTIFY": 0, "REPLACE": 1, "NOT_RATED": 1},
        "grades": {"EXCELLENT": 1, "COMPETENT": 1, "BASIC": 0, "FAIL": 0},
        "score_distribution": [
            {"from": low, "to": low + 10, "count": {70: 1, 90: 1}.get(low, 0)}
            for low in range(0, 100, 10)
        ],
        "subsidy_total_yuan": 38000.0,
        "villages_registered": 4,
        "villages_without_advisor": ["V-EMPTY"],
        "advisors_over_load_limit": [],
    }


def shortlist(category: str) -> dict[str, Any]:
    return {
        "county_id": COUNTY,
        "year": YEAR,
        "category": category,
        "policy_id": "builtin-default-v1",
        "eligible": 1,
        "entries": [
            {
                "rank": 1,
                "advisor_id": "A-1",
                "name": "张明",
                "value": 95.0,
                "score": 95.0,
                "satisfaction_bayes": 4.2,
                "ratings": 12,
            }
        ],
        "excluded": [
            {"advisor_id": "A-2", "reasons": [reason("VERDICT_NOT_RETAIN", 1, 0)]},
        ],
    }
