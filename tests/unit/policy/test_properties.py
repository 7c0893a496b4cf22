"""Properties that hold for any history: order, repetition, monotonicity, voiding."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appraisal.policy import (
    DEFAULT_POLICY,
    AdvisorHistory,
    AdvisorYearAppraisal,
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
    PrcCalendar,
    Rating,
    Voided,
    appraise_advisor_year,
)
from appraisal.policy.facts import VOIDABLE_TYPES
from tests.unit.policy.builders import SHANGHAI

pytestmark = pytest.mark.unit

YEAR = 2024
CALENDAR = PrcCalendar()
VILLAGES = ("V1", "V2", "V3")  # V3 is never appointed: its facts are unassigned
FIRST = datetime(2023, 12, 20, tzinfo=SHANGHAI)
SPAN_MINUTES = 24 * 60 * 390  # up to mid-January of the following year

PROPERTY_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

HOT_DAYS = (date(2023, 12, 31), date(2024, 1, 31), date(2024, 2, 1), date(2024, 10, 1))
anywhere = st.integers(0, SPAN_MINUTES).map(lambda m: FIRST + timedelta(minutes=m))
# A few busy days make overlaps, same-day ratings and month/year edges common.
busy = st.builds(
    lambda day, hour, minute: datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI),
    st.sampled_from(HOT_DAYS),
    st.integers(0, 23),
    st.sampled_from([0, 30]),
)
instants = busy | anywhere
rating_instants = (
    st.builds(
        lambda day, hour: datetime(2024, 6, day, hour, tzinfo=SHANGHAI),
        st.integers(1, 2),
        st.integers(0, 23),
    )
    | instants
)
FOREIGN_ACTIVITY = uuid.UUID("00000000-0000-4000-8000-00000000f0e1")
villages = st.sampled_from(VILLAGES)


class Ids:
    """Fresh ids, unordered with respect to creation order."""

    def __init__(self, salt: int) -> None:
        self._salt, self._n = salt, 0

    def __call__(self) -> uuid.UUID:
        self._n += 1
        return uuid.uuid5(uuid.NAMESPACE_URL, f"urn:test:{self._salt}:{self._n}")


@st.composite
def activities(draw: st.DrawFn, new_id: Ids) -> Fact:
    kind = draw(st.sampled_from(["duty", "lecture", "consultation", "other"]))
    village, start = draw(villages), draw(instants)
    if kind == "duty":
        end = start + timedelta(minutes=draw(st.integers(0, 10 * 60)))
        return OnsiteDuty(new_id(), end, village, start, end, "gps")
    if kind == "lecture":
        minutes, online = draw(st.integers(0, 240)), draw(st.booleans())
        return Lecture(new_id(), start, village, "t", start, minutes, 10, online)
    if kind == "consultation":
        channel = draw(st.sampled_from(["onsite", "wechat", "phone", "hotline_12348"]))
        delay = draw(st.none() | st.integers(0, 48 * 60).map(lambda m: timedelta(minutes=m)))
        answered = None if delay is None else start + delay
        return Consultation(new_id(), start, village, channel, start, answered, "t")
    other = draw(st.sampled_from([Mediation, DocumentDrafted, LegalAidReferral, CommitteeAdvice]))
    if other is Mediation:
        return Mediation(new_id(), start, village, "m", "land", 2, "resolved")
    if other is DocumentDrafted:
        return DocumentDrafted(new_id(), start, village, "will")
    if other is LegalAidReferral:
        return LegalAidReferral(new_id(), start, village, "la")
    return CommitteeAdvice(new_id(), start, village, "s")


def diligent_year(new_id: Ids, skipped_months: set[int]) -> list[Fact]:
    """V1 activities that comply every month not skipped and meet the yearly requirements."""
    facts: list[Fact] = []
    for month in range(1, 13):
        start = datetime(YEAR, month, 10, 9, tzinfo=SHANGHAI)
        if month not in skipped_months:
            end = start + timedelta(hours=4)
            facts.append(OnsiteDuty(new_id(), end, "V1", start, end, "gps"))
        for day in (11, 12):
            asked = start.replace(day=day)
            facts.append(Consultation(new_id(), asked, "V1", "onsite", asked, asked, "t"))
        if month % 3 == 0:
            night = start.replace(day=13, hour=19)
            facts.append(Lecture(new_id(), night, "V1", "t", night, 60, 20, True))
            facts.append(Mediation(new_id(), start, "V1", "m", "land", 2, "resolved"))
            facts.append(CommitteeAdvice(new_id(), start, "V1", "s"))
    return facts


@st.composite
def histories(draw: st.DrawFn) -> AdvisorHistory:
    new_id = Ids(draw(st.integers(0, 2**32)))
    facts: list[Fact] = [
        Appointment(new_id(), FIRST, "V1", date(YEAR, 1, 1), "n", "lawyer", "f", "l")
    ]
    v2_from = date(YEAR, 1, 1) + timedelta(days=draw(st.integers(0, 365)))
    facts.append(Appointment(new_id(), FIRST, "V2", v2_from, "n", "lawyer", "f", "l"))
    if draw(st.booleans()):
        v2_to = v2_from + timedelta(days=draw(st.integers(0, 200)))
        facts.append(AssignmentEnded(new_id(), FIRST, "V2", v2_to, "resigned"))
    acts = draw(st.lists(activities(new_id), max_size=25))
    if draw(st.booleans()):
        acts.extend(diligent_year(new_id, skipped_months=draw(st.sets(st.integers(1, 12)))))
    facts.extend(acts)
    cited = st.none() | st.just(FOREIGN_ACTIVITY)
    if acts:
        cited = cited | st.sampled_from([a.event_id for a in acts])
    for _ in range(draw(st.integers(0, 14))):
        when = draw(rating_instants)
        facts.append(
            Rating(
                new_id(),
                when,
                "r",
                draw(st.sampled_from(("V1", "V1", "V2", "V3"))),
                draw(cited),
                draw(st.integers(1, 5)),
                "wechat",
                draw(st.sampled_from(["c1", "c2"])),
                "",
            )
        )
    for complaint_id in draw(st.lists(st.sampled_from(["K1", "K2", "K3"]), max_size=3)):
        facts.append(
            ComplaintFiled(new_id(), draw(instants), complaint_id, draw(villages), "", "", "c")
        )
        for _ in range(draw(st.integers(0, 2))):
            facts.append(
                ComplaintResolved(new_id(), draw(instants), complaint_id, draw(st.booleans()))
            )
    for _ in range(draw(st.integers(0, 6))):
        month = f"{YEAR}-{draw(st.integers(1, 12)):02d}"
        checks = draw(st.tuples(st.booleans(), st.booleans(), st.booleans()))
        facts.append(Inspection(new_id(), draw(instants), draw(villages), month, "i", *checks))
    targets = [f.event_id for f in facts]
    for target in draw(st.lists(st.sampled_from(targets), max_size=4)):
        facts.append(Voided(new_id(), draw(instants), target, "wrong", "admin"))
    return AdvisorHistory("A-0001", tuple(facts))


def appraise(history: AdvisorHistory) -> AdvisorYearAppraisal:
    return appraise_advisor_year("p", DEFAULT_POLICY, history, YEAR, {}, CALENDAR)


@PROPERTY_SETTINGS
@given(data=st.data(), history=histories())
def test_the_result_does_not_depend_on_fact_order(
    data: st.DataObject, history: AdvisorHistory
) -> None:
    shuffled = data.draw(st.permutations(history.facts))
    assert appraise(AdvisorHistory(history.advisor_id, tuple(shuffled))) == appraise(history)


@PROPERTY_SETTINGS
@given(data=st.data(), history=histories())
def test_repeating_any_fact_changes_nothing(data: st.DataObject, history: AdvisorHistory) -> None:
    facts = list(history.facts)
    for fact in data.draw(st.lists(st.sampled_from(history.facts), min_size=1, max_size=5)):
        facts.insert(data.draw(st.integers(0, len(facts))), fact)
    assert appraise(AdvisorHistory(history.advisor_id, tuple(facts))) == appraise(history)


@PROPERTY_SETTINGS
@given(
    history=histories(),
    start=st.integers(0, 365 * 24 * 60 - 1).map(
        lambda m: datetime(YEAR, 1, 1, tzinfo=SHANGHAI) + timedelta(minutes=m)
    ),
)
def test_an_extra_on_site_hour_never_lowers_compliance_or_score(
    history: AdvisorHistory, start: datetime
) -> None:
    # V1 is served all year, so the extra duty is always assigned and never voided.
    extra = OnsiteDuty(
        uuid.uuid5(uuid.NAMESPACE_URL, "urn:test:extra"),
        start + timedelta(hours=1),
        "V1",
        start,
        start + timedelta(hours=1),
        "qr",
    )
    before = next(a for a in appraise(history).assignments if a.village_id == "V1")
    with_extra = AdvisorHistory(history.advisor_id, (*history.facts, extra))
    after = next(a for a in appraise(with_extra).assignments if a.village_id == "V1")
    for old, new in zip(before.ledger, after.ledger, strict=True):
        assert new.onsite_hours >= old.onsite_hours
        assert new.compliant >= old.compliant
    assert before.score is not None
    assert after.score is not None
    assert after.score >= before.score


@PROPERTY_SETTINGS
@given(data=st.data(), history=histories())
def test_voiding_a_fact_equals_never_having_recorded_it(
    data: st.DataObject, history: AdvisorHistory
) -> None:
    voidable = [f for f in history.facts if isinstance(f, VOIDABLE_TYPES)]
    if not voidable:
        return
    target = data.draw(st.sampled_from(voidable))
    void = Voided(
        uuid.uuid5(uuid.NAMESPACE_URL, "urn:test:void"),
        data.draw(instants),
        target.event_id,
        "wrong",
        "admin",
    )
    voided = AdvisorHistory(history.advisor_id, (*history.facts, void))
    never = AdvisorHistory(
        history.advisor_id, tuple(f for f in history.facts if f.event_id != target.event_id)
    )
    assert appraise(voided) == appraise(never)
