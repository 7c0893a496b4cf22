"""Advisor and county ledgers: given facts, when recorded, then each counts once."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import timedelta, timezone

import pytest

from appraisal.domain.advisor import Advisor
from appraisal.domain.county import County, VillageRegistered
from appraisal.domain.ids import advisor_stream_id, county_stream_id
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


def test_an_advisor_is_filed_under_the_county_of_its_latest_event() -> None:
    advisor = Advisor("A-1")
    facts = advisor_facts()
    advisor.record(facts[0], county_id="440115")
    assert advisor.county_id == "440115"
    advisor.record(facts[1], county_id="440116")
    assert advisor.county_id == "440116"
