"""Test helper: plain facts → published contract v1 events, as ingest would emit them."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from appraisal.translate import FACT_FOR_TYPE
from contracts import PublishedEnvelope, derive_event_id, parse_published_event

TYPE_OF_FACT = {cls: event_type for event_type, (_, cls) in FACT_FOR_TYPE.items()}
ENVELOPE_ONLY = {"event_id", "occurred_at", "advisor_id", "county_id"}
RECORDED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def to_wire(
    fact: Any, *, county_id: str, advisor_id: str, source: str, source_event_id: str
) -> PublishedEnvelope:
    """The published event for `fact` (its event id is re-derived from source ids)."""
    payload = {
        f.name: _json(getattr(fact, f.name))
        for f in dataclasses.fields(fact)
        if f.name not in ENVELOPE_ONLY
    }
    event = {
        "type": TYPE_OF_FACT[type(fact)],
        "source": source,
        "source_event_id": source_event_id,
        "event_id": str(derive_event_id(source, source_event_id)),
        "occurred_at": fact.occurred_at.isoformat(),
        "recorded_at": RECORDED_AT.isoformat(),
        "county_id": county_id,
        "advisor_id": advisor_id,
        "payload": payload,
    }
    return parse_published_event(json.dumps(event))


def to_inbound(
    fact: Any, *, county_id: str, advisor_id: str, source: str, source_event_id: str
) -> dict[str, Any]:
    """The event a source would POST to ingest for `fact` (no event_id, no recorded_at)."""
    published = to_wire(
        fact, county_id=county_id, advisor_id=advisor_id, source=source,
        source_event_id=source_event_id,
    )  # fmt: skip
    body: dict[str, Any] = json.loads(published.model_dump_json())
    del body["event_id"]
    del body["recorded_at"]
    if "citizen_ref" in body["payload"]:
        body["payload"]["citizen"] = body["payload"].pop("citizen_ref")[:11]
    if body["type"] == "village.registered.v1" and not body["advisor_id"]:
        body["advisor_id"] = ""
    return body
