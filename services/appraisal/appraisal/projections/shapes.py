"""How rule results look in the read models and on the verdict topic (DESIGN §7.1).

Display numbers are rounded half-up to the policy's places (2 by default) and
written as JSON numbers; exact values stay available as "n/d" strings for audit.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from fractions import Fraction
from typing import Any

from appraisal.policy import (
    AdvisorYearAppraisal,
    AssignmentAppraisal,
    AwardCandidate,
    AwardShortlist,
    MonthLedger,
    Reason,
    Verdict,
    report_value,
)

PLACES = 2


def number(value: Fraction | Decimal | int | None) -> float | int | None:
    """A display number: ints stay ints, the rest rounded half-up to 2 places."""
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return float(report_value(value, PLACES))


def exact(value: Fraction | None) -> str | None:
    return None if value is None else f"{value.numerator}/{value.denominator}"


def parse_exact(text: str | None) -> Fraction | None:
    return None if text is None else Fraction(text)


def reason_body(reason: Reason) -> dict[str, Any]:
    return {
        "code": str(reason.code),
        "observed": number(reason.observed)
        if not isinstance(reason.observed, str)
        else reason.observed,
        "threshold": number(reason.threshold)
        if not isinstance(reason.threshold, str)
        else reason.threshold,
        "message_zh": reason.message_zh,
        "message_en": reason.message_en,
    }


def _ledger_row(row: MonthLedger) -> dict[str, Any]:
    return {
        "month": row.month,
        "active_days": row.active_days,
        "served": row.served,
        "onsite_hours": number(row.onsite_hours),
        "raw_credit_hours": number(row.raw_credit_hours),
        "capped_credit_hours": number(row.capped_credit_hours),
        "has_onsite_interval": row.has_onsite_interval,
        "compliant": row.compliant,
    }


def assignment_body(
    a: AssignmentAppraisal, county_id: str, *, provisional: bool, version: int
) -> dict[str, Any]:
    """The §7.1 `Appraisal`, plus the monthly ledger, score parts and audit ids."""
    ind = a.indicators
    return {
        "county_id": county_id,
        "advisor_id": a.advisor_id,
        "village_id": a.village_id,
        "year": a.year,
        "provisional": provisional,
        "verdict": str(a.verdict),
        "grade": None if a.grade is None else str(a.grade),
        "score": number(a.score_report),
        "score_exact": exact(a.score),
        "subsidy_yuan": number(a.subsidy_yuan),
        "reasons": [reason_body(r) for r in a.reasons],
        "indicators": {
            "months_served": ind.months_served,
            "months_compliant": ind.months_compliant,
            "onsite_hours": number(ind.onsite_hours),
            "offsite_credit_hours": number(ind.offsite_credit_hours),
            "lectures": ind.lectures,
            "night_holiday_lectures": ind.night_holiday_lectures,
            "mediations": ind.mediations,
            "consultations": ind.consultations,
            "documents": ind.documents,
            "committee_advice": ind.committee_advice,
            "legal_aid_referrals": ind.legal_aid_referrals,
            "responsiveness": number(ind.responsiveness),
            "ratings": ind.ratings,
            "rating_mean": number(ind.rating_mean),
            "satisfaction_bayes": number(ind.satisfaction_bayes),
            "substantiated_complaints": ind.substantiated_complaints,
            "inspections": ind.inspections,
            "inspections_passed": ind.inspections_passed,
            "public_interest_hours": number(ind.public_interest_hours),
        },
        "requirements": {
            "lectures": a.requirements.lectures,
            "night_holiday_lectures": a.requirements.night_holiday_lectures,
            "mediations": a.requirements.mediations,
            "consultations": a.requirements.consultations,
            "governance": a.requirements.governance,
        },
        "score_parts": None
        if a.score_parts is None
        else {
            name: number(getattr(a.score_parts, name))
            for name in (
                "duty_compliance",
                "lectures",
                "mediations",
                "consultations",
                "governance",
                "responsiveness",
                "satisfaction",
                "inspections",
                "complaints",
            )
        },
        "ledger": [_ledger_row(row) for row in a.ledger],
        "previous_verdict": None if a.previous_verdict is None else str(a.previous_verdict),
        "calendar_exact": a.calendar_exact,
        "unassigned_event_ids": [str(i) for i in a.unassigned_event_ids],
        "invalid_rating_event_ids": [str(i) for i in a.invalid_rating_event_ids],
        "duplicate_rating_event_ids": [str(i) for i in a.duplicate_rating_event_ids],
        "version": version,
        "policy_id": a.policy_id,
    }


def candidate_body(c: AwardCandidate) -> dict[str, Any]:
    return {
        "advisor_id": c.advisor_id,
        "name": c.name,
        "rated_verdicts": [str(v) for v in c.rated_verdicts],
        "substantiated_complaints": c.substantiated_complaints,
        "ratings": c.ratings,
        "score": exact(c.score),
        "satisfaction_bayes": exact(c.satisfaction_bayes),
        "public_interest_hours": exact(c.public_interest_hours),
        "first_appointed_on": None
        if c.first_appointed_on is None
        else c.first_appointed_on.isoformat(),
    }


def candidate_from_body(body: dict[str, Any]) -> AwardCandidate:
    from datetime import date

    first = body["first_appointed_on"]
    bayes = parse_exact(body["satisfaction_bayes"])
    hours = parse_exact(body["public_interest_hours"])
    assert bayes is not None
    assert hours is not None
    return AwardCandidate(
        advisor_id=body["advisor_id"],
        name=body["name"],
        rated_verdicts=tuple(Verdict(v) for v in body["rated_verdicts"]),
        substantiated_complaints=body["substantiated_complaints"],
        ratings=body["ratings"],
        score=parse_exact(body["score"]),
        satisfaction_bayes=bayes,
        public_interest_hours=hours,
        first_appointed_on=None if first is None else date.fromisoformat(first),
    )


def advisor_year_body(ay: AdvisorYearAppraisal, county_id: str) -> dict[str, Any]:
    return {
        "advisor_id": ay.advisor_id,
        "year": ay.year,
        "county_id": county_id,
        "name": ay.name,
        "policy_id": ay.policy_id,
        "score": number(ay.score_report),
        "score_exact": exact(ay.score),
        "eligible_for_awards": ay.eligible_for_awards,
        "award_exclusions": [reason_body(r) for r in ay.award_exclusions],
        "satisfaction_bayes": number(ay.satisfaction_bayes),
        "ratings": ay.ratings,
        "substantiated_complaints": ay.substantiated_complaints,
        "public_interest_hours": number(ay.public_interest_hours),
        "first_appointed_on": None
        if ay.first_appointed_on is None
        else ay.first_appointed_on.isoformat(),
        "most_villages_at_once": ay.most_villages_at_once,
        "load_flagged": ay.load_flagged,
        "villages": [a.village_id for a in ay.assignments],
        "unassigned_event_ids": [str(i) for i in ay.unassigned_event_ids],
        "calendar_exact": ay.calendar_exact,
        "candidate": candidate_body(AwardCandidate.of(ay)),
    }


def shortlist_body(
    shortlist: AwardShortlist, county_id: str, year: int, policy_id: str
) -> dict[str, Any]:
    return {
        "county_id": county_id,
        "year": year,
        "category": str(shortlist.category),
        "policy_id": policy_id,
        "eligible": shortlist.eligible,
        "entries": [
            {
                "rank": e.rank,
                "advisor_id": e.advisor_id,
                "name": e.name,
                "value": number(e.value),
                "score": number(e.score),
                "satisfaction_bayes": number(e.satisfaction_bayes),
                "ratings": e.ratings,
            }
            for e in shortlist.entries
        ],
        "excluded": [
            {"advisor_id": x.advisor_id, "reasons": [reason_body(r) for r in x.reasons]}
            for x in shortlist.excluded
        ],
    }


SCORE_BUCKETS = tuple(range(0, 100, 10))


def summary_part(assignment: dict[str, Any]) -> dict[str, Any]:
    """What `county_summary_body` reads of an assignment body (a few fields of ~60)."""
    return {
        "verdict": assignment["verdict"],
        "grade": assignment["grade"],
        "score": assignment["score"],
        "subsidy_yuan": assignment["subsidy_yuan"],
        "village_id": assignment["village_id"],
        "indicators": {"months_served": assignment["indicators"]["months_served"]},
    }


def settle_part(advisor_year: dict[str, Any]) -> dict[str, Any]:
    """What settling a county-year reads of an advisor-year body (its summary and
    its award candidate)."""
    return {
        "advisor_id": advisor_year["advisor_id"],
        "load_flagged": advisor_year["load_flagged"],
        "candidate": advisor_year["candidate"],
    }


def county_summary_body(
    county_id: str,
    year: int,
    *,
    closed: bool,
    policy_id: str,
    assignments: list[dict[str, Any]],
    advisor_years: list[dict[str, Any]],
    villages: dict[str, str],
) -> dict[str, Any]:
    """Counts by verdict and grade, score distribution, subsidy total, coverage gaps."""
    verdicts = Counter(a["verdict"] for a in assignments)
    grades = Counter(a["grade"] for a in assignments if a["grade"] is not None)
    buckets = Counter(
        min(int(a["score"] // 10) * 10, 90) for a in assignments if a["score"] is not None
    )
    subsidy = sum(
        (Decimal(str(a["subsidy_yuan"])) for a in assignments if a["subsidy_yuan"] is not None),
        Decimal("0.00"),
    )
    served = {a["village_id"] for a in assignments if a["indicators"]["months_served"] > 0}
    return {
        "county_id": county_id,
        "year": year,
        "closed": closed,
        "policy_id": policy_id,
        "assignments": len(assignments),
        "advisors": len(advisor_years),
        "verdicts": {v.value: verdicts.get(v.value, 0) for v in Verdict},
        "grades": {g: grades.get(g, 0) for g in ("EXCELLENT", "COMPETENT", "BASIC", "FAIL")},
        "score_distribution": [
            {"from": low, "to": low + 10, "count": buckets.get(low, 0)} for low in SCORE_BUCKETS
        ],
        "subsidy_total_yuan": float(subsidy),
        "villages_registered": len(villages),
        "villages_without_advisor": sorted(v for v in villages if v not in served),
        "advisors_over_load_limit": sorted(
            a["advisor_id"] for a in advisor_years if a["load_flagged"]
        ),
    }
