"""Facts refuse what the contract refuses: naive times, reversed intervals, bad months."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from appraisal.policy import Inspection, Lecture, OnsiteDuty
from tests.unit.policy.builders import at

pytestmark = pytest.mark.unit

ID = uuid.UUID(int=7)


def test_a_naive_datetime_is_refused() -> None:
    naive = datetime(2024, 3, 4, 9)
    with pytest.raises(ValueError, match="UTC offset"):
        OnsiteDuty(ID, at(2024, 3, 4, 13), "V1", naive, at(2024, 3, 4, 13), "gps")


def test_a_duty_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="ends before"):
        OnsiteDuty(ID, at(2024, 3, 4), "V1", at(2024, 3, 4, 13), at(2024, 3, 4, 9), "gps")


def test_a_negative_lecture_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        Lecture(ID, at(2024, 3, 4), "V1", "t", at(2024, 3, 4, 19), -5, 10, False)


@pytest.mark.parametrize("month", ["2024-13", "2024-00", "2024-3", "24-03", "2024/03"])
def test_an_inspection_month_must_be_year_dash_month(month: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        Inspection(ID, at(2024, 3, 25), "V1", month, "i", True, True, True)


@pytest.mark.parametrize(
    ("checks", "passed"),
    [((True, True, True), True), ((True, True, False), False), ((False, False, False), False)],
)
def test_an_inspection_passes_iff_all_three_checks_hold(
    checks: tuple[bool, bool, bool], passed: bool
) -> None:
    inspection = Inspection(ID, at(2024, 3, 25), "V1", "2024-03", "i", *checks)
    assert inspection.passed is passed
    assert inspection.year_month == (2024, 3)
