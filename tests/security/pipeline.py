"""The real pipeline for the security tests: ingest → Tansu → appraisal → projections.

Two counties, one advisor each, a year of work, citizen ratings and complaints
carrying planted raw citizen identifiers, and both years closed, all posted
through ingest's HTTP API with scoped keys. The appraisal service consumes the
same topic into SQLite or PostgreSQL. Tests read the result through the API, the
dashboard, Kafka and the stores.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import sqlite3
import time
import uuid
import zipfile
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg
from aiokafka import AIOKafkaConsumer, TopicPartition
from psycopg import sql

from appraisal.api.auth import hash_token
from appraisal.api.http import create_app as create_appraisal_app
from appraisal.service import AppraisalService
from appraisal.settings import AppraisalSettings
from contracts import derive_event_id
from embedded.topics import TopicSpec, ensure_topics
from ingest.auth import hash_key
from ingest.http import create_app as create_ingest_app
from ingest.openapi import example_event
from ingest.settings import Settings as IngestSettings
from tests.conftest import PostgresServer
from tests.unit.policy.builders import WeekendCalendar

YEAR = 2024
HMAC_KEY = "security-tests-pseudonymisation-key-0123456789"


@dataclass(frozen=True)
class County:
    """One county of the data set and what only it may see."""

    code: str
    advisor_id: str
    advisor_name: str
    village_id: str
    firm: str
    comment: str  # a rating's comment: bureaus and auditors see it, associations never
    summary: str  # a complaint's summary: the same rule

    @property
    def markers(self) -> tuple[str, ...]:
        """Strings that appear only in this county's data."""
        return (self.advisor_id, self.advisor_name, self.village_id, self.firm)


A = County(
    "440115", "ADV-A-7001", "甲律师", "440115101001", "甲律师事务所", "COMMENT-A-甲", "SUMMARY-A-甲"
)
B = County(
    "440113", "ADV-B-7002", "乙律师", "440113101001", "乙律师事务所", "COMMENT-B-乙", "SUMMARY-B-乙"
)
COUNTIES = (A, B)

# Raw citizen identifiers as sources send them; the spellings searched for afterwards.
PLANTED_CITIZENS = {
    A.code: ["13987650001", "+86 139-8765-0002", "11010519491231702X"],
    B.code: ["139 8765 0003", "0086-13987650004", "44011519800101703x"],
}
RAW_NEEDLES = (
    "13987650001",
    "139-8765-0002",
    "13987650002",
    "11010519491231702X",
    "13987650003",
    "139 8765 0003",
    "13987650004",
    "44011519800101703X",
    "8765000",  # any fragment of the planted phone numbers
    "49123170",
    "80010170",
)


@dataclass(frozen=True)
class Key:
    plaintext: str
    entry: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.plaintext}"}


def _key(name: str, **scope: Any) -> Key:
    plaintext = f"{name}-key-{uuid.uuid4().hex}"
    return Key(plaintext, {"name": name, "sha256": hash_key(plaintext), **scope})


ACTIVITY_TYPES = [
    "activity.onsite_duty.v1",
    "activity.lecture.v1",
    "activity.mediation.v1",
    "activity.consultation.v1",
    "activity.document_drafted.v1",
    "activity.legal_aid_referral.v1",
    "activity.committee_advice.v1",
]

INGEST_KEYS: dict[str, Key] = {
    "a-platform": _key("a-platform", event_types=["*"], counties=[A.code]),
    "a-admin": _key("a-admin", event_types=["*"], counties=[A.code], sources=["*"], admin=True),
    "a-ratings": _key(
        "a-ratings", event_types=["rating.submitted.v1"], counties=[A.code], sources=["a-platform"]
    ),
    "a-ledger": _key("a-ledger", event_types=ACTIVITY_TYPES, counties=[A.code]),
    "b-platform": _key("b-platform", event_types=["*"], counties=[B.code]),
    "b-admin": _key("b-admin", event_types=["*"], counties=[B.code], sources=["*"], admin=True),
}

