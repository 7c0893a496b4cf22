"""Ingest → Kafka → appraisal → read API: a small county-year, verdicts computed by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from appraisal.api.http import create_app as appraisal_app
from appraisal.service import AppraisalService
from contracts import derive_event_id
from embedded.topics import TopicSpec, ensure_topics
from ingest.auth import hash_key
from ingest.http import create_app as ingest_app
from ingest.server import serving
from ingest.settings import Settings as IngestSettings
from tests.integration.test_appraisal_service import COUNTY, Stack, _settings, service_topics
from tests.unit.policy.builders import HistoryBuilder, WeekendCalendar, serve_year
from tests.wire import to_inbound

pytestmark = pytest.mark.integration

SOURCE_KEY = "township-key-0001"


def _ingest_settings(bootstrap: str, topic: str, tmp_path: Path) -> IngestSettings:
    keys = {
        "keys": [
            {
                "name": "township",
                "sha256": hash_key(SOURCE_KEY),
                "event_types": ["*"],
                "counties": [COUNTY],
                "sources": ["*"],
            }
        ]
    }
    return IngestSettings(
        kafka_bootstrap=bootstrap,
        topic=topic,
        dlq_topic=topic + "-ingest-dlq",
        idempotent_producer=False,
        api_keys=json.dumps(keys),
        hmac_key="k" * 40,
        dedup_dsn=str(tmp_path / "seen.sqlite"),
    )


async def test_a_county_year_posted_to_ingest_is_appraised_as_computed_by_hand(
    kafka_bootstrap: str, topic_name: str, tmp_path: Path
) -> None:
    await ensure_topics(
        kafka_bootstrap,
        [*service_topics(topic_name), TopicSpec(topic_name + "-ingest-dlq", 1, "")],
    )
    # Three advisors, 2024, default policy, a weekday-only calendar for the night rule:
    #  A-1 full year:                   30+10+10+10+5+10+15+5 = 95  EXCELLENT  RETAIN
    #  A-2 8 of 12 months compliant:    20+65 = 85                  COMPETENT  RECTIFY (S−C = 4)
    #  A-3 no lectures at all:          95 − 10 = 85                COMPETENT  RECTIFY
    #      (LECTURES_SHORT 0 < 4 and NIGHT_HOLIDAY_LECTURES_SHORT 0 < 2)
    events: list[dict[str, Any]] = []
    profiles: tuple[tuple[str, dict[str, Any]], ...] = (
        ("A-1", {}),
        ("A-2", {"compliant_months": 8}),
        ("A-3", {"lectures": 0, "night_lectures": 0}),
    )
    for advisor, year_kwargs in profiles:
        builder = serve_year(HistoryBuilder(advisor), "V-" + advisor, 2024, **year_kwargs)
        for n, fact in enumerate(builder.history().facts):
            events.append(
                to_inbound(
                    fact,
                    county_id=COUNTY,
                    advisor_id=advisor,
                    source="township",
                    source_event_id=f"{advisor}-{n}",
                )
            )
    service = AppraisalService(
        _settings(
            {"PERSISTENCE_MODULE": "eventsourcing.sqlite"}, tmp_path, kafka_bootstrap, topic_name
        ),
        WeekendCalendar(),
    )
    async with (
        serving(appraisal_app(service)) as appraisal_url,
        serving(ingest_app(_ingest_settings(kafka_bootstrap, topic_name, tmp_path))) as ingest_url,
        httpx.AsyncClient(timeout=60) as http,
    ):
        posted = await http.post(
            f"{ingest_url}/v1/events",
            json=events,
            headers={"Authorization": f"Bearer {SOURCE_KEY}"},
        )
        assert posted.status_code == 202, posted.text
        statuses = {r["status"] for r in posted.json()["events"]}
        assert statuses == {"accepted"}, posted.text[:2000]
        stack = Stack(service, http, topic_name)
        await stack.settled([_Sent(e) for e in events])
        county = await http.get(
            f"{appraisal_url}/v1/appraisals/{COUNTY}/2024", headers=stack.headers("bureau")
        )
    rows = {a["advisor_id"]: a for a in county.json()["assignments"]}
    assert {k: (v["score"], v["grade"], v["verdict"]) for k, v in rows.items()} == {
        "A-1": (95.0, "EXCELLENT", "RETAIN"),
        "A-2": (85.0, "COMPETENT", "RECTIFY"),
        "A-3": (85.0, "COMPETENT", "RECTIFY"),
    }
    assert [r["code"] for r in rows["A-3"]["reasons"]] == [
        "LECTURES_SHORT",
        "NIGHT_HOLIDAY_LECTURES_SHORT",
    ]
    assert (rows["A-3"]["reasons"][0]["observed"], rows["A-3"]["reasons"][0]["threshold"]) == (0, 4)


class _Sent:
    """What `Stack.settled` needs of an event posted through ingest."""

    def __init__(self, inbound: dict[str, Any]) -> None:
        self.county_id = inbound["county_id"]
        self.advisor_id = inbound["advisor_id"]
        self.event_id = derive_event_id(inbound["source"], inbound["source_event_id"])
