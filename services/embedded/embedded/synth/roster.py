"""The county's people and places: townships, villages, advisors and who serves where.

Built once from the config and the seed, before any event: its size grows with the
number of villages, never with the number of events. The showcase (one advisor per
problem profile, two mid-year handovers, a late appointment, a six-village advisor and
villages without one) is placed first; the rest of the county is ordinary advisors
serving one to three neighbouring villages.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from datetime import date
from typing import Final

from appraisal.policy import DEFAULT_POLICY
from embedded.synth.config import CountyConfig
from embedded.synth.profiles import Profile
from embedded.synth.timeline import day_number, month_days
from embedded.synth.vocab import (
    GIVEN_CHARS,
    LAW_FIRMS,
    NANSHA_COUNTY_ID,
    NANSHA_TOWNSHIPS,
    SURNAMES,
    VILLAGE_HEADS,
    VILLAGE_TAILS,
)

__all__ = [
    "Advisor",
    "Assignment",
    "Roster",
    "Special",
    "Township",
    "Village",
    "build_roster",
    "months_served",
]

VILLAGES_PER_TOWNSHIP: Final = 22
SHOWCASE_SINGLES: Final = (
    Profile.EXEMPLARY,
    Profile.EXEMPLARY,
    Profile.COMPETENT,
    Profile.BASIC,
    Profile.LECTURE_SHY,
    Profile.NIGHT_SHY,
    Profile.UNPOPULAR,
    Profile.LAX_INSPECTIONS,
    Profile.ONE_COMPLAINT,
    Profile.PATCHY_DUTY,
    Profile.CHRONIC,
    Profile.FAILING,
    Profile.ABSENTEE,
)
OVERLOADED_VILLAGES: Final = 6
# Ordinary single-village advisors: mostly fine, a realistic minority with a problem.
SINGLE_WEIGHTS: Final[tuple[tuple[Profile, float], ...]] = (
    (Profile.STEADY, 0.62),
    (Profile.EXEMPLARY, 0.15),
    (Profile.COMPETENT, 0.08),
    (Profile.BASIC, 0.02),
    (Profile.LECTURE_SHY, 0.02),
    (Profile.NIGHT_SHY, 0.02),
    (Profile.UNPOPULAR, 0.02),
    (Profile.LAX_INSPECTIONS, 0.02),
    (Profile.ONE_COMPLAINT, 0.015),
    (Profile.PATCHY_DUTY, 0.02),
    (Profile.FAILING, 0.0075),
    (Profile.ABSENTEE, 0.0075),
)
MULTI_WEIGHTS: Final[tuple[tuple[Profile, float], ...]] = (
    (Profile.STEADY, 0.75),
    (Profile.EXEMPLARY, 0.15),
    (Profile.COMPETENT, 0.10),
)
RANDOM_SPECIAL_RATE: Final = 0.04


class Special(enum.StrEnum):
    """Awkward but real situations the ingest and appraisal must cope with."""

    VOID_DUPLICATE_DUTY = "void_duplicate_duty"
    """The township ledger re-enters a duty the platform recorded; the correction (void)
    is sent at once and arrives before the ledger batch carrying its target."""
    VOID_TEST_RATING = "void_test_rating"
    """A rating from testing the evaluator device, voided the next day."""
    VOID_DUPLICATE_INSPECTION = "void_duplicate_inspection"
    """An inspection recorded twice; the second is voided."""
    DUPLICATE_RATINGS = "duplicate_ratings"
    """A citizen rates twice on the same day; only the first counts."""
    FOREIGN_RATING = "foreign_rating"
    """A rating that cites another advisor's activity (invalid)."""
    UNASSIGNED_NEIGHBOUR = "unassigned_neighbour"
    """A consultation for a neighbouring village the advisor does not serve."""
    UNASSIGNED_AFTER_END = "unassigned_after_end"
    """A duty checked in after the assignment ended."""


@dataclass(frozen=True, slots=True)
class Township:
    """A town (镇) or street (街道) with its justice office (司法所)."""

    index: int
    township_id: str
    name: str
    is_street: bool

    @property
    def office_id(self) -> str:
        """The justice office that inspects and keeps the ledger."""
        return f"SFS-{self.township_id}"


@dataclass(frozen=True, slots=True)
class Village:
    """A village (村) or community (社区)."""

    index: int
    village_id: str
    name: str
    township: Township
    kind: str
    remote: bool