# Bearer tokens of the appraisal service: role and counties.
TOKENS: dict[str, tuple[str, str, list[str] | str]] = {
    "bureau-a": ("bureau", f"tok-bureau-a-{uuid.uuid4().hex}", [A.code]),
    "bureau-b": ("bureau", f"tok-bureau-b-{uuid.uuid4().hex}", [B.code]),
    "association-a": ("association", f"tok-assoc-a-{uuid.uuid4().hex}", [A.code]),
    "auditor": ("auditor", f"tok-auditor-{uuid.uuid4().hex}", "*"),
    "admin": ("admin", f"tok-admin-{uuid.uuid4().hex}", "*"),
}


def bearer(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[who][1]}"}


def _tokens_json() -> str:
    return json.dumps(
        [
            {"name": name, "role": role, "counties": counties, "sha256": hash_token(token)}
            for name, (role, token, counties) in TOKENS.items()
        ]
    )


# --- the data set ---------------------------------------------------------------


def county_event(
    type_: str, county: County, source: str, sid: str, **fields: Any
) -> dict[str, Any]:
    built = example_event(type_)
    payload = {**built["payload"], **fields.pop("payload", {})}
    if "village_id" in payload:
        payload["village_id"] = county.village_id
    built.update(
        source=source,
        source_event_id=f"{county.code}-{sid}",
        county_id=county.code,
        advisor_id="" if built["advisor_id"] == "" else county.advisor_id,
        payload=payload,
        **fields,
    )
    return built


