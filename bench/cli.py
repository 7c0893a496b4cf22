"""``python -m bench``: run the benchmarks B0–B5, print a table, write JSON.

One run starts a Tansu broker, then per event store (PostgreSQL first, SQLite
second by default) the ingest and appraisal services in this process, and drives
them from worker processes (:mod:`bench.workers`) so the load generators share
neither the service's GIL nor its memory. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.stats import (
    NewChildrenPeak,
    current_rss_mb,
    metric_sum,
    peak_rss_mb,
    projector_peak_rss_mb,
    reset_peak_rss,
)

ALL = ("B0", "B1", "B2", "B3", "B4", "B5")
COUNTY = "440115"
YEARS = (2024, 2025)
FIXED_PER_VILLAGE_YEAR, PER_VOLUME = 55, 0.95
"""The generator yields about ``55 + 0.95 × events_per_village`` events per village-year
(duty days, lectures and inspections follow the calendar; the rest scale)."""
COUNTY_PAGE = 100
"""B3 reads the county list in pages of this many assignments."""
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.json"
TARGETS = {
    "B1_pg_events_per_s": ">= 5000",
    "B1_over_B0": ">= 0.25",
    "B2_events_per_s": ">= 20000",
    "B3_p99_ms": "<= 50",
    "B4_peak_rss_mb": "<= 500",
    "B5_seconds": "<= 5",
}


@dataclass
class Options:
    events: int = 1_000_000
    villages: int = 3_000
    clients: int = 50
    seconds: float = 60.0
    only: tuple[str, ...] = ALL
    stores: tuple[str, ...] = ("postgres", "sqlite")
    batch_size: int = 5_000
    seed: int = 7
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "postgres"
    pg_password: str = ""
    pg_dbname: str = "test"
    keep: bool = False
    out: Path = RESULTS
    quiet: bool = False
    instances: int = 1

    @property
    def events_per_village(self) -> int:
        per_village_year = self.events / (self.villages * len(YEARS))
        return max(5, round((per_village_year - FIXED_PER_VILLAGE_YEAR) / PER_VOLUME))

    def county(self) -> dict[str, Any]:
        return {
            "county_id": COUNTY,
            "villages": self.villages,
            "years": list(YEARS),
            "events_per_village": self.events_per_village,
            "seed": self.seed,
        }

    def dsn(self) -> str:
        import psycopg

        return psycopg.conninfo.make_conninfo(
            host=self.pg_host,
            port=self.pg_port,
            user=self.pg_user,
            password=self.pg_password,
            dbname=self.pg_dbname,
        )


@dataclass
class Report:
    started_at: str
    options: dict[str, Any]
    machine: dict[str, Any]
    results: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    targets: dict[str, str] = field(default_factory=lambda: dict(TARGETS))


class Bench:
    def __init__(self, options: Options) -> None:
        self.o = options
        self.tag = datetime.now(UTC).strftime("%m%d%H%M%S") + uuid.uuid4().hex[:4]
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-"))
        self.schemas: list[str] = []
        self.bootstrap = ""
        from embedded.stack import Credentials

        self.creds = Credentials.load_or_create(self.tmp / "credentials.json")

    def say(self, text: str) -> None:
        if not self.o.quiet:
            print(text, file=sys.stderr, flush=True)

    # --- infrastructure -------------------------------------------------------------

    def new_schema(self, purpose: str) -> str:
        import psycopg
        from psycopg import sql

        schema = f"bench_{self.tag}_{purpose}"
        with psycopg.connect(self.o.dsn(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        self.schemas.append(schema)
        return schema

    def drop_schemas(self) -> None:
        import psycopg
        from psycopg import sql

        if self.o.keep or not self.schemas:
            return
        with psycopg.connect(self.o.dsn(), autocommit=True) as conn:
            for schema in self.schemas:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )

    async def worker(self, job: str, spec: dict[str, Any]) -> dict[str, Any]:
        root = ROOT
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.workers", job, "-",
            cwd=root, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await process.communicate(json.dumps(spec).encode())
        if process.returncode != 0:
            raise RuntimeError(f"bench worker {job} failed with exit code {process.returncode}")
        result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
        return result

    def settings(self, store: str, run: str) -> Any:
        from appraisal.settings import AppraisalSettings

        common: dict[str, Any] = {
            "kafka_bootstrap": self.bootstrap,
            "input_topic": f"{run}-events",
            "verdict_topic": f"{run}-verdicts",
            "dlq_topic": f"{run}-appraisal-dlq",
            "group_id": f"{run}-appraisal",
            "idempotent_producer": False,  # Tansu has no InitProducerId
            "tokens": self.creds.appraisal_tokens_json(COUNTY),
        }
        if store == "sqlite":
            return AppraisalSettings(store="sqlite", data_dir=self.tmp / run, **common)
        return AppraisalSettings(
            store="postgres",
            postgres_host=self.o.pg_host,
            postgres_port=self.o.pg_port,
            postgres_user=self.o.pg_user,
            postgres_password=self.o.pg_password,
            postgres_dbname=self.o.pg_dbname,
            postgres_schema=self.new_schema(run.rsplit("-", 1)[-1]),
            **common,
        )

    @contextlib.asynccontextmanager
    async def services(self, store: str) -> AsyncIterator[Running]:
        """Ingest and appraisal (``store``) on fresh topics, served on free ports."""
        from appraisal.api.http import create_app as appraisal_app
        from appraisal.service import AppraisalService
        from embedded.topics import TopicSpec, ensure_topics
        from ingest.server import serving

        run = f"bench-{self.tag}-{store}"
        await ensure_topics(
            self.bootstrap,
            [
                TopicSpec(f"{run}-events", 12, ""),
                TopicSpec(f"{run}-verdicts", 3, ""),
                TopicSpec(f"{run}-appraisal-dlq", 1, ""),
                TopicSpec(f"{run}-ingest-dlq", 1, ""),
            ],
        )
        settings = self.settings(store, run)
        service = AppraisalService(settings)
        (self.tmp / run).mkdir(parents=True, exist_ok=True)
        async with contextlib.AsyncExitStack() as stack:
            appraisal_url = await stack.enter_async_context(serving(appraisal_app(service)))
            ingest_url = await stack.enter_async_context(self.ingest(run))
            others = [
                await stack.enter_async_context(self.instance(settings, run, n))
                for n in range(2, self.o.instances + 1)
            ]
            quiet_access_logs()
            yield Running(store, service, settings, appraisal_url, ingest_url, others)

    @contextlib.asynccontextmanager
    async def instance(self, settings: Any, run: str, n: int) -> AsyncIterator[str]:
        """Another appraisal instance, ``python -m appraisal serve`` in the same consumer
        group and store (as a second replica is deployed); its URL."""
        from embedded.broker import free_port

        port = free_port()
        env = {**os.environ, **_appraisal_env(settings), "APPRAISAL_PORT": str(port)}
        async with self.process(
            ["-m", "appraisal", "serve"], env, f"http://127.0.0.1:{port}", run, f"appraisal-{n}"
        ) as url:
            yield url

    @contextlib.asynccontextmanager
    async def ingest(self, run: str) -> AsyncIterator[str]:
        """``python -m ingest serve`` in a process of its own, as deployed; its URL."""
        from embedded.broker import free_port

        port = free_port()
        env = {
            **os.environ,
            "INGEST_KAFKA_BOOTSTRAP": self.bootstrap,
            "INGEST_TOPIC": f"{run}-events",
            "INGEST_DLQ_TOPIC": f"{run}-ingest-dlq",
            "INGEST_IDEMPOTENT_PRODUCER": "false",
            "INGEST_API_KEYS": self.creds.ingest_keys_json(COUNTY),
            "INGEST_HMAC_KEY": self.creds.hmac_key,
            "INGEST_DEDUP_DSN": str(self.tmp / run / "seen.sqlite"),
            "INGEST_HOST": "127.0.0.1",
            "INGEST_PORT": str(port),
            "INGEST_LOG_LEVEL": "WARNING",
        }
        async with self.process(
            ["-m", "ingest", "serve"], env, f"http://127.0.0.1:{port}", run, "ingest"
        ) as url:
            yield url

    @contextlib.asynccontextmanager
    async def process(
        self, args: list[str], env: dict[str, str], url: str, run: str, name: str
    ) -> AsyncIterator[str]:
        """A service in a process of its own, until its ``/readyz`` answers 200."""
        import httpx

        log_path = self.tmp / run / f"{name}.log"
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable, *args, env=env, stdout=log, stderr=log
            )
        try:
            async with httpx.AsyncClient(timeout=2) as http:
                for _ in range(600):
                    if process.returncode is not None:
                        break
                    with contextlib.suppress(httpx.HTTPError):
                        if (await http.get(url + "/readyz")).status_code == 200:
                            break
                    await asyncio.sleep(0.1)
                else:
                    raise RuntimeError(f"{name} did not become ready; see {log_path}")
            if process.returncode is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")
            yield url
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 15)
                except TimeoutError:
                    process.kill()
                    await process.wait()

    # --- benchmarks -----------------------------------------------------------------

    async def b0(self) -> dict[str, Any]:
        self.say("B0: aiokafka → PostgreSQL baseline")
        from embedded.topics import TopicSpec, ensure_topics

        topic = f"bench-{self.tag}-baseline"
        await ensure_topics(self.bootstrap, [TopicSpec(topic, 12, "")])
        spec = {
            **self.o.county(),
            "bootstrap": self.bootstrap,
            "topic": topic,
            "dsn": self.o.dsn(),
            "schema": self.new_schema("b0"),
            "batch_size": 500,
        }
        return await self.worker("baseline", spec)

    async def b1(self, stack: Running) -> dict[str, Any]:
        import httpx

        self.say(f"B1 ({stack.store}): ingest → Kafka → appraisal until projections are current")
        spec = {
            **self.o.county(),
            "ingest_url": stack.ingest_url,
            "api_key": self.creds.ingest_keys["bureau-admin"],
            "batch_size": self.o.batch_size,
        }
        # The clock starts at the first post: the worker generates and encodes the
        # events first, as B0 does (`time.monotonic()` is system-wide).
        posted = await self.worker("post", spec)
        started = float(posted["posting_started"])
        post_seconds = time.monotonic() - started
        self.say(
            f"  posted {posted['events']:,} events in {post_seconds:.1f}s "
            f"(encoded beforehand in {posted['encode_seconds']:.1f}s); waiting"
        )
        recorded_at = await self.current(stack, int(posted["accepted"]))
        seconds = time.monotonic() - started
        async with httpx.AsyncClient(timeout=10) as http:
            texts = await self.metrics_texts(stack, http)
        steps = sum(metric_sum(t, "appraisal_projection_step_duration_seconds_sum") for t in texts)
        return {
            "store": stack.store,
            "instances": 1 + len(stack.others),
            "events_posted": posted["events"],
            "accepted": posted["accepted"],
            "duplicate_at_ingest": posted["duplicate"],
            "rejected_at_ingest": posted["rejected"],
            "post_seconds": post_seconds,
            "encode_seconds": posted["encode_seconds"],
            "recorded_seconds": recorded_at - started,
            # Time the projector(s) spent in steps since the service started (a step
            # re-appraises every advisor it touches; the last one is B1's tail).
            "projector_step_seconds": steps,
            "seconds": seconds,
            "events_per_s": posted["accepted"] / seconds,
            "ingest_events_per_s": posted["events"] / post_seconds,
        }

    async def current(self, stack: Running, accepted: int, limit_s: float = 24 * 3600) -> float:
        """Wait until every accepted event is recorded and projected; when recorded."""
        import httpx

        service = stack.service
        recorded_at = 0.0
        deadline = time.monotonic() + limit_s
        async with httpx.AsyncClient(timeout=10) as http:
            while time.monotonic() < deadline:
                texts = await self.metrics_texts(stack, http)
                read = sum(
                    metric_sum(text, "appraisal_events_applied_total")
                    + metric_sum(text, "appraisal_events_duplicate_total")
                    for text in texts
                )
                if read >= accepted:
                    recorded_at = recorded_at or time.monotonic()
                    lag = await asyncio.to_thread(service.projector.lag)
                    dirty = await asyncio.to_thread(service.views.dirty_county_years)
                    if service.projector.position > 0 and lag == 0 and not dirty:
                        return recorded_at
                await asyncio.sleep(0.1)
        raise TimeoutError("the appraisal service did not catch up")

    async def metrics_texts(self, stack: Running, http: Any) -> list[str]:
        """Every appraisal instance's metrics as Prometheus text: this process's
        registry and the other instances' `/metrics` (read with `http`)."""
        from prometheus_client import generate_latest

        texts = [generate_latest(stack.service.metrics.registry).decode()]
        texts += [(await http.get(url + "/metrics")).text for url in stack.others]
        return texts

    async def county_list(self, stack: Running, year: int) -> dict[str, Any]:
        """The whole county list's assignment count and advisor ids, read by a worker
        process: parsed here, its ~10 MB of JSON would count as the service's memory."""
        return await self.worker(
            "county",
            {"url": f"{stack.appraisal_url}/v1/appraisals/{COUNTY}/{year}",
             "token": self.creds.tokens["bureau"]},
        )  # fmt: skip

    def bearer(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.creds.tokens[role]}"}

    async def b5(self, stack: Running) -> dict[str, Any]:
        """Close the last year; time until every assignment's verdict is published."""
        import httpx
        from prometheus_client import generate_latest

        year = YEARS[-1]
        self.say(f"B5 ({stack.store}): period.closed.v1 {COUNTY}/{year} → verdicts published")
        expected = int((await self.county_list(stack, year))["assignments"])

        async def published() -> float:
            # Any instance's outbox may publish them: sum over all.
            texts = [generate_latest(stack.service.metrics.registry).decode()]
            async with httpx.AsyncClient(timeout=10) as http:
                texts += [(await http.get(url + "/metrics")).text for url in stack.others]
            return sum(
                metric_sum(t, "appraisal_verdicts_published_total", f'county_id="{COUNTY}"')
                for t in texts
            )

        before = await published()
        close = {
            "type": "period.closed.v1",
            "source": f"{COUNTY}-bureau",
            "source_event_id": f"BENCH-CLOSE-{COUNTY}-{year}",
            "occurred_at": f"{year + 1}-01-15T10:00:00+08:00",
            "county_id": COUNTY,
            "advisor_id": "",
            "payload": {"year": year},
        }
        started = time.perf_counter()
        async with httpx.AsyncClient(timeout=60) as http:
            response = await http.post(
                f"{stack.ingest_url}/v1/events",
                json=[close],
                headers={"Authorization": f"Bearer {self.creds.ingest_keys['bureau-admin']}"},
            )
            response.raise_for_status()
        accepted_at = time.perf_counter() - started
        while await published() - before < expected:
            if time.perf_counter() - started > 3600:
                raise TimeoutError("verdicts were not published within an hour")
            await asyncio.sleep(0.02)
        seconds = time.perf_counter() - started
        return {
            "store": stack.store,
            "assignments": expected,
            "verdicts_published": int(await published() - before),
            "ingest_accept_seconds": accepted_at,
            "seconds": seconds,
        }

    async def b3(self, stack: Running) -> dict[str, Any]:
        from appraisal.policy.awards import AwardCategory

        year = YEARS[-1]
        self.say(f"B3 ({stack.store}): read API, {self.o.clients} clients for {self.o.seconds:g}s")
        listed = await self.county_list(stack, year)
        advisors: list[str] = listed["advisors"]
        # The county list in pages of 100, as an interactive client reads it: whole,
        # at 3,000 assignments it is ~10 MB of JSON per answer (docs/performance.md).
        pages = range(0, max(1, int(listed["assignments"])), COUNTY_PAGE)
        targets = {
            "assignment": [f"/v1/advisors/{a}/appraisals/{year}" for a in advisors],
            "county_list": [
                f"/v1/appraisals/{COUNTY}/{year}?offset={o}&limit={COUNTY_PAGE}" for o in pages
            ],
            "awards": [f"/v1/awards/{COUNTY}/{year}/{c.value}" for c in AwardCategory],
        }
        spec = {
            "base_url": stack.appraisal_url,
            "token": self.creds.tokens["bureau"],
            "targets": targets,
            "clients": self.o.clients,
            "seconds": self.o.seconds,
        }
        result = await self.worker("load", spec)
        return {"store": stack.store, "advisors": len(advisors), **result}

    async def b2(self, settings: Any) -> dict[str, Any]:
        """Rebuild every projection from the event store into fresh, empty views."""
        from appraisal.application import AppraisalApplication
        from appraisal.audit import fresh_views_env, replay
        from appraisal.policy import PrcCalendar
        from appraisal.projections.store import open_views

        self.say(f"B2 ({settings.store}): replay every projection from the event store")
        env = settings.eventsourcing_env()
        fresh = fresh_views_env(env, self.tmp / "replay")
        if "POSTGRES_SCHEMA" in fresh:
            self.schemas.append(fresh["POSTGRES_SCHEMA"])
        app = AppraisalApplication(env=env)
        views = open_views(fresh)
        seen = [0]

        def progress(position: int, total: int) -> None:
            seen[0] = position

        workers = settings.replay_workers
        reset_peak_rss()
        children = NewChildrenPeak()
        started = time.perf_counter()
        try:
            digest = await asyncio.to_thread(
                replay, app, views, PrcCalendar(), progress=progress, workers=workers
            )
        finally:
            app.close()
            workers_mb = children.stop()
        seconds = time.perf_counter() - started
        events = seen[0] or (views.max_tracking_id("appraisal") or 0)
        return {
            "store": settings.store,
            "events": events,
            "seconds": seconds,
            "events_per_s": events / seconds if seconds else 0.0,
            "workers": workers,
            "peak_rss_mb": peak_rss_mb(),
            "workers_peak_rss_mb": workers_mb,
            "digest": digest,
        }

    # --- the run --------------------------------------------------------------------

    async def run(self) -> Report:
        from embedded.broker import TansuBroker

        o = self.o
        report = Report(
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            options={
                **{k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(o).items()},
                "events_per_village": o.events_per_village,
                "years": list(YEARS),
            },
            machine={
                "python": platform.python_version(),
                "cpus": _cpus(),
                "platform": platform.platform(),
            },
        )
        r = report.results
        with TansuBroker(log_path=self.tmp / "tansu.log") as broker:
            self.bootstrap = broker.bootstrap_servers
            if "B0" in o.only:
                r["B0"] = await self.b0()
            need_stack = {"B1", "B2", "B3", "B4", "B5"} & set(o.only)
            for index, store in enumerate(o.stores if need_stack else ()):
                primary = index == 0
                if not primary and "B1" not in o.only:
                    break
                reset_peak_rss()
                rss_before = current_rss_mb()
                async with self.services(store) as stack:
                    r[f"B1_{store}"] = await self.b1(stack)
                    if primary and "B5" in o.only:
                        r["B5"] = await self.b5(stack)
                    if primary and "B3" in o.only:
                        r["B3"] = await self.b3(stack)
                    settings = stack.settings
                    if primary:
                        service_mb, projector_mb = peak_rss_mb(), projector_peak_rss_mb()
                        r["B4"] = {
                            "store": store,
                            "peak_rss_mb": service_mb + projector_mb,
                            "service_process_peak_rss_mb": service_mb,
                            "projector_process_peak_rss_mb": projector_mb,
                            "rss_at_start_mb": rss_before,
                            "villages": o.villages,
                            "events": r[f"B1_{store}"]["accepted"],
                            "covers": "appraisal service (and its projector process) in B1"
                            + (", B5" if "B5" in o.only else "")
                            + (", B3" if "B3" in o.only else ""),
                        }
                if primary and "B2" in o.only:
                    r["B2"] = await self.b2(settings)
        report.summary = summarise(r)
        return report

    def cleanup(self) -> None:
        with contextlib.suppress(Exception):
            self.drop_schemas()
        if not self.o.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


