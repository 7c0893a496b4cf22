"""The application's transcoder parses stored state with orjson and must give exactly
what eventsourcing's own JSON transcoder gives for the same bytes, errors included."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError
from hypothesis import given
from hypothesis import strategies as st

from appraisal.application import AppraisalApplication, OrjsonDecodingTranscoder
from appraisal.domain.advisor import Advisor
from tests.sample_facts import advisor_facts, county_facts


def _pair() -> tuple[JSONTranscoder, OrjsonDecodingTranscoder]:
    app = AppraisalApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    library = JSONTranscoder()
    app.register_transcodings(library)
    ours = app.mapper.transcoder
    assert isinstance(ours, OrjsonDecodingTranscoder)
    return library, ours


def test_the_application_decodes_with_it_unless_told_otherwise() -> None:
    app = AppraisalApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    assert type(app.mapper.transcoder) is OrjsonDecodingTranscoder
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
