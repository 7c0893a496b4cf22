"""Facts read back from the store, or translated from the wire, share their equal
values (one zone object per UTC offset, interned repeating strings) and are
otherwise unchanged."""

from __future__ import annotations

import pickle
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from eventsourcing.persistence import JSONTranscoder
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic_core import TzInfo

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


_ZONES = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=8)),
        timezone(timedelta(hours=8), "CST"),
        timezone(timedelta(hours=-5, minutes=-30)),
        timezone(timedelta(hours=23, minutes=59)),
        timezone(timedelta(hours=-23, minutes=-59)),
        TzInfo(8 * 3600),
    ]
)


@given(st.datetimes(), _ZONES, _ZONES, st.booleans())
@example(datetime(1, 1, 1), timezone(timedelta(hours=8)), timezone(timedelta(hours=8), "A"), False)
@example(datetime.max, timezone(-timedelta(hours=5)), timezone(-timedelta(hours=5), "B"), False)
def test_a_shared_zone_gives_what_replacing_the_zone_gives(
    naive: datetime, first: Any, zone: Any, fold: bool
) -> None:
    # `SharedValues.datetime` attaches the shared zone by `astimezone` where it can
    # (issue #8): the same wall time, zone object, fold and text as `replace` would
    # give, at any date including the ends of the calendar.
    from appraisal.application import SharedValues

    shared = SharedValues()
    shared.datetime(datetime(2024, 1, 1, tzinfo=first))  # the zone its offset shares
    value = naive.replace(tzinfo=zone, fold=int(fold))
    made = shared.datetime(value)
    expected = value.replace(tzinfo=shared._zones[zone])
    assert made.tzinfo is expected.tzinfo
    assert (made.isoformat(), made.fold, made.tzname()) == (
        expected.isoformat(),
        expected.fold,
        expected.tzname(),
    )


@given(
    st.text(alphabet="0123456789abcdefABCDEF-_{}x +urn:", min_size=30, max_size=34)
    | st.uuids().map(lambda u: u.hex)
)
def test_uuids_decode_from_hex_as_the_library_decodes_them(text: str) -> None:
    # `UUIDFromHex` skips `UUID.__init__` for 32 characters (issue #8): the same UUID,
    # or the same refusal, for any text.
    from appraisal.application import UUIDFromHex

    try:
        expected = uuid.UUID(text)
    except ValueError:
        with pytest.raises(ValueError):  # noqa: PT011 - the library's and int()'s words differ
            UUIDFromHex().decode(text)
        return
    made = UUIDFromHex().decode(text)
    assert type(made) is uuid.UUID
    assert (made, made.int, str(made), hash(made), made.is_safe) == (
        expected,
        expected.int,
        str(expected),
        hash(expected),
        expected.is_safe,
    )
    assert pickle.loads(pickle.dumps(made)) == expected
