"""Builders for advisor histories: readable facts with deterministic ids."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from appraisal.policy import (
    AdvisorHistory,
    Appointment,
    AssignmentEnded,
    CommitteeAdvice,
    ComplaintFiled,
    ComplaintResolved,
    Consultation,
    DocumentDrafted,
    Fact,
    Inspection,
    Lecture,
    LegalAidReferral,
    Mediation,
    OnsiteDuty,
    Rating,
    Voided,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
ID_NAMESPACE = uuid.UUID("6f1c1c8e-0000-4000-8000-000000000000")


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """A Beijing-time instant."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def first_weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


class WeekendCalendar:
    """Monday–Friday are working days, except the listed holidays; listed make-up days work."""

    def __init__(
        self, holidays: Sequence[date] = (), workdays: Sequence[date] = (), exact: bool = True
    ) -> None:
        self._holidays = frozenset(holidays)
        self._workdays = frozenset(workdays)
        self._exact = exact

    def is_working_day(self, day: date) -> bool:
        if day in self._workdays:
            return True
        return day.weekday() < 5 and day not in self._holidays

    def covers(self, year: int) -> bool:
        return self._exact


WEEKDAYS = WeekendCalendar()


@dataclass
class HistoryBuilder:
    """Records facts for one advisor; every method returns the new fact's event_id."""

    advisor_id: str = "A-0001"
    facts: list[Fact] = field(default_factory=list)
    _next: int = 0

    def new_id(self) -> uuid.UUID:
        self._next += 1
        return uuid.uuid5(ID_NAMESPACE, f"{self.advisor_id}:{self._next}")

    def add(self, fact: Fact) -> uuid.UUID:
        self.facts.append(fact)
        return fact.event_id

    def history(self) -> AdvisorHistory:
        return AdvisorHistory(self.advisor_id, tuple(self.facts))

    def appoint(self, village: str, on: date, name: str = "张律师") -> uuid.UUID:
        return self.add(
            Appointment(
                self.new_id(),
                datetime(on.year, on.month, on.day, tzinfo=SHANGHAI),
                village,
                on,
                name,
                "lawyer",
                "某律师事务所",
                "L-0001",
            )
        )

    def end(self, village: str, on: date, recorded: datetime | None = None) -> uuid.UUID:
        when = recorded or datetime(on.year, on.month, on.day, tzinfo=SHANGHAI)
        return self.add(AssignmentEnded(self.new_id(), when, village, on, "term_ended"))

    def duty(self, village: str, start: datetime, end: datetime) -> uuid.UUID:
        return self.add(OnsiteDuty(self.new_id(), end, village, start, end, "gps"))

    def lecture(
        self, village: str, start: datetime, minutes: int = 60, online: bool = False
    ) -> uuid.UUID:
        return self.add(
            Lecture(self.new_id(), start, village, "民法典进村", start, minutes, 30, online)
        )

    def mediation(self, village: str, when: datetime) -> uuid.UUID:
        return self.add(Mediation(self.new_id(), when, village, "M-1", "land", 2, "resolved"))

    def consultation(
        self,
        village: str,
        asked: datetime,
        answered: datetime | None,
        channel: str = "wechat",
        occurred: datetime | None = None,
    ) -> uuid.UUID:
        return self.add(
            Consultation(
                self.new_id(), occurred or asked, village, channel, asked, answered, "土地承包"
            )
        )

    def document(self, village: str, when: datetime) -> uuid.UUID:
        return self.add(DocumentDrafted(self.new_id(), when, village, "contract"))

    def referral(self, village: str, when: datetime) -> uuid.UUID:
        return self.add(LegalAidReferral(self.new_id(), when, village, "LA-1"))

    def advice(self, village: str, when: datetime) -> uuid.UUID:
        return self.add(CommitteeAdvice(self.new_id(), when, village, "村规民约"))

    def rating(
        self,
        village: str,
        when: datetime,
        score: int,
        citizen: str = "citizen-1",
        activity: uuid.UUID | None = None,
    ) -> uuid.UUID:
        event_id = self.new_id()
        return self.add(
            Rating(
                event_id,
                when,
                f"R-{event_id.hex[:8]}",
                village,
                activity,
                score,
                "evaluator_device",
                citizen,
                "",
            )
        )

    def complaint(self, village: str, when: datetime, complaint_id: str) -> uuid.UUID:
        return self.add(
            ComplaintFiled(self.new_id(), when, complaint_id, village, "12348", "态度差", "c-9")
        )

    def resolve(self, complaint_id: str, when: datetime, substantiated: bool) -> uuid.UUID:
        return self.add(ComplaintResolved(self.new_id(), when, complaint_id, substantiated))

    def inspection(
        self,
        village: str,
        month: str,
        present: bool = True,
        ledger: bool = True,
        wechat: bool = True,
    ) -> uuid.UUID:
        year, mon = (int(part) for part in month.split("-"))
        return self.add(
            Inspection(
                self.new_id(), at(year, mon, 25), village, month, "司法所", present, ledger, wechat
            )
        )

    def void(self, target: uuid.UUID, when: datetime) -> uuid.UUID:
        return self.add(Voided(self.new_id(), when, target, "录入错误", "county-admin"))


