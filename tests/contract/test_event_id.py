"""The event id is a pure function of (source, source_event_id), shared by every service."""

from __future__ import annotations

import pickle
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts import derive_event_id, parse_inbound_event
from contracts.v1 import ActivityLectureIn
from tests.contract.helpers import example

pytestmark = pytest.mark.unit


def test_event_id_is_uuid5_of_the_urn_under_the_url_namespace() -> None:
    by_hand = uuid.uuid5(uuid.NAMESPACE_URL, "urn:advisor-appraisal:nansha-platform:L-2024-000123")
    assert derive_event_id("nansha-platform", "L-2024-000123") == by_hand


def test_event_id_golden_value_never_changes() -> None:
    assert derive_event_id("nansha-platform", "L-2024-000123") == uuid.UUID(
        "806d01f5-9546-52a6-a79a-4b8b3dc1b0c2"
    )
    assert derive_event_id("nansha-platform", "L-2024-000123").version == 5


def test_a_colon_in_the_source_event_id_is_fine_because_sources_have_none() -> None:
    assert derive_event_id("wechat-bot", "a:b") != derive_event_id("wechat-bot", "a")
    assert derive_event_id("wechat-bot", "a:b") == uuid.uuid5(
        uuid.NAMESPACE_URL, "urn:advisor-appraisal:wechat-bot:a:b"
    )


def test_an_inbound_event_knows_the_id_ingest_will_give_it() -> None:
    event = parse_inbound_event(example(ActivityLectureIn))
    assert event.event_id == derive_event_id(event.source, event.source_event_id)


@given(st.text(), st.text())
def test_the_event_id_is_exactly_the_librarys_uuid5_for_any_text(source: str, ref: str) -> None:
    # `derive_event_id` computes uuid5 by hand (issue #8): it must be the same UUID in
    # every respect the services use (value, text, hash, version, variant, pickling).
    name = f"urn:advisor-appraisal:{source}:{ref}"
    try:
        expected = uuid.uuid5(uuid.NAMESPACE_URL, name)
    except UnicodeEncodeError:  # a lone surrogate: both refuse it alike
        with pytest.raises(UnicodeEncodeError):
            derive_event_id.__wrapped__(source, ref)
        return
    made = derive_event_id.__wrapped__(source, ref)
    assert type(made) is uuid.UUID
    assert (made, str(made), hash(made), made.int) == (
        expected,
        str(expected),
        hash(expected),
        expected.int,
    )
    assert (made.version, made.variant, made.is_safe) == (5, expected.variant, expected.is_safe)
    assert pickle.loads(pickle.dumps(made)) == expected
