"""Ingest settings: every knob, read once from ``INGEST_*`` environment variables.

Nothing else in the package reads the environment; components receive what
they need from a :class:`Settings` instance (docs/ingest.md has the table).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from embedded.topics import ADVISOR_EVENTS, INGEST_DLQ

MIN_HMAC_KEY_CHARS = 32
"""A shorter pseudonymisation key is refused: citizen refs must not be brute-forceable."""


class ConfigurationError(RuntimeError):
    """The settings do not allow the service to start; the message says what to fix."""


class Settings(BaseSettings):
    """Configuration of the ingest service (environment prefix ``INGEST_``)."""

    model_config = SettingsConfigDict(env_prefix="INGEST_", frozen=True, extra="ignore")

    mode: Literal["development", "production"] = Field(
        default="development",
        description=(
            "`production` refuses to start without an HMAC key and API keys; "
            "`development` generates an ephemeral HMAC key and warns."
        ),
    )
    host: str = Field(default="127.0.0.1", description="Interface `serve` listens on.")
    port: int = Field(default=8081, ge=0, le=65535, description="Port `serve` listens on.")
    kafka_bootstrap: str = Field(
        default="127.0.0.1:9092", description="Kafka bootstrap servers, comma-separated."
    )
    topic: str = Field(default=ADVISOR_EVENTS, description="Topic of accepted events.")
    dlq_topic: str = Field(default=INGEST_DLQ, description="Dead-letter topic of rejected events.")
    idempotent_producer: bool = Field(
        default=True,
        description="aiokafka `enable_idempotence` (Apache Kafka: true; Tansu cannot: false).",
    )
    publish_timeout_s: float = Field(
        default=10.0, gt=0, description="Longest wait for Kafka's acks before answering 503."
    )
    retry_after_s: int = Field(default=5, ge=1, description="`Retry-After` of a 503 answer.")
    hmac_key: SecretStr | None = Field(
        default=None,
        description=f"Secret key of the citizen pseudonyms (at least {MIN_HMAC_KEY_CHARS} chars).",
    )
    api_keys_file: Path | None = Field(
        default=None, description="JSON file of the API keys (hashes and scopes)."
    )
    api_keys: str | None = Field(
        default=None, description="The same JSON inline (used when no file is given)."
    )
    dedup_dsn: str = Field(
        default="data/ingest-dedup.sqlite",
        description="Seen-event store: a SQLite path (`sqlite:///…` too) or `postgresql://…`.",
    )
    dedup_retention_days: int = Field(
        default=400, ge=1, description="How long an accepted event id is remembered."
    )
    max_events: int = Field(default=10_000, ge=1, description="Most events per request.")
    max_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="Largest request body (bytes)."
    )
    readiness_cache_s: float = Field(
        default=2.0, ge=0, description="How long a broker probe answer is reused by `/readyz`."
    )
    log_level: str = Field(default="INFO", description="Log level of the `ingest` loggers.")

    @property
    def production(self) -> bool:
        """True in production mode."""
        return self.mode == "production"
