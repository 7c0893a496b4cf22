"""Settings of the appraisal service: one object, read from the environment (APPRAISAL_*)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from embedded.topics import ADVISOR_EVENTS, APPRAISAL_DLQ, APPRAISAL_VERDICTS


class AppraisalSettings(BaseSettings):
    """Everything the appraisal service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="APPRAISAL_", extra="ignore")

    mode: Literal["development", "production"] = Field(
        "development",
        description="production refuses to start without bearer tokens (nobody could read).",
    )
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers.")
    input_topic: str = Field(ADVISOR_EVENTS, description="Topic of input events.")
    verdict_topic: str = Field(APPRAISAL_VERDICTS, description="Topic verdicts are published to.")
    dlq_topic: str = Field(APPRAISAL_DLQ, description="Dead-letter topic for poison events.")
    group_id: str = Field("appraisal", description="Kafka consumer group of all instances.")
    max_records: int = Field(2000, ge=1, description="Largest batch read from Kafka at once.")
    idempotent_producer: bool = Field(
        True, description="Kafka idempotent producer (Apache Kafka: on; Tansu: off)."
    )
    store: Literal["sqlite", "postgres"] = Field("sqlite", description="Event store backend.")
    data_dir: Path = Field(Path("data"), description="SQLite files live here.")
    postgres_host: str = Field("127.0.0.1", description="PostgreSQL host.")
    postgres_port: int = Field(5432, description="PostgreSQL port.")
    postgres_user: str = Field("postgres", description="PostgreSQL user.")
    postgres_password: str = Field("", description="PostgreSQL password.")
    postgres_dbname: str = Field("appraisal", description="PostgreSQL database.")
    postgres_schema: str = Field("public", description="PostgreSQL schema.")
    tokens: str = Field(
        "",
        description="Bearer tokens as JSON: [{name, role, counties, sha256}] (see README).",
    )
    tokens_file: Path | None = Field(None, description="A file holding the tokens JSON.")
    host: str = Field("127.0.0.1", description="HTTP listen address.")
    port: int = Field(8082, description="HTTP listen port.")
    projector_idle_s: float = Field(
        0.2, gt=0, description="How long the projector sleeps when it has caught up."
    )
    projector: Literal["process", "thread"] = Field(
        "process",
        description="Run the projector in a process of its own (a core to itself) or a thread.",
    )
    projector_page: int = Field(
        10_000,
        ge=1,
        description="Most notifications one projector step holds in memory; when more "
        "wait, a step takes them all reading each touched advisor's stream (positions "
        "held, not events). 50,000 raised the projector's peak by ~45 MB at 312k events "
        "for no gain in throughput (issue #8, B4).",
    )
    projector_interval_s: float = Field(
        1.0,
        ge=0,
        description="Least time between projector steps unless a full page waits (coalescing).",
    )
    projector_duty: float = Field(
        0.5,
        gt=0,
        le=1,
        description="While events keep coming, the most of its time the projector spends "
        "stepping: after a step of t seconds it rests t × (1/duty − 1) (at least the "
        "interval) while events accumulate. 1 steps back to back.",
    )
    projector_settle_s: float = Field(
        5.0,
        ge=0,
        description="While events keep coming, how often county summaries and award "
        "shortlists are recomputed (at once when the projector catches up).",
    )

    replay_workers: int = Field(
        default_factory=lambda: min(8, len(os.sched_getaffinity(0))),
        ge=1,
        description="Processes that project a replay's (or verify's) advisors side by side "
        "(default: the cores this process may use, at most 8; 1: all in one process).",
    )

    def eventsourcing_env(self) -> dict[str, str]:
        """The eventsourcing library's environment for the event store and the views."""
        if self.store == "sqlite":
            self.data_dir.mkdir(parents=True, exist_ok=True)
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.data_dir / "events.sqlite"),
                "VIEWS_SQLITE_DBNAME": str(self.data_dir / "views.sqlite"),
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_HOST": self.postgres_host,
            "POSTGRES_PORT": str(self.postgres_port),
            "POSTGRES_USER": self.postgres_user,
            "POSTGRES_PASSWORD": self.postgres_password,
            "POSTGRES_DBNAME": self.postgres_dbname,
            "POSTGRES_SCHEMA": self.postgres_schema,
            # Each pool (event store, views; again in the projector process) keeps 2
            # connections open and grows to 10 under load: a service at rest holds
            # ~6, not 20, so instances and test runs fit PostgreSQL's max_connections.
            "POSTGRES_POOL_SIZE": "2",
            "POSTGRES_MAX_OVERFLOW": "8",
            # Fail fast when PostgreSQL is away: callers retry with backoff anyway.
            "POSTGRES_CONNECT_TIMEOUT": "5",
        }

    def tokens_json(self) -> str:
        if self.tokens_file is not None:
            return self.tokens_file.read_text(encoding="utf-8")
        return self.tokens or "[]"
