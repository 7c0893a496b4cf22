"""A running appraisal service with a small county, served over HTTP, and headless Chromium.

The service consumes from the session's real Kafka-protocol broker into a
SQLite event store, exactly as in tests/integration; uvicorn serves its app on a
free loopback port from a background thread, so the browser talks real HTTP.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, async_playwright

from appraisal.api.auth import hash_token
from appraisal.api.http import create_app
from appraisal.domain.county import PeriodClosed, VillageRegistered
from appraisal.policy import (
    Appointment,
    ComplaintFiled,
    ComplaintResolved,
    Consultation,
    Rating,
)
from appraisal.service import AppraisalService
from embedded.broker import TansuBroker
from embedded.topics import ensure_topics
from tests.integration.test_appraisal_service import (
    COUNTY,
    TOKENS,
    Stack,
    _history,
    _settings,
    service_topics,
)
from tests.sample_facts import at, fid
from tests.unit.policy.builders import WeekendCalendar
from tests.unit.policy.builders import at as beijing

CHROMIUM = "/usr/bin/chromium"
CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"  # else Chinese renders as boxes
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
INSTALL_HINT = "apt-get update && apt-get install -y chromium fonts-wqy-microhei"
YEAR = 2024
NAMES = {"A-1": "张明", "A-2": "李华", "A-3": "王芳"}


@dataclass(frozen=True)
class RunningCounty:
    """The service, its HTTP address and the county it holds."""

    stack: Stack
    base_url: str
    county_id: str = COUNTY
    year: int = YEAR

    def url(self, path: str) -> str:
        return self.base_url + path

    def token(self, who: str) -> str:
        return TOKENS[who][0]

    async def api(self, path: str, who: str = "bureau") -> Any:
        """A read-API answer, as any county system would fetch it."""
        async with httpx.AsyncClient(base_url=self.base_url) as client:
            response = await client.get(
                path, headers={"Authorization": f"Bearer {self.token(who)}"}
            )
        assert response.status_code == 200, (path, response.text)
        return response.json()


def _as_published(facts: list[tuple[str, Any]], name: str) -> list[tuple[str, Any]]:
    """The advisor's name on the appointment, and citizens pseudonymised as ingest does."""

    def fix(f: Any) -> Any:
        if isinstance(f, Appointment):
            return dataclasses.replace(f, name=name)
        if isinstance(f, Rating):
            return dataclasses.replace(f, citizen_ref=hash_token(f.citizen_ref))
        return f

    return [(key, fix(f)) for key, f in facts]


def _county_events() -> list[tuple[str, Any]]:
    registered = [
        VillageRegistered(
            fid(f"village-{v}"), at(1, month=1), v, f"{v} 村", "T-1", "village", False, ""
        )
        for v in ("V-A-1", "V-A-2", "V-A-3", "V-EMPTY")
    ]
    return [("county", r) for r in registered]


def _advisors() -> list[tuple[str, Any]]:
    """Three profiles: excellent (later amended), competent and eligible, failing duty."""
    excellent = _as_published(_history("A-1", ratings=[5] * 12), NAMES["A-1"])
    eligible = _as_published(_history("A-2", ratings=[4] * 10), NAMES["A-2"])
    failing = _as_published(_history("A-3", compliant_months=5), NAMES["A-3"])
    # Answered WeChat consultations in a month without duty: credit, still not compliant.
    for i in range(4):
        asked = beijing(YEAR, 9, 3 + i, 20)
        failing.append(
            (
                "A-3",
                Consultation(
                    fid(f"a3-wechat-{i}"),
                    asked,
                    "V-A-3",
                    "wechat",
                    asked,
                    asked + timedelta(hours=1),
                    "劳动争议",
                ),
            )
        )
    return excellent + eligible + failing


def _late_complaint() -> list[tuple[str, Any]]:
    filed = ComplaintFiled(
        fid("late-complaint"), at(3, month=6), "C-late", "V-A-1", "hotline_12348", "迟到", "a" * 64
    )
    resolved = ComplaintResolved(fid("late-resolution"), at(2, month=2, year=2025), "C-late", True)
    return [("A-1", filed), ("A-1", resolved)]


async def _versions(stack: Stack, advisor_id: str, expected: int) -> None:
    def count() -> int:
        views = stack.service.views
        return len(views.verdict_versions(COUNTY, YEAR, advisor_id, "V-" + advisor_id))

    async def enough() -> bool:
        return await asyncio.to_thread(count) >= expected

    await stack.until(enough, 60)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="module")
async def running_county(
    kafka_broker: TansuBroker, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningCounty]:
    """The county after its year was closed and one verdict amended by a late complaint."""
    topic = f"e2e-{uuid.uuid4().hex[:12]}"
    bootstrap = kafka_broker.bootstrap_servers
    await ensure_topics(
        bootstrap,
        service_topics(topic),
    )
    settings = _settings(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite"},
        tmp_path_factory.mktemp("dashboard"),
        bootstrap,
        topic,
    )
    service = AppraisalService(settings, WeekendCalendar())
    await service.start()

    sock = _free_socket()
    host, port = sock.getsockname()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(service, manage_lifecycle=False), lifespan="off", log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base_url = f"http://{host}:{port}"
    async with httpx.AsyncClient(base_url=base_url) as client:
        stack = Stack(service, client, topic)
        try:
            await stack.settled(await stack.send(_county_events() + _advisors()))
            close = PeriodClosed(fid("close-2024"), at(5, month=1, year=2025), YEAR)
            await stack.settled(await stack.send([("county", close)]))
            await _versions(stack, "A-1", 1)
            await stack.settled(await stack.send(_late_complaint()))
            await _versions(stack, "A-1", 2)
            await stack.until(lambda: _started(server), 10)
            yield RunningCounty(stack, base_url)
        finally:
            server.should_exit = True
            await asyncio.to_thread(thread.join, 10)
            await service.stop()


async def _started(server: uvicorn.Server) -> bool:
    return server.started


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's Chromium and a CJK font: skipped without them here, a failure in CI."""
    if not (Path(CHROMIUM).exists() and Path(CJK_FONT).exists()):
        message = f"{CHROMIUM} or {CJK_FONT} is missing; install them with: {INSTALL_HINT}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    """Headless Chromium driven by Playwright (never a browser Playwright downloads)."""
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()