def cst(day: date, hour: int, minute: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00+08:00"


def county_events(county: County, source: str) -> list[dict[str, Any]]:
    """A served, rated year of one advisor in one village, with citizens' ratings and a
    complaint that carry raw citizen identifiers."""
    events = [
        county_event(
            "village.registered.v1", county, source, "V", payload={"name": county.firm[:1]}
        ),
        county_event(
            "advisor.appointed.v1",
            county,
            source,
            "AP",
            payload={"name": county.advisor_name, "firm": county.firm},
        ),
    ]
    for month in range(1, 13):
        day = date(YEAR, month, 5)
        events.append(
            county_event(
                "activity.onsite_duty.v1",
                county,
                source,
                f"D-{month}",
                occurred_at=cst(day, 14),
                payload={"started_at": cst(day, 9), "ended_at": cst(day, 14)},
            )
        )
        lecture_day = date(YEAR, month, 12)
        events.append(
            county_event(
                "activity.lecture.v1",
                county,
                source,
                f"L-{month}",
                occurred_at=cst(lecture_day, 19, 30),
                payload={"started_at": cst(lecture_day, 19, 30)},
            )
        )
    for n, citizen in enumerate(PLANTED_CITIZENS[county.code]):
        day = date(YEAR, 3 + n, 6)
        events.append(
            county_event(
                "rating.submitted.v1",
                county,
                source,
                f"R-{n}",
                occurred_at=cst(day, 10),
                payload={
                    "citizen": citizen,
                    "comment": county.comment,
                    "activity_event_id": None,
                    "rating_id": f"R-{county.code}-{n}",
                },
            )
        )
    events.append(
        county_event(
            "complaint.filed.v1",
            county,
            source,
            "C",
            payload={
                "citizen": PLANTED_CITIZENS[county.code][0],
                "summary": county.summary,
                "complaint_id": f"C-{county.code}",
            },
        )
    )
    events.append(
        county_event(
            "complaint.resolved.v1",
            county,
            source,
            "CR",
            payload={"complaint_id": f"C-{county.code}", "substantiated": False},
        )
    )
    return events


def closing(county: County, source: str) -> dict[str, Any]:
    return county_event(
        "period.closed.v1",
        county,
        source,
        "CLOSE",
        occurred_at="2025-01-15T09:00:00+08:00",
        payload={"year": YEAR},
    )


def rejected_with_citizens(county: County, source: str) -> list[dict[str, Any]]:
    """Events ingest must reject, each carrying a raw citizen id somewhere (→ DLQ)."""
    phone = PLANTED_CITIZENS[county.code][0]
    out_of_range = county_event(
        "rating.submitted.v1", county, source, "BAD-1", payload={"citizen": phone, "score": 9}
    )
    misspelt = county_event(
        "complaint.filed.v1", county, source, "BAD-2", payload={"citizen": phone}
    )
    misspelt["payload"]["citizen_phone"] = phone
    unknown = {"type": "citizen.phone.v1", "citizen": phone, "payload": {"phone": phone}}
    return [out_of_range, misspelt, unknown]


# --- the running pipeline ---------------------------------------------------------------


class LogCapture(logging.Handler):
    """Every log record of every logger while the pipeline runs, formatted with its args."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.lines.append(self.format(record))


@dataclass
class Pipeline:
    backend: str
    service: AppraisalService
    appraisal: httpx.AsyncClient
    ingest: httpx.AsyncClient
    topic: str
    tmp: Path
    env: dict[str, str]
    logs: LogCapture
    postgres: PostgresServer | None = None
    schema: str | None = None
    ingest_answers: list[str] = field(default_factory=list)

    @property
    def topics(self) -> dict[str, int]:
        """Every topic of the pipeline and its partitions."""
        return {
            self.topic: 3,
            self.topic + "-ingest-dlq": 1,
            self.topic + "-dlq": 1,
            self.topic + "-verdicts": 1,
        }

    async def post(self, key: str, events: Sequence[Any]) -> dict[str, Any]:
        answer = await self.ingest.post(
            "/v1/events", json=list(events), headers=INGEST_KEYS[key].headers
        )
        self.ingest_answers.append(answer.text)
        assert answer.status_code == 202, answer.text
        body: dict[str, Any] = answer.json()
        return body

    # --- what was written ---------------------------------------------------------

    def store_tables(self) -> dict[str, list[str]]:
        """Every row of every table of the event store and the views, as text."""
        if self.backend == "sqlite":
            tables: dict[str, list[str]] = {}
            for path in sorted((self.tmp / "data").glob("*.sqlite")):
                with contextlib.closing(sqlite3.connect(path)) as conn:
                    names = [
                        r[0]
                        for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
                    ]
                    for name in names:
                        rows = conn.execute(f'SELECT * FROM "{name}"').fetchall()
                        tables[f"{path.name}:{name}"] = [_row_text(r) for r in rows]
            return tables
        assert self.postgres is not None
        assert self.schema is not None
        tables = {}
        with psycopg.connect(self.postgres.conninfo()) as conn:
            names = [
                r[0]
                for r in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    (self.schema,),
                )
            ]
            for name in names:
                query = sql.SQL("SELECT * FROM {}.{}").format(
                    sql.Identifier(self.schema), sql.Identifier(name)
                )
                tables[name] = [_row_text(r) for r in conn.execute(query)]
        return tables

    def row_counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.store_tables().items()}

    def side_files(self) -> dict[str, bytes]:
        """Files ingest writes besides Kafka (its seen-event store)."""
        return {p.name: p.read_bytes() for p in sorted(self.tmp.glob("dedup.sqlite*"))}


def _row_text(row: Iterable[Any]) -> str:
    parts = []
    for value in row:
        if isinstance(value, bytes | bytearray | memoryview):
            parts.append(bytes(value).decode("utf-8", "replace"))
        else:
            parts.append(str(value))
    return "\t".join(parts)


async def read_all(bootstrap: str, topic: str, partitions: int) -> list[Any]:
    """Every record of a topic (judged by the fetch high watermarks)."""
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[Any] = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for batch in (await consumer.getmany(*tps, timeout_ms=200)).values():
                records.extend(batch)
            marks = [consumer.highwater(tp) for tp in tps]
            positions = [await consumer.position(tp) for tp in tps]
            if all(m is not None and p >= m for m, p in zip(marks, positions, strict=True)):
                break
        return records
    finally:
        await consumer.stop()


def record_text(record: Any) -> str:
    parts = [record.value or b"", record.key or b""]
    parts += [bytes(v) for _, v in (record.headers or ())]
    return "\n".join(p.decode("utf-8", "replace") for p in parts)


def xlsx_text(content: bytes) -> str:
    """Every XML part of a workbook (cells, shared strings, sheet names)."""
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return "\n".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())


async def _settled(pipeline: Pipeline, ids: dict[str, set[uuid.UUID]], wait_s: float) -> None:
    service = pipeline.service

    def done() -> bool:
        for key, expected in ids.items():
            kind, name = key.split(":", 1)
            ledger = service.app.county(name) if kind == "county" else service.app.advisor(name)
            if ledger is None or not all(ledger.knows(i) for i in expected):
                return False
        if service.projector.lag() or service.views.dirty_county_years():
            return False
        return not service.views.unpublished_verdicts(1)

    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if await asyncio.to_thread(done):
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the pipeline did not settle")


@contextlib.asynccontextmanager
async def running_pipeline(
    backend: str,
    tmp: Path,
    bootstrap: str,
    postgres: PostgresServer | None = None,
) -> AsyncIterator[Pipeline]:
    """Start ingest and appraisal on fresh topics and store, load both counties, settle."""
    topic = f"sec-{uuid.uuid4().hex[:12]}"
    await ensure_topics(
        bootstrap,
        [
            TopicSpec(topic, 3, ""),
            TopicSpec(topic + "-ingest-dlq", 1, ""),
            TopicSpec(topic + "-dlq", 1, ""),
            TopicSpec(topic + "-verdicts", 1, ""),
        ],
    )
    common: dict[str, Any] = {
        "kafka_bootstrap": bootstrap,
        "input_topic": topic,
        "verdict_topic": topic + "-verdicts",
        "dlq_topic": topic + "-dlq",
        "group_id": "appraisal-" + topic,
        "idempotent_producer": False,
        "tokens": _tokens_json(),
        "projector_idle_s": 0.05,
        "projector_interval_s": 0.1,
    }
    schema = None
    if backend == "sqlite":
        settings = AppraisalSettings(store="sqlite", data_dir=tmp / "data", **common)
    else:
        assert postgres is not None
        schema = f"sec_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(postgres.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        settings = AppraisalSettings(
            store="postgres",
            postgres_host=postgres.host,
            postgres_port=postgres.port,
            postgres_user=postgres.user,
            postgres_password=postgres.password,
            postgres_dbname=postgres.dbname,
            postgres_schema=schema,
            **common,
        )
    ingest_settings = IngestSettings(
        api_keys=json.dumps({"keys": [k.entry for k in INGEST_KEYS.values()]}),
        hmac_key=HMAC_KEY,
        dedup_dsn=str(tmp / "dedup.sqlite"),
        idempotent_producer=False,
        publish_timeout_s=10.0,
        kafka_bootstrap=bootstrap,
        topic=topic,
        dlq_topic=topic + "-ingest-dlq",
    )
    logs = LogCapture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(logs)
    root.setLevel(logging.DEBUG)
    service = AppraisalService(settings, WeekendCalendar())
    await service.start()
    ingest_app = create_ingest_app(ingest_settings)
    try:
        async with (
            ingest_app.router.lifespan_context(ingest_app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=ingest_app),
                base_url="http://ingest.test",
                timeout=60,
            ) as ingest,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(
                    app=create_appraisal_app(service, manage_lifecycle=False)
                ),
                base_url="http://appraisal.test",
                timeout=60,
            ) as appraisal,
        ):
            pipeline = Pipeline(
                backend, service, appraisal, ingest, topic, tmp, settings.eventsourcing_env(),
                logs, postgres, schema,
            )  # fmt: skip
            await _load(pipeline)
            yield pipeline
    finally:
        await service.stop()
        root.removeHandler(logs)
        root.setLevel(old_level)
        if postgres is not None and schema is not None:
            with psycopg.connect(postgres.conninfo(), autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )


async def _load(pipeline: Pipeline) -> None:
    ids: dict[str, set[uuid.UUID]] = {}
    for county, platform in ((A, "a-platform"), (B, "b-platform")):
        events = county_events(county, platform)
        report = await pipeline.post(platform, events)
        assert report["accepted"] == len(events), report
        bad = await pipeline.post(platform, rejected_with_citizens(county, platform))
        assert bad["rejected"] == 3, bad
        for e in events:
            key = f"advisor:{county.advisor_id}" if e["advisor_id"] else f"county:{county.code}"
            ids.setdefault(key, set()).add(derive_event_id(e["source"], e["source_event_id"]))
    await _settled(pipeline, ids, 90)
    # Close both years only once every fact is in, so the verdicts are final.
    for county, admin in ((A, "a-admin"), (B, "b-admin")):
        close = closing(county, admin)
        assert (await pipeline.post(admin, [close]))["accepted"] == 1
        ids.setdefault(f"county:{county.code}", set()).add(
            derive_event_id(close["source"], close["source_event_id"])
        )
    await _settled(pipeline, ids, 90)
    # The verdict outbox has published; give a poll interval for the last flush.
    await asyncio.sleep(0.2)