@dataclass(frozen=True, slots=True)
class Assignment:
    """An advisor serving a village from ``appointed_on`` until ``ended_on`` (exclusive)."""

    village: Village
    appointed_on: date
    ended_on: date | None
    end_reason: str | None
    slot: int
    """The advisor's weekly duty slot for this village: weekday slot % 5, afternoon if ≥ 5."""

    def active_days(self, year: int) -> tuple[int, int]:
        """Day numbers [first, following) served in ``year`` (empty when first ≥ following)."""
        first = max(day_number(self.appointed_on), day_number(date(year, 1, 1)))
        following = day_number(date(year + 1, 1, 1))
        if self.ended_on is not None:
            following = min(following, day_number(self.ended_on))
        return first, following


@dataclass(frozen=True, slots=True)
class Advisor:
    """A lawyer or legal worker and the villages they serve."""

    advisor_id: str
    name: str
    qualification: str
    firm: str
    license_no: str
    profile: Profile
    showcase: bool
    assignments: tuple[Assignment, ...]
    specials: tuple[tuple[int, Special], ...]
    """(year, situation) pairs."""
    cited_advisor_id: str
    """Whose activity a foreign rating cites (empty when there is none)."""
    neighbour_village_id: str
    """A village this advisor never serves (for the unassigned consultation)."""

    def specials_in(self, year: int) -> tuple[Special, ...]:
        """The situations arranged for one year."""
        return tuple(special for y, special in self.specials if y == year)

    @property
    def first_year(self) -> int:
        """The year of the earliest appointment."""
        return min(a.appointed_on.year for a in self.assignments)


@dataclass(frozen=True, slots=True)
class Roster:
    """Everything about the county that is not an event."""

    config: CountyConfig
    townships: tuple[Township, ...]
    villages: tuple[Village, ...]
    advisors: tuple[Advisor, ...]
    vacant_villages: tuple[Village, ...]
    """Villages no advisor serves at all."""
    late_ledgers: tuple[tuple[int, Township], ...]
    """(year, township): that township's December ledger is imported after the year closes."""

    def late_ledger(self, year: int) -> Township | None:
        """The township whose December ledger of ``year`` arrives late, if any."""
        return next((t for y, t in self.late_ledgers if y == year), None)

    @property
    def first_year(self) -> int:
        """The earliest year with any appointment (the carry-over year, if any)."""
        return min(a.first_year for a in self.advisors)

    @property
    def years(self) -> tuple[int, ...]:
        """Every year that has events, carry-over included."""
        return tuple(range(self.first_year, self.config.focus_year + 1))


def months_served(assignment: Assignment, year: int) -> int:
    """S: months of ``year`` in which the assignment is active on enough days (§5)."""
    first, following = assignment.active_days(year)
    needed = DEFAULT_POLICY.service.served_month_min_active_days
    served = 0
    for month in range(1, 13):
        start, end = month_days(year, month)
        if min(end, following) - max(start, first) >= needed:
            served += 1
    return served


# ---------------------------------------------------------------------------


