"""Planning an advisor's year: exact targets turned into days, before any event exists.

A year is planned per assignment (:class:`ServiceYear`): which served months lack duty,
the duty days (at least two visits of 2.5 h or more in every compliant month, never
overlapping another village's), lecture days (night, holiday, office hours), inspection
months and which fail, complaint days, and each month's quotas. A month is then planned
just before it is walked: quotas become per-day counts. The state is a few hundred small
numbers per assignment, whatever the event volume.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Final, TypeAlias

from appraisal.policy import DEFAULT_POLICY
from embedded.synth.profiles import Needs, PlanContext, YearTargets, rating_counts, targets_for
from embedded.synth.roster import Advisor, Assignment, Special
from embedded.synth.timeline import DAY, HOUR, MINUTE, Timeline, day_number, month_days

__all__ = [
    "Complaint",
    "DailyCounts",
    "Duty",
    "Inspection",
    "Lecture",
    "ServiceYear",
    "YearPlanner",
    "spread",
]

SERVED_DAYS: Final = DEFAULT_POLICY.service.served_month_min_active_days
INSPECTION_DAY: Final = 25
ONSITE_SHARE: Final = 0.25
REMOTE_ONSITE_SHARE: Final = 0.15
SHORT_VISIT_MINUTES: Final = 90
"""A visit in a month short of duty: 1.5 h on site + at most 2 h of credit stays below 4 h."""


def spread(total: int, weights: list[int], rng: random.Random) -> list[int]:
    """Split ``total`` over slots in proportion to ``weights``, exactly, with a random phase."""
    whole = sum(weights)
    if total <= 0 or whole <= 0:
        return [0] * len(weights)
    phase = rng.random()
    result: list[int] = []
    running = previous = 0
    for weight in weights:
        running += weight
        current = math.floor(total * running / whole + phase)
        result.append(current - previous)
        previous = current
    return result


@dataclass(slots=True)
class Duty:
    """An on-site duty interval (local seconds)."""

    start: int
    end: int
    check_in: str
    duplicated: bool = False


@dataclass(slots=True)
class Lecture:
    """A lecture: start (local seconds), length and whether it is held online."""

    start: int
    minutes: int
    online: bool


@dataclass(slots=True)
class Complaint:
    """A complaint and its resolutions ((when, substantiated); the latest counts)."""

    number: int
    substantiated: bool
    resolutions: tuple[tuple[int, bool], ...]


@dataclass(slots=True)
class Inspection:
    """The township office's monthly check of the assignment."""

    month: str
    failed: bool
    duplicated: bool = False


AgendaItem: TypeAlias = Duty | Lecture | Complaint | Inspection
DailyCounts: TypeAlias = tuple[int, ...]
"""Per day: mediations, off-site consultations, documents, committee advice, referrals,
ratings."""


class ServiceYear:
    """One assignment in one year: its plan and what is left of it."""

    __slots__ = (
        "agenda",
        "assignment",
        "citizen",
        "daily",
        "first",
        "following",
        "force_duplicates",
        "late_left",
        "ledger_arrival",
        "month_first",
        "off_left",
        "onsite",
        "quotas",
        "recent",
        "remote",
        "scores",
        "scores_left",
        "skipped",
        "targets",
        "unanswered_left",
        "village",
        "year",
    )

    def __init__(self, assignment: Assignment, year: int, first: int, following: int) -> None:
        self.assignment = assignment
        self.village = assignment.village
        self.remote = assignment.village.remote
        self.year = year
        self.first = first
        self.following = following
        self.agenda: dict[int, list[AgendaItem]] = {}
        self.skipped: set[int] = set()
        self.citizen = (year % 4) * 25_000  # rating counter: one citizen id per rating
        self.month_first = first
        self.daily: list[DailyCounts | None] = []
        self.onsite: dict[int, int] = {}
        self.ledger_arrival = 0
        self.force_duplicates = 0
        self.recent: list[tuple[str, str, int, str]] = []
        """The last few citable activities of earlier days (a callback rates them later)."""
        self.quotas: list[list[int]] = []
        """Per kind of DailyCounts, the 13 monthly quotas (index 0 unused)."""
        self.targets: YearTargets
        self.scores: list[int] = []
        self.scores_left = self.off_left = self.late_left = self.unanswered_left = 0

    def add(self, day: int, item: AgendaItem) -> None:
        """Put a planned event on the agenda of a day."""
        self.agenda.setdefault(day, []).append(item)

    def draw_score(self, draw: float) -> int:
        """Take a score out of the year's exact multiset (``draw`` uniform in [0, 1))."""
        if self.scores_left <= 0:
            return 5
        point = int(draw * self.scores_left)
        self.scores_left -= 1
        for value, count in enumerate(self.scores, start=1):
            if point < count:
                self.scores[value - 1] -= 1
                return value
            point -= count
        return 5  # pragma: no cover - the counts always add up to scores_left

    def draw_lateness(self, draw: Callable[[], float]) -> int:
        """How the next off-site consultation is answered, keeping the year's shares exact:
        0 within 24 h, 1 later, 2 never (``draw`` gives uniform numbers in [0, 1))."""
        late = draw() * self.off_left < self.late_left
        self.off_left -= 1
        if not late:
            return 0
        never = draw() * self.late_left < self.unanswered_left
        self.late_left -= 1
        if never:
            self.unanswered_left -= 1
            return 2
        return 1