def serve_year(
    b: HistoryBuilder,
    village: str = "V1",
    year: int = 2024,
    *,
    months_served: int = 12,
    compliant_months: int | None = None,
    lectures: int = 4,
    night_lectures: int = 2,
    mediations: int = 4,
    consultations: int = 24,
    governance: int = 4,
    ratings: Sequence[int] = (),
    substantiated_complaints: int = 0,
    inspections_passed: int = 0,
    inspections_failed: int = 0,
    duty_hour: int = 9,
) -> HistoryBuilder:
    """A year of service whose score is easy to compute by hand.

    The assignment runs from 1 January for ``months_served`` whole months. The first
    ``compliant_months`` months each get one 4-hour duty (from ``duty_hour`` on the 10th); the
    others get nothing, so they are served but not compliant. Lectures are online (they
    count as lectures but never change compliance): night ones at 19:00, day ones at
    10:00 on a weekday. Consultations are on site and answered at once, so ρ = 1 and
    there is no off-site credit. Every other activity is spread over the served months.
    With the defaults the score is 30 + 10 + 10 + 10 + 5 + 10 + 15 + 5 = 95 (b = 4.0).
    """
    compliant = months_served if compliant_months is None else compliant_months
    b.appoint(village, date(year, 1, 1))
    if months_served < 12:
        b.end(village, date(year, months_served + 1, 1))

    def month(i: int) -> int:
        return i % months_served + 1

    for m in range(1, compliant + 1):
        b.duty(village, at(year, m, 10, duty_hour), at(year, m, 10, duty_hour + 4))
    for i in range(lectures):
        if i < night_lectures:
            b.lecture(village, at(year, month(i), 11, 19), online=True)
        else:
            day = first_weekday_on_or_after(date(year, month(i), 12))
            b.lecture(village, at(year, day.month, day.day, 10), online=True)
    for i in range(mediations):
        b.mediation(village, at(year, month(i), 13, 15))
    for i in range(consultations):
        asked = at(year, month(i), 14, 9) + timedelta(minutes=i)
        b.consultation(village, asked, asked, channel="onsite")
    for i in range(governance):
        b.advice(village, at(year, month(i), 16, 15))
    for i, score in enumerate(ratings):
        b.rating(village, at(year, month(i), 17, 10), score, citizen=f"citizen-{i}")
    for i in range(substantiated_complaints):
        complaint_id = f"{village}-C{i}"
        b.complaint(village, at(year, month(i), 18, 10), complaint_id)
        b.resolve(complaint_id, at(year, month(i), 20, 10), substantiated=True)
    for i in range(inspections_passed + inspections_failed):
        b.inspection(village, f"{year}-{month(i):02d}", present=i < inspections_passed)
    return b
