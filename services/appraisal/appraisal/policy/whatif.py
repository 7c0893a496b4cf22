"""What-if (政策试算): how each verdict would change under a draft policy. Publishes nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from appraisal.policy.appraise import (
    AssignmentAppraisal,
    appraise_advisor_year,
    appraise_assignment,
)
from appraisal.policy.calendar import WorkdayCalendar
from appraisal.policy.document import PolicyDocument
from appraisal.policy.facts import AdvisorHistory, Grade, Verdict

__all__ = ["VerdictChange", "what_if"]


@dataclass(frozen=True, slots=True)
class VerdictChange:
    """One assignment under the policy in force and under the draft."""

    advisor_id: str
    village_id: str
    current_verdict: Verdict
    current_grade: Grade | None
    current_score: Fraction | None
    current_subsidy_yuan: Decimal | None
    draft_verdict: Verdict
    draft_grade: Grade | None
    draft_score: Fraction | None
    draft_subsidy_yuan: Decimal | None
    changed: tuple[str, ...]
    """Which of verdict, grade, score, subsidy_yuan, reasons differ (empty: unchanged)."""


def _changed(current: AssignmentAppraisal, draft: AssignmentAppraisal) -> tuple[str, ...]:
    fields: list[str] = []
    if current.verdict != draft.verdict:
        fields.append("verdict")
    if current.grade != draft.grade:
        fields.append("grade")
    if current.score != draft.score:
        fields.append("score")
    if current.subsidy_yuan != draft.subsidy_yuan:
        fields.append("subsidy_yuan")
    if [r.code for r in current.reasons] != [r.code for r in draft.reasons]:
        fields.append("reasons")
    return tuple(fields)


def _by_village(
    policy: tuple[str, PolicyDocument],
    history: AdvisorHistory,
    year: int,
    previous: Mapping[str, Verdict],
    calendar: WorkdayCalendar,
) -> dict[str, AssignmentAppraisal]:
    policy_id, document = policy
    appraisal = appraise_advisor_year(policy_id, document, history, year, previous, calendar)
    return {assignment.village_id: assignment for assignment in appraisal.assignments}


def what_if(
    current: tuple[str, PolicyDocument],
    draft: tuple[str, PolicyDocument],
    histories: Iterable[AdvisorHistory],
    year: int,
    previous_verdicts: Mapping[tuple[str, str], Verdict],
    calendar: WorkdayCalendar,
) -> tuple[VerdictChange, ...]:
    """Every assignment of ``histories`` in ``year`` under the current and the draft policy.

    ``current`` and ``draft`` are (policy_id, document). ``previous_verdicts`` maps
    (advisor_id, village_id) to the current verdict of ``year - 1`` and is used for both
    sides: a draft is evaluated against the recorded past, not a re-appraised one. Rows are
    sorted by (advisor_id, village_id).
    """
    rows: list[VerdictChange] = []
    for history in sorted(histories, key=lambda h: h.advisor_id):
        previous = {
            village: verdict
            for (advisor, village), verdict in previous_verdicts.items()
            if advisor == history.advisor_id
        }
        sides = [
            _by_village(policy, history, year, previous, calendar) for policy in (current, draft)
        ]
        # Policies with different time zones may disagree on which villages were served.
        for village_id in sorted(sides[0].keys() | sides[1].keys()):
            before, after = (
                side.get(village_id)
                or appraise_assignment(
                    policy_id,
                    document,
                    history,
                    village_id,
                    year,
                    previous.get(village_id),
                    calendar,
                )
                for side, (policy_id, document) in zip(sides, (current, draft), strict=True)
            )
            rows.append(
                VerdictChange(
                    advisor_id=history.advisor_id,
                    village_id=village_id,
                    current_verdict=before.verdict,
                    current_grade=before.grade,
                    current_score=before.score,
                    current_subsidy_yuan=before.subsidy_yuan,
                    draft_verdict=after.verdict,
                    draft_grade=after.grade,
                    draft_score=after.score,
                    draft_subsidy_yuan=after.subsidy_yuan,
                    changed=_changed(before, after),
                )
            )
    return tuple(rows)
