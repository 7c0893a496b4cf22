"""Every metric the dashboard and the alerts query is one the running services export.

Both services run for real against the Tansu broker, on real HTTP ports, and do a
little work first so that labelled series exist: ingest accepts one event and rejects
one (and a second ingest, whose broker is unreachable, answers 503); the appraisal
service applies a county-year, closes it (verdicts) and dead-letters a poison message.
Then /metrics of each is scraped and every name and label the queries use is looked up.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from appraisal.api.http import create_app as create_appraisal_app
from appraisal.domain.county import PeriodClosed
from appraisal.service import AppraisalService
from embedded.broker import TansuBroker, free_port
from embedded.topics import TopicSpec, ensure_topics
from ingest.http import create_app as create_ingest_app
from ingest.server import serving
from tests.deploy.promql import Exposition, Names, grafana_variable_query, names, parse_exposition
from tests.deploy.support import (
    ALERT_RULES,
    dashboard_files,
    healthcheck_command,
    load_compose,
    load_json,
    load_yaml,
)
from tests.ingest.helpers import KEYS, event, make_settings
from tests.integration.test_appraisal_service import Stack, _history, _settings
from tests.sample_facts import at, fid
from tests.unit.policy.builders import WeekendCalendar

pytestmark = pytest.mark.integration

# Series Prometheus makes itself, with the labels it attaches to every target.
BUILT_IN = {"up": {"job", "instance"}}
TARGET_LABELS = {"job", "instance"}


@dataclass
class Running:
    ingest_url: str
    appraisal_url: str
    expositions: dict[str, list[str]]  # service → /metrics of each of its apps


async def _metrics(client: httpx.AsyncClient, url: str) -> str:
    response = await client.get(url + "/metrics")
    assert response.status_code == 200
    return response.text


async def _until(check: Any, what: str, wait_s: float = 60) -> None:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


async def _produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


@pytest.fixture(scope="module")
async def running(
    kafka_broker: TansuBroker, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Running]:
    bootstrap = kafka_broker.bootstrap_servers
    topic = f"deploy-{uuid.uuid4().hex[:10]}"
    await ensure_topics(
        bootstrap,
        [TopicSpec(topic, 3, ""), TopicSpec(topic + "-verdicts", 1, ""),
         TopicSpec(topic + "-dlq", 1, ""), TopicSpec(topic + "-ingest-dlq", 1, "")],
    )  # fmt: skip
    tmp = tmp_path_factory.mktemp("metrics")
    settings = _settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite"}, tmp, bootstrap, topic)
    service = AppraisalService(settings, WeekendCalendar())
    ingest = create_ingest_app(
        make_settings(tmp, kafka_bootstrap=bootstrap, topic=topic, dlq_topic=topic + "-ingest-dlq")
    )
    # An ingest whose broker never answers: its 503 creates the labelled failure series.
    unreachable = create_ingest_app(
        make_settings(
            tmp / "unreachable",
            kafka_bootstrap=f"127.0.0.1:{free_port()}",
            publish_timeout_s=1.0,
        )
    )
    async with (
        serving(create_appraisal_app(service)) as appraisal_url,
        serving(ingest) as ingest_url,
        serving(unreachable) as unreachable_url,
        httpx.AsyncClient(timeout=30) as client,
    ):
        headers = KEYS["platform"].headers
        valid = event("activity.lecture.v1", advisor_id="A-DEPLOY")
        posted = await client.post(
            ingest_url + "/v1/events",
            json=[valid, event("activity.lecture.v1", payload={"attendees": -1}), valid],
            headers=headers,
        )
        assert posted.status_code == 202, posted.text
        statuses = [e["status"] for e in posted.json()["events"]]
        assert statuses == ["accepted", "rejected", "duplicate"]
        assert (await client.post(ingest_url + "/v1/events", json=[])).status_code == 401
        refused = await client.post(unreachable_url + "/v1/events", json=[event()], headers=headers)
        assert refused.status_code == 503

        stack = Stack(service, None, topic)  # type: ignore[arg-type]
        close = ("county", PeriodClosed(fid("close"), at(5, month=1, year=2025), 2024))
        sent = await stack.send([*_history("A-1"), close])
        await stack.settled(sent)
        redelivered = (sent[0].partition_key().encode(), sent[0].model_dump_json().encode())
        await _produce(bootstrap, topic, [redelivered, (b"A-POISON", b"{not json")])

        async def appraisal_has_labelled_series() -> bool:
            text = await _metrics(client, appraisal_url)
            return all(
                f"{name}{{" in text
                for name in (
                    "appraisal_verdicts_published_total",
                    "appraisal_events_duplicate_total",
                    "appraisal_events_dead_lettered_total",
                    "appraisal_consumer_lag_messages",
                )
            )

        await _until(appraisal_has_labelled_series, "verdicts, a dead letter and consumer lag")
        expositions = {
            "appraisal": [await _metrics(client, appraisal_url)],
            "ingest": [
                await _metrics(client, ingest_url),
                await _metrics(client, unreachable_url),
            ],
        }
        yield Running(ingest_url, appraisal_url, expositions)


@dataclass(frozen=True)
class Query:
    where: str
    names: Names


def _queries() -> Iterator[Query]:
    for group in load_yaml(ALERT_RULES)["groups"]:
        for rule in group["rules"]:
            label = rule.get("alert") or rule["record"]
            yield Query(f"alerts.yml {label}", names(rule["expr"]))
    for path in dashboard_files():
        dashboard = load_json(path)
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                where = f"{path.name} panel {panel['title']!r} {target['refId']}"
                yield Query(where, names(target["expr"]))
        for variable in dashboard.get("templating", {}).get("list", []):
            query = variable.get("query")
            text = query.get("query", "") if isinstance(query, dict) else str(query or "")
            if variable.get("type") == "query" and text:
                yield Query(
                    f"{path.name} variable {variable['name']}", grafana_variable_query(text)
                )


def _recorded() -> set[str]:
    return {
        rule["record"]
        for group in load_yaml(ALERT_RULES)["groups"]
        for rule in group["rules"]
        if "record" in rule
    }


def _exposition(running: Running) -> Exposition:
    texts = [text for service in running.expositions.values() for text in service]
    return parse_exposition("\n".join(texts))


def test_every_metric_a_query_uses_is_exported(running: Running) -> None:
    exposition = _exposition(running)
    recorded = _recorded()
    unknown = []
    for query in _queries():
        for metric in query.names.metrics:
            if metric in recorded or metric in BUILT_IN:
                continue
            if exposition.family_of(metric) is None:
                hint = exposition.suggestion(metric)
                unknown.append(f"{query.where}: {metric} (exported: {hint})")
    assert not unknown, "not exported by the services:\n" + "\n".join(unknown)


def test_every_label_a_query_uses_is_on_its_series(running: Running) -> None:
    exposition = _exposition(running)
    problems = []
    for query in _queries():
        available = set(TARGET_LABELS)
        for selector in query.names.selectors:
            family = exposition.family_of(selector.metric)
            if selector.metric in BUILT_IN:
                labels = BUILT_IN[selector.metric]
            elif family is not None:
                assert family.sampled or not family.labels, (query.where, family.name)
                labels = family.labels | TARGET_LABELS
                if not family.sampled:
                    problems.append(f"{query.where}: {family.name} has no series to check")
            else:
                continue  # recorded series: their labels come from their own expression
            available |= labels
            if not selector.labels <= labels:
                problems.append(
                    f"{query.where}: {selector.metric} has no {selector.labels - labels}"
                )
        if not query.names.grouping <= available:
            missing = query.names.grouping - available
            problems.append(f"{query.where}: grouped or matched by missing labels {missing}")
    assert not problems, "\n".join(problems)


def test_the_work_left_labelled_series_for_every_family_a_query_uses(running: Running) -> None:
    """Each queried family was seen with samples, so its labels were really checked."""
    exposition = _exposition(running)
    unsampled = set()
    for query in _queries():
        for metric in query.names.metrics:
            family = exposition.family_of(metric)
            if family is not None and not family.sampled:
                unsampled.add(family.name)
    assert unsampled == set()


async def _run(argv: list[str]) -> int:
    """Run a command off the event loop, which serves the services meanwhile."""
    done = await asyncio.to_thread(subprocess.run, argv, capture_output=True, timeout=30)
    return done.returncode


@pytest.mark.parametrize("service", ["ingest", "appraisal"])
async def test_the_compose_healthcheck_passes_against_the_running_service(
    running: Running, service: str
) -> None:
    compose = load_compose()
    argv = healthcheck_command(compose.services[service])
    assert argv[0] == "python"
    listening = f"127.0.0.1:{compose.environment(service)[f'{service.upper()}_PORT']}"
    url = running.ingest_url if service == "ingest" else running.appraisal_url

    def pointed_at(address: str) -> list[str]:
        return [sys.executable, *(a.replace(listening, address) for a in argv[1:])]

    assert await _run(pointed_at(url.removeprefix("http://"))) == 0
    assert await _run(pointed_at(f"127.0.0.1:{free_port()}")) != 0


async def test_the_expositions_pass_promtool_lint(running: Running, promtool: str) -> None:
    """`promtool check metrics`: names, units and help texts of both services."""
    reports = {}
    for service, texts in running.expositions.items():
        for text in texts:
            done = await asyncio.to_thread(
                subprocess.run,
                [promtool, "check", "metrics"],
                input=text,
                capture_output=True,
                text=True,
                timeout=60,
            )
            if done.returncode != 0:
                reports[service] = done.stdout + done.stderr
    assert not reports, json.dumps(reports, indent=2)
