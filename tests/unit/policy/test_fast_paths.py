"""The optimised rule paths equal straightforward references (issue #8).

The rules index a history once and count in integers (microseconds, minutes) where the
first version scanned every fact per rule and summed ``Fraction`` hours. These tests keep
that first, obviously-correct form as the reference and check the fast one against it on
generated histories, in Beijing time and in a zone with daylight saving time.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appraisal.policy import (
    DEFAULT_POLICY,
    AdvisorHistory,
    AttributedHistory,
    CommitteeAdvice,
    ComplaintFiled,
    Consultation,
    DocumentDrafted,
    Fact,
    Inspection,
    Lecture,
    LegalAidReferral,
    Mediation,
    MonthLedger,
    OnsiteDuty,
    PolicyDocument,
    Rating,
    attribute,
)
from appraisal.policy.attribution import (
    AssignmentPeriods,
    DatedFact,
    apply_voids,
    attribution_date,
    distinct_facts,
)
from appraisal.policy.indicators import RatingSelection, select_ratings
from appraisal.policy.ledger import (
    OnsiteInterval,
    answered_in_time,
    apply_overlap_rule,
    month_ledgers,
    offsite_in_time,
    onsite_intervals,
)
from appraisal.policy.quantities import exact_sum, month_label, month_span, round_half_up
from tests.unit.policy.builders import SHANGHAI
from tests.unit.policy.test_properties import PROPERTY_SETTINGS, YEAR, histories

pytestmark = pytest.mark.unit

ZONES = st.sampled_from([SHANGHAI, ZoneInfo("America/New_York"), ZoneInfo("Europe/London")])
DATED_KINDS: tuple[type[DatedFact], ...] = (
    OnsiteDuty,
    Lecture,
    Mediation,
    Consultation,
    DocumentDrafted,
    LegalAidReferral,
    CommitteeAdvice,
    Rating,
    ComplaintFiled,
)
HOUR = Fraction(1, 3_600_000_000)  # hours per microsecond


def reference_hours(span: timedelta) -> Fraction:
    return (span // timedelta(microseconds=1)) * HOUR


def reference_answered_in_time(consultation: Consultation, policy: PolicyDocument) -> bool:
    if consultation.answered_at is None:
        return False
    waited = reference_hours(consultation.answered_at - consultation.asked_at)
    return waited <= Fraction(policy.credit.reply_window_hours)


def reference_month_ledgers(
    attributed: AttributedHistory,
    policy: PolicyDocument,
    effective: tuple[OnsiteInterval, ...],
    village_id: str,
    year: int,
) -> tuple[MonthLedger, ...]:
    """Every interval tried against every month; every fact scanned for credit."""
    zone = attributed.zone
    requirement = Fraction(policy.service.monthly_requirement_hours)
    cap = requirement * Fraction(policy.credit.cap_fraction_of_requirement)
    credit: dict[int, Fraction] = {}
    for fact in attributed.facts:
        if isinstance(fact, Consultation) and fact.village_id == village_id:
            if fact.channel not in policy.credit.channels:
                continue
            if not reference_answered_in_time(fact, policy):
                continue
            day, earned = (
                fact.occurred_at.astimezone(zone).date(),
                Fraction(policy.credit.hours_per_consultation),
            )
        elif isinstance(fact, Lecture) and fact.village_id == village_id and fact.online:
            if not policy.credit.online_lectures_credited:
                continue
            day = fact.started_at.astimezone(zone).date()
            earned = reference_hours(timedelta(minutes=fact.duration_minutes))
        else:
            continue
        if day.year == year:
            credit[day.month] = credit.get(day.month, Fraction(0)) + earned
    rows: list[MonthLedger] = []
    for month in range(1, 13):
        start, end = (moment.astimezone(UTC) for moment in month_span(year, month, zone))
        onsite, present = Fraction(0), False
        for interval in effective:
            if interval.village_id != village_id:
                continue
            overlap = min(interval.end, end) - max(interval.start, start)
            if overlap > timedelta(0):
                onsite += reference_hours(overlap)
                present = True
        active_days = attributed.periods.active_days(
            village_id, start.astimezone(zone).date(), end.astimezone(zone).date()
        )
        served = active_days >= policy.service.served_month_min_active_days
        raw = credit.get(month, Fraction(0))
        capped = min(raw, cap)
        rows.append(
            MonthLedger(
                month_label(year, month),
                active_days,
                served,
                onsite,
                raw,
                capped,
                present,
                served and present and onsite + capped >= requirement,
            )
        )
    return tuple(rows)


def reference_dated_in(
    attributed: AttributedHistory, kind: type[DatedFact], village_id: str, year: int
) -> tuple[Fact, ...]:
    return tuple(
        fact
        for fact in attributed.facts
        if isinstance(fact, kind)
        and fact.village_id == village_id
        and attribution_date(fact, attributed.zone).year == year
    )


@PROPERTY_SETTINGS
@given(history=histories(), zone=ZONES)
def test_month_ledgers_equal_the_every_interval_every_month_reference(
    history: AdvisorHistory, zone: tzinfo
) -> None:
    attributed = attribute(history, zone)
    effective = apply_overlap_rule(onsite_intervals(attributed))
    for village_id in ("V1", "V2", "V3"):
        for year in (YEAR - 1, YEAR, YEAR + 1):
            fast = month_ledgers(attributed, DEFAULT_POLICY, effective, village_id, year)
            slow = reference_month_ledgers(attributed, DEFAULT_POLICY, effective, village_id, year)
            assert fast == slow
            assert repr(fast) == repr(slow)


@PROPERTY_SETTINGS
@given(history=histories(), zone=ZONES)
def test_the_fact_index_equals_scanning_every_fact(history: AdvisorHistory, zone: tzinfo) -> None:
    attributed = attribute(history, zone)
    assert [f.event_id for f in distinct_facts(history.facts)] == sorted(
        {f.event_id for f in history.facts}
    )
    for kind in (*DATED_KINDS, Inspection):
        assert attributed.of_type(kind) == tuple(f for f in attributed.facts if isinstance(f, kind))
    for kind in DATED_KINDS:
        for village_id in ("V1", "V2", "V3"):
            for year in (YEAR - 1, YEAR, YEAR + 1):
                expected = reference_dated_in(attributed, kind, village_id, year)
                assert attributed.dated_in(kind, village_id, year) == expected
    for fact in (*attributed.facts, *attributed.unassigned):
        if isinstance(fact, DATED_KINDS):
            assert attributed.date_of(fact) == attribution_date(fact, zone)
    rebuilt = AttributedHistory(
        attributed.advisor_id,
        zone,
        attributed.facts,
        attributed.unassigned,
        attributed.periods,
        attributed.activity_ids,
    )
    for kind in DATED_KINDS:
        assert rebuilt.dated_in(kind, "V1", YEAR) == attributed.dated_in(kind, "V1", YEAR)


WINDOWS = st.sampled_from(
    [Decimal(0), Decimal("0.0000001"), Decimal("0.25"), Decimal(24), Decimal("23.9999999999")]
) | st.decimals(min_value=0, max_value=10**6, places=9)


@PROPERTY_SETTINGS
@given(
    window=WINDOWS | st.just(Decimal(10**30)),
    nudge=st.integers(-3, 3),
    asked=st.datetimes(
        min_value=datetime(2023, 1, 1), max_value=datetime(2026, 1, 1), timezones=st.just(UTC)
    ),
    answer_zone=ZONES,
)
def test_answered_in_time_equals_comparing_exact_hours(
    window: Decimal, nudge: int, asked: datetime, answer_zone: tzinfo
) -> None:
    policy = DEFAULT_POLICY.model_copy(
        update={"credit": DEFAULT_POLICY.credit.model_copy(update={"reply_window_hours": window})}
    )
    # Waits at and around the window's exact length, to the microsecond.
    window_micros = min(int(Fraction(window) * 3_600_000_000), 10**15)
    wait = timedelta(microseconds=max(window_micros + nudge, -(10**6)))
    answered = (asked + wait).astimezone(answer_zone)
    consultation = Consultation(uuid.uuid4(), asked, "V1", "wechat", asked, answered, "t")
    assert answered_in_time(consultation, policy) == reference_answered_in_time(
        consultation, policy
    )


def reference_select_ratings(
    attributed: AttributedHistory, policy: PolicyDocument, village_id: str, year: int
) -> RatingSelection:
    """Group by citizen and day, sort each group, then sort each list."""
    rules = policy.satisfaction
    invalid: list[Rating] = []
    groups: dict[tuple[str, date], list[Rating]] = {}
    for rating in reference_dated_in(attributed, Rating, village_id, year):
        assert isinstance(rating, Rating)
        cited = rating.activity_event_id
        if (cited is not None and cited not in attributed.activity_ids) or not (
            rules.rating_min <= rating.score <= rules.rating_max
        ):
            invalid.append(rating)
            continue
        day = rating.occurred_at.astimezone(attributed.zone).date()
        groups.setdefault((rating.citizen_ref, day), []).append(rating)
    valid: list[Rating] = []
    duplicates: list[Rating] = []

    def order(rating: Rating) -> tuple[datetime, uuid.UUID]:
        return rating.occurred_at, rating.event_id

    for group in groups.values():
        group.sort(key=order)
        valid.extend(group[: rules.ratings_per_citizen_per_day])
        duplicates.extend(group[rules.ratings_per_citizen_per_day :])
    return RatingSelection(
        tuple(sorted(valid, key=order)),
        tuple(sorted(invalid, key=order)),
        tuple(sorted(duplicates, key=order)),
    )


@PROPERTY_SETTINGS
@given(history=histories(), zone=ZONES, allowance=st.integers(1, 3))
def test_select_ratings_equals_grouping_then_sorting(
    history: AdvisorHistory, zone: tzinfo, allowance: int
) -> None:
    satisfaction = DEFAULT_POLICY.satisfaction.model_copy(
        update={"ratings_per_citizen_per_day": allowance}
    )
    policy = DEFAULT_POLICY.model_copy(update={"satisfaction": satisfaction})
    attributed = attribute(history, zone)
    for village_id in ("V1", "V2", "V3"):
        for year in (YEAR - 1, YEAR, YEAR + 1):
            fast = select_ratings(attributed, policy, village_id, year)
            assert fast == reference_select_ratings(attributed, policy, village_id, year)


def reference_attribute(
    history: AdvisorHistory, zone: tzinfo
) -> tuple[tuple[Fact, ...], tuple[Fact, ...], frozenset[uuid.UUID]]:
    """Dedup, then voids, then the assignment check, each a separate pass."""
    live = apply_voids(distinct_facts(history.facts))
    periods = AssignmentPeriods.from_facts(live)
    counted: list[Fact] = []
    unassigned: list[Fact] = []
    for fact in live:
        if isinstance(fact, Inspection):
            year, month = fact.year_month
            following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
            assigned = periods.active_days(fact.village_id, date(year, month, 1), following) > 0
        elif isinstance(fact, DATED_KINDS):
            assigned = periods.is_active(fact.village_id, attribution_date(fact, zone))
        else:
            assigned = True
        (counted if assigned else unassigned).append(fact)
    activities = DATED_KINDS[:7]  # the activity.* types
    ids = frozenset(f.event_id for f in counted if isinstance(f, activities))
    return tuple(counted), tuple(unassigned), ids


@PROPERTY_SETTINGS
@given(history=histories(), zone=ZONES)
def test_attribute_equals_dedup_then_voids_then_assignment(
    history: AdvisorHistory, zone: tzinfo
) -> None:
    attributed = attribute(history, zone)
    counted, unassigned, activity_ids = reference_attribute(history, zone)
    assert attributed.facts == counted
    assert attributed.unassigned == unassigned
    assert attributed.activity_ids == activity_ids


def reference_onsite_intervals(attributed: AttributedHistory) -> tuple[OnsiteInterval, ...]:
    spans: list[OnsiteInterval] = []
    for fact in attributed.facts:
        if isinstance(fact, OnsiteDuty):
            start, end = fact.started_at.astimezone(UTC), fact.ended_at.astimezone(UTC)
            spans.append(OnsiteInterval(fact.event_id, fact.village_id, start, end))
        elif isinstance(fact, Lecture) and not fact.online:
            start = fact.started_at.astimezone(UTC)
            end = start + timedelta(minutes=fact.duration_minutes)
            spans.append(OnsiteInterval(fact.event_id, fact.village_id, start, end))
    return tuple(spans)


@PROPERTY_SETTINGS
@given(history=histories(), zone=ZONES)
def test_intervals_and_off_site_consultations_equal_the_fact_by_fact_versions(
    history: AdvisorHistory, zone: tzinfo
) -> None:
    attributed = attribute(history, zone)
    assert onsite_intervals(attributed) == reference_onsite_intervals(attributed)
    consultations = attributed.of_type(Consultation)
    offsite = [c for c in consultations if c.channel in DEFAULT_POLICY.credit.channels]
    in_time = tuple(c for c in offsite if answered_in_time(c, DEFAULT_POLICY))
    assert offsite_in_time(consultations, DEFAULT_POLICY) == (len(offsite), in_time)


@PROPERTY_SETTINGS
@given(st.lists(st.fractions(min_value=-100, max_value=100, max_denominator=10**9)))
def test_exact_sum_equals_summing_fractions(values: list[Fraction]) -> None:
    assert repr(exact_sum(values)) == repr(sum(values, Fraction(0)))


def reference_round_half_up(value: Fraction, quantum: Decimal) -> Decimal:
    steps = abs(value) / Fraction(quantum)
    whole = math.floor(steps + Fraction(1, 2))
    signed = -whole if value < 0 else whole
    return (Decimal(signed) * quantum).quantize(quantum)


@PROPERTY_SETTINGS
@given(
    value=st.fractions(min_value=-1000, max_value=1000, max_denominator=10**6)
    | st.integers(-(10**6), 10**6).map(lambda n: Fraction(2 * n + 1, 200)),
    quantum=st.sampled_from([Decimal("0.01"), Decimal("0.010"), Decimal(1), Decimal("0.5")])
    | st.integers(0, 6).map(lambda places: Decimal(1).scaleb(-places)),
)
def test_round_half_up_equals_the_fraction_version(value: Fraction, quantum: Decimal) -> None:
    assert str(round_half_up(value, quantum)) == str(reference_round_half_up(value, quantum))
