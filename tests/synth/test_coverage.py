"""A small county, appraised by the real rules, shows every verdict, reason and grade."""

from __future__ import annotations

from collections import Counter
from typing import Any
from uuid import UUID

import pytest

from appraisal.policy import (
    DEFAULT_POLICY,
    AdvisorYearAppraisal,
    AwardCategory,
    Grade,
    ReasonCode,
    Verdict,
    rank_awards,
)
from contracts import derive_event_id
from embedded.synth import CountyConfig, generate
from embedded.synth.manifest import Manifest, build_manifest
from tests.synth.helpers import appraise_all, histories

pytestmark = pytest.mark.unit

SMALL = CountyConfig(villages=32, events_per_village=120, seed=7)
TWO_YEARS = CountyConfig(villages=34, events_per_village=100, years=(2024, 2025), seed=11)


class County:
    """One generated county with its appraisals, built once per module."""

    def __init__(self, config: CountyConfig) -> None:
        self.config = config
        self.events: list[dict[str, Any]] = list(generate(config))
        self.manifest: Manifest = build_manifest(config)
        self.appraisals = appraise_all(histories(self.events), config.focus_year)

    @property
    def focus(self) -> list[AdvisorYearAppraisal]:
        return self.appraisals[self.config.focus_year]


@pytest.fixture(scope="module", params=[SMALL, TWO_YEARS], ids=["one-year", "two-years"])
def county(request: pytest.FixtureRequest) -> County:
    return County(request.param)


def test_every_verdict_reason_and_grade_occurs_in_the_focus_year(county: County) -> None:
    assignments = [a for advisor in county.focus for a in advisor.assignments]
    assert {a.verdict for a in assignments} == set(Verdict)
    assert {r.code for a in assignments for r in a.reasons} == set(ReasonCode)
    assert {a.grade for a in assignments if a.grade is not None} == set(Grade)


def test_each_assignment_year_gets_the_verdict_its_profile_was_built_for(county: County) -> None:
    got = {
        (a.advisor_id, a.village_id, advisor.year): a
        for year in county.appraisals
        for advisor in county.appraisals[year]
        for a in advisor.assignments
    }
    expected = {
        (entry.advisor_id, e.village_id, e.year): (entry.profile, e)
        for entry in county.manifest.advisors
        for e in entry.expected
    }
    assert set(got) == set(expected)
    for key, (profile, want) in expected.items():
        appraisal = got[key]
        assert appraisal.verdict == want.verdict, (key, profile)
        assert sorted(r.code for r in appraisal.reasons) == sorted(want.reasons), (key, profile)
        assert appraisal.indicators.months_served == want.months_served, (key, profile)
        if want.grade is not None:
            assert appraisal.grade == want.grade, (key, profile, appraisal.score)


def test_the_six_village_advisor_is_load_flagged_and_nobody_else(county: County) -> None:
    flagged = {a.advisor_id for a in county.focus if a.load_flagged}
    assert flagged == {e.advisor_id for e in county.manifest.advisors if e.load_flagged}
    assert len(flagged) == 1


def test_both_award_shortlists_have_the_eligible_advisors(county: County) -> None:
    eligible = {a.advisor_id for a in county.focus if a.eligible_for_awards}
    assert eligible == {e.advisor_id for e in county.manifest.advisors if e.award_eligible}
    for category in AwardCategory:
        shortlist = rank_awards(DEFAULT_POLICY, county.focus, category)
        assert shortlist.entries, category
        assert {entry.advisor_id for entry in shortlist.entries} <= eligible


def test_ratings_include_duplicates_citations_and_foreign_citations(county: County) -> None:
    assignments = [a for advisor in county.focus for a in advisor.assignments]
    assert any(a.duplicate_rating_event_ids for a in assignments)
    assert any(a.invalid_rating_event_ids for a in assignments)
    ratings = [e for e in county.events if e["type"] == "rating.submitted.v1"]
    cited = [e for e in ratings if e["payload"]["activity_event_id"] is not None]
    assert 0.1 < len(cited) / len(ratings) < 0.9


def test_unassigned_events_are_flagged_by_the_rules(county: County) -> None:
    unassigned = {i for advisor in county.focus for i in advisor.unassigned_event_ids}
    cases = [
        c
        for c in county.manifest.cases
        if c.kind in ("unassigned_neighbour", "unassigned_after_end")
        and c.year == county.config.focus_year
    ]
    assert {c.kind for c in cases} == {"unassigned_neighbour", "unassigned_after_end"}
    for case in cases:
        (source, number), *_ = case.events
        assert derive_event_id(source, number) in unassigned, case


def test_a_void_arrives_before_its_target_and_every_void_has_one(county: County) -> None:
    position = {
        derive_event_id(e["source"], e["source_event_id"]): i for i, e in enumerate(county.events)
    }
    voids = [(i, e) for i, e in enumerate(county.events) if e["type"] == "activity.voided.v1"]
    assert voids
    targets = [position.get(UUID(e["payload"]["target_event_id"])) for _, e in voids]
    assert all(t is not None for t in targets)
    assert any(i < t for (i, _), t in zip(voids, targets, strict=True) if t is not None)


def test_one_complaint_is_resolved_twice_and_the_latest_counts(county: County) -> None:
    resolutions = Counter(
        e["payload"]["complaint_id"] for e in county.events if e["type"] == "complaint.resolved.v1"
    )
    twice = [c for c, n in resolutions.items() if n == 2]
    assert len(twice) == 1
    complained = county.manifest.showcase()["complained"]
    assert twice[0].startswith(f"TS-{county.config.focus_year}-{complained}-")


def test_without_the_carried_over_year_the_chronic_advisor_is_only_rectified() -> None:
    config = CountyConfig(villages=30, events_per_village=80, seed=3, carry_over=False)
    county = County(config)
    chronic = county.manifest.showcase()["chronic"]
    (advisor,) = [a for a in county.focus if a.advisor_id == chronic]
    (assignment,) = advisor.assignments
    assert assignment.verdict is Verdict.RECTIFY
    assert ReasonCode.CONSECUTIVE_RECTIFY not in {r.code for r in assignment.reasons}
    assert min(county.appraisals) == config.focus_year
