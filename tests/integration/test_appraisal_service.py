"""The appraisal service end to end: Kafka in, API and verdict events out (real broker)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from appraisal.api.auth import hash_token
from appraisal.api.http import create_app
from appraisal.domain.county import PeriodClosed
from appraisal.policy import DEFAULT_POLICY, ComplaintFiled, ComplaintResolved
from appraisal.service import AppraisalService
from appraisal.settings import AppraisalSettings
from contracts import VERDICT_EVENT_ADAPTER, PublishedEnvelope
from embedded.topics import TopicSpec, ensure_topics
from tests.sample_facts import at, fid
from tests.unit.policy.builders import HistoryBuilder, WeekendCalendar, serve_year
from tests.wire import to_wire

pytestmark = pytest.mark.integration

COUNTY = "440115"
TOKENS = {
    "bureau": ("bureau-token", [COUNTY]),
    "other-bureau": ("other-token", ["440113"]),
    "association": ("assoc-token", "*"),
    "auditor": ("audit-token", "*"),
}


def _settings(env: dict[str, str], tmp_path: Path, bootstrap: str, topic: str) -> AppraisalSettings:
    tokens = [
        {"name": name, "role": name.split("-")[-1], "counties": counties, "sha256": hash_token(t)}
        for name, (t, counties) in TOKENS.items()
    ]
    common: dict[str, Any] = {
        "kafka_bootstrap": bootstrap,
        "input_topic": topic,
        "verdict_topic": topic + "-verdicts",
        "dlq_topic": topic + "-dlq",
        "group_id": "appraisal-" + topic,
        "idempotent_producer": False,  # Tansu has no InitProducerId
        "tokens": json.dumps(tokens),
        "projector_idle_s": 0.05,
        "projector_interval_s": 0.1,
    }
    if env["PERSISTENCE_MODULE"].endswith("sqlite"):
        return AppraisalSettings(store="sqlite", data_dir=tmp_path / "data", **common)
    return AppraisalSettings(
        store="postgres",
        postgres_host=env["POSTGRES_HOST"],
        postgres_port=int(env["POSTGRES_PORT"]),
        postgres_user=env["POSTGRES_USER"],
        postgres_password=env["POSTGRES_PASSWORD"],
        postgres_dbname=env["POSTGRES_DBNAME"],
        postgres_schema=env["POSTGRES_SCHEMA"],
        **common,
    )


def service_topics(topic: str, partitions: int = 3) -> list[TopicSpec]:
    """The topics one test's appraisal service uses: input, verdicts and DLQ."""
    return [
        TopicSpec(topic, partitions, ""),
        TopicSpec(topic + "-verdicts", 1, ""),
        TopicSpec(topic + "-dlq", 1, ""),
    ]


class Stack:
    def __init__(self, service: AppraisalService, client: httpx.AsyncClient, topic: str) -> None:
        self.service, self.client, self.topic = service, client, topic
        self._n = 0

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKENS[who][0]}"}

    async def send(self, facts: list[tuple[str, Any]]) -> list[PublishedEnvelope]:
        events = []
        for key, fact in facts:
            self._n += 1
            advisor = "" if key == "county" else key
            events.append(
                to_wire(
                    fact,
                    county_id=COUNTY,
                    advisor_id=advisor,
                    source="test-platform",
                    source_event_id=f"E-{self._n}",
                )
            )
        producer = AIOKafkaProducer(bootstrap_servers=self.service.settings.kafka_bootstrap)
        await producer.start()
        try:
            for e in events:
                await producer.send_and_wait(
                    self.topic, e.model_dump_json().encode(), key=e.partition_key().encode()
                )
        finally:
            await producer.stop()
        return events

    async def settled(self, events: Sequence[Any], wait_s: float = 60) -> None:
        """Wait until every event (anything with county_id, advisor_id, event_id) is
        recorded and the projection has caught up."""

        def done() -> bool:
            app = self.service.app
            for e in events:
                ledger = app.county(e.county_id) if not e.advisor_id else app.advisor(e.advisor_id)
                if ledger is None or not ledger.knows(e.event_id):
                    return False
            return self.service.projector.lag() == 0 and not self.service.views.dirty_county_years()

        async def check() -> bool:
            return await asyncio.to_thread(done)

        await self.until(check, wait_s)

    async def until(self, check: Callable[[], Any], wait_s: float = 60) -> Any:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            result = await check()
            if result:
                return result
            await asyncio.sleep(0.2)
        raise AssertionError("timed out waiting for the service")