def _townships(config: CountyConfig) -> list[Township]:
    count = max(1, min(899, round(config.villages / VILLAGES_PER_TOWNSHIP)))
    named = NANSHA_TOWNSHIPS if config.county_id == NANSHA_COUNTY_ID else ()
    streets = min(99, sum(1 for _, street in named[:count] if street) or count // 3)
    result: list[Township] = []
    for index in range(count):
        is_street = index < streets
        code = index + 1 if is_street else 101 + index - streets
        if index < len(named):
            name = named[index][0]
        else:
            name = f"第{index + 1}街道" if is_street else f"第{index + 1 - streets}镇"
        result.append(Township(index, f"{config.county_id}{code:03d}", name, is_street))
    return result


def _villages(config: CountyConfig, townships: list[Township], rng: random.Random) -> list[Village]:
    heads, tails = VILLAGE_HEADS, VILLAGE_TAILS
    combos = [h + t for h in heads for t in tails if h != t]
    rng.shuffle(combos)
    villages: list[Village] = []
    per, extra = divmod(config.villages, len(townships))
    for township in townships:
        communities = villages_seq = 0
        for _ in range(per + (1 if township.index < extra else 0)):
            index = len(villages)
            share = 0.8 if township.is_street else 0.15
            kind = "community" if rng.random() < share else "village"
            if kind == "community" and communities < 199:
                communities += 1
                code = communities
            else:
                kind = "village"
                villages_seq += 1
                code = 199 + villages_seq
            stem = combos[index % len(combos)]
            round_ = index // len(combos)
            suffix = "社区" if kind == "community" else "村"
            name = f"{stem}{round_ + 1 if round_ else ''}{suffix}"
            remote = not township.is_street and rng.random() < 0.2
            villages.append(
                Village(index, f"{township.township_id}{code:03d}", name, township, kind, remote)
            )
    return villages


def _weighted(rng: random.Random, weights: tuple[tuple[Profile, float], ...]) -> Profile:
    point = rng.random() * sum(w for _, w in weights)
    for profile, weight in weights:
        point -= weight
        if point < 0:
            return profile
    return weights[-1][0]


@dataclass
class _Draft:
    """An advisor before ids are given out."""

    profile: Profile
    showcase: bool
    villages: list[Village]
    appointed_on: date
    ended_on: date | None = None
    end_reason: str | None = None


def _person(
    rng: random.Random, number: int, county: str, township: Township
) -> tuple[str, str, str, str]:
    """Name, qualification, firm and licence number of a (fictitious) advisor."""
    surname = SURNAMES[int(rng.random() * len(SURNAMES))]
    given = "".join(
        GIVEN_CHARS[int(rng.random() * len(GIVEN_CHARS))] for _ in range(1 + (rng.random() < 0.7))
    )
    roll = rng.random()
    since = 2003 + int(rng.random() * 19)
    if roll < 0.7:
        firm = LAW_FIRMS[int(rng.random() * len(LAW_FIRMS))]
        return surname + given, "lawyer", firm, f"1440120{since}1{number:05d}"
    if roll < 0.9:
        office = f"{township.name}法律服务所"
        return surname + given, "grassroots_legal_worker", office, f"3440115{since}{number:04d}"
    return surname + given, "public_lawyer", f"{county}司法局", f"2440120{since}1{number:05d}"


def build_roster(config: CountyConfig) -> Roster:
    """Lay out the county for a config: deterministic in the config and its seed."""
    rng = random.Random(f"synth:{config.seed}:{config.county_id}:roster")
    focus = config.focus_year
    first = config.years[0]
    january = date(first, 1, 1)
    townships = _townships(config)
    villages = _villages(config, townships, rng)

    start = int(rng.random() * (len(villages) - OVERLOADED_VILLAGES + 1))
    overloaded = villages[start : start + OVERLOADED_VILLAGES]
    rest = villages[:start] + villages[start + OVERLOADED_VILLAGES :]
    rng.shuffle(rest)
    drafts: list[_Draft] = [_Draft(Profile.OVERLOADED, True, list(overloaded), january)]

    chronic_start = date(focus - 1, 1, 1) if config.carry_over else january
    for profile in SHOWCASE_SINGLES:
        on = min(january, chronic_start) if profile is Profile.CHRONIC else january
        drafts.append(_Draft(profile, True, [rest.pop()], on))
    replaced_village, resigned_village, late_village = rest.pop(), rest.pop(), rest.pop()
    october, july, november = date(focus, 10, 20), date(focus, 7, 1), date(focus, 11, 10)
    drafts += [
        _Draft(Profile.COMPLAINED, True, [replaced_village], january, october, "replaced"),
        _Draft(Profile.NEWCOMER, True, [replaced_village], october),
        _Draft(Profile.RESIGNED, True, [resigned_village], january, july, "resigned"),
        _Draft(Profile.SUCCESSOR, True, [resigned_village], july),
        _Draft(Profile.LATE_APPOINTEE, True, [late_village], november),
    ]
    vacant = sorted((rest.pop() for _ in range(max(2, config.villages // 100))), key=_index)

    ordinary = sorted(rest, key=_index)
    position = 0
    while position < len(ordinary):
        roll = rng.random()
        size = 1 if roll < 0.5 else 2 if roll < 0.85 else 3
        group = ordinary[position : position + size]
        position += size
        weights = SINGLE_WEIGHTS if len(group) == 1 else MULTI_WEIGHTS
        drafts.append(_Draft(_weighted(rng, weights), False, group, january))

    drafts.sort(key=lambda d: (d.villages[0].index, d.appointed_on))
    width = max(4, len(str(len(drafts))))
    # Advisor ids are global keys (Kafka key, aggregate id): another county must not
    # reuse the demo county's A-0001, and every source_event_id embeds the advisor id.
    prefix = "A" if config.county_id == NANSHA_COUNTY_ID else f"A{config.county_id}"
    ids = [f"{prefix}-{n:0{width}d}" for n in range(1, len(drafts) + 1)]
    by_profile = {d.profile: ids[i] for i, d in enumerate(drafts) if d.showcase}
    incumbents = [
        ids[i] for i, d in enumerate(drafts) if d.appointed_on == january and d.ended_on is None
    ]

    county_label = "南沙区" if config.county_id == NANSHA_COUNTY_ID else f"{config.county_id}区"
    advisors: list[Advisor] = []
    showcase_specials = _showcase_specials(drafts, focus)
    for i, draft in enumerate(drafts):
        advisor_id = ids[i]
        name, qualification, firm, license_no = _person(
            rng, i + 1, county_label, draft.villages[0].township
        )
        specials = list(showcase_specials.get(i, ()))
        if not draft.showcase:
            for year in config.years:
                for special in (
                    Special.VOID_DUPLICATE_DUTY,
                    Special.VOID_TEST_RATING,
                    Special.FOREIGN_RATING,
                    Special.UNASSIGNED_NEIGHBOUR,
                ):
                    if rng.random() < RANDOM_SPECIAL_RATE:
                        specials.append((year, special))
        if draft.profile is Profile.NEWCOMER:
            cited = by_profile[Profile.COMPLAINED]
        else:
            earlier = [a for a in incumbents if a < advisor_id] or [incumbents[-1]]
            cited = earlier[-1] if earlier[-1] != advisor_id else incumbents[0]
        served = {v.index for v in draft.villages}
        neighbour = next(
            villages[(draft.villages[0].index + step) % len(villages)]
            for step in range(1, len(villages))
            if (draft.villages[0].index + step) % len(villages) not in served
        )
        assignments = tuple(
            Assignment(village, draft.appointed_on, draft.ended_on, draft.end_reason, slot)
            for slot, village in enumerate(draft.villages)
        )
        advisors.append(
            Advisor(
                advisor_id=advisor_id,
                name=name,
                qualification=qualification,
                firm=firm,
                license_no=license_no,
                profile=draft.profile,
                showcase=draft.showcase,
                assignments=assignments,
                specials=tuple(sorted(specials)),
                cited_advisor_id=cited,
                neighbour_village_id=neighbour.village_id,
            )
        )
    # One township per year imports its December ledger late; in the focus year it is
    # the first exemplary advisor's, so the demo's amendments touch a showcase advisor.
    exemplary_village = next(d.villages[0] for d in drafts if d.profile is Profile.EXEMPLARY)
    late_ledgers = tuple(
        (year, exemplary_village.township if year == focus else rng.choice(townships))
        for year in config.years
    )
    return Roster(
        config=config,
        townships=tuple(townships),
        villages=tuple(villages),
        advisors=tuple(advisors),
        vacant_villages=tuple(vacant),
        late_ledgers=late_ledgers,
    )


def _index(village: Village) -> int:
    return village.index


def _showcase_specials(drafts: list[_Draft], focus: int) -> dict[int, list[tuple[int, Special]]]:
    """Pin each situation on a showcase advisor so every county has all of them."""
    wanted: dict[Profile, list[Special]] = {
        Profile.EXEMPLARY: [Special.VOID_DUPLICATE_DUTY, Special.DUPLICATE_RATINGS],
        Profile.COMPETENT: [Special.VOID_TEST_RATING, Special.VOID_DUPLICATE_INSPECTION],
        Profile.COMPLAINED: [Special.UNASSIGNED_AFTER_END],
        Profile.NEWCOMER: [Special.FOREIGN_RATING],
        Profile.OVERLOADED: [Special.UNASSIGNED_NEIGHBOUR],
    }
    result: dict[int, list[tuple[int, Special]]] = {}
    for index, draft in enumerate(drafts):
        if draft.showcase and draft.profile in wanted:
            result[index] = [(focus, special) for special in wanted.pop(draft.profile)]
    return result
