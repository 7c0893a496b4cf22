"""Advisor and county ledgers: given facts, when recorded, then each counts once."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appraisal.application import AppraisalApplication, Recordable
from appraisal.domain.advisor import Advisor, AdvisorInOtherCounty
from appraisal.domain.county import County, PeriodClosed, PolicyPublished, VillageRegistered
from appraisal.domain.ids import advisor_stream_id, county_stream_id
from appraisal.domain.ledger import FactIds, FactsNotHeld
from tests.sample_facts import advisor_facts, at, county_facts, fid

pytestmark = pytest.mark.unit


def test_the_same_advisor_id_always_maps_to_the_same_stream() -> None:
    assert Advisor("A-1").id == Advisor("A-1").id == advisor_stream_id("A-1")
    assert Advisor("A-1").id != Advisor("A-2").id
    assert County("440115").id == county_stream_id("440115") != advisor_stream_id("440115")


def test_recording_a_fact_twice_changes_nothing_the_second_time() -> None:
    advisor = Advisor("A-1")
    fact = advisor_facts()[1]
    assert advisor.record(fact) is True
    version = advisor.version
    assert advisor.record(fact) is False
    assert advisor.version == version
    assert advisor.fact_count == 1
    assert len(advisor.collect_events()) == 2  # Created + one FactRecorded


def test_facts_come_back_in_event_time_order_whatever_the_arrival_order() -> None:
    facts = advisor_facts()
    shuffled = facts[:]
    random.Random(7).shuffle(shuffled)
    a, b = Advisor("A-1"), Advisor("A-1")
    for fact in facts:
        a.record(fact)
    for fact in shuffled:
        b.record(fact)
    assert a.facts() == b.facts()
    assert [x.occurred_at for x in a.facts()] == sorted(x.occurred_at for x in facts)


def test_facts_order_by_instant_then_id_whatever_the_utc_offsets() -> None:
    # Same instants written with different offsets, and equal instants with several ids:
    # the order is (instant, event_id), as if every time were in UTC.
    base = advisor_facts()
    zones = [timezone(timedelta(hours=h)) for h in (8, 0, -5, 8, 5)]
    facts = [
        replace(
            fact,
            event_id=uuid.UUID(int=(i * 7919) % 97),
            occurred_at=base[i % 3].occurred_at.astimezone(zones[i % len(zones)]),
        )
        for i, fact in enumerate(base)
    ]
    ledger = Advisor("A-1")
    for fact in random.Random(3).sample(facts, len(facts)):
        ledger.record(fact)
    expected = sorted(facts, key=lambda f: (f.occurred_at, f.event_id.hex))
    assert list(ledger.facts()) == expected


def test_facts_of_some_classes_are_those_of_facts_in_the_same_order() -> None:
    county = County("440115")
    facts = county_facts()
    for fact in random.Random(5).sample(facts, len(facts)):
        county.record(fact)
    for kinds in [(VillageRegistered,), (PolicyPublished, PeriodClosed), (PeriodClosed,)]:
        expected = tuple(f for f in county.facts() if isinstance(f, kinds))
        assert county.facts_of(*kinds) == expected
        assert expected, kinds  # the sample county has facts of each class


def test_a_re_registered_village_keeps_its_latest_registration() -> None:
    county = County("440115")
    for fact in county_facts():
        county.record(fact)
    renamed = VillageRegistered(
        fid("v1b"), at(3, month=2), "V1", "东村社区", "T1", "community", False, "A-2"
    )
    county.record(renamed)
    villages = county.villages()
    assert villages["V1"].name == "东村社区"
    assert villages["V2"].advisor_id == ""
    assert [p.policy_id for p in county.policies()] == ["gz-2024"]
    assert county.is_closed(2024)
    assert not county.is_closed(2025)


# --- an advisor belongs to one county ---------------------------------------------------


def test_an_advisors_first_event_files_it_and_another_countys_event_is_refused() -> None:
    first, second, third = advisor_facts()[:3]
    advisor = Advisor("A-1")
    assert advisor.record(first, county_id="440115") is True
    version = advisor.version
    with pytest.raises(AdvisorInOtherCounty) as refused:
        advisor.record(second, county_id="440113")
    assert refused.value.code == "advisor_in_other_county"
    assert "440115" in str(refused.value)
    assert "440113" in str(refused.value)
    assert advisor.version == version
    assert not advisor.knows(second.event_id)
    assert advisor.county_id == "440115"
    # The advisor's own county, and an event that names none, are still taken.
    assert advisor.record(second, county_id="440115") is True
    assert advisor.record(third) is True
    assert advisor.county_id == "440115"


def test_a_copy_of_a_held_event_naming_another_county_is_a_duplicate_not_a_refusal() -> None:
    fact = advisor_facts()[0]
    advisor = Advisor("A-1")
    advisor.record(fact, county_id="440115")
    assert advisor.record(fact, county_id="440113") is False


def test_a_ledger_kept_by_ids_decides_what_is_new_exactly_as_with_its_facts() -> None:
    facts = advisor_facts()
    full, lean = Advisor("A-1"), Advisor("A-1")
    for ledger in (full, lean):
        ledger.record(facts[0], county_id="440115")
        ledger.record(facts[1])
    lean.keep_ids_only()
    assert full.holds_facts
    assert not lean.holds_facts
    assert lean.fact_count == full.fact_count == 2
    assert lean.county_id == "440115"
    for fact in facts:
        assert lean.knows(fact.event_id) == full.knows(fact.event_id)
    for fact in facts[1:4]:
        assert lean.record(fact) == full.record(fact)
    assert lean.version == full.version
    assert lean.fact_count == full.fact_count == 4
    with pytest.raises(AdvisorInOtherCounty):
        lean.record(facts[4], county_id="440113")
    assert lean.record(facts[3], county_id="440113") is False  # held: a duplicate
    # Its facts are gone: reading them, or snapshotting it, fails loudly.
    with pytest.raises(FactsNotHeld, match="keeps only its facts' ids"):
        lean.facts()
    with pytest.raises(FactsNotHeld):
        lean.facts_of(type(facts[0]))
    with pytest.raises(FactsNotHeld):
        Advisor.Snapshot.take(lean)


_IDS = st.one_of(
    st.integers(0, (1 << 128) - 1),
    # Ids sharing their high half, and the edges of both halves.
    st.builds(lambda lo: (7 << 64) | lo, st.integers(0, (1 << 64) - 1)),
    st.sampled_from([0, 1, (1 << 64) - 1, 1 << 64, (1 << 128) - 1]),
)


@given(
    initial=st.lists(_IDS, max_size=300),
    added=st.lists(_IDS, max_size=600),
    probes=st.lists(_IDS, max_size=50),
)
@settings(max_examples=150, deadline=None)
def test_fact_ids_hold_exactly_what_a_set_would(
    initial: list[int], added: list[int], probes: list[int]
) -> None:
    ids, expected = FactIds(initial), set(initial)
    for key in added:
        if key not in ids:  # as a ledger does: `record` checks `knows` first
            ids[key] = object()  # as `FactRecorded.apply` records a new fact
        expected.add(key)
        assert key in ids
    assert len(ids) == len(expected)
    assert set(ids) == expected
    for key in [*probes, *initial, *added]:
        assert (key in ids) == (key in expected)
    assert -1 not in ids
    assert 1 << 128 not in ids
    assert "1" not in ids


def test_fact_ids_refuse_what_is_not_a_128_bit_id() -> None:
    with pytest.raises(ValueError, match="128-bit"):
        FactIds([1 << 128])
    ids = FactIds([5])
    with pytest.raises(ValueError, match="128-bit"):
        ids[-1] = None
    assert list(ids) == [5]


def test_the_application_caches_advisors_by_ids_and_serves_them_with_facts() -> None:
    app = AppraisalApplication()
    facts = advisor_facts()
    app.record([_item(fact, "A-1", "440115") for fact in facts[:3]])
    app.record([_item(fact, "A-1", "440115") for fact in facts[2:]])
    assert not app.ledger(advisor_stream_id("A-1")).holds_facts
    advisor = app.advisor("A-1")
    assert advisor is not None
    assert advisor.holds_facts
    assert set(advisor.facts()) == set(facts)
    assert app.knows("advisor", "A-1", facts[-1].event_id)
    assert not app.knows("advisor", "A-1", uuid.uuid4())
    assert not app.knows("advisor", "nobody", facts[0].event_id)
    assert app.filed_county("A-1") == "440115"
    assert app.filed_county("nobody") is None
    app.record([Recordable("county", "440115", fact, "440115") for fact in county_facts()])
    county = app.ledger(county_stream_id("440115"))
    assert county.holds_facts  # registers are read whole: cached with their facts


def _item(fact: Any, advisor_id: str, county_id: str) -> Recordable:
    return Recordable("advisor", advisor_id, fact, county_id)


def test_screening_refuses_exactly_what_recording_would_and_reads_each_advisor_once() -> None:
    app = AppraisalApplication()
    facts = advisor_facts()
    app.record([_item(facts[0], "A-1", "440115")])
    batch = [
        _item(facts[1], "A-1", "440113"),  # stored in 440115: refused
        _item(facts[0], "A-1", "440113"),  # held already: a duplicate, not refused
        _item(facts[2], "A-2", "440113"),  # new advisor: filed under 440113 ...
        _item(facts[3], "A-2", "440115"),  # ... so this one is refused
        _item(facts[4], "A-2", "440113"),
    ]
    screening = app.screen(batch)
    assert [(item.key, item.fact) for item, _ in screening.refused] == [
        ("A-1", facts[1]),
        ("A-2", facts[3]),
    ]
    assert screening.kept == [batch[1], batch[2], batch[4]]
    assert set(screening.loaded) == {advisor_stream_id("A-1")}  # A-2 is not stored yet
    # Recording the whole batch refuses the same items and files A-2 under 440113.
    outcome = app.record(batch)
    assert [item for item, _ in outcome.refused] == [item for item, _ in screening.refused]
    assert outcome.recorded == [facts[2].event_id, facts[4].event_id]
    assert outcome.duplicates == [facts[0].event_id]
    a1, a2 = app.advisor("A-1"), app.advisor("A-2")
    assert a1 is not None
    assert a2 is not None
    assert (a1.county_id, a2.county_id) == ("440115", "440113")
    assert not a1.knows(facts[1].event_id)
    assert not a2.knows(facts[3].event_id)
    app.close()