class YearPlanner:
    """Plans the years of one advisor with that advisor's random stream."""

    def __init__(
        self,
        advisor: Advisor,
        rng: random.Random,
        timeline: Timeline,
        *,
        focus_year: int,
        volume: float,
        close_at: int,
    ) -> None:
        self.advisor = advisor
        self.rng = rng
        self.r = rng.random
        self.tl = timeline
        self.focus = focus_year
        self.volume = volume
        self.close_at = close_at
        self.afternoon_weekdays = {a.slot % 5 for a in advisor.assignments if 5 <= a.slot < 10}
        self.complaints = 0
        """Complaints planned this year: numbers them per advisor, across villages."""

    def plan_year(self, year: int) -> list[ServiceYear]:
        """Every assignment active in ``year``, planned."""
        services: list[ServiceYear] = []
        self.complaints = 0
        for assignment in self.advisor.assignments:
            first, following = assignment.active_days(year)
            if first < following:
                service = ServiceYear(assignment, year, first, following)
                self._plan_service(service)
                services.append(service)
        used_offline: set[int] = set()  # one advisor cannot lecture in two places at once
        for service in services:
            self._plan_lectures(service, used_offline)
        return services

    def _plan_service(self, s: ServiceYear) -> None:
        r, year = self.r, s.year
        spans = [month_days(year, m) for m in range(1, 13)]
        active = [max(0, min(e, s.following) - max(b, s.first)) for b, e in spans]
        served = [m for m in range(1, 13) if active[m - 1] >= SERVED_DAYS]
        inspected: list[tuple[int, int]] = []
        for m, (b, e) in enumerate(spans, start=1):
            day = b + INSPECTION_DAY - 1
            if s.first <= day < s.following:
                later = [d for d in range(day, min(day + 4, e)) if d < s.following]
                inspected.append((m, later[int(r() * len(later))]))
        days_in_year = day_number(date(year + 1, 1, 1)) - day_number(date(year, 1, 1))
        context = PlanContext(
            need=Needs.of(len(served)),
            active_fraction=sum(active) / days_in_year,
            inspections=len(inspected),
            volume=self.volume,
            rng=self.rng,
        )
        t = targets_for(self.advisor.profile, year, self.focus)(context)
        s.targets = t
        s.skipped = set(self.rng.sample(served, min(t.skipped_months, len(served))))

        with_duty = [False] * 13
        for m, (b, e) in enumerate(spans, start=1):
            with_duty[m] = self._plan_duties(s, m, max(b, s.first), min(e, s.following)) > 0

        rng = self.rng
        consultations = [0, *spread(t.consultations, active, rng)]
        share = REMOTE_ONSITE_SHARE if s.remote else ONSITE_SHARE
        onsite = [round(q * share) if with_duty[m] else 0 for m, q in enumerate(consultations)]
        offsite = [q - o for q, o in zip(consultations, onsite, strict=True)]
        s.quotas = [
            [0, *spread(t.mediations, active, rng)],
            offsite,
            [0, *spread(t.documents, active, rng)],
            [0, *spread(t.committee_advice, active, rng)],
            [0, *spread(t.referrals, active, rng)],
            [0, *spread(t.ratings, active, rng)],
            onsite,
        ]
        s.off_left = sum(offsite)
        s.late_left = round(s.off_left * t.late_share)
        s.unanswered_left = round(s.late_left * t.unanswered_share)
        s.scores = list(rating_counts(t.ratings, t.rating_mix))
        s.scores_left = t.ratings

        months = [m for m, _ in inspected]
        failed = set(rng.sample(months, min(t.failed_inspections, len(months))))
        for m, day in inspected:
            s.add(day, Inspection(f"{year}-{m:02d}", m in failed))
        self._plan_complaints(s, t, served)

    def _plan_duties(self, s: ServiceYear, month: int, first: int, following: int) -> int:
        """Duty days of a month; returns how many. Compliant months get ≥ 2 visits ≥ 2.5 h."""
        tl, r = self.tl, self.r
        working = tl.working_days(first, following)
        if not working:
            return 0
        slot = s.assignment.slot
        weekday, afternoon = slot % 5, slot >= 5
        # Morning visits end by 13:20 and afternoon ones by 18:20, so they never meet a
        # 15:00 office-hours lecture (kept off afternoon-slot weekdays) or a 19:00 one.
        opens = (14 if afternoon else 9) * HOUR
        if month in s.skipped:
            if r() < 0.5:
                return 0
            day = working[int(r() * len(working))]
            s.add(
                day,
                Duty(
                    day * DAY + opens,
                    day * DAY + opens + SHORT_VISIT_MINUTES * MINUTE,
                    "self_reported",
                ),
            )
            return 1
        days = [d for d in working if tl.weekday(d) == weekday]
        if s.remote:
            days = days[::2]  # a remote village is visited fortnightly
        if len(days) < 2:
            busy = {a.slot % 5 for a in self.advisor.assignments if (a.slot >= 5) == afternoon}
            spare = [d for d in working if d not in days and tl.weekday(d) not in busy]
            spare = spare or [d for d in working if d not in days]
            days = sorted(days + self.rng.sample(spare, min(2 - len(days), len(spare))))
        lengths = (150, 165, 180, 195, 210) if s.remote else (180, 195, 210, 225, 240)
        for day in days:
            begin = day * DAY + opens + int(r() * 20) * MINUTE
            minutes = lengths[int(r() * len(lengths))]
            roll = r()
            check_in = (
                "gps"
                if roll < 0.5
                else "qr"
                if roll < 0.8
                else "supervisor"
                if roll < 0.9
                else "self_reported"
            )
            s.add(day, Duty(begin, begin + minutes * MINUTE, check_in))
        return len(days)

    def _plan_lectures(self, s: ServiceYear, used_offline: set[int]) -> None:
        """Lecture days: night (19:00), holiday (a non-working day) or office hours (15:00).

        Offline lectures only in months with duty, so a month short of duty stays short.
        """
        tl, r, t, year = self.tl, self.r, s.targets, s.year
        eligible: list[tuple[int, list[int], list[int]]] = []
        for m in range(1, 13):
            b, e = month_days(year, m)
            first, following = max(b, s.first), min(e, s.following)
            working = tl.working_days(first, following)
            resting = [d for d in range(first, following) if d not in working]
            if len(working) >= 3 and resting:
                eligible.append((m, working, resting))
        if not eligible:
            return
        kinds = [True] * t.night_lectures + [False] * (t.lectures - t.night_lectures)
        for night_or_holiday in kinds:
            m, working, resting = eligible[int(r() * len(eligible))]
            may_be_offline = m not in s.skipped
            if not night_or_holiday:
                online = not may_be_offline or r() < 0.4
                pool = [
                    d
                    for d in working
                    if online
                    or (d not in used_offline and tl.weekday(d) not in self.afternoon_weekdays)
                ]
                if not pool:
                    online, pool = True, working
                day = pool[int(r() * len(pool))]
                begin = day * DAY + (10 if online and r() < 0.5 else 15) * HOUR
                minutes = 60 + 15 * int(r() * 3)
            else:
                online = not may_be_offline or r() < 0.12
                holiday = r() < 0.35
                pool = resting if holiday else working + resting
                if not online:
                    pool = [d for d in pool if d not in used_offline] or [
                        d for d in working + resting if d not in used_offline
                    ]
                    if not pool:
                        online, pool = True, working + resting
                day = pool[int(r() * len(pool))]
                if holiday and not tl.is_working_day(day):
                    begin = day * DAY + (9 * HOUR + 30 * MINUTE if r() < 0.5 else 15 * HOUR)
                else:
                    begin = day * DAY + 19 * HOUR + (30 * MINUTE if r() < 0.5 else 0)
                minutes = 60 + 30 * int(r() * 3)
            if not online:
                used_offline.add(day)
            s.add(day, Lecture(begin, minutes, online))

    def _plan_complaints(self, s: ServiceYear, t: YearTargets, served: list[int]) -> None:
        r, year = self.r, s.year
        days = [
            d
            for m in served or range(1, 13)
            for d in range(*month_days(year, m))
            if s.first <= d < s.following
        ]
        if not days:
            return
        december = month_days(year, 12)[0]
        for i in range(t.substantiated_complaints + t.unfounded_complaints):
            substantiated = i < t.substantiated_complaints
            resolutions: tuple[tuple[int, bool], ...]
            if substantiated and t.resolution_after_close:
                late = [d for d in days if d >= december][:10] or days[-10:]
                day = late[int(r() * len(late))]
                resolutions = ((self.close_at + 5 * DAY + int(r() * 3 * HOUR), True),)
            else:
                day = days[int(r() * len(days))]
                filed = day * DAY + 10 * HOUR
                if substantiated and t.complaint_reviewed and i == 0:
                    # first found unfounded, upheld on review (复核): the latest counts
                    resolutions = ((filed + 12 * DAY, False), (filed + 40 * DAY, True))
                else:
                    resolutions = ((filed + (12 + int(r() * 18)) * DAY, substantiated),)
            self.complaints += 1
            s.add(day, Complaint(self.complaints, substantiated, resolutions))

    def plan_specials(self, year: int, services: list[ServiceYear]) -> dict[int, list[Special]]:
        """Days of the year's special situations; some mark a planned event instead."""
        extras: dict[int, list[Special]] = {}
        main = services[0]
        for special in self.advisor.specials_in(year):
            if special is Special.VOID_DUPLICATE_DUTY:
                duties = [
                    item
                    for day in sorted(main.agenda)
                    for item in main.agenda[day]
                    if isinstance(item, Duty) and item.check_in in ("gps", "qr")
                ]
                if duties:
                    duties[len(duties) // 3].duplicated = True
            elif special is Special.VOID_DUPLICATE_INSPECTION:
                inspections = [
                    item
                    for day in sorted(main.agenda)
                    for item in main.agenda[day]
                    if isinstance(item, Inspection)
                ]
                if inspections:
                    inspections[0].duplicated = True
            elif special is Special.DUPLICATE_RATINGS:
                main.force_duplicates = 2
            elif special is Special.UNASSIGNED_AFTER_END:
                ended = main.assignment.ended_on
                if ended is not None and ended.year == year:
                    extras.setdefault(day_number(ended) + 3, []).append(special)
            else:
                span = main.following - main.first
                day = main.first + span // 2 + int(self.r() * max(1, span // 4))
                extras.setdefault(min(day, main.following - 1), []).append(special)
        return extras

    def plan_month(self, s: ServiceYear, month: int, start: int, end: int) -> None:
        """Turn a month's quotas into per-day counts (and on-site consultations per duty)."""
        r = self.r
        first, following = max(start, s.first), min(end, s.following)
        n = following - first
        s.month_first = first
        working = [d - first for d in self.tl.working_days(first, following)] or list(range(n))
        everyday = list(range(n))
        pools = (everyday, everyday, working, working, working, everyday)
        columns: list[list[int]] = []
        for quota, pool in zip(s.quotas, pools, strict=False):
            counts = [0] * n
            size = len(pool)
            for _ in range(quota[month]):
                counts[pool[int(r() * size)]] += 1
            columns.append(counts)
        s.daily = [row if any(row) else None for row in zip(*columns, strict=True)]
        s.onsite = {}
        duty_days = [
            d
            for d in sorted(s.agenda)
            if first <= d < following and any(isinstance(i, Duty) for i in s.agenda[d])
        ]
        for _ in range(s.quotas[6][month]):
            if duty_days:
                day = duty_days[int(r() * len(duty_days))]
                s.onsite[day] = s.onsite.get(day, 0) + 1
