"""Appraisal rules (§5) and the policy document (§6): pure functions over plain data.

Imports only the standard library, pydantic and chinese_calendar. Nothing here reads a
clock, a setting or a store: callers pass the facts, the policy and the calendar in and
get frozen results carrying both the numbers and the reasons behind them.
"""

from appraisal.policy.appraise import (
    AdvisorYearAppraisal,
    AssignmentAppraisal,
    PolicyForYear,
    appraise_advisor_year,
    appraise_assignment,
    appraise_years,
    previous_year_verdicts,
)
from appraisal.policy.attribution import AssignmentPeriods, AttributedHistory, attribute
from appraisal.policy.awards import (
    AwardCandidate,
    AwardCategory,
    AwardEntry,
    AwardExclusion,
    AwardShortlist,
    rank_awards,
)
from appraisal.policy.calendar import PrcCalendar, WorkdayCalendar, covered
from appraisal.policy.document import (
    BUILTIN_POLICY_ID,
    DEFAULT_POLICY,
    PROVINCE_DEFAULT_COUNTY_ID,
    PolicyDocument,
    PublishedPolicy,
    select_policy,
)
from appraisal.policy.facts import (
    AdvisorHistory,
    Appointment,
    AssignmentEnded,
    CommitteeAdvice,
    ComplaintFiled,
    ComplaintResolved,
    Consultation,
    DocumentDrafted,
    Fact,
    Grade,
    Inspection,
    Lecture,
    LegalAidReferral,
    Mediation,
    OnsiteDuty,
    Rating,
    Verdict,
    Voided,
)
from appraisal.policy.indicators import Indicators, RatingSelection
from appraisal.policy.ledger import MonthLedger
from appraisal.policy.quantities import report_value
from appraisal.policy.reasons import ExclusionCode, Reason, ReasonCode
from appraisal.policy.score import Requirements, ScoreParts
from appraisal.policy.whatif import VerdictChange, what_if

__all__ = [
    "BUILTIN_POLICY_ID",
    "DEFAULT_POLICY",
    "PROVINCE_DEFAULT_COUNTY_ID",
    "AdvisorHistory",
    "AdvisorYearAppraisal",
    "Appointment",
    "AssignmentAppraisal",
    "AssignmentEnded",
    "AssignmentPeriods",
    "AttributedHistory",
    "AwardCandidate",
    "AwardCategory",
    "AwardEntry",
    "AwardExclusion",
    "AwardShortlist",
    "CommitteeAdvice",
    "ComplaintFiled",
    "ComplaintResolved",
    "Consultation",
    "DocumentDrafted",
    "ExclusionCode",
    "Fact",
    "Grade",
    "Indicators",
    "Inspection",
    "Lecture",
    "LegalAidReferral",
    "Mediation",
    "MonthLedger",
    "OnsiteDuty",
    "PolicyDocument",
    "PolicyForYear",
    "PrcCalendar",
    "PublishedPolicy",
    "Rating",
    "RatingSelection",
    "Reason",
    "ReasonCode",
    "Requirements",
    "ScoreParts",
    "Verdict",
    "VerdictChange",
    "Voided",
    "WorkdayCalendar",
    "appraise_advisor_year",
    "appraise_assignment",
    "appraise_years",
    "attribute",
    "covered",
    "previous_year_verdicts",
    "rank_awards",
    "report_value",
    "select_policy",
    "what_if",
]