@dataclass
class Running:
    store: str
    service: Any
    settings: Any
    appraisal_url: str
    ingest_url: str
    others: list[str] = field(default_factory=list)
    """URLs of the other appraisal instances (``--instances``), each its own process."""


def _appraisal_env(settings: Any) -> dict[str, str]:
    """``settings`` as the APPRAISAL_* variables ``python -m appraisal serve`` reads."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        env[f"APPRAISAL_{name.upper()}"] = text
    return env


def quiet_access_logs() -> None:
    """FastStream logs every batch at INFO on stdout (its loggers are made at start)."""
    import logging

    for name in list(logging.root.manager.loggerDict):
        if name.startswith("faststream"):
            logging.getLogger(name).setLevel(logging.WARNING)


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def summarise(r: dict[str, Any]) -> dict[str, Any]:
    s: dict[str, Any] = {}
    if "B0" in r:
        s["B0_events_per_s"] = r["B0"]["events_per_s"]
    for store in ("postgres", "sqlite"):
        if f"B1_{store}" in r:
            s[f"B1_{store}_events_per_s"] = r[f"B1_{store}"]["events_per_s"]
    if "B0" in r and "B1_postgres" in r:
        s["B1_over_B0"] = r["B1_postgres"]["events_per_s"] / r["B0"]["events_per_s"]
    if "B2" in r:
        s["B2_events_per_s"] = r["B2"]["events_per_s"]
    if "B3" in r:
        s.update({f"B3_{k}": r["B3"][k] for k in ("p50_ms", "p95_ms", "p99_ms", "errors")})
    if "B4" in r:
        s["B4_peak_rss_mb"] = r["B4"]["peak_rss_mb"]
    if "B5" in r:
        s["B5_seconds"] = r["B5"]["seconds"]
    return s


def table(report: Report) -> str:
    r = report.results
    rows: list[tuple[str, str, str, str]] = []
    if "B0" in r:
        b = r["B0"]
        rows.append(("B0 aiokafka→PostgreSQL", f"{b['events_per_s']:,.0f} ev/s",
                     f"{b['events']:,} events", ""))  # fmt: skip
    for store in ("postgres", "sqlite"):
        if f"B1_{store}" in r:
            b = r[f"B1_{store}"]
            target = "≥ 5,000 ev/s" if store == "postgres" else ""
            rows.append((f"B1 end to end ({store})", f"{b['events_per_s']:,.0f} ev/s",
                         f"{b['accepted']:,} events", target))  # fmt: skip
    if "B1_over_B0" in report.summary:
        rows.append(("B1/B0", f"{report.summary['B1_over_B0']:.3f}", "", "≥ 0.25"))
    if "B2" in r:
        b = r["B2"]
        size = f"{b['events']:,} events, {b['workers']} workers"
        rows.append(("B2 replay", f"{b['events_per_s']:,.0f} ev/s", size, "≥ 20,000 ev/s"))
    if "B3" in r:
        b = r["B3"]
        rows.append(("B3 read API p50/p95/p99",
                     f"{b['p50_ms']:.0f}/{b['p95_ms']:.0f}/{b['p99_ms']:.0f} ms",
                     f"{b['requests']:,} req, {b['errors']} errors", "p99 ≤ 50 ms"))  # fmt: skip
        for kind, k in sorted(b["by_kind"].items()):
            rows.append((f"  {kind}", f"{k['p50_ms']:.0f}/{k['p95_ms']:.0f}/{k['p99_ms']:.0f} ms",
                         f"{k['requests']:,} req, {k['errors']} errors", ""))  # fmt: skip
    if "B4" in r:
        b = r["B4"]
        rows.append(("B4 peak RSS", f"{b['peak_rss_mb']:,.0f} MB",
                     f"{b['villages']:,} villages", "≤ 500 MB"))  # fmt: skip
    if "B5" in r:
        b = r["B5"]
        rows.append(("B5 close → verdicts", f"{b['seconds']:.2f} s",
                     f"{b['assignments']:,} assignments", "≤ 5 s"))  # fmt: skip
    widths = [max(len(row[i]) for row in [("benchmark", "result", "size", "target"), *rows])
              for i in range(4)]  # fmt: skip
    lines = []
    for row in [("benchmark", "result", "size", "target"), *rows]:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def parse(argv: list[str] | None) -> Options:
    d = Options()
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=d.events, help="events to generate (approx.)")
    p.add_argument("--villages", type=int, default=d.villages, help="villages (≥ 30)")
    p.add_argument("--clients", type=int, default=d.clients, help="B3 concurrent clients")
    p.add_argument("--seconds", type=float, default=d.seconds, help="B3 duration")
    p.add_argument("--only", default=",".join(ALL), help="e.g. B1,B3")
    p.add_argument("--stores", default=",".join(d.stores), help="postgres,sqlite (first: B2–B5)")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="events per ingest POST")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--pg-host", default=d.pg_host)
    p.add_argument("--pg-port", type=int, default=d.pg_port)
    p.add_argument("--pg-user", default=d.pg_user)
    p.add_argument("--pg-password", default=d.pg_password)
    p.add_argument("--pg-dbname", default=d.pg_dbname)
    p.add_argument("--keep", action="store_true", help="keep the schemas and temporary files")
    p.add_argument("--out", type=Path, default=d.out, help="JSON results file")
    p.add_argument("--quiet", action="store_true")
    p.add_argument(
        "--instances", type=int, default=d.instances,
        help="appraisal instances in one consumer group (the others as processes)",
    )  # fmt: skip
    a = p.parse_args(argv)
    only = tuple(x.strip().upper() for x in a.only.split(",") if x.strip())
    unknown = set(only) - set(ALL)
    if unknown:
        p.error(f"unknown benchmarks {sorted(unknown)}; choose from {','.join(ALL)}")
    stores = tuple(x.strip() for x in a.stores.split(",") if x.strip())
    if not stores or set(stores) - {"postgres", "sqlite"}:
        p.error("--stores takes postgres and/or sqlite")
    if a.instances < 1:
        p.error("--instances must be ≥ 1")
    if a.villages < 30:
        p.error("--villages must be ≥ 30")
    return Options(
        events=a.events, villages=a.villages, clients=a.clients, seconds=a.seconds,
        only=only, stores=stores, batch_size=a.batch_size, seed=a.seed,
        pg_host=a.pg_host, pg_port=a.pg_port, pg_user=a.pg_user,
        pg_password=a.pg_password, pg_dbname=a.pg_dbname, keep=a.keep, out=a.out,
        quiet=a.quiet, instances=a.instances,
    )  # fmt: skip


async def run(options: Options) -> Report:
    bench = Bench(options)
    try:
        return await bench.run()
    finally:
        bench.cleanup()


def write(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(report), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    import logging

    logging.basicConfig(level=logging.WARNING)
    options = parse(argv)
    started = time.perf_counter()
    report = asyncio.run(run(options))
    report.summary["wall_seconds"] = time.perf_counter() - started
    write(report, options.out)
    print(table(report))
    print(f"\nwall time {report.summary['wall_seconds']:.0f}s; results in {options.out}")
    return 0
