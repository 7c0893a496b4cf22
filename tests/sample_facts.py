"""A small, varied advisor history with one fact of every kind, for store tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from uuid import NAMESPACE_URL, UUID, uuid5

from appraisal.domain.county import PeriodClosed, PolicyPublished, VillageRegistered
from appraisal.policy import facts as f

CST = timezone(timedelta(hours=8))


def fid(name: str) -> UUID:
    return uuid5(NAMESPACE_URL, "urn:test:" + name)


def at(day: int, hour: int = 10, month: int = 3, year: int = 2024) -> datetime:
    return datetime(year, month, day, hour, tzinfo=CST)


def advisor_facts(prefix: str = "a") -> list[f.Fact]:
    """One fact of every advisor kind (ids unique per prefix)."""
    duty = f.OnsiteDuty(fid(prefix + "duty"), at(5), "V1", at(5, 9), at(5, 13), "gps")
    return [
        f.Appointment(
            fid(prefix + "appt"), at(1), "V1", date(2024, 1, 1), "张律师", "lawyer", "某律所", "L1"
        ),
        duty,
        f.Lecture(fid(prefix + "lect"), at(6), "V1", "民法典", at(6, 19), 90, 40, False),
        f.Mediation(fid(prefix + "med"), at(7), "V1", "M-1", "land", 2, "resolved"),
        f.Consultation(fid(prefix + "cons"), at(8), "V1", "wechat", at(8, 9), at(8, 11), "wages"),
        f.DocumentDrafted(fid(prefix + "doc"), at(9), "V1", "contract"),
        f.LegalAidReferral(fid(prefix + "aid"), at(10), "V1", "LA-1"),
        f.CommitteeAdvice(fid(prefix + "adv"), at(11), "V1", "村规民约"),
        f.Rating(
            fid(prefix + "rate"), at(12), "R-1", "V1", duty.event_id, 5, "wechat", "c" * 64, "好"
        ),
        f.ComplaintFiled(fid(prefix + "cpl"), at(13), "C-1", "V1", "hotline", "late", "d" * 64),
        f.ComplaintResolved(fid(prefix + "res"), at(14), "C-1", False),
        f.Inspection(fid(prefix + "insp"), at(15), "V1", "2024-03", "王所长", True, True, True),
        f.Voided(fid(prefix + "void"), at(16), fid(prefix + "doc"), "duplicate entry", "司法所"),
        f.AssignmentEnded(
            fid(prefix + "end"), at(20, month=12), "V1", date(2024, 12, 20), "term_ended"
        ),
    ]


def county_facts() -> list[VillageRegistered | PolicyPublished | PeriodClosed]:
    return [
        VillageRegistered(fid("v1"), at(1, month=1), "V1", "东村", "T1", "village", False, "A-1"),
        VillageRegistered(fid("v2"), at(1, month=1), "V2", "西社区", "T1", "community", True, ""),
        PolicyPublished(fid("p1"), at(2, month=1), "gz-2024", "440115", date(2024, 1, 1), {"a": 1}),
        PeriodClosed(fid("close"), at(5, month=1, year=2025), 2024),
    ]
