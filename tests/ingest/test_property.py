"""Malformed and adversarial bodies: never a 5xx, always a reason, nothing published."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import EVENT_TYPES
from ingest.http import create_app
from tests.ingest.helpers import KEYS, FakePublisher, client_for, event, make_settings

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
async def api(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[httpx.AsyncClient, FakePublisher]]:
    publisher = FakePublisher()
    app = create_app(make_settings(tmp_path_factory.mktemp("prop")), publisher=publisher)
    async with client_for(app, KEYS["bureau"]) as client:
        yield client, publisher


def _fields(built: dict[str, Any]) -> list[tuple[str, ...]]:
    """Paths of the fields a mutation may break (``document`` accepts any object)."""
    top: list[tuple[str, ...]] = [(k,) for k in built if k != "payload"]
    return top + [("payload", k) for k in built["payload"] if k != "document"]


def _set(built: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    target = built
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


_DEEP = "[" * 50_000 + "]" * 50_000


@st.composite
def broken_event_text(draw: st.DrawFn) -> str:
    """One event made invalid in one of many ways, as JSON text (maybe not even JSON)."""
    built = event(draw(st.sampled_from(EVENT_TYPES)))
    path = draw(st.sampled_from(_fields(built)))
    how = draw(
        st.sampled_from(
            [
                "wrong_type",
                "huge_string",
                "deep",
                "deep_document",
                "unknown_field",
                "nan",
                "duplicate_key",
                "drop",
            ]
        )
    )
    if how == "deep_document":
        built = event("policy.published.v1")
        depth = draw(st.integers(min_value=600, max_value=800))
        built["payload"]["document"] = {"rules": json.loads("[" * depth + "]" * depth)}
    elif how == "wrong_type":
        _set(built, path, draw(st.sampled_from([[1], 3.5, {"x": [None]}, [], -(10**30)])))
    elif how == "huge_string":
        _set(built, path, "界" * draw(st.integers(min_value=3_000, max_value=300_000)))
    elif how == "deep":
        nested: Any = "x"
        for _ in range(draw(st.integers(min_value=1, max_value=400))):
            nested = {"a": nested}
        _set(built, path, nested)
    elif how == "unknown_field":
        built[draw(st.text(min_size=1, max_size=300).filter(lambda k: k not in built))] = (
            "13912345678"
        )
    elif how == "drop":
        required = [
            p
            for p in _fields(built)
            if p[-1]
            not in {
                "answered_at",
                "activity_event_id",
                "comment",
                "firm",
                "license_no",
                "advisor_id",
            }
        ]
        victim = draw(st.sampled_from(required))
        target = built if len(victim) == 1 else built["payload"]
        del target[victim[-1]]
    text = json.dumps(built, ensure_ascii=draw(st.booleans()))
    if how == "nan":
        return text.replace('"type": ', '"score_nan": NaN, "type": ', 1)
    if how == "duplicate_key":
        return text.replace('"type": ', '"type": "activity.lecture.v1", "type": ', 1)
    return text


@st.composite
def hostile_body(draw: st.DrawFn) -> tuple[bytes, str]:
    """A whole request body and its content type."""
    shape = draw(st.sampled_from(["array", "ndjson", "garbage", "deep", "bad_utf8", "scalar"]))
    if shape == "garbage":
        return draw(st.binary(max_size=2_000)), "application/json"
    if shape == "deep":
        return _DEEP.encode(), "application/json"
    if shape == "scalar":
        return draw(st.sampled_from([b"1", b'"text"', b"null", b"true", b"{}"])), "application/json"
    texts = draw(st.lists(broken_event_text(), min_size=1, max_size=4))
    if shape == "array":
        return ("[" + ",".join(texts) + "]").encode(), "application/json"
    body = "\n".join(texts).encode()
    if shape == "bad_utf8":
        cut = draw(st.integers(min_value=0, max_value=len(body)))
        body = body[:cut] + b"\xff\xfe\xc3" + body[cut:]
    return body, "application/x-ndjson"


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(hostile_body())
async def test_hostile_bodies_get_reasons_never_5xx_and_publish_nothing(
    api: tuple[httpx.AsyncClient, FakePublisher], body_and_type: tuple[bytes, str]
) -> None:
    client, publisher = api
    body, content_type = body_and_type

    response = await client.post("/v1/events", content=body, headers={"Content-Type": content_type})

    assert response.status_code < 500, response.text
    answer = response.json()
    if response.status_code == 202:
        assert answer["events"], answer
        for report in answer["events"]:
            assert report["status"] == "rejected", report
            assert report["reasons"], report
            assert all(
                r["code"] and r["path"].startswith("$") and r["message"] for r in report["reasons"]
            )
    else:
        assert 400 <= response.status_code < 500
        assert answer["error"]["code"]
        assert answer["error"]["message"]
    assert publisher.published == []
    assert "13912345678" not in response.text