@pytest.fixture
async def stack(
    event_store_env: dict[str, str], tmp_path: Path, kafka_bootstrap: str, topic_name: str
) -> AsyncIterator[Stack]:
    await ensure_topics(
        kafka_bootstrap,
        service_topics(topic_name),
    )
    service = AppraisalService(
        _settings(event_store_env, tmp_path, kafka_bootstrap, topic_name), WeekendCalendar()
    )
    await service.start()
    app = create_app(service, manage_lifecycle=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://appraisal") as client:
        try:
            yield Stack(service, client, topic_name)
        finally:
            await service.stop()


def _history(advisor_id: str, **year: Any) -> list[tuple[str, Any]]:
    builder = serve_year(HistoryBuilder(advisor_id), "V-" + advisor_id, 2024, **year)
    return [(advisor_id, f) for f in builder.history().facts]


async def _verdicts(bootstrap: str, topic: str, expected: int) -> list[Any]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    found: list[Any] = []
    try:
        deadline = time.monotonic() + 30
        while len(found) < expected and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found.extend(VERDICT_EVENT_ADAPTER.validate_json(r.value) for r in records)
    finally:
        await consumer.stop()
    return found


async def test_events_in_verdicts_out_with_amendments_and_as_of(stack: Stack) -> None:
    await stack.settled(await stack.send(_history("A-1") + _history("A-2", compliant_months=8)))
    url = f"/v1/appraisals/{COUNTY}/2024"
    county = (await stack.client.get(url, headers=stack.headers("bureau"))).json()
    by_advisor = {a["advisor_id"]: a for a in county["assignments"]}
    # Worked by hand in tests/integration/test_projector.py: 95 RETAIN and 85 RECTIFY.
    assert (by_advisor["A-1"]["score"], by_advisor["A-1"]["verdict"]) == (95.0, "RETAIN")
    assert (by_advisor["A-2"]["score"], by_advisor["A-2"]["verdict"]) == (85.0, "RECTIFY")
    assert county["closed"] is False
    assert all(a["provisional"] for a in county["assignments"])

    before_close = datetime.now(UTC)
    await stack.send([("county", PeriodClosed(fid("close"), at(5, month=1, year=2025), 2024))])
    issued = await _verdicts(stack.service.settings.kafka_bootstrap, stack.topic + "-verdicts", 2)
    assert sorted((v.type, v.advisor_id, v.version) for v in issued) == [
        ("verdict.issued.v1", "A-1", 1),
        ("verdict.issued.v1", "A-2", 1),
    ]
    after_close = datetime.now(UTC)

    filed = ComplaintFiled(
        fid("late-complaint"), at(3, month=6), "C-late", "V-A-1", "hotline_12348", "迟到", "a" * 64
    )
    resolved = ComplaintResolved(fid("late-resolution"), at(2, month=2, year=2025), "C-late", True)
    await stack.send([("A-1", filed), ("A-1", resolved)])
    verdicts = await _verdicts(stack.service.settings.kafka_bootstrap, stack.topic + "-verdicts", 3)
    [amended] = [v for v in verdicts if v.type == "verdict.amended.v1"]
    assert (amended.advisor_id, amended.version, amended.verdict) == ("A-1", 2, "RECTIFY")
    assert amended.previous.verdict == "RETAIN"

    advisor = await stack.client.get(
        "/v1/advisors/A-1/appraisals/2024", headers=stack.headers("bureau")
    )
    assert advisor.status_code == 200
    assert advisor.json()["assignments"][0]["version"] == 2
    as_of = await stack.client.get(
        "/v1/advisors/A-1/appraisals/2024",
        params={"as_of": after_close.isoformat()},
        headers=stack.headers("auditor"),
    )
    assert as_of.status_code == 200, as_of.text
    [then] = as_of.json()["assignments"]
    assert (then["version"], then["verdict"], then["provisional"]) == (1, "RETAIN", False)
    earlier = await stack.client.get(
        url, params={"as_of": before_close.isoformat()}, headers=stack.headers("auditor")
    )
    assert earlier.json()["closed"] is False
    assert {a["version"] for a in earlier.json()["assignments"]} == {0}

    history = await stack.client.get(
        f"/v1/verdicts/{COUNTY}/2024/A-1/V-A-1", headers=stack.headers("bureau")
    )
    assert [v["version"] for v in history.json()["versions"]] == [1, 2]

    metrics = (await stack.client.get("/metrics")).text
    assert "appraisal_events_applied_total" in metrics
    amended_metric = 'kind="amended",verdict="RECTIFY"} 1.0'
    assert f'appraisal_verdicts_published_total{{county_id="440115",{amended_metric}' in metrics
    assert (await stack.client.get("/readyz")).status_code == 200


async def test_every_route_checks_the_token_and_its_county(stack: Stack) -> None:
    await stack.settled(await stack.send(_history("A-1")))
    routes = [
        f"/v1/appraisals/{COUNTY}/2024",
        "/v1/advisors/A-1/appraisals/2024",
        f"/v1/awards/{COUNTY}/2024/public_welfare",
        f"/v1/counties/{COUNTY}/2024/summary",
        "/v1/advisors/A-1/ledger/2024",
        f"/v1/verdicts/{COUNTY}/2024/A-1/V-A-1",
        "/v1/advisors/A-1/history",
    ]
    expected = {
        "bureau": 200,
        "other-bureau": 403,
        "association": 200,
        "auditor": 200,
    }
    for route in routes:
        assert (await stack.client.get(route)).status_code == 401, route
        bad = await stack.client.get(route, headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401, route
        for who, status in expected.items():
            if route.endswith("/history") and who == "association":
                status = 403
            elif route.startswith("/v1/advisors/") and status == 403:
                status = 404  # an advisor outside the token's counties looks unknown
            response = await stack.client.get(route, headers=stack.headers(who))
            assert response.status_code == status, (route, who, response.text)


async def test_what_if_shows_changed_verdicts_and_publishes_nothing(stack: Stack) -> None:
    await stack.settled(await stack.send(_history("A-1") + _history("A-2", compliant_months=8)))
    draft = DEFAULT_POLICY.model_dump(mode="json")
    draft["grades"]["excellent"] = "96"  # A-1's 95 is no longer EXCELLENT
    before = stack.service.app.recorder.max_notification_id()
    response = await stack.client.post(
        f"/v1/what-if/{COUNTY}/2024", json=draft, headers=stack.headers("bureau")
    )
    assert response.status_code == 200, response.text
    changes = {c["advisor_id"]: c for c in response.json()["changes"]}
    assert changes["A-1"]["current"]["grade"] == "EXCELLENT"
    assert changes["A-1"]["draft"]["grade"] == "COMPETENT"
    assert "grade" in changes["A-1"]["changed"]
    assert changes["A-2"]["changed"] == []
    assert stack.service.app.recorder.max_notification_id() == before
    assert stack.service.views.unpublished_verdicts() == []
    refused = await stack.client.post(
        f"/v1/what-if/{COUNTY}/2024", json=draft, headers=stack.headers("association")
    )
    assert refused.status_code == 403
    invalid = await stack.client.post(
        f"/v1/what-if/{COUNTY}/2024", json={"grades": 1}, headers=stack.headers("bureau")
    )
    assert invalid.status_code == 422


async def test_the_history_shows_each_events_effect_on_the_indicators(stack: Stack) -> None:
    await stack.settled(await stack.send(_history("A-1")))
    response = await stack.client.get(
        "/v1/advisors/A-1/history", params={"limit": 1000}, headers=stack.headers("auditor")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["events"]) > 10
    [appointment] = [e for e in body["events"] if e["kind"] == "Appointment"]
    [first_effect] = appointment["effect"]
    assert first_effect["changes"]["months_served"][1] == 12  # the assignment appears
    duties = [e for e in body["events"] if e["kind"] == "OnsiteDuty"]
    assert duties
    for duty in duties:
        hours = duty["effect"][0]["changes"]["onsite_hours"]
        assert hours[1] > (hours[0] or 0)  # every duty adds on-site hours
    paged = await stack.client.get(
        "/v1/advisors/A-1/history",
        params={"offset": 2, "limit": 3},
        headers=stack.headers("auditor"),
    )
    assert [e["version"] for e in paged.json()["events"]] == [
        e["version"] for e in body["events"][2:5]
    ]
