"""The application's transcoder parses stored state with orjson and must give exactly
what eventsourcing's own JSON transcoder gives for the same bytes, errors included."""

from __future__ import annotations

import math
from dataclasses import fields, replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError
from hypothesis import given
from hypothesis import strategies as st

from appraisal.application import AppraisalApplication, OrjsonTranscoder
from appraisal.domain.advisor import Advisor
from appraisal.policy import Verdict
from tests.sample_facts import advisor_facts, county_facts


def _pair() -> tuple[JSONTranscoder, OrjsonTranscoder]:
    app = AppraisalApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    library = JSONTranscoder()
    app.register_transcodings(library)
    ours = app.mapper.transcoder
    assert isinstance(ours, OrjsonTranscoder)
    return library, ours


def test_the_application_decodes_with_it_unless_told_otherwise() -> None:
    app = AppraisalApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    assert type(app.mapper.transcoder) is OrjsonTranscoder
    chosen = AppraisalApplication(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.popo",
            "TRANSCODER_TOPIC": "eventsourcing.persistence:JSONTranscoder",
        }
    )
    assert type(chosen.mapper.transcoder) is JSONTranscoder


def test_every_fact_and_event_state_decodes_as_the_library_decodes_it() -> None:
    library, ours = _pair()
    facts: list[Any] = [*advisor_facts("x"), *county_facts()]
    for fact in facts:
        data = library.encode({"fact": fact, "at": datetime.now(UTC), "class_version": 2})
        assert ours.decode(data) == library.decode(data)
    # A whole stored event, through the application's mapper.
    app = AppraisalApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    advisor = Advisor("A-1")
    for fact in advisor_facts("y"):
        advisor.record(fact, "440115")
    for event in advisor.collect_events():
        stored = app.mapper.to_stored_event(event)
        back = app.mapper.to_domain_event(stored)
        assert back.__dict__ == event.__dict__
        assert ours.decode(stored.state) == library.decode(stored.state)


def _wrapped() -> st.SearchStrategy[Any]:
    zones = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))])
    return st.one_of(
        st.uuids(),
        st.dates(),
        st.datetimes(timezones=zones),
        st.builds(lambda t: datetime(2024, 3, 5, 2) + timedelta(seconds=t), st.integers(0, 10**6)),
        st.sampled_from(advisor_facts("h") + county_facts()),
    )


def _plain() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),  # beyond 64 bits: the library parses them
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
    )


def _values() -> st.SearchStrategy[Any]:
    return st.recursive(
        st.one_of(_plain(), _wrapped()),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(
                st.sampled_from(["a", "b", "_type_", "_data_", "名"]), inner, max_size=4
            ),
        ),
        max_leaves=20,
    )


@given(_values())
def test_any_nesting_of_values_decodes_as_the_library_decodes_it(value: Any) -> None:
    library, ours = _pair()
    try:
        data = library.encode(value)
    except TranscodingNotRegisteredError:
        return
    try:
        expected = library.decode(data)
    except (TranscodingNotRegisteredError, TypeError, KeyError) as e:
        # A generated dict can look like a wrapped value with an unknown name.
        with pytest.raises(type(e)):
            ours.decode(data)
        return
    assert ours.decode(data) == expected


def test_what_orjson_refuses_is_parsed_by_the_library() -> None:
    library, ours = _pair()
    for text in (
        b'{"n":123456789012345678901234567890}',
        b'{"n":-9223372036854775809,"m":18446744073709551616}',
        b'{"x":NaN,"y":[Infinity]}',
        b'{"s":"\\ud800"}',
        b'{"e":1E400}',
    ):
        assert repr(ours.decode(text)) == repr(library.decode(text))
    assert math.isnan(ours.decode(b'{"x":NaN}')["x"])


def test_an_unknown_name_fails_as_in_the_library() -> None:
    library, ours = _pair()
    data = b'{"fact":{"_type_":"fact.Unheard","_data_":{}}}'
    with pytest.raises(TranscodingNotRegisteredError) as theirs:
        library.decode(data)
    with pytest.raises(TranscodingNotRegisteredError) as mine:
        ours.decode(data)
    assert str(mine.value) == str(theirs.value)
    # Not a wrapped value: kept as a dict, as the library keeps it.
    other = b'{"_type_":"uuid_hex","_data_":"00","more":1}'
    assert (
        ours.decode(other)
        == library.decode(other)
        == {
            "_type_": "uuid_hex",
            "_data_": "00",
            "more": 1,
        }
    )
    assert ours.decode(b'[{"_type_":"uuid_hex","_data_":"' + b"0" * 32 + b'"}]') == [UUID(int=0)]
    assert ours.decode(b'{"_type_":"date_iso","_data_":"2024-03-05"}') == date(2024, 3, 5)


