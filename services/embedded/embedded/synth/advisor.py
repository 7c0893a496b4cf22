"""One advisor's events: walks the planned days and writes each event as the source sends it.

Every event goes into the shared heap keyed by when it *arrives*: the provincial
platform within half an hour, the WeChat bot and rating devices within minutes, the
12348 hotline within ten, the township ledger in a monthly batch on the 5th (one
township's December batch only after the year is closed), the bureau's decisions
within minutes. ``occurred_at`` is always when it happened.
"""

from __future__ import annotations

import heapq
import random
from datetime import date, timedelta
from typing import Any, Final

from contracts import derive_event_id
from embedded.synth.plan import (
    Complaint,
    Duty,
    Inspection,
    Lecture,
    ServiceYear,
    YearPlanner,
)
from embedded.synth.roster import Advisor, Roster, Special, Township
from embedded.synth.timeline import DAY, HOUR, MINUTE, Timeline, day_number
from embedded.synth.vocab import (
    COMMENTS_BY_SCORE,
    COMMITTEE_SUBJECTS,
    COMPLAINT_SUMMARIES,
    CONSULTATION_TOPICS,
    DISPUTE_TYPES,
    DOCUMENT_KINDS,
    LECTURE_TOPICS,
    NANSHA_COUNTY_ID,
    UNFOUNDED_COMPLAINT_SUMMARIES,
    VOID_REASONS,
)

__all__ = ["AdvisorStream", "Event", "Item", "Sources", "phone"]

Event = dict[str, Any]
Item = tuple[int, int, int, Event]
"""(arrival, stream index, sequence, event): keys are unique, so events are never compared."""

CITE_SHARE: Final = 0.45
RECENT_KEPT: Final = 8
DUPLICATE_RATE: Final = 0.012
TEST_DEVICE_CITIZEN: Final = "19900000000"
_PHONE_SPACE: Final = 10**8
_PHONE_MULTIPLIER: Final = 48_271  # coprime with 10^8: a bijection, so numbers never collide
_PLATFORM_CHECK_INS: Final = ("gps", "qr")
Citable = tuple[str, str, int, str]
"""(source, source_event_id, when it ended, the rating channel that follows it)."""


class Sources:
    """The county's sending systems (DESIGN §2): platform, WeChat, devices, 12348, ledgers."""

    def __init__(self, county_id: str) -> None:
        prefix = "nansha" if county_id == NANSHA_COUNTY_ID else f"county{county_id}"
        self.platform = f"{prefix}-platform"
        self.bureau = f"{prefix}-bureau"
        self.wechat = "wechat-bot"
        self.device = "rating-device"
        self.hotline = "hotline-12348"
        self.ledger = "township-ledger"


def phone(village_index: int, number: int) -> str:
    """An obviously synthetic 11-digit "phone number" starting with 199, unique per number."""
    mixed = ((village_index * 100_000 + number) * _PHONE_MULTIPLIER + 7919) % _PHONE_SPACE
    return f"199{mixed:08d}"


