"""The event id is a pure function of (source, source_event_id), shared by every service."""

from __future__ import annotations

import uuid

import pytest

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
