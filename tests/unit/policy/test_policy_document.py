"""The policy document holds every §5 number, and §6 picks the one in force."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from appraisal.policy import (
    BUILTIN_POLICY_ID,
    DEFAULT_POLICY,
    PolicyDocument,
    PublishedPolicy,
    select_policy,
)
from appraisal.policy.document import GradeBands, ServiceRules

pytestmark = pytest.mark.unit


def test_the_default_policy_is_design_section_5_number_for_number() -> None:
    p = DEFAULT_POLICY
    assert p.service.timezone == "Asia/Shanghai"
    assert p.service.served_month_min_active_days == 15
    assert p.service.min_months_served_to_rate == 3
    assert p.service.monthly_requirement_hours == 4
    assert p.credit.hours_per_consultation == Decimal("0.25")
    assert p.credit.channels == ("wechat", "phone", "hotline_12348", "online_platform")
    assert p.credit.reply_window_hours == 24
    assert p.credit.online_lectures_credited is True
    assert p.credit.cap_fraction_of_requirement == Decimal("0.5")
    assert p.requirements.months_per_required_lecture == 3
    assert p.requirements.months_per_required_night_holiday_lecture == 6
    assert p.requirements.months_per_required_mediation == 3
    assert p.requirements.months_per_required_governance_item == 3
    assert p.requirements.consultations_per_served_month == 2
    assert (p.requirements.night_starts_at, p.requirements.night_ends_at) == (
        time(18),
        time(8),
    )
    w = p.weights
    assert (
        w.duty_compliance,
        w.lectures,
        w.mediations,
        w.consultations,
        w.governance,
        w.responsiveness,
        w.satisfaction,
        w.inspections,
    ) == tuple(Decimal(points) for points in (30, 10, 10, 10, 5, 10, 20, 5))
    assert (
        sum(
            (
                w.duty_compliance,
                w.lectures,
                w.mediations,
                w.consultations,
                w.governance,
                w.responsiveness,
                w.satisfaction,
                w.inspections,
            )
        )
        == 100
    )
    assert w.lectures_night_holiday_share == Decimal("0.5")
    assert (w.complaint_penalty, w.score_floor) == (Decimal(10), Decimal(0))
    assert (p.grades.excellent, p.grades.competent, p.grades.basic) == (
        Decimal(90),
        Decimal(75),
        Decimal(60),
    )
    v = p.verdicts
    assert (v.replace_min_substantiated_complaints, v.replace_min_noncompliant_months) == (2, 6)
    assert (v.rectify_min_substantiated_complaints, v.rectify_min_noncompliant_months) == (1, 3)
    assert (v.low_satisfaction_min_ratings, v.low_satisfaction_below_mean) == (10, Decimal("3.5"))
    assert (v.inspections_min_recorded, v.inspections_below_ratio) == (4, Decimal("0.75"))
    assert v.replace_after_consecutive_rectify is True
    s = p.satisfaction
    assert (s.rating_min, s.rating_max) == (1, 5)
    assert (s.prior_mean, s.prior_weight) == (Decimal(4), Decimal(5))
    assert s.ratings_per_citizen_per_day == 1
    a = p.awards
    assert (a.min_ratings, a.max_substantiated_complaints, a.top_n) == (10, 0, 10)
    assert a.min_advisor_score == 75
    assert a.public_interest_hours_per_mediation == 2
    assert p.subsidy.base_yuan_per_village_year == 20000
    assert (
        p.subsidy.factor_excellent,
        p.subsidy.factor_competent,
        p.subsidy.factor_basic,
        p.subsidy.factor_fail,
    ) == (Decimal(1), Decimal("0.9"), Decimal("0.7"), Decimal(0))
    assert p.subsidy.rounding_quantum_yuan == Decimal("0.01")
    assert p.load.max_villages_at_once == 5
    assert p.report_decimal_places == 2


def test_every_field_is_described_for_the_published_schema() -> None:
    def undocumented(model: type[BaseModel]) -> list[str]:
        missing = []
        for name, info in model.model_fields.items():
            if not info.description:
                missing.append(f"{model.__name__}.{name}")
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                missing.extend(undocumented(annotation))
        return missing

    assert undocumented(PolicyDocument) == []


def test_a_policy_document_round_trips_through_json() -> None:
    assert PolicyDocument.model_validate_json(DEFAULT_POLICY.model_dump_json()) == DEFAULT_POLICY


def test_a_policy_document_is_frozen() -> None:
    with pytest.raises(ValidationError):
        DEFAULT_POLICY.report_decimal_places = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    "document",
    [
        {"unknown": 1},
        {"service": {"served_month_min_active_days": 15, "typo": 1}},
        {"service": {"timezone": "Mars/Olympus"}},
        {"service": {"min_months_served_to_rate": 0}},
        {"grades": {"excellent": 70, "competent": 75, "basic": 60}},
        {"satisfaction": {"rating_min": 5, "rating_max": 1}},
        {"verdicts": {"rectify_min_substantiated_complaints": 3}},
    ],
    ids=[
        "unknown top-level field",
        "unknown nested field",
        "unknown time zone",
        "zero months to rate",
        "grade bands out of order",
        "inverted rating scale",
        "rectify complaints above replace",
    ],
)
def test_an_invalid_policy_document_is_rejected(document: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        PolicyDocument.model_validate(document)


def test_a_county_may_change_one_number_and_keep_the_rest() -> None:
    lenient = PolicyDocument(grades=GradeBands(basic=Decimal(50)))
    assert lenient.grades.basic == 50
    assert lenient.service == ServiceRules()


def published(policy_id: str, county_id: str, effective_from: date) -> PublishedPolicy:
    marker = PolicyDocument(report_decimal_places=len(policy_id) % 10)
    return PublishedPolicy(
        policy_id=policy_id, county_id=county_id, effective_from=effective_from, document=marker
    )


COUNTY = "440115"
OWN_2023 = published("own-2023", COUNTY, date(2023, 1, 1))
OWN_2024 = published("own-2024", COUNTY, date(2024, 1, 1))
OWN_LATE_2024 = published("own-late-2024", COUNTY, date(2024, 1, 2))
OWN_2024_B = published("own-2024-b", COUNTY, date(2024, 1, 1))
PROVINCE_2022 = published("province-2022", "000000", date(2022, 7, 1))
PROVINCE_2025 = published("province-2025", "000000", date(2025, 1, 1))
NEIGHBOUR_2020 = published("neighbour-2020", "440113", date(2020, 1, 1))


@pytest.mark.parametrize(
    ("publications", "year", "expected"),
    [
        ([], 2024, BUILTIN_POLICY_ID),
        ([NEIGHBOUR_2020], 2024, BUILTIN_POLICY_ID),
        ([PROVINCE_2022], 2024, "province-2022"),
        ([PROVINCE_2022, OWN_2023], 2024, "own-2023"),
        ([OWN_2023, OWN_2024], 2024, "own-2024"),
        ([OWN_2024], 2023, BUILTIN_POLICY_ID),
        ([OWN_2024, PROVINCE_2022], 2023, "province-2022"),
        ([OWN_2023, OWN_LATE_2024], 2024, "own-2023"),
        ([OWN_LATE_2024], 2025, "own-late-2024"),
        ([PROVINCE_2022, PROVINCE_2025], 2024, "province-2022"),
        ([PROVINCE_2022, PROVINCE_2025], 2025, "province-2025"),
        ([OWN_2024_B, OWN_2024], 2024, "own-2024-b"),
        ([OWN_2024, OWN_2024_B], 2024, "own-2024-b"),
    ],
    ids=[
        "nothing published: the built-in default",
        "another county's policy never applies",
        "the province default when the county published nothing",
        "the county's own policy beats the province default",
        "the latest effective_from wins",
        "a policy effective after 1 January does not apply yet",
        "a county policy not yet in force falls back to the province",
        "effective on 2 January is too late for that year",
        "effective on 2 January applies from the next year",
        "province: the latest in force",
        "province: a new year picks the new document",
        "same effective date: the greater policy_id wins",
        "same effective date: input order does not matter",
    ],
)
def test_the_policy_in_force_follows_section_6(
    publications: list[PublishedPolicy], year: int, expected: str
) -> None:
    policy_id, document = select_policy(publications, COUNTY, year)
    assert policy_id == expected
    if expected == BUILTIN_POLICY_ID:
        assert document == DEFAULT_POLICY
    else:
        assert document == next(p.document for p in publications if p.policy_id == expected)
