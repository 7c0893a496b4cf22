"""Packed facts (the projector's copies of advisors, issue #8 B4): whatever is packed
decodes to an equal fact, field for field, with the same types, instants, offsets
and folds; what cannot be packed exactly is kept as it is."""

from __future__ import annotations

import dataclasses
import typing
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from types import NoneType, UnionType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appraisal.application import SharedValues
from appraisal.domain.advisor import Advisor
from appraisal.domain.ledger import FactsNotHeld, _canonical
from appraisal.domain.packed import FactCodec, PackedFacts
from appraisal.policy import facts as f
from tests.sample_facts import advisor_facts, at, fid

pytestmark = pytest.mark.unit

CLASSES = typing.get_args(f.Fact)
ZONES = [
    UTC,
    timezone(timedelta(hours=8)),
    timezone(timedelta(hours=8), "CST"),  # equal to the one above, but prints its name
    timezone(timedelta(hours=-5, minutes=-30)),
    ZoneInfo("Asia/Shanghai"),
    ZoneInfo("America/New_York"),  # folds in November
]


# One instant in three zones, and a second later: ties on the instant, broken by id.
SAME_INSTANTS = [
    datetime(2024, 3, 5, 2, tzinfo=UTC),
    datetime(2024, 3, 5, 10, tzinfo=timezone(timedelta(hours=8))),
    datetime(2024, 3, 5, 10, tzinfo=ZoneInfo("Asia/Shanghai")),
    datetime(2024, 3, 5, 2, 0, 1, tzinfo=UTC),
]


def _codec() -> FactCodec:
    return FactCodec(CLASSES, unique=SharedValues.UNIQUE)


def _same(a: Any, b: Any) -> None:
    """Equal, and alike where equality is lenient: types, offsets, folds, zone names."""
    assert type(a) is type(b)
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        assert type(x) is type(y), field.name
        assert x == y, field.name
        if isinstance(x, datetime):
            assert (x.isoformat(), x.fold, x.tzname(), repr(x.tzinfo)) == (
                y.isoformat(),
                y.fold,
                y.tzname(),
                repr(y.tzinfo),
            ), field.name


def _strategy(hint: Any) -> st.SearchStrategy[Any]:
    args = typing.get_args(hint)
    if isinstance(hint, UnionType) and NoneType in args:
        (inner,) = (a for a in args if a is not NoneType)
        return st.none() | _strategy(inner)
    kinds: dict[Any, st.SearchStrategy[Any]] = {
        uuid.UUID: st.uuids(),
        datetime: st.datetimes(timezones=st.sampled_from(ZONES), allow_imaginary=False)
        | st.sampled_from(SAME_INSTANTS),
        date: st.dates(),
        str: st.text(max_size=12) | st.sampled_from(["V1", "wechat", "村规民约", ""]),
        int: st.integers(-(2**70), 2**70) | st.integers(0, 500),
        bool: st.booleans(),
    }
    return kinds[hint]


def _fact(cls: type[Any]) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(cls)
    fields = {field.name: _strategy(hints[field.name]) for field in dataclasses.fields(cls)}

    def made(values: dict[str, Any]) -> Any:
        try:
            return cls(**values)
        except ValueError:  # the fact's own checks (a duty ending before it starts...)
            return None

    return st.fixed_dictionaries(fields).map(made).filter(lambda fact: fact is not None)


ANY_FACT = st.one_of(*(_fact(cls) for cls in CLASSES))


@given(st.lists(ANY_FACT, max_size=20), st.data())
@settings(max_examples=300)
def test_packed_facts_decode_to_equal_facts_in_canonical_order(
    facts: list[Any], data: st.DataObject
) -> None:
    # Some facts again under an id already recorded: equal keys keep the order recorded.
    twins = data.draw(st.lists(st.sampled_from(facts), max_size=3)) if facts else []
    facts = facts + [dataclasses.replace(fact) for fact in twins]
    codec = _codec()
    one_by_one = PackedFacts(codec)
    for fact in facts:  # as events are applied: late facts are inserted
        one_by_one[fact.event_id.int] = fact
    expected = sorted(facts, key=_canonical)  # as `FactLedger.facts()` orders a dict's
    for packed in (PackedFacts(codec, facts), one_by_one):
        decoded = packed.values()
        assert len(packed) == len(decoded) == len(facts)
        for original, back in zip(expected, decoded, strict=True):
            _same(original, back)
        again = packed.values()  # decoding leaves the packed bytes as they were
        for original, back in zip(expected, again, strict=True):
            _same(original, back)