# --- encoding: the library's bytes, written by orjson where that gives the same -------


def _event_states() -> list[dict[str, Any]]:
    """The states the application stores: every fact's event, and snapshots."""
    app = AppraisalApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    advisor = Advisor("A-1")
    for fact in advisor_facts("e"):
        advisor.record(fact, "440115", recorded_at=datetime(2024, 5, 1, 8, tzinfo=UTC))
    states = []
    for event in advisor.collect_events():
        state = dict(vars(event))
        del state["originator_id"], state["originator_version"]
        states.append(state)
    snapshot = Advisor.Snapshot.take(advisor)
    states.append({"topic": snapshot.topic, "state": snapshot.state})
    states.extend({"fact": fact, "county_id": "440115"} for fact in county_facts())
    assert app.mapper.transcoder is not None
    return states


def _varied(fact: Any, text: str, n: int) -> Any:
    """`fact` with `text` in its first text field and `n` in its first integer field."""
    changes: dict[str, Any] = {}
    for f in fields(fact):
        kind = type(getattr(fact, f.name))
        if kind is str and str not in map(type, changes.values()):
            changes[f.name] = text
        elif kind is int and int not in map(type, changes.values()):
            changes[f.name] = n
    try:
        return replace(fact, **changes)
    except ValueError:  # a fact that checks its values refused them
        return fact


def test_every_stored_state_is_written_byte_for_byte_as_the_library_writes_it() -> None:
    library, ours = _pair()
    for state in _event_states():
        assert ours.encode(state) == library.encode(state)


def test_recorded_facts_and_snapshots_are_written_by_orjson(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    library, ours = _pair()
    states = [s for s in _event_states() if ("fact" in s and "recorded_at" in s) or "state" in s]
    expected = [library.encode(state) for state in states]

    def refuse(*_: Any) -> bytes:
        raise AssertionError("the library's encoder was used")

    monkeypatch.setattr(JSONTranscoder, "encode", refuse)
    assert len(states) == len(advisor_facts("x")) + 1  # and the ledger's snapshot
    assert [ours.encode(state) for state in states] == expected


def test_what_orjson_would_write_otherwise_is_written_by_the_library() -> None:
    library, ours = _pair()
    lecture: Any = next(f for f in advisor_facts("w") if type(f).__name__ == "Lecture")
    odd = [
        {"n": 2**64, "at": datetime(2024, 1, 1, tzinfo=UTC)},  # beyond 64 bits
        {"s": "\ud800"},  # a lone surrogate
        {"f": 1e16, "g": float("nan")},  # orjson: 1e16 and null
        {"id": UUID(int=7)},  # orjson: text
        {"fact": replace(lecture, attendees=2.5)},  # a float in a fact
        {"fact": replace(lecture, topic="\udfff")},
        {"fact": replace(lecture, attendees=2**70)},
        {"fact": replace(lecture, topic=Verdict.RETAIN)},  # a str subclass
        # The same inside lists and dicts, as a snapshot holds its facts.
        {"state": {"_facts": [lecture, replace(lecture, attendees=2.5)]}},
        {"state": {"_facts": [lecture], "ids": [UUID(int=7)]}},
        {"state": {"by": {1: lecture}}},  # a key that is not text: the library writes "1"
        {"state": {"pair": (lecture, 1)}},  # a tuple
        {"state": [[[[{"s": "\ud800"}]]]]},
    ]
    for state in odd:
        assert _written(ours, state) == _written(library, state)


def _written(transcoder: JSONTranscoder, value: Any) -> bytes | str:
    """The bytes, or the kind of error."""
    try:
        return transcoder.encode(value)
    except (TranscodingNotRegisteredError, UnicodeEncodeError) as e:
        return type(e).__name__


@given(
    st.dictionaries(
        st.text(max_size=6),
        st.one_of(
            _plain(),
            _wrapped(),
            st.builds(
                _varied,
                st.sampled_from(advisor_facts("p")),
                st.text(),
                st.integers(-(2**66), 2**66),
            ),
        ),
        max_size=5,
    )
)
def test_any_flat_state_is_written_as_the_library_writes_it(state: dict[str, Any]) -> None:
    library, ours = _pair()
    assert _written(ours, state) == _written(library, state)


@given(_values())
def test_any_nesting_of_values_is_written_as_the_library_writes_it(value: Any) -> None:
    library, ours = _pair()
    assert _written(ours, value) == _written(library, value)