class AdvisorStream:
    """Emits one advisor's events into a heap shared with the rest of the county."""

    def __init__(
        self,
        roster: Roster,
        advisor: Advisor,
        index: int,
        timeline: Timeline,
        sources: Sources,
        heap: list[Item],
    ) -> None:
        config = roster.config
        self.roster = roster
        self.advisor = advisor
        self.aid = advisor.advisor_id
        self.county = config.county_id
        self.focus = config.focus_year
        self.index = index
        self.tl = timeline
        self.src = sources
        self.heap = heap
        self.seq = 0
        self.rng = random.Random(f"synth:{config.seed}:{config.county_id}:{advisor.advisor_id}")
        self.r = self.rng.random
        close_at = day_number(date(self.focus + 1, *config.close_day)) * DAY + 10 * HOUR
        self.planner = YearPlanner(
            advisor,
            self.rng,
            timeline,
            focus_year=self.focus,
            volume=config.volume,
            close_at=close_at,
        )
        self.services: list[ServiceYear] = []
        self.active: list[ServiceYear] = []
        self.extras: dict[int, list[Special]] = {}
        self.counters: dict[str, int] = {}
        self.suffix = ""

    # -- plumbing ----------------------------------------------------------------

    def push(self, arrival: int, event: Event) -> None:
        heapq.heappush(self.heap, (arrival, self.index, self.seq, event))
        self.seq += 1

    def sid(self, kind: str) -> str:
        """The next source_event_id of a kind this year, e.g. ``CON-2025-A-0007-000123``."""
        n = self.counters.get(kind, 0) + 1
        self.counters[kind] = n
        return f"{kind}{self.suffix}{n:06d}"

    def event(self, type_: str, source: str, sid: str, at: int, payload: Event) -> Event:
        return {
            "type": type_,
            "source": source,
            "source_event_id": sid,
            "occurred_at": self.tl.iso(at),
            "county_id": self.county,
            "advisor_id": self.aid,
            "payload": payload,
        }

    def pick(self, items: tuple[str, ...]) -> str:
        return items[int(self.r() * len(items))]

    def soon(self, at: int, low: int, high: int) -> int:
        """An arrival ``low``–``high`` seconds after ``at``."""
        return at + low + int(self.r() * (high - low))

    # -- walking the calendar -----------------------------------------------------

    def start(self) -> None:
        """Appointments and ends: decided ahead, so they are sent before anything else."""
        advisor, src = self.advisor, self.src
        for a in advisor.assignments:
            new_term = (a.appointed_on.month, a.appointed_on.day) == (1, 1)
            decided_on = a.appointed_on - timedelta(days=10 if new_term else 3)
            at = day_number(decided_on) * DAY + 10 * HOUR + int(self.r() * 2 * HOUR)
            payload = {
                "name": advisor.name,
                "qualification": advisor.qualification,
                "firm": advisor.firm,
                "license_no": advisor.license_no,
                "village_id": a.village.village_id,
                "appointed_on": a.appointed_on.isoformat(),
            }
            sid = f"APPT-{a.appointed_on.year}-{self.aid}-{a.village.village_id}"
            self.push(
                self.soon(at, 60, 600),
                self.event("advisor.appointed.v1", src.bureau, sid, at, payload),
            )
            if a.ended_on is not None and a.end_reason is not None:
                at = day_number(a.ended_on - timedelta(days=3)) * DAY + 16 * HOUR
                payload = {
                    "village_id": a.village.village_id,
                    "ended_on": a.ended_on.isoformat(),
                    "reason": a.end_reason,
                }
                sid = f"END-{a.ended_on.year}-{self.aid}-{a.village.village_id}"
                self.push(
                    self.soon(at, 60, 600),
                    self.event("advisor.assignment_ended.v1", src.bureau, sid, at, payload),
                )

    def start_year(self, year: int) -> None:
        """Plan the year (nothing happens in a year the advisor serves no village)."""
        self.services = self.planner.plan_year(year)
        self.extras = self.planner.plan_specials(year, self.services) if self.services else {}
        self.counters = {}
        self.suffix = f"-{year}-{self.aid}-"

    def start_month(self, year: int, month: int, start: int, end: int) -> None:
        """Plan the month's days for every assignment active in it."""
        self.active = [s for s in self.services if s.first < end and s.following > start]
        for s in self.active:
            self.planner.plan_month(s, month, start, end)
            s.ledger_arrival = self.ledger_arrival(s.village.township, year, month)

    def run_day(self, day: int) -> None:
        """Every event of the day."""
        for s in self.active:
            if s.first <= day < s.following:
                self.day(s, day)
        extras = self.extras.get(day)
        if extras:
            for special in extras:
                self.special(special, day)

    def ledger_arrival(self, township: Township, year: int, month: int) -> int:
        """When a month's township ledger is imported: the 5th of the next month at 17:00,
        or early March for the township whose December ledger comes in after the close."""
        if month == 12 and township == self.roster.late_ledger(year):
            return day_number(date(year + 1, 3, 3)) * DAY + 17 * HOUR
        following = date(year + 1, 1, 5) if month == 12 else date(year, month + 1, 5)
        return day_number(following) * DAY + 17 * HOUR + (township.index % 50) * MINUTE

    def day(self, s: ServiceYear, day: int) -> None:
        """One assignment's day: planned items first, counted activities, then ratings."""
        agenda = s.agenda.get(day)
        counts = s.daily[day - s.month_first]
        if agenda is None and counts is None:
            return
        citable: list[Citable] = []
        if agenda is not None:
            for item in agenda:
                if isinstance(item, Duty):
                    self.duty(s, day, item, citable)
                elif isinstance(item, Lecture):
                    self.lecture(s, item, citable)
                elif isinstance(item, Complaint):
                    self.complaint(s, day, item)
                else:
                    self.inspection(s, day, item)
        if counts is not None:
            self.counted(s, day, counts, citable)
        if citable:
            s.recent = (s.recent + citable)[-RECENT_KEPT:]

    def counted(
        self, s: ServiceYear, day: int, counts: tuple[int, ...], citable: list[Citable]
    ) -> None:
        """The day's counted activities, then its ratings (which may cite any of them)."""
        mediations, offsite, documents, advice, referrals, ratings = counts
        for _ in range(mediations):
            self.mediation(s, day, citable)
        for _ in range(offsite):
            self.consultation(s, day, citable)
        for _ in range(documents):
            self.office_work(s, day, "DOC", citable)
        for _ in range(advice):
            self.office_work(s, day, "ADV", citable)
        for _ in range(referrals):
            self.office_work(s, day, "LA", citable)
        for _ in range(ratings):
            self.rating(s, day, citable)

    # -- activities ---------------------------------------------------------------

    def duty(self, s: ServiceYear, day: int, duty: Duty, citable: list[Citable]) -> None:
        r, tl, src = self.r, self.tl, self.src
        number = self.sid("DUTY")
        if number.endswith("-000001") and duty.check_in not in _PLATFORM_CHECK_INS:
            duty.check_in = "gps"  # the year's first duty is a platform check-in (it gets cited)
        on_ledger = duty.check_in not in _PLATFORM_CHECK_INS
        source = src.ledger if on_ledger else src.platform
        vid = s.village.village_id
        payload = {
            "village_id": vid,
            "started_at": tl.iso(duty.start),
            "ended_at": tl.iso(duty.end),
            "check_in": duty.check_in,
        }
        arrival = s.ledger_arrival if on_ledger else self.soon(duty.end, 60, 1800)
        self.push(arrival, self.event("activity.onsite_duty.v1", source, number, duty.end, payload))
        citable.append((source, number, duty.end, "evaluator_device"))
        length = duty.end - duty.start - 20 * MINUTE
        for _ in range(s.onsite.get(day, 0)):
            asked = duty.start + int(r() * length)
            answered = asked + (5 + int(r() * 25)) * MINUTE
            consult = self.sid("CON")
            payload = {
                "village_id": vid,
                "channel": "onsite",
                "asked_at": tl.iso(asked),
                "answered_at": tl.iso(answered),
                "topic": self.pick(CONSULTATION_TOPICS),
            }
            self.push(
                self.soon(duty.end, 60, 1800),
                self.event("activity.consultation.v1", src.platform, consult, asked, payload),
            )
            citable.append((src.platform, consult, answered, "evaluator_device"))
        if duty.duplicated:
            self.duplicate_duty(s, duty)

    def lecture(self, s: ServiceYear, lecture: Lecture, citable: list[Citable]) -> None:
        r, src = self.r, self.src
        number = self.sid("LEC")
        end = lecture.start + lecture.minutes * MINUTE
        online = lecture.online
        payload = {
            "village_id": s.village.village_id,
            "topic": self.pick(LECTURE_TOPICS),
            "started_at": self.tl.iso(lecture.start),
            "duration_minutes": lecture.minutes,
            "attendees": (50 + int(r() * 600)) if online else (20 + int(r() * 100)),
            "online": online,
        }
        self.push(
            self.soon(end, 300, 7200),
            self.event("activity.lecture.v1", src.platform, number, end, payload),
        )
        citable.append((src.platform, number, end, "wechat" if online else "evaluator_device"))

    def mediation(self, s: ServiceYear, day: int, citable: list[Citable]) -> None:
        r, src = self.r, self.src
        number = self.sid("MED")
        at = day * DAY + 9 * HOUR + int(r() * 8 * HOUR)
        roll = r()
        payload = {
            "village_id": s.village.village_id,
            "case_ref": f"（{s.year}）{s.village.township.name[:2]}调字第{number[-4:]}号",
            "dispute_type": self.pick(DISPUTE_TYPES),
            "parties": 2 if r() < 0.8 else 3 + int(r() * 4),
            "outcome": "resolved" if roll < 0.75 else "unresolved" if roll < 0.9 else "referred",
        }
        on_ledger = r() < 0.4
        source = src.ledger if on_ledger else src.platform
        arrival = s.ledger_arrival if on_ledger else self.soon(at, 600, 4 * HOUR)
        self.push(arrival, self.event("activity.mediation.v1", source, number, at, payload))
        citable.append((source, number, at + HOUR, "callback_12348"))

    def office_work(self, s: ServiceYear, day: int, kind: str, citable: list[Citable]) -> None:
        """A document drafted (DOC), advice to the committee (ADV) or a legal-aid referral (LA)."""
        src = self.src
        number = self.sid(kind)
        at = day * DAY + 9 * HOUR + int(self.r() * 8 * HOUR)
        vid = s.village.village_id
        if kind == "DOC":
            type_, source = "activity.document_drafted.v1", src.platform
            payload = {"village_id": vid, "document_kind": self.pick(DOCUMENT_KINDS)}
            citable.append((source, number, at, "wechat"))
        elif kind == "ADV":
            type_, source = "activity.committee_advice.v1", src.platform
            payload = {"village_id": vid, "subject": self.pick(COMMITTEE_SUBJECTS)}
        else:
            type_ = "activity.legal_aid_referral.v1"
            source = src.hotline if self.r() < 0.3 else src.platform
            payload = {"village_id": vid, "case_ref": f"（{s.year}）法援转字第{number[-5:]}号"}
        self.push(self.soon(at, 60, 3600), self.event(type_, source, number, at, payload))

    def consultation(self, s: ServiceYear, day: int, citable: list[Citable]) -> None:
        # The hottest path with ratings: written out flat (no helper calls) for speed.
        r, src, iso = self.r, self.src, self.tl.iso
        roll = r()
        wechat_share = 0.6 if s.remote else 0.5
        if roll < wechat_share:
            channel, source, rating_channel = "wechat", src.wechat, "wechat"
        elif roll < wechat_share + 0.15:
            channel, source, rating_channel = "phone", src.platform, "callback_12348"
        elif roll < wechat_share + 0.35:
            channel, source, rating_channel = "hotline_12348", src.hotline, "callback_12348"
        else:
            channel, source, rating_channel = "online_platform", src.platform, "wechat"
        by_phone = roll >= wechat_share and roll < wechat_share + 0.35
        if by_phone:
            asked = day * DAY + 8 * HOUR + 30 * MINUTE + int(r() * 11 * HOUR)
        else:
            asked = day * DAY + 7 * HOUR + int(r() * 16 * HOUR)
        answered: int | None
        lateness = s.draw_lateness(r)
        if lateness == 2:
            answered = None
        elif lateness == 1:
            answered = asked + DAY + HOUR + int(r() * 3 * DAY)
        elif by_phone:
            answered = asked + MINUTE + int(r() * 20 * MINUTE)
        else:
            wait = r()
            if wait < 0.6:
                answered = asked + 2 * MINUTE + int(r() * 2 * HOUR)
            elif wait < 0.9:
                answered = asked + 2 * HOUR + int(r() * 10 * HOUR)
            else:
                answered = asked + 12 * HOUR + int(r() * 11 * HOUR)
        number = self.sid("CON")
        event = {
            "type": "activity.consultation.v1",
            "source": source,
            "source_event_id": number,
            "occurred_at": iso(asked),
            "county_id": self.county,
            "advisor_id": self.aid,
            "payload": {
                "village_id": s.village.village_id,
                "channel": channel,
                "asked_at": iso(asked),
                "answered_at": None if answered is None else iso(answered),
                "topic": CONSULTATION_TOPICS[int(r() * len(CONSULTATION_TOPICS))],
            },
        }
        recorded = asked if answered is None else answered
        heapq.heappush(self.heap, (recorded + 5 + int(r() * 595), self.index, self.seq, event))
        self.seq += 1
        if answered is not None and answered < (day + 1) * DAY - 2 * HOUR:
            citable.append((source, number, answered, rating_channel))

    def rating(self, s: ServiceYear, day: int, citable: list[Citable]) -> None:
        """A valid rating (one citizen, one per day); now and then the same citizen again."""
        r, src = self.r, self.src
        score = s.draw_score(r())
        activity: str | None = None
        at = 0
        channel = ""
        if r() < CITE_SHARE:
            if citable:
                cited_source, cited, ended, channel = citable[int(r() * len(citable))]
                at = ended + 5 * MINUTE + int(r() * 85 * MINUTE)
                if at < (day + 1) * DAY - 40 * MINUTE:
                    activity = str(derive_event_id(cited_source, cited))
            elif s.recent:
                # a 12348 callback or a WeChat follow-up about an earlier day's service
                cited_source, cited, _, channel = s.recent[int(r() * len(s.recent))]
                if channel == "evaluator_device":
                    channel = "callback_12348"
                at = day * DAY + 9 * HOUR + int(r() * 11 * HOUR)
                activity = str(derive_event_id(cited_source, cited))
        if activity is None:
            at = day * DAY + 8 * HOUR + int(r() * 13 * HOUR)
            roll = r()
            channel = (
                "evaluator_device" if roll < 0.4 else "wechat" if roll < 0.8 else "callback_12348"
            )
        source = (
            src.device
            if channel == "evaluator_device"
            else src.wechat
            if channel == "wechat"
            else src.hotline
        )
        s.citizen += 1
        comments = COMMENTS_BY_SCORE[score]
        rid = self.sid("RAT")
        payload = {
            "rating_id": rid,
            "village_id": s.village.village_id,
            "activity_event_id": activity,
            "score": score,
            "channel": channel,
            "citizen": phone(s.village.index, s.citizen),
            "comment": comments[int(r() * len(comments))] if r() < 0.35 else "",
        }
        event = {
            "type": "rating.submitted.v1",
            "source": source,
            "source_event_id": rid,
            "occurred_at": self.tl.iso(at),
            "county_id": self.county,
            "advisor_id": self.aid,
            "payload": payload,
        }
        heapq.heappush(self.heap, (at + 5 + int(r() * 115), self.index, self.seq, event))
        self.seq += 1
        forced = s.force_duplicates > 0
        if forced or r() < DUPLICATE_RATE:
            again = at + 2 * MINUTE + int(r() * 25 * MINUTE)
            if again < (day + 1) * DAY:
                s.force_duplicates -= forced
                twice = f"{rid}-DUP"
                payload = {**payload, "rating_id": twice, "score": 1 + int(r() * 5), "comment": ""}
                self.push(
                    self.soon(again, 5, 120),
                    self.event("rating.submitted.v1", source, twice, again, payload),
                )

    def complaint(self, s: ServiceYear, day: int, complaint: Complaint) -> None:
        r, src = self.r, self.src
        filed = day * DAY + 9 * HOUR + int(r() * 9 * HOUR)
        roll = r()
        if roll < 0.5:
            channel, source = "hotline_12348", src.hotline
        elif roll < 0.7:
            channel, source = "letter", src.bureau
        elif roll < 0.85:
            channel, source = "wechat", src.platform
        else:
            channel, source = "online_platform", src.platform
        complaint_id = f"TS-{s.year}-{self.aid}-{complaint.number:02d}"
        summaries = (
            COMPLAINT_SUMMARIES if complaint.substantiated else UNFOUNDED_COMPLAINT_SUMMARIES
        )
        payload = {
            "complaint_id": complaint_id,
            "village_id": s.village.village_id,
            "channel": channel,
            "summary": self.pick(summaries),
            "citizen": phone(s.village.index, 99_000 + complaint.number),
        }
        self.push(
            self.soon(filed, 60, 1800),
            self.event("complaint.filed.v1", source, complaint_id, filed, payload),
        )
        for step, (at, upheld) in enumerate(complaint.resolutions, start=1):
            outcome = {"complaint_id": complaint_id, "substantiated": upheld}
            self.push(
                self.soon(at, 60, 600),
                self.event(
                    "complaint.resolved.v1", src.bureau, f"RES-{complaint_id}-{step}", at, outcome
                ),
            )

    def inspection(self, s: ServiceYear, day: int, inspection: Inspection) -> None:
        r = self.r
        at = day * DAY + 10 * HOUR + int(r() * 6 * HOUR)
        checks = [True, True, True]
        if inspection.failed:
            checks = [r() >= 0.5, r() >= 0.5, r() >= 0.5]
            if all(checks):
                checks[int(r() * 3)] = False
        payload = {
            "village_id": s.village.village_id,
            "month": inspection.month,
            "inspector": s.village.township.office_id,
            "advisor_present": checks[0],
            "ledger_complete": checks[1],
            "wechat_group_active": checks[2],
        }
        ledger = self.src.ledger
        self.push(
            s.ledger_arrival,
            self.event("inspection.recorded.v1", ledger, self.sid("INS"), at, payload),
        )
        if inspection.duplicated:
            twice = f"INS-{s.year}-{self.aid}-DUP"
            self.push(
                s.ledger_arrival,
                self.event("inspection.recorded.v1", ledger, twice, at + 10 * MINUTE, payload),
            )
            voided = s.ledger_arrival + 3 * DAY
            self.void(
                f"VOID-{s.year}-{self.aid}-INSPECTION",
                (ledger, twice),
                voided,
                "duplicate_inspection",
                s,
            )

    # -- corrections and awkward cases ----------------------------------------------

    def duplicate_duty(self, s: ServiceYear, duty: Duty) -> None:
        """The ledger re-enters a platform duty; the void goes out at once, before it."""
        twice = f"DUTY-{s.year}-{self.aid}-DUP"
        payload = {
            "village_id": s.village.village_id,
            "started_at": self.tl.iso(duty.start),
            "ended_at": self.tl.iso(duty.end),
            "check_in": "supervisor",
        }
        ledger = self.src.ledger
        self.push(
            s.ledger_arrival,
            self.event("activity.onsite_duty.v1", ledger, twice, duty.end, payload),
        )
        voided = (duty.end // DAY + 2) * DAY + 10 * HOUR
        self.void(f"VOID-{s.year}-{self.aid}-DUTY", (ledger, twice), voided, "duplicate_duty", s)

    def void(
        self, number: str, target: tuple[str, str], at: int, reason: str, s: ServiceYear
    ) -> None:
        payload = {
            "target_event_id": str(derive_event_id(*target)),
            "reason": VOID_REASONS[reason],
            "voided_by": s.village.township.office_id,
        }
        self.push(
            self.soon(at, 60, 600),
            self.event("activity.voided.v1", self.src.platform, number, at, payload),
        )

    def special(self, special: Special, day: int) -> None:
        """The situations placed on a day rather than on a planned event."""
        services = self.services
        main = next((s for s in services if s.first <= day < s.following), services[0])
        year, aid, src, tl = main.year, self.aid, self.src, self.tl
        if special is Special.VOID_TEST_RATING:
            at = day * DAY + 16 * HOUR
            number = f"RAT-{year}-{aid}-TEST"
            payload = {
                "rating_id": number,
                "village_id": main.village.village_id,
                "activity_event_id": None,
                "score": 5,
                "channel": "evaluator_device",
                "citizen": TEST_DEVICE_CITIZEN,
                "comment": "设备调试",
            }
            self.push(
                self.soon(at, 5, 60),
                self.event("rating.submitted.v1", src.device, number, at, payload),
            )
            voided = (day + 1) * DAY + 9 * HOUR + 30 * MINUTE
            self.void(
                f"VOID-{year}-{aid}-RATING", (src.device, number), voided, "test_rating", main
            )
        elif special is Special.FOREIGN_RATING:
            at = day * DAY + 12 * HOUR + int(self.r() * HOUR)
            number = f"RAT-{year}-{aid}-FOREIGN"
            cited = f"DUTY-{year}-{self.advisor.cited_advisor_id}-000001"
            main.citizen += 1
            payload = {
                "rating_id": number,
                "village_id": main.village.village_id,
                "activity_event_id": str(derive_event_id(src.platform, cited)),
                "score": 4,
                "channel": "evaluator_device",
                "citizen": phone(main.village.index, main.citizen),
                "comment": "",
            }
            self.push(
                self.soon(at, 5, 60),
                self.event("rating.submitted.v1", src.device, number, at, payload),
            )
        elif special is Special.UNASSIGNED_NEIGHBOUR:
            asked = day * DAY + 20 * HOUR
            number = f"CON-{year}-{aid}-NEIGHBOUR"
            payload = {
                "village_id": self.advisor.neighbour_village_id,
                "channel": "wechat",
                "asked_at": tl.iso(asked),
                "answered_at": tl.iso(asked + 25 * MINUTE),
                "topic": self.pick(CONSULTATION_TOPICS),
            }
            self.push(
                self.soon(asked + 25 * MINUTE, 5, 120),
                self.event("activity.consultation.v1", src.wechat, number, asked, payload),
            )
        elif special is Special.UNASSIGNED_AFTER_END:
            begin, end = day * DAY + 9 * HOUR, day * DAY + 12 * HOUR
            number = f"DUTY-{year}-{aid}-AFTER-END"
            payload = {
                "village_id": main.village.village_id,
                "started_at": tl.iso(begin),
                "ended_at": tl.iso(end),
                "check_in": "gps",
            }
            self.push(
                self.soon(end, 60, 1800),
                self.event("activity.onsite_duty.v1", src.platform, number, end, payload),
            )