def test_every_sample_fact_is_packed_and_small() -> None:
    codec = _codec()
    for fact in advisor_facts("p"):
        data = codec.pack(fact)
        assert data is not None, type(fact).__name__
        assert len(data) <= 200  # the text inline: two 64-character refs
        _same(fact, codec.unpack(memoryview(data)))
    duty = advisor_facts("p")[1]
    assert len(codec.pack(duty) or b"") == 64  # 1 + 16 + 3 × 13 + 4 + 4; as objects ~366


def test_facts_with_optional_fields_left_empty_are_packed_too() -> None:
    # A None UUID once failed to pack (a struct.error) and left the fact loose, ~366
    # bytes: most citizens' ratings name no activity.
    codec = _codec()
    emptied = 0
    for fact in advisor_facts("o"):
        hints = typing.get_type_hints(type(fact))
        empty = {
            field.name: None
            for field in dataclasses.fields(fact)
            if isinstance(hints[field.name], UnionType)
            and NoneType in typing.get_args(hints[field.name])
        }
        if not empty:
            continue
        bare = dataclasses.replace(fact, **empty)  # type: ignore[arg-type]
        data = codec.pack(bare)
        assert data is not None, (type(fact).__name__, sorted(empty))
        _same(bare, codec.unpack(data))
        emptied += 1
    assert emptied >= 2  # the rating's activity among them
    rating = next(fact for fact in advisor_facts("o") if isinstance(fact, f.Rating))
    assert codec.pack(dataclasses.replace(rating, activity_event_id=None)) is not None


def test_what_cannot_be_packed_exactly_is_kept_as_it_is() -> None:
    codec = _codec()
    big = f.Lecture(fid("big"), at(6), "V1", "民法典", at(6, 19), 90, 2**64, False)
    untyped = dataclasses.replace(big, village_id=None)  # type: ignore[arg-type]
    assert codec.pack(big) is None
    assert codec.pack(untyped) is None
    assert codec.pack(object()) is None
    facts = [advisor_facts("k")[2], big, untyped, advisor_facts("k")[1]]
    decoded = PackedFacts(codec, facts).values()
    expected = sorted(facts, key=_canonical)
    assert [type(fact) for fact in decoded] == [type(fact) for fact in expected]
    for original, back in zip(expected, decoded, strict=True):
        if original is big or original is untyped:
            assert back is original
        else:
            assert back is not original
            _same(original, back)


def test_a_codec_refuses_a_field_it_cannot_pack() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Odd:
        event_id: uuid.UUID
        occurred_at: datetime
        amount: float

    with pytest.raises(TypeError, match="amount"):
        FactCodec([Odd])


def test_a_packed_advisor_reads_records_and_counts_as_before() -> None:
    advisor = Advisor("A-1")
    facts = advisor_facts("z")
    for fact in facts[:5]:
        advisor.record(fact, "440115")
    before = advisor.facts()
    advisor.keep_packed(_codec())
    assert not isinstance(vars(advisor)["_facts"], dict)
    assert advisor.holds_facts
    assert advisor.fact_count == 5
    assert advisor.facts() == before
    assert advisor.knows(facts[0].event_id)
    assert not advisor.knows(facts[6].event_id)
    for fact in facts[5:]:  # recorded into the packed facts by the events' `apply`
        assert advisor.record(fact, "440115")
    assert not advisor.record(facts[0], "440115")
    unpacked = Advisor("A-1")
    for fact in facts:
        unpacked.record(fact, "440115")
    assert advisor.facts() == unpacked.facts()
    assert advisor.fact_count == len(facts)
    snapshot = Advisor.Snapshot.take(advisor)
    assert snapshot.mutate(None).facts() == unpacked.facts()
    advisor.keep_ids_only()
    assert advisor.knows(facts[-1].event_id)
    assert advisor.fact_count == len(facts)
    with pytest.raises(FactsNotHeld):
        advisor.keep_packed(_codec())
