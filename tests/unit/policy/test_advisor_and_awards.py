"""The advisor-level view, award shortlists and what-if."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from appraisal.policy import (
    DEFAULT_POLICY,
    AdvisorYearAppraisal,
    AwardCandidate,
    AwardCategory,
    ExclusionCode,
    PolicyDocument,
    Verdict,
    appraise_advisor_year,
    appraise_years,
    rank_awards,
    what_if,
)
from appraisal.policy.document import GradeBands
from appraisal.policy.eligibility import award_exclusions
from tests.unit.policy.builders import WEEKDAYS, HistoryBuilder, at, serve_year

pytestmark = pytest.mark.unit

E = ExclusionCode


def advisor_year(b: HistoryBuilder, year: int = 2024) -> AdvisorYearAppraisal:
    return appraise_advisor_year("p", DEFAULT_POLICY, b.history(), year, {}, WEEKDAYS)


def test_the_advisor_score_weights_each_rated_assignment_by_months_served() -> None:
    b = HistoryBuilder()
    # V1: 12 months, ratings 6 × 5: b₁ = (20 + 30)/11 = 50/11,
    #     satisfaction 20·(39/11)/4 = 195/11, score 80 + 195/11 = 1075/11
    serve_year(b, "V1", ratings=[5] * 6)
    # V2: 6 months, no mediation, ratings 6 × 4: b₂ = (20 + 24)/11 = 4, score 95 − 10 = 85
    serve_year(b, "V2", months_served=6, mediations=0, ratings=[4] * 6, duty_hour=14)
    # V3: 2 months, NOT_RATED: left out of the score, but its rating counts for n and b
    serve_year(b, "V3", months_served=2, ratings=[1], duty_hour=19)
    result = advisor_year(b)
    v1, v2, v3 = result.assignments
    assert (v1.score, v2.score) == (Fraction(1075, 11), Fraction(85))
    assert v3.verdict is Verdict.NOT_RATED
    # (12·1075/11 + 6·85)/18 = 18510/198 = 3085/33
    assert result.score == Fraction(3085, 33)
    assert result.score_report == Decimal("93.48")
    # all 13 valid ratings: b = (20 + 30 + 24 + 1)/(5 + 13) = 75/18
    assert (result.ratings, result.satisfaction_bayes) == (13, Fraction(75, 18))
    assert result.eligible_for_awards
    # on site 12·4 + 6·4 + 2·4 = 80; credit: 4 one-hour online lectures per village, each
    # month under the 2 h cap = 12; mediations 2 h·(4 + 0 + 4) = 16
    assert result.public_interest_hours == 80 + 12 + 16


def test_the_advisor_carries_name_and_first_appointment() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2019, 3, 1), name="旧名")
    b.appoint("V2", date(2024, 2, 1), name="新名")
    b.appoint("V3", date(2025, 2, 1), name="未来")
    result = advisor_year(b)
    assert (result.first_appointed_on, result.name) == (date(2019, 3, 1), "新名")


@pytest.mark.parametrize(
    ("villages", "overlapping", "flagged"),
    [(5, True, False), (6, True, True), (6, False, False)],
    ids=["five villages at once", "six villages at once", "six villages one after another"],
)
def test_serving_more_than_five_villages_at_once_is_flagged(
    villages: int, overlapping: bool, flagged: bool
) -> None:
    b = HistoryBuilder()
    for i in range(villages):
        start = date(2024, 1, 1) if overlapping else date(2024, 1 + 2 * i, 1)
        b.appoint(f"V{i}", start)
        if not overlapping:
            b.end(f"V{i}", date(2024, 2 + 2 * i, 1))
    result = advisor_year(b)
    assert result.load_flagged is flagged
    assert result.most_villages_at_once == (villages if overlapping else 1)


def test_unassigned_facts_of_the_year_are_reported_at_advisor_level() -> None:
    b = serve_year(HistoryBuilder(), "V1")
    stray = b.mediation("V9", at(2024, 5, 5, 10))
    b.mediation("V9", at(2023, 5, 5, 10))
    assert advisor_year(b).unassigned_event_ids == (stray,)


@pytest.mark.parametrize(
    ("rated", "complaints", "ratings", "score", "codes"),
    [
        ([Verdict.RETAIN], 0, 10, Fraction(75), []),
        ([], 0, 10, None, [E.NO_RATED_ASSIGNMENT]),
        ([Verdict.RETAIN, Verdict.RECTIFY], 0, 10, Fraction(80), [E.VERDICT_NOT_RETAIN]),
        ([Verdict.RETAIN], 1, 10, Fraction(80), [E.SUBSTANTIATED_COMPLAINTS]),
        ([Verdict.RETAIN], 0, 9, Fraction(80), [E.TOO_FEW_RATINGS]),
        ([Verdict.RETAIN], 0, 10, Fraction(7499, 100), [E.SCORE_BELOW_MINIMUM]),
        (
            [Verdict.REPLACE],
            2,
            0,
            Fraction(50),
            [
                E.VERDICT_NOT_RETAIN,
                E.SUBSTANTIATED_COMPLAINTS,
                E.TOO_FEW_RATINGS,
                E.SCORE_BELOW_MINIMUM,
            ],
        ),
    ],
    ids=[
        "eligible at exactly 75 and 10 ratings",
        "no rated assignment",
        "one rated assignment not RETAIN",
        "a substantiated complaint",
        "nine ratings",
        "score 74.99",
        "every gate failed is listed",
    ],
)
def test_award_eligibility_lists_every_failed_gate(
    rated: list[Verdict],
    complaints: int,
    ratings: int,
    score: Fraction | None,
    codes: list[ExclusionCode],
) -> None:
    reasons = award_exclusions(
        DEFAULT_POLICY,
        rated_verdicts=rated,
        substantiated_complaints=complaints,
        ratings=ratings,
        advisor_score=score,
    )
    assert [r.code for r in reasons] == codes
    assert all(r.message_zh and r.message_en for r in reasons)


@pytest.fixture(scope="module")
def eligible() -> AdvisorYearAppraisal:
    # ratings 10 × 5: b = (20 + 50)/15 = 14/3, satisfaction 20·(11/3)/4 = 55/3,
    # score 80 + 55/3 = 295/3
    result = advisor_year(serve_year(HistoryBuilder(), "V1", ratings=[5] * 10))
    assert result.eligible_for_awards
    assert result.score == Fraction(295, 3)
    return result


def variant(base: AdvisorYearAppraisal, advisor_id: str, **changes: object) -> AdvisorYearAppraisal:
    return replace(base, advisor_id=advisor_id, **changes)  # type: ignore[arg-type]


def test_ties_go_to_higher_b_then_more_ratings_then_earlier_appointment_then_id(
    eligible: AdvisorYearAppraisal,
) -> None:
    b, n, first = eligible.satisfaction_bayes, eligible.ratings, date(2020, 1, 1)
    advisors = [
        variant(eligible, "A-by-id-2", first_appointed_on=first),
        variant(eligible, "A-by-id-1", first_appointed_on=first),
        variant(eligible, "A-later", first_appointed_on=date(2021, 1, 1)),
        variant(eligible, "A-fewer", first_appointed_on=date(2019, 1, 1)),
        variant(eligible, "A-more", ratings=n + 5, first_appointed_on=date(2022, 1, 1)),
        variant(eligible, "A-best-b", satisfaction_bayes=b + 1, ratings=10),
        variant(eligible, "A-top", public_interest_hours=eligible.public_interest_hours + 1),
    ]
    shortlist = rank_awards(DEFAULT_POLICY, advisors, AwardCategory.SOCIAL_RESPONSIBILITY)
    assert [(e.rank, e.advisor_id) for e in shortlist.entries] == [
        (1, "A-top"),
        (2, "A-best-b"),
        (3, "A-more"),
        (4, "A-fewer"),
        (5, "A-by-id-1"),
        (6, "A-by-id-2"),
        (7, "A-later"),
    ]


def test_candidates_kept_in_a_read_model_rank_exactly_like_full_appraisals(
    eligible: AdvisorYearAppraisal,
) -> None:
    advisors = [
        variant(eligible, "A-1", score=Fraction(80), public_interest_hours=Fraction(500)),
        variant(eligible, "A-2", score=Fraction(90), ratings=3),
        variant(eligible, "A-3", score=Fraction(85), public_interest_hours=Fraction(7, 3)),
    ]
    for category in AwardCategory:
        candidates = [AwardCandidate.of(a) for a in advisors]
        assert rank_awards(DEFAULT_POLICY, candidates, category) == rank_awards(
            DEFAULT_POLICY, advisors, category
        )


def test_public_welfare_ranks_by_advisor_score(eligible: AdvisorYearAppraisal) -> None:
    advisors = [
        variant(eligible, "A-1", score=Fraction(80), public_interest_hours=Fraction(500)),
        variant(eligible, "A-2", score=Fraction(90), public_interest_hours=Fraction(10)),
    ]
    welfare = rank_awards(DEFAULT_POLICY, advisors, AwardCategory.PUBLIC_WELFARE)
    social = rank_awards(DEFAULT_POLICY, advisors, AwardCategory.SOCIAL_RESPONSIBILITY)
    assert [e.advisor_id for e in welfare.entries] == ["A-2", "A-1"]
    assert [e.value for e in welfare.entries] == [90, 80]
    assert [e.advisor_id for e in social.entries] == ["A-1", "A-2"]


def test_the_shortlist_keeps_the_top_ten_and_explains_exclusions(
    eligible: AdvisorYearAppraisal,
) -> None:
    advisors = [
        variant(eligible, f"A-{i:02d}", public_interest_hours=Fraction(i)) for i in range(12)
    ]
    advisors.append(variant(eligible, "A-complained", substantiated_complaints=1))
    advisors.append(variant(eligible, "A-few-ratings", ratings=3))
    shortlist = rank_awards(DEFAULT_POLICY, reversed(advisors), AwardCategory.SOCIAL_RESPONSIBILITY)
    assert [e.advisor_id for e in shortlist.entries] == [f"A-{i:02d}" for i in range(11, 1, -1)]
    assert shortlist.eligible == 12
    assert [(x.advisor_id, [r.code for r in x.reasons]) for x in shortlist.excluded] == [
        ("A-complained", [E.SUBSTANTIATED_COMPLAINTS]),
        ("A-few-ratings", [E.TOO_FEW_RATINGS]),
    ]


def test_an_advisor_may_appear_only_once_in_a_ranking(eligible: AdvisorYearAppraisal) -> None:
    with pytest.raises(ValueError, match="only once"):
        rank_awards(DEFAULT_POLICY, [eligible, eligible], AwardCategory.PUBLIC_WELFARE)


def test_what_if_shows_which_verdicts_a_draft_policy_would_change() -> None:
    borderline = serve_year(HistoryBuilder("A-0001"), "V1", mediations=0, consultations=0)
    strong = serve_year(HistoryBuilder("A-0002"), "V1")
    draft = PolicyDocument(grades=GradeBands(competent=Decimal(80)))
    rows = what_if(
        ("current", DEFAULT_POLICY),
        ("draft", draft),
        [strong.history(), borderline.history()],
        2024,
        {},
        WEEKDAYS,
    )
    assert [(r.advisor_id, r.village_id) for r in rows] == [("A-0001", "V1"), ("A-0002", "V1")]
    # 95 − 10 − 10 = 75: COMPETENT now, BASIC (below 80) under the draft
    changed, unchanged = rows
    assert (changed.current_verdict, changed.draft_verdict) == (Verdict.RETAIN, Verdict.RECTIFY)
    assert (changed.current_score, changed.draft_score) == (Fraction(75), Fraction(75))
    assert (changed.current_subsidy_yuan, changed.draft_subsidy_yuan) == (
        Decimal("18000.00"),
        Decimal("14000.00"),
    )
    assert changed.changed == ("verdict", "grade", "subsidy_yuan", "reasons")
    assert unchanged.changed == ()


def test_what_if_uses_the_previous_verdicts_it_is_given() -> None:
    history = serve_year(HistoryBuilder("A-0001"), "V1", substantiated_complaints=1).history()
    rows = what_if(
        ("current", DEFAULT_POLICY),
        ("same", DEFAULT_POLICY),
        [history],
        2024,
        {("A-0001", "V1"): Verdict.RECTIFY},
        WEEKDAYS,
    )
    assert [(r.current_verdict, r.draft_verdict, r.changed) for r in rows] == [
        (Verdict.REPLACE, Verdict.REPLACE, ())
    ]


def test_appraising_all_years_chains_verdicts_like_one_year_at_a_time() -> None:
    # Two RECTIFY years (S − C = 4 each): the second becomes REPLACE through the chain.
    builder = HistoryBuilder("A-chain")
    serve_year(builder, "V1", 2023, compliant_months=8)
    serve_year(builder, "V1", 2024, compliant_months=8)
    history = builder.history()
    years = appraise_years(
        history, lambda _year: ("builtin-default-v1", DEFAULT_POLICY), WEEKDAYS, 2025
    )
    # 2025: still assigned (no end recorded) and nothing done → FAIL → REPLACE.
    assert [(y.year, y.assignments[0].verdict) for y in years] == [
        (2023, Verdict.RECTIFY),
        (2024, Verdict.REPLACE),
        (2025, Verdict.REPLACE),
    ]
    one_by_one = appraise_advisor_year(
        "builtin-default-v1", DEFAULT_POLICY, history, 2024, {"V1": Verdict.RECTIFY}, WEEKDAYS
    )
    assert years[1] == one_by_one
    assert (
        appraise_years(
            HistoryBuilder("nobody").history(), lambda _y: ("p", DEFAULT_POLICY), WEEKDAYS, 2025
        )
        == ()
    )


def test_appraising_from_a_year_on_equals_the_tail_of_all_years() -> None:
    builder = HistoryBuilder("A-tail")
    serve_year(builder, "V1", 2023, compliant_months=8)
    serve_year(builder, "V1", 2024, compliant_months=8)
    history = builder.history()

    def policy(_year: int) -> tuple[str, PolicyDocument]:
        return "builtin-default-v1", DEFAULT_POLICY

    years = appraise_years(history, policy, WEEKDAYS, 2025)
    for start in (2024, 2025):
        before = {a.village_id: a.verdict for a in years[start - 2024].assignments}
        tail = appraise_years(
            history, policy, WEEKDAYS, 2025, from_year=start, previous_verdicts=before
        )
        assert tail == years[start - 2023 :]
    # The chain needs the year before: without its verdicts 2024 is not a REPLACE.
    alone = appraise_years(history, policy, WEEKDAYS, 2025, from_year=2024)
    assert alone[0].assignments[0].verdict is Verdict.RECTIFY
    # From the first appointment or earlier, it is the whole appraisal.
    assert appraise_years(history, policy, WEEKDAYS, 2025, from_year=2020) == years
