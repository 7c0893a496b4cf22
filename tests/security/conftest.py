"""Fixtures of the security tests: one loaded pipeline per event-store backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from embedded.broker import TansuBroker
from tests.security.pipeline import Pipeline, running_pipeline


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def pipeline(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    kafka_broker: TansuBroker,
) -> AsyncIterator[Pipeline]:
    """Ingest → Tansu → appraisal on SQLite or PostgreSQL, both counties loaded and closed.

    Session-scoped: the tenancy, privacy and injection modules read the same data
    (none of them changes it), so each backend is loaded once.
    """
    backend: str = request.param
    postgres = request.getfixturevalue("postgres_server") if backend == "postgres" else None
    async with running_pipeline(
        backend, tmp_path_factory.mktemp(f"security-{backend}"), kafka_broker.bootstrap_servers,
        postgres,
    ) as loaded:  # fmt: skip
        yield loaded
