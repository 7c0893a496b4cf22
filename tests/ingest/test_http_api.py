"""The HTTP API in-process (ASGI): Kafka replaced by a recording fake, a real SQLite file."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from contracts import EVENT_TYPES, derive_event_id, parse_published_event
from ingest.auth import ADMIN_EVENT_TYPES
from ingest.dedup import SqliteSeenStore, StoreUnavailableError
from ingest.http import create_app
from ingest.publish import BrokerUnavailableError
from ingest.settings import ConfigurationError, Settings
from tests.ingest.helpers import KEYS, FakePublisher, Key, client_for, event, make_settings

pytestmark = pytest.mark.unit

SAMPLES = Path(__file__).resolve().parents[2] / "services" / "ingest" / "samples"


def _app(tmp_path: Path, publisher: FakePublisher, **overrides: Any) -> Any:
    return create_app(make_settings(tmp_path, **overrides), publisher=publisher)


def _statuses(body: dict[str, Any]) -> list[str]:
    return [e["status"] for e in body["events"]]


async def test_each_event_is_reported_in_input_order_and_only_valid_ones_are_published(
    tmp_path: Path,
) -> None:
    publisher = FakePublisher()
    good = event("activity.lecture.v1", advisor_id="A-0009")
    bad = event("rating.submitted.v1", payload={"score": 6})
    async with client_for(_app(tmp_path, publisher), KEYS["platform"]) as client:
        response = await client.post("/v1/events", json=[good, bad, good])

    assert response.status_code == 202
    body = response.json()
    assert _statuses(body) == ["accepted", "rejected", "duplicate"]
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (1, 1, 1)
    assert [e["index"] for e in body["events"]] == [0, 1, 2]
    good_id = str(derive_event_id(good["source"], good["source_event_id"]))
    assert body["events"][0]["event_id"] == good_id
    assert body["events"][1]["reasons"] == [
        {
            "code": "out_of_range",
            "path": "$.payload.score",
            "message": "Input should be less than or equal to 5",
        }
    ]
    (record,) = publisher.published
    assert record.key == b"A-0009"
    assert str(parse_published_event(record.value).event_id) == good_id
    (letter,) = publisher.dead_letters
    assert json.loads(letter)["reasons"][0]["code"] == "out_of_range"


async def test_ndjson_is_accepted_and_a_bad_line_is_rejected_alone(tmp_path: Path) -> None:
    publisher = FakePublisher()
    lines = [json.dumps(event()), '{"type": "activity.lecture.v1", oops', json.dumps(event())]
    async with client_for(_app(tmp_path, publisher), KEYS["platform"]) as client:
        response = await client.post(
            "/v1/events",
            content="\n".join(lines).encode(),
            headers={"Content-Type": "application/x-ndjson"},
        )
    assert response.status_code == 202
    assert _statuses(response.json()) == ["accepted", "rejected", "accepted"]
    assert response.json()["events"][1]["reasons"][0]["code"] == "invalid_json"
    assert len(publisher.published) == 2


async def test_a_resent_event_is_a_duplicate_and_is_not_published_again(tmp_path: Path) -> None:
    publisher = FakePublisher()
    sent = [event(), event("rating.submitted.v1")]
    async with client_for(_app(tmp_path, publisher), KEYS["platform"]) as client:
        first = await client.post("/v1/events", json=sent)
        again = await client.post("/v1/events", json=[*sent, event()])
    assert _statuses(first.json()) == ["accepted", "accepted"]
    assert _statuses(again.json()) == ["duplicate", "duplicate", "accepted"]
    assert again.json()["events"][0]["event_id"] == first.json()["events"][0]["event_id"]
    assert len(publisher.published) == 3


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-key"},
        {"Authorization": "Basic " + KEYS["platform"].plaintext},
        {"X-API-Key": "not-a-key"},
    ],
)
async def test_a_missing_or_unknown_key_is_a_401(tmp_path: Path, headers: dict[str, str]) -> None:
    publisher = FakePublisher()
    async with client_for(_app(tmp_path, publisher)) as client:
        response = await client.post("/v1/events", json=[event()], headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthorized"
    assert publisher.published == []


async def test_the_x_api_key_header_works_too(tmp_path: Path) -> None:
    async with client_for(_app(tmp_path, FakePublisher())) as client:
        response = await client.post(
            "/v1/events", json=[event()], headers={"X-API-Key": KEYS["platform"].plaintext}
        )
    assert response.status_code == 202


async def test_too_many_events_is_a_413_with_the_limit(tmp_path: Path) -> None:
    publisher = FakePublisher()
    async with client_for(_app(tmp_path, publisher, max_events=3), KEYS["platform"]) as client:
        response = await client.post("/v1/events", json=[event() for _ in range(4)])
    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "too_many_events",
        "message": "at most 3 events per request",
        "limit": 3,
    }
    assert publisher.published == []


async def test_too_many_bytes_is_a_413_with_the_limit(tmp_path: Path) -> None:
    publisher = FakePublisher()
    async with client_for(_app(tmp_path, publisher, max_bytes=2048), KEYS["platform"]) as client:
        declared = await client.post("/v1/events", json=[event() for _ in range(10)])

        async def chunks() -> Any:
            for _ in range(10):
                yield json.dumps(event()).encode() + b"\n"

        streamed = await client.post(
            "/v1/events", content=chunks(), headers={"Content-Type": "application/x-ndjson"}
        )
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json()["error"]["limit"] == 2048
    assert publisher.published == []


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"Content-Type": "text/html"}, 415, "unsupported_media_type"),
        (
            {"Content-Type": "application/json", "Content-Encoding": "gzip"},
            415,
            "unsupported_encoding",
        ),
    ],
)
async def test_unreadable_bodies_are_refused_whole(
    tmp_path: Path, headers: dict[str, str], status: int, code: str
) -> None:
    async with client_for(_app(tmp_path, FakePublisher()), KEYS["platform"]) as client:
        response = await client.post("/v1/events", content=b"[]", headers=headers)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


async def test_a_broken_json_array_is_a_400(tmp_path: Path) -> None:
    async with client_for(_app(tmp_path, FakePublisher()), KEYS["platform"]) as client:
        response = await client.post(
            "/v1/events", content=b'[{"type": 1},', headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


async def test_broker_failure_is_a_503_and_nothing_is_remembered(tmp_path: Path) -> None:
    publisher = FakePublisher(fail=True)
    sent = [event(), event()]
    async with client_for(_app(tmp_path, publisher, retry_after_s=7), KEYS["platform"]) as client:
        failed = await client.post("/v1/events", json=sent)
        publisher.fail = False
        retried = await client.post("/v1/events", json=sent)
    assert failed.status_code == 503
    assert failed.headers["Retry-After"] == "7"
    assert failed.json()["error"]["code"] == "kafka_unavailable"
    assert "accepted" not in failed.text.replace("nothing of this request was accepted", "")
    assert _statuses(retried.json()) == ["accepted", "accepted"]


class _BrokenStore(SqliteSeenStore):
    async def seen(self, event_ids: Collection[UUID]) -> set[UUID]:
        raise StoreUnavailableError("SQLite: disk I/O error")


async def test_an_unavailable_dedup_store_is_a_503(tmp_path: Path) -> None:
    publisher = FakePublisher()
    app = create_app(
        make_settings(tmp_path), publisher=publisher, seen_store=_BrokenStore(tmp_path / "x.db")
    )
    async with client_for(app, KEYS["platform"]) as client:
        response = await client.post("/v1/events", json=[event()])
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "dedup_store_unavailable"
    assert publisher.published == []


async def test_concurrent_copies_of_an_event_are_published_once(tmp_path: Path) -> None:
    publisher = FakePublisher(delay_s=0.2)
    sent = [event()]
    async with client_for(_app(tmp_path, publisher), KEYS["platform"]) as client:
        one, two = await asyncio.gather(
            client.post("/v1/events", json=sent), client.post("/v1/events", json=sent)
        )
    assert sorted(_statuses(one.json()) + _statuses(two.json())) == ["accepted", "duplicate"]
    assert len(publisher.published) == 1


class _FailsOnce(FakePublisher):
    async def publish(self, records: Any) -> None:
        await asyncio.sleep(0.2)
        if not self.fail:
            self.fail = True
            raise BrokerUnavailableError("first attempt fails")
        self.published.extend(records)


async def test_a_copy_waiting_on_a_failed_request_publishes_it_itself(tmp_path: Path) -> None:
    publisher = _FailsOnce()
    sent = [event()]
    async with client_for(_app(tmp_path, publisher), KEYS["platform"]) as client:
        first = asyncio.create_task(client.post("/v1/events", json=sent))
        await asyncio.sleep(0.05)
        second = await client.post("/v1/events", json=sent)
        assert (await first).status_code == 503
    assert _statuses(second.json()) == ["accepted"]
    assert len(publisher.published) == 1


# --- Scope over HTTP: every key against every type, in and out of its county ---------


def _every_type(county: str) -> list[dict[str, Any]]:
    events = []
    for type_ in EVENT_TYPES:
        built = event(type_, county_id="000000" if type_ == "policy.published.v1" else county)
        events.append(built)
    return events


@pytest.mark.parametrize("key_name", list(KEYS))
@pytest.mark.parametrize("county", ["440115", "440116"])
async def test_every_key_writes_exactly_its_scope(
    tmp_path: Path, key_name: str, county: str
) -> None:
    key: Key = KEYS[key_name]
    scope = key.entry
    publisher = FakePublisher()
    sent = _every_type(county)
    async with client_for(_app(tmp_path, publisher), key) as client:
        response = await client.post("/v1/events", json=sent)
    assert response.status_code == 202
    published_types = set()
    for sent_event, report in zip(sent, response.json()["events"], strict=True):
        type_ = sent_event["type"]
        allowed = (
            ("*" in scope["event_types"] or type_ in scope["event_types"])
            and ("*" in scope["counties"] or sent_event["county_id"] in scope["counties"])
            and (scope.get("admin", False) or type_ not in ADMIN_EVENT_TYPES)
            and (
                "*" in scope.get("sources", [scope["name"]])
                or sent_event["source"] in scope.get("sources", [scope["name"]])
            )
        )
        if allowed:
            assert report["status"] == "accepted", (type_, report)
            published_types.add(type_)
        else:
            assert report["status"] == "rejected", type_
            assert {r["code"] for r in report["reasons"]} == {"forbidden_scope"}
    assert {parse_published_event(r.value).type for r in publisher.published} == published_types


# --- Ledger upload ----------------------------------------------------------------------


@pytest.mark.parametrize("sample", ["ledger-sample.csv", "ledger-sample.xlsx"])
async def test_a_ledger_upload_reports_every_row_and_a_reupload_publishes_nothing(
    tmp_path: Path, sample: str
) -> None:
    publisher = FakePublisher()
    data = (SAMPLES / sample).read_bytes()
    form = {"source": "dongchong-ledger", "county": "440115"}
    async with client_for(_app(tmp_path, publisher), KEYS["ledger"]) as client:
        first = await client.post("/v1/ledgers", data=form, files={"file": (sample, data)})
        again = await client.post("/v1/ledgers", data=form, files={"file": (sample, data)})

    assert first.status_code == 202
    report = first.json()
    assert (report["rows"], report["accepted"], report["duplicate"], report["rejected"]) == (
        16,
        13,
        0,
        3,
    )
    rejected = {
        r["row"]: [(x["code"], x["column"]) for x in r["reasons"]]
        for r in report["results"]
        if r["status"] == "rejected"
    }
    assert rejected == {
        13: [("invalid_choice", "服务类型")],
        14: [("end_before_start", "结束时间")],
        15: [("missing_field", "结果")],
    }
    assert (again.json()["accepted"], again.json()["duplicate"]) == (0, 13)
    assert len(publisher.published) == 13


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"source": "dongchong-ledger"}, "invalid_county"),
        ({"source": "bad source", "county": "440115"}, "invalid_source"),
        ({"source": "dongchong-ledger", "county": "4401"}, "invalid_county"),
    ],
)
async def test_a_ledger_upload_needs_a_source_and_county(
    tmp_path: Path, form: dict[str, str], code: str
) -> None:
    async with client_for(_app(tmp_path, FakePublisher()), KEYS["ledger"]) as client:
        response = await client.post("/v1/ledgers", data=form, files={"file": ("x.csv", b"a,b\n")})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


async def test_a_ledger_without_the_needed_columns_is_a_400(tmp_path: Path) -> None:
    async with client_for(_app(tmp_path, FakePublisher()), KEYS["ledger"]) as client:
        response = await client.post(
            "/v1/ledgers",
            data={"source": "dongchong-ledger", "county": "440115"},
            files={"file": ("x.csv", "日期,服务类型\n2024-03-05,法律咨询\n".encode())},
        )
    assert response.status_code == 400
    assert "顾问编号" in response.json()["error"]["message"]


# --- Operations -------------------------------------------------------------------------


async def test_health_and_readiness(tmp_path: Path) -> None:
    publisher = FakePublisher()
    async with client_for(_app(tmp_path, publisher)) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.get("/readyz")).status_code == 200
        publisher.is_ready = False
        assert (await client.get("/readyz")).status_code == 503


async def test_metrics_count_events_by_type_and_reason_with_bounded_labels(tmp_path: Path) -> None:
    async with client_for(_app(tmp_path, FakePublisher()), KEYS["ratings"]) as client:
        await client.post(
            "/v1/events",
            json=[
                event("rating.submitted.v1"),
                event("activity.lecture.v1"),
                {"type": "made.up.v1"},
                event("rating.submitted.v1", payload={"score": 0}),
            ],
        )
        await client.request("BREW", "/coffee")
        text = (await client.get("/metrics")).text
    assert 'ingest_events_received_total{type="rating.submitted.v1"} 2.0' in text
    assert 'ingest_events_received_total{type="unknown"} 1.0' in text
    assert 'ingest_events_accepted_total{type="rating.submitted.v1"} 1.0' in text
    assert (
        'ingest_events_rejected_total{reason="forbidden_scope",type="activity.lecture.v1"} 1.0'
        in text
    )
    assert 'ingest_events_rejected_total{reason="unknown_type",type="unknown"} 1.0' in text
    assert (
        'ingest_events_rejected_total{reason="out_of_range",type="rating.submitted.v1"} 1.0' in text
    )
    assert "ingest_publish_latency_seconds_count" in text
    assert 'route="/v1/events"' in text
    assert 'method="other",route="unmatched"' in text


def test_production_refuses_to_start_without_api_keys(tmp_path: Path) -> None:
    settings = Settings(mode="production", hmac_key="k" * 40, dedup_dsn=str(tmp_path / "d"))
    with pytest.raises(ConfigurationError, match="API keys"):
        create_app(settings, publisher=FakePublisher())


async def test_the_openapi_document_is_served(tmp_path: Path) -> None:
    async with client_for(_app(tmp_path, FakePublisher())) as client:
        document = (await client.get("/openapi.json")).json()
    assert "/v1/events" in document["paths"]
    assert "InboundEvent" in document["components"]["schemas"]


def test_the_clock_is_injected(tmp_path: Path) -> None:
    stamp = datetime.fromisoformat("2024-04-01T00:00:00+00:00")
    app = create_app(make_settings(tmp_path), publisher=FakePublisher(), clock=lambda: stamp)
    assert app is not None
