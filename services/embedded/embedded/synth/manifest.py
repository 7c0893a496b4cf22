"""The manifest: who is who in the synthetic county, and what the appraisal must find.

Built from the roster alone (no event is generated), so a test or a demo can point at
"the advisor whose complaint was upheld after the close" without scanning the stream.
Source event ids of the special situations follow fixed patterns, listed per case.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from appraisal.policy import DEFAULT_POLICY, Verdict
from embedded.synth.advisor import Sources
from embedded.synth.config import CountyConfig
from embedded.synth.profiles import PROFILES, Profile, expected_outcome
from embedded.synth.roster import Advisor, Roster, Special, build_roster, months_served

__all__ = [
    "AdvisorEntry",
    "Case",
    "ExpectedAppraisal",
    "Manifest",
    "build_manifest",
    "profile_table",
]


@dataclass(frozen=True)
class ExpectedAppraisal:
    """The verdict one assignment-year must get under the default policy."""

    village_id: str
    year: int
    months_served: int
    verdict: str
    reasons: tuple[str, ...]
    grade: str | None
    """None when the seed decides (COMPETENT or EXCELLENT) or when NOT_RATED."""


@dataclass(frozen=True)
class AdvisorEntry:
    """One advisor: profile, villages and what the appraisal must conclude."""

    advisor_id: str
    name: str
    profile: str
    showcase: bool
    villages: tuple[str, ...]
    expected: tuple[ExpectedAppraisal, ...]
    award_eligible: bool
    """Eligible for both award shortlists in the focus year."""
    load_flagged: bool


@dataclass(frozen=True)
class Case:
    """A situation worth looking at, with the (source, source_event_id) of its events."""

    kind: str
    advisor_id: str
    year: int
    description: str
    events: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Manifest:
    """What was generated and what must come out of it."""

    county_id: str
    seed: int
    years: tuple[int, ...]
    """Every year with events (the carried-over year included)."""
    focus_year: int
    close_years: tuple[int, ...]
    villages: int
    townships: int
    vacant_villages: tuple[str, ...]
    late_ledgers: tuple[tuple[int, str], ...]
    """(year, township_id) whose December ledger arrives after the year is closed."""
    advisors: tuple[AdvisorEntry, ...]
    cases: tuple[Case, ...]

    def advisors_by_profile(self) -> dict[str, list[str]]:
        """Advisor ids per profile, profiles in table order."""
        result: dict[str, list[str]] = {p.value: [] for p in Profile}
        for entry in self.advisors:
            result[entry.profile].append(entry.advisor_id)
        return {k: v for k, v in result.items() if v}

    def showcase(self) -> dict[str, str]:
        """The first showcase advisor of each profile."""
        result: dict[str, str] = {}
        for entry in self.advisors:
            if entry.showcase:
                result.setdefault(entry.profile, entry.advisor_id)
        return result

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        data = asdict(self)
        data["advisors_by_profile"] = self.advisors_by_profile()
        data["showcase"] = self.showcase()
        data["profiles"] = profile_table()
        return data


def profile_table() -> list[dict[str, Any]]:
    """Profile → expected verdict, reasons and grade in the focus year (full year served)."""
    return [
        {
            "profile": spec.profile.value,
            "summary": spec.summary,
            "verdict": spec.verdict.value,
            "reasons": [r.value for r in spec.reasons],
            "grade": None if spec.grade is None else spec.grade.value,
        }
        for spec in PROFILES.values()
    ]


def _expected(advisor: Advisor, roster: Roster) -> tuple[ExpectedAppraisal, ...]:
    focus = roster.config.focus_year
    result: list[ExpectedAppraisal] = []
    for year in roster.years:
        for a in advisor.assignments:
            first, following = a.active_days(year)
            if first >= following:
                continue
            served = months_served(a, year)
            before = months_served(a, year - 1) >= DEFAULT_POLICY.service.min_months_served_to_rate
            outcome = expected_outcome(advisor.profile, year, focus, served, before)
            result.append(
                ExpectedAppraisal(
                    village_id=a.village.village_id,
                    year=year,
                    months_served=served,
                    verdict=outcome.verdict.value,
                    reasons=tuple(r.value for r in outcome.reasons),
                    grade=None if outcome.grade is None else outcome.grade.value,
                )
            )
    return tuple(result)


def _cases(roster: Roster) -> list[Case]:
    src = Sources(roster.config.county_id)
    focus = roster.config.focus_year
    cases: list[Case] = []
    for advisor in roster.advisors:
        aid = advisor.advisor_id
        for year, special in advisor.specials:
            events: tuple[tuple[str, str], ...]
            if special is Special.VOID_DUPLICATE_DUTY:
                text = "ledger re-enters a platform duty; the void arrives before its target"
                events = (
                    (src.platform, f"VOID-{year}-{aid}-DUTY"),
                    (src.ledger, f"DUTY-{year}-{aid}-DUP"),
                )
            elif special is Special.VOID_TEST_RATING:
                text = "an evaluator-device test rating, voided the next day"
                events = (
                    (src.device, f"RAT-{year}-{aid}-TEST"),
                    (src.platform, f"VOID-{year}-{aid}-RATING"),
                )
            elif special is Special.VOID_DUPLICATE_INSPECTION:
                text = "an inspection recorded twice; the copy is voided"
                events = (
                    (src.ledger, f"INS-{year}-{aid}-DUP"),
                    (src.platform, f"VOID-{year}-{aid}-INSPECTION"),
                )
            elif special is Special.DUPLICATE_RATINGS:
                text = "two citizens rate twice on one day; the copies (…-DUP) do not count"
                events = ()
            elif special is Special.FOREIGN_RATING:
                text = f"a rating citing {advisor.cited_advisor_id}'s duty (invalid)"
                events = (
                    (src.device, f"RAT-{year}-{aid}-FOREIGN"),
                    (src.platform, f"DUTY-{year}-{advisor.cited_advisor_id}-000001"),
                )
            elif special is Special.UNASSIGNED_NEIGHBOUR:
                text = f"a consultation for {advisor.neighbour_village_id}, not served (unassigned)"
                events = ((src.wechat, f"CON-{year}-{aid}-NEIGHBOUR"),)
            else:
                text = "a duty checked in after the assignment ended (unassigned)"
                events = ((src.platform, f"DUTY-{year}-{aid}-AFTER-END"),)
            cases.append(Case(special.value, aid, year, text, events))
        if advisor.profile is Profile.COMPLAINED:
            complaint = f"TS-{focus}-{aid}-01"
            cases.append(
                Case(
                    "complaint_resolved_twice",
                    aid,
                    focus,
                    f"{complaint} first found unfounded, upheld on review: the latest counts",
                    (
                        (src.bureau, f"RES-{complaint}-1"),
                        (src.bureau, f"RES-{complaint}-2"),
                    ),
                )
            )
        if advisor.profile is Profile.ONE_COMPLAINT:
            complaint = f"TS-{focus}-{aid}-01"
            cases.append(
                Case(
                    "resolution_after_close",
                    aid,
                    focus,
                    f"{complaint}, filed in December, upheld after the year is closed "
                    "(the verdict is amended)",
                    ((src.bureau, f"RES-{complaint}-1"),),
                )
            )
        ended = [a for a in advisor.assignments if a.ended_on is not None]
        for a in ended:
            cases.append(
                Case(
                    "assignment_ended",
                    aid,
                    a.ended_on.year if a.ended_on else focus,
                    f"{a.end_reason} on {a.ended_on} in {a.village.village_id}",
                )
            )
        late = [
            a for a in advisor.assignments if a.appointed_on > date(roster.config.years[0], 1, 1)
        ]
        for a in late:
            cases.append(
                Case(
                    "appointed_mid_year",
                    aid,
                    a.appointed_on.year,
                    f"appointed on {a.appointed_on} to {a.village.village_id} "
                    f"({months_served(a, a.appointed_on.year)} months served)",
                )
            )
        if len(advisor.assignments) > DEFAULT_POLICY.load.max_villages_at_once:
            cases.append(
                Case("load_flag", aid, focus, f"serves {len(advisor.assignments)} villages at once")
            )
    for year, township in roster.late_ledgers:
        in_township = sorted(
            advisor.advisor_id
            for advisor in roster.advisors
            if any(a.village.township == township for a in advisor.assignments)
        )
        cases.append(
            Case(
                "late_ledger",
                ",".join(in_township),
                year,
                f"{township.name} ({township.township_id}) imports its December {year} ledger "
                f"on {year + 1}-03-03, after the year is closed",
            )
        )
    return cases


def build_manifest(config: CountyConfig, roster: Roster | None = None) -> Manifest:
    """The manifest of the county a config generates."""
    roster = roster or build_roster(config)
    focus = config.focus_year
    entries: list[AdvisorEntry] = []
    for advisor in roster.advisors:
        expected = _expected(advisor, roster)
        rated = [e for e in expected if e.year == focus and e.verdict != Verdict.NOT_RATED]
        entries.append(
            AdvisorEntry(
                advisor_id=advisor.advisor_id,
                name=advisor.name,
                profile=advisor.profile.value,
                showcase=advisor.showcase,
                villages=tuple(a.village.village_id for a in advisor.assignments),
                expected=expected,
                award_eligible=bool(rated) and all(e.verdict == Verdict.RETAIN for e in rated),
                load_flagged=len(advisor.assignments) > DEFAULT_POLICY.load.max_villages_at_once,
            )
        )
    return Manifest(
        county_id=config.county_id,
        seed=config.seed,
        years=roster.years,
        focus_year=focus,
        close_years=config.close_years,
        villages=len(roster.villages),
        townships=len(roster.townships),
        vacant_villages=tuple(v.village_id for v in roster.vacant_villages),
        late_ledgers=tuple((y, t.township_id) for y, t in roster.late_ledgers),
        advisors=tuple(entries),
        cases=tuple(_cases(roster)),
    )
