"""The projector runs in a process of its own (default) or in a thread, with the same results."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from appraisal.api.http import create_app
from appraisal.service import AppraisalService
from embedded.topics import ensure_topics
from tests.integration.test_appraisal_service import (
    COUNTY,
    Stack,
    _history,
    _settings,
    service_topics,
)
from tests.unit.policy.builders import WeekendCalendar

pytestmark = pytest.mark.integration


def _projector_processes() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == "appraisal-projector"]


@asynccontextmanager
async def _stack(
    env: dict[str, str], tmp_path: Path, bootstrap: str, topic: str, projector: str
) -> AsyncIterator[Stack]:
    await ensure_topics(bootstrap, service_topics(topic))
    settings = _settings(env, tmp_path, bootstrap, topic).model_copy(
        update={"projector": projector}
    )
    service = AppraisalService(settings, WeekendCalendar())
    await service.start()
    transport = httpx.ASGITransport(app=create_app(service, manage_lifecycle=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://appraisal") as client:
        try:
            yield Stack(service, client, topic)
        finally:
            await service.stop()


async def _county_list(stack: Stack) -> dict[str, str]:
    answer = await stack.client.get(
        f"/v1/appraisals/{COUNTY}/2024", headers=stack.headers("bureau")
    )
    assert answer.status_code == 200, answer.text
    return {a["advisor_id"]: a["verdict"] for a in answer.json()["assignments"]}


async def test_a_killed_projector_process_is_restarted_and_catches_up(
    event_store_env: dict[str, str], tmp_path: Path, kafka_bootstrap: str, topic_name: str
) -> None:
    async with _stack(event_store_env, tmp_path, kafka_bootstrap, topic_name, "process") as stack:
        await stack.settled(await stack.send(_history("A-1")))
        [first] = _projector_processes()
        assert first.pid != os.getpid()
        os.kill(first.pid or 0, signal.SIGKILL)
        await stack.until(_after(lambda: not first.is_alive()), 10)
        # Events arriving while no projector runs are projected by its successor.
        await stack.settled(await stack.send(_history("A-2", compliant_months=8)), wait_s=90)
        [second] = _projector_processes()
        assert second.pid != first.pid
        assert await _county_list(stack) == {"A-1": "RETAIN", "A-2": "RECTIFY"}
        assert (await stack.client.get("/readyz")).status_code == 200
    assert not _projector_processes(), "stopping the service stops its projector"


async def test_the_thread_projector_gives_the_same_views_without_a_process(
    event_store_env: dict[str, str], tmp_path: Path, kafka_bootstrap: str, topic_name: str
) -> None:
    async with _stack(event_store_env, tmp_path, kafka_bootstrap, topic_name, "thread") as stack:
        await stack.settled(await stack.send(_history("A-1") + _history("A-2", compliant_months=8)))
        assert not _projector_processes()
        assert await _county_list(stack) == {"A-1": "RETAIN", "A-2": "RECTIFY"}
        metrics = (await stack.client.get("/metrics")).text
        assert "appraisal_projection_lag_notifications 0.0" in metrics


def _after(check: Callable[[], bool]) -> Callable[[], object]:
    async def probe() -> bool:
        return check()

    return probe
