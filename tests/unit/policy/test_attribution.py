"""Which facts count and for which assignment: dedup, voids, appointments, unassigned."""

from __future__ import annotations

from datetime import date

import pytest

from appraisal.policy import DEFAULT_POLICY, AdvisorHistory, appraise_assignment
from appraisal.policy.attribution import AssignmentPeriods, attribute
from tests.unit.policy.builders import WEEKDAYS, HistoryBuilder, at, serve_year

pytestmark = pytest.mark.unit


def periods(b: HistoryBuilder) -> AssignmentPeriods:
    return attribute(b.history(), DEFAULT_POLICY.zone).periods


def test_an_assignment_is_active_from_appointed_on_inclusive_to_ended_on_exclusive() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 3, 1))
    b.end("V1", date(2024, 3, 20))
    p = periods(b)
    assert not p.is_active("V1", date(2024, 2, 29))
    assert p.is_active("V1", date(2024, 3, 1))
    assert p.is_active("V1", date(2024, 3, 19))
    assert not p.is_active("V1", date(2024, 3, 20))
    # 1..19 March
    assert p.active_days("V1", date(2024, 3, 1), date(2024, 4, 1)) == 19


def test_an_advisor_may_be_reappointed_after_an_end() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 1, 1))
    b.end("V1", date(2024, 2, 1))
    b.appoint("V1", date(2024, 6, 1))
    p = periods(b)
    assert p.periods["V1"] == ((date(2024, 1, 1), date(2024, 2, 1)), (date(2024, 6, 1), None))
    assert not p.is_active("V1", date(2024, 3, 1))
    assert p.is_active("V1", date(2025, 1, 1))


def test_ended_and_reappointed_on_the_same_date_is_continuous_service() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 1, 1))
    b.end("V1", date(2024, 7, 1), recorded=at(2024, 6, 30, 9))
    b.appoint("V1", date(2024, 7, 1))
    p = periods(b)
    assert p.active_days("V1", date(2024, 1, 1), date(2025, 1, 1)) == 366


def test_a_repeated_appointment_and_an_end_without_appointment_change_nothing() -> None:
    b = HistoryBuilder()
    b.end("V1", date(2023, 12, 1))
    b.appoint("V1", date(2024, 1, 1))
    b.appoint("V1", date(2024, 3, 1))
    b.end("V1", date(2024, 4, 1))
    assert periods(b).periods["V1"] == ((date(2024, 1, 1), date(2024, 4, 1)),)


def test_an_activity_in_a_village_not_served_that_day_is_flagged_unassigned() -> None:
    b = serve_year(HistoryBuilder(), "V1", 2024)
    stray = b.mediation("V9", at(2024, 5, 5, 10))
    early = b.mediation("V1", at(2023, 12, 31, 10))
    attributed = attribute(b.history(), DEFAULT_POLICY.zone)
    assert {f.event_id for f in attributed.unassigned} == {stray, early}
    appraisal = appraise_assignment("p", DEFAULT_POLICY, b.history(), "V1", 2024, None, WEEKDAYS)
    assert appraisal.indicators.mediations == 4  # the serve_year ones only


def test_an_inspection_counts_when_the_village_was_served_on_any_day_of_its_month() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 3, 31))
    b.end("V1", date(2024, 5, 2))
    inside = [b.inspection("V1", "2024-03"), b.inspection("V1", "2024-05")]
    outside = b.inspection("V1", "2024-06")
    attributed = attribute(b.history(), DEFAULT_POLICY.zone)
    assert [f.event_id for f in attributed.unassigned] == [outside]
    assert set(inside) <= {f.event_id for f in attributed.facts}


def test_a_duty_is_attributed_by_its_start_date_in_beijing_time() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 1, 1))
    # 2023-12-31 23:30 in Beijing: before the appointment even though it ends in 2024
    before = b.duty("V1", at(2023, 12, 31, 23, 30), at(2024, 1, 1, 2))
    attributed = attribute(b.history(), DEFAULT_POLICY.zone)
    assert [f.event_id for f in attributed.unassigned] == [before]


def test_a_void_arriving_before_the_voided_event_still_removes_it() -> None:
    later = HistoryBuilder()
    later.appoint("V1", date(2024, 1, 1))
    duty = later.duty("V1", at(2024, 3, 4, 9), at(2024, 3, 4, 13))
    void = later.void(duty, at(2024, 3, 5))
    # The void arrives first, the duty afterwards: arrival order is irrelevant.
    facts = tuple(sorted(later.facts, key=lambda f: f.event_id != void))
    assert facts[0].event_id == void
    attributed = attribute(AdvisorHistory("A-0001", facts), DEFAULT_POLICY.zone)
    assert duty not in {f.event_id for f in attributed.facts}
    assert attributed.unassigned == ()


def test_a_voided_unassigned_event_is_not_flagged() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 1, 1))
    stray = b.mediation("V9", at(2024, 5, 5, 10))
    b.void(stray, at(2024, 5, 6))
    assert attribute(b.history(), DEFAULT_POLICY.zone).unassigned == ()


def test_a_void_aimed_at_an_appointment_has_no_effect() -> None:
    b = HistoryBuilder()
    appointment = b.appoint("V1", date(2024, 1, 1))
    b.void(appointment, at(2024, 2, 1))
    assert periods(b).is_active("V1", date(2024, 6, 1))


def test_a_repeated_event_counts_once() -> None:
    b = serve_year(HistoryBuilder(), "V1", 2024)
    once = appraise_assignment("p", DEFAULT_POLICY, b.history(), "V1", 2024, None, WEEKDAYS)
    twice = AdvisorHistory("A-0001", tuple(b.facts) * 2)
    assert appraise_assignment("p", DEFAULT_POLICY, twice, "V1", 2024, None, WEEKDAYS) == once
