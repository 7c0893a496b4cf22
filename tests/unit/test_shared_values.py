"""Facts read back from the store, or translated from the wire, share their equal
values (one zone object per UTC offset, interned repeating strings) and are
otherwise unchanged."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from eventsourcing.persistence import JSONTranscoder

from appraisal.application import AppraisalApplication
from appraisal.policy.facts import OnsiteDuty
from tests.sample_facts import advisor_facts


def _transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    AppraisalApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).register_transcodings(
        transcoder
    )
    return transcoder


def _datetimes(fact: Any) -> list[datetime]:
    values = [getattr(fact, name) for name in fact.__slots__]
    return [v for v in values if isinstance(v, datetime)]


def test_facts_decoded_from_the_store_are_equal_and_share_zones_and_strings() -> None:
    transcoder = _transcoder()
    facts = advisor_facts("x") + advisor_facts("y")
    decoded = [transcoder.decode(transcoder.encode(f)) for f in facts]
    assert decoded == facts
    zones = {id(d.tzinfo) for fact in decoded for d in _datetimes(fact) if d.tzinfo is not None}
    assert len(zones) == 1  # every value is at +08:00: one zone object for all of them
    in_villages = [f for f in decoded if hasattr(f, "village_id")]
    assert len(in_villages) > 10
    # Equal village ids are one object (fresh JSON decoding makes one per fact).
    assert len({id(f.village_id) for f in in_villages}) == len({f.village_id for f in in_villages})
    for fact in in_villages:
        assert fact.village_id is sys.intern(fact.village_id)


def test_other_offsets_keep_their_own_zone_and_the_same_instant() -> None:
    transcoder = _transcoder()
    utc = datetime(2024, 3, 5, 2, tzinfo=UTC)
    west = datetime(2024, 3, 5, 2, tzinfo=timezone(timedelta(hours=-5)))
    for value in (utc, west, datetime(2024, 3, 5, 2)):
        back = transcoder.decode(transcoder.encode({"at": value}))["at"]
        assert back == value
        assert back.utcoffset() == value.utcoffset()
        assert back.isoformat() == value.isoformat()


def test_repeating_fields_are_interned_and_unique_ones_are_not() -> None:
    from appraisal.application import SharedValues

    shared = SharedValues()

    def fresh(text: str) -> str:
        return "".join(list(text))  # a new string object, equal to `text`

    first = shared.fields({"village_id": fresh("V-fresh-1"), "case_ref": fresh("C-fresh-1")})
    again = {"village_id": fresh("V-fresh-1"), "case_ref": fresh("C-fresh-1")}
    second = shared.fields(dict(again))
    assert second["village_id"] is first["village_id"]  # one object for equal ids
    assert second["case_ref"] is again["case_ref"]  # free text: left as it came
    assert second == first


def test_equal_datetimes_of_a_fact_are_one_object_and_others_are_left_alone() -> None:
    from appraisal.application import SharedValues

    shared = SharedValues()
    plus8 = timezone(timedelta(hours=8))
    at = datetime(2024, 3, 5, 12, tzinfo=plus8)
    same_instant_in_utc = at.astimezone(UTC)
    values = shared.fields(
        {
            "occurred_at": at,
            "started_at": datetime(2024, 3, 5, 9, tzinfo=plus8),
            "ended_at": datetime(2024, 3, 5, 12, tzinfo=timezone(timedelta(hours=8))),
            "answered_at": same_instant_in_utc,
        }
    )
    assert values["ended_at"] is values["occurred_at"]
    assert values["started_at"] is not values["occurred_at"]
    # Equal instant, another offset: kept apart, so its text and offset are unchanged.
    assert values["answered_at"] is not values["occurred_at"]
    assert values["answered_at"].isoformat() == same_instant_in_utc.isoformat()


def test_facts_decoded_from_the_store_hold_one_object_per_distinct_datetime() -> None:
    transcoder = _transcoder()
    facts = advisor_facts("z")
    duty = next(f for f in facts if isinstance(f, OnsiteDuty))
    ended_when_reported = replace(duty, ended_at=duty.occurred_at)
    for fact in [*facts, ended_when_reported]:
        decoded = transcoder.decode(transcoder.encode(fact))
        assert decoded == fact
        values = _datetimes(decoded)
        assert len({id(v) for v in values}) == len({(v, v.utcoffset()) for v in values})
    decoded = transcoder.decode(transcoder.encode(ended_when_reported))
    assert decoded.ended_at is decoded.occurred_at
