"""Every generated event is a valid inbound event, shaped like the real sources send it."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from itertools import islice, pairwise
from typing import Any

import pytest

from contracts import parse_inbound_event
from embedded.synth import CountyConfig, generate
from embedded.synth.manifest import build_manifest

pytestmark = pytest.mark.unit

SMALL = CountyConfig(villages=30, events_per_village=150, years=(2024, 2025), seed=5)
ADMIN_TYPES = {"policy.published.v1", "period.closed.v1"}
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")
_CITIZEN = re.compile(r"^199\d{8}$")


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return list(generate(SMALL))


def _times(event: dict[str, Any]) -> list[str]:
    payload = event["payload"]
    keys = ("started_at", "ended_at", "asked_at", "answered_at")
    return [event["occurred_at"], *(payload[k] for k in keys if payload.get(k))]


def test_every_event_of_a_small_county_parses(events: list[dict[str, Any]]) -> None:
    for raw in events:
        parse_inbound_event(raw)


def test_a_sample_of_the_default_county_parses() -> None:
    for raw in islice(generate(CountyConfig()), 0, None, 97):
        parse_inbound_event(raw)


def test_source_event_ids_are_unique_per_source(events: list[dict[str, Any]]) -> None:
    keys = Counter((e["source"], e["source_event_id"]) for e in events)
    assert [k for k, n in keys.items() if n > 1] == []


def test_times_are_beijing_time_with_offsets(events: list[dict[str, Any]]) -> None:
    for event in events:
        for text in _times(event):
            assert _TIME.match(text), (event["source_event_id"], text)


def test_the_stream_is_in_arrival_order_so_occurred_at_is_mostly_but_not_always_ascending(
    events: list[dict[str, Any]],
) -> None:
    occurred = [e["occurred_at"] for e in events]
    backwards = sum(1 for a, b in pairwise(occurred) if b < a)
    assert 0 < backwards < len(events) // 2


def test_sources_are_the_county_systems(events: list[dict[str, Any]]) -> None:
    assert {e["source"] for e in events} == {
        "nansha-platform",
        "nansha-bureau",
        "wechat-bot",
        "rating-device",
        "hotline-12348",
        "township-ledger",
    }


def test_every_village_is_registered_and_some_never_get_an_advisor(
    events: list[dict[str, Any]],
) -> None:
    registered = {
        e["payload"]["village_id"] for e in events if e["type"] == "village.registered.v1"
    }
    appointed = {e["payload"]["village_id"] for e in events if e["type"] == "advisor.appointed.v1"}
    manifest = build_manifest(SMALL)
    assert len(registered) == SMALL.villages
    assert registered - appointed == set(manifest.vacant_villages)
    assert len(manifest.vacant_villages) >= 2


def test_citizens_are_obviously_synthetic_and_some_rate_twice_a_day(
    events: list[dict[str, Any]],
) -> None:
    ratings = [e for e in events if e["type"] == "rating.submitted.v1"]
    complaints = [e for e in events if e["type"] == "complaint.filed.v1"]
    for event in ratings + complaints:
        assert _CITIZEN.match(event["payload"]["citizen"]), event["payload"]["citizen"]
    per_day = Counter(
        (
            e["advisor_id"],
            e["payload"]["village_id"],
            e["payload"]["citizen"],
            e["occurred_at"][:10],
        )
        for e in ratings
    )
    assert any(n > 1 for n in per_day.values())


def test_consultations_use_every_channel_with_realistic_delays(
    events: list[dict[str, Any]],
) -> None:
    consultations = [e["payload"] for e in events if e["type"] == "activity.consultation.v1"]
    assert {c["channel"] for c in consultations} == {
        "onsite",
        "wechat",
        "phone",
        "hotline_12348",
        "online_platform",
    }
    unanswered = [c for c in consultations if c["answered_at"] is None]
    late = [
        c for c in consultations if c["answered_at"] and c["answered_at"][:10] > c["asked_at"][:10]
    ]
    assert unanswered
    assert late


def test_lectures_include_online_night_and_holiday_ones(events: list[dict[str, Any]]) -> None:
    lectures = [e["payload"] for e in events if e["type"] == "activity.lecture.v1"]
    assert {lecture["online"] for lecture in lectures} == {True, False}
    assert any(lecture["started_at"][11:13] >= "18" for lecture in lectures)
    assert any(lecture["started_at"][11:13] < "18" for lecture in lectures)


def test_admin_events_are_left_to_the_bureau_by_default(events: list[dict[str, Any]]) -> None:
    assert not {e["type"] for e in events} & ADMIN_TYPES


def test_closing_years_puts_late_events_after_each_close() -> None:
    config = CountyConfig(
        villages=30, events_per_village=60, years=(2024, 2025), seed=9, close_years=(2024, 2025)
    )
    events = list(generate(config))
    closes = [i for i, e in enumerate(events) if e["type"] == "period.closed.v1"]
    assert [events[i]["payload"] for i in closes] == [{"year": 2024}, {"year": 2025}]
    assert {events[i]["advisor_id"] for i in closes} == {""}
    for year, close in zip((2024, 2025), closes, strict=True):
        late = [e for e in events[close + 1 :] if e["occurred_at"][:4] == str(year)]
        assert {e["source"] for e in late} == {"township-ledger"}, year
        assert any(e["type"] == "inspection.recorded.v1" for e in late), year
    upheld_late = [
        e
        for e in events[closes[-1] + 1 :]
        if e["type"] == "complaint.resolved.v1" and e["payload"]["substantiated"]
    ]
    assert upheld_late


def test_assignments_end_and_start_mid_year(events: list[dict[str, Any]]) -> None:
    ended = {e["payload"]["reason"] for e in events if e["type"] == "advisor.assignment_ended.v1"}
    assert ended == {"replaced", "resigned"}
    by_village: dict[str, set[str]] = defaultdict(set)
    for e in events:
        if e["type"] == "advisor.appointed.v1":
            by_village[e["payload"]["village_id"]].add(e["advisor_id"])
    assert sum(1 for advisors in by_village.values() if len(advisors) == 2) == 2


def test_two_counties_share_no_advisor_and_no_event_id() -> None:
    first = list(generate(CountyConfig(villages=30, events_per_village=40)))
    second = list(generate(CountyConfig(county_id="440113", villages=30, events_per_village=40)))
    assert not {e["advisor_id"] for e in first} & {e["advisor_id"] for e in second} - {""}
    keys = {(e["source"], e["source_event_id"]) for e in first}
    assert not keys & {(e["source"], e["source_event_id"]) for e in second}
    for raw in second[::50]:
        parse_inbound_event(raw)
