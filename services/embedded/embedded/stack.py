"""The embedded stack: broker, ingest and appraisal on one machine, state under one directory.

`python -m embedded run` starts the pinned Tansu broker, the ingest service and
the appraisal service (SQLite event store and read models under the data
directory), loads a demo county through the real ingest API on first start,
and prints where everything is and a token per role. Ctrl-C stops it all.

The broker keeps its data in memory, so a restarted stack has an empty log:
the appraisal service notices (its stored positions are ahead of the log) and
carries on from its event store, which is the system of record.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedded.broker import TansuBroker
from embedded.topics import ensure_topics, system_topics

ROLES = ("bureau", "association", "auditor", "admin")
DEMO_COUNTY = "440115"


@dataclass(frozen=True)
class Credentials:
    """Secrets of a local stack, kept in the data directory (mode 0600), never in git."""

    tokens: dict[str, str]  # role → bearer token for the appraisal API and dashboard
    ingest_keys: dict[str, str]  # key name → API key for ingest
    hmac_key: str

    @classmethod
    def load_or_create(cls, path: Path) -> Credentials:
        if path.exists():
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(raw["tokens"], raw["ingest_keys"], raw["hmac_key"])
        made = cls(
            tokens={role: f"{role}-{secrets.token_urlsafe(18)}" for role in ROLES},
            ingest_keys={
                "demo-sources": secrets.token_urlsafe(24),
                "bureau-admin": secrets.token_urlsafe(24),
            },
            hmac_key=secrets.token_urlsafe(32),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(made.__dict__, indent=2), encoding="utf-8")
        os.chmod(path, 0o600)
        return made

    def appraisal_tokens_json(self, county_id: str) -> str:
        from appraisal.api.auth import hash_token

        return json.dumps(
            [
                {
                    "name": f"demo {role}",
                    "role": role,
                    "counties": [county_id] if role in ("bureau",) else "*",
                    "sha256": hash_token(token),
                }
                for role, token in self.tokens.items()
            ]
        )

    def ingest_keys_json(self, county_id: str) -> str:
        from ingest.auth import hash_key

        return json.dumps(
            {
                "keys": [
                    {
                        "name": "demo-sources",
                        "sha256": hash_key(self.ingest_keys["demo-sources"]),
                        "event_types": ["*"],
                        "counties": [county_id],
                        "sources": ["*"],
                    },
                    {
                        "name": "bureau-admin",
                        "sha256": hash_key(self.ingest_keys["bureau-admin"]),
                        "event_types": ["*"],
                        "counties": [county_id, "000000"],
                        "sources": ["*"],
                        "admin": True,
                    },
                ]
            }
        )


@dataclass
class StackOptions:
    data_dir: Path = Path("data")
    fresh: bool = False
    kafka_port: int = 0
    ingest_port: int = 8081
    appraisal_port: int = 8082
    demo: bool = True
    seed: int = 7


@dataclass
class RunningStack:
    kafka: str
    ingest_url: str
    appraisal_url: str
    credentials: Credentials
    reused: bool


@contextlib.asynccontextmanager
async def running_stack(
    options: StackOptions, say: Callable[[str], None] = print
) -> AsyncIterator[RunningStack]:
    """Start everything; yield the addresses; stop everything on exit."""
    from appraisal.api.http import create_app as appraisal_app
    from appraisal.service import AppraisalService
    from appraisal.settings import AppraisalSettings
    from ingest.http import create_app as ingest_app
    from ingest.server import serving
    from ingest.settings import Settings as IngestSettings

    data = options.data_dir.resolve()
    if options.fresh and data.exists():
        shutil.rmtree(data)
        say(f"Starting fresh: removed {data}")
    reused = (data / "appraisal" / "events.sqlite").exists()
    if reused:
        say(f"Reusing the data directory {data} (run with --fresh to start over)")
    credentials = Credentials.load_or_create(data / "credentials.json")
    with TansuBroker(port=options.kafka_port, log_path=data / "tansu.log") as broker:
        await ensure_topics(broker.bootstrap_servers, system_topics())
        appraisal = AppraisalService(
            AppraisalSettings(
                kafka_bootstrap=broker.bootstrap_servers,
                idempotent_producer=False,  # Tansu has no InitProducerId
                data_dir=data / "appraisal",
                tokens=credentials.appraisal_tokens_json(DEMO_COUNTY),
            )
        )
        ingest = IngestSettings(
            kafka_bootstrap=broker.bootstrap_servers,
            idempotent_producer=False,
            api_keys=credentials.ingest_keys_json(DEMO_COUNTY),
            hmac_key=credentials.hmac_key,
            dedup_dsn=str(data / "ingest" / "seen.sqlite"),
        )
        (data / "ingest").mkdir(parents=True, exist_ok=True)
        async with (
            serving(appraisal_app(appraisal), port=options.appraisal_port) as appraisal_url,
            serving(ingest_app(ingest), port=options.ingest_port) as ingest_url,
        ):
            yield RunningStack(
                broker.bootstrap_servers, ingest_url, appraisal_url, credentials, reused
            )


def banner(stack: RunningStack) -> str:
    t = stack.credentials.tokens
    k = stack.credentials.ingest_keys
    return "\n".join(
        [
            "",
            "Village legal advisor appraisal — embedded stack is running",
            f"  Dashboard (bureau)   {stack.appraisal_url}/dashboard/login",
            "                       (sign in with the bureau token below)",
            f"  County overview      {stack.appraisal_url}/dashboard/{DEMO_COUNTY}/2025",
            f"  Appraisal API docs   {stack.appraisal_url}/docs",
            f"  Ingest API docs      {stack.ingest_url}/docs",
            f"  Metrics              {stack.appraisal_url}/metrics   {stack.ingest_url}/metrics",
            f"  Kafka (Tansu)        {stack.kafka}",
            "",
            "  Bearer tokens for the appraisal API and dashboard:",
            *[f"    {role:<12} {t[role]}" for role in ROLES],
            "  API keys for ingest (Authorization: Bearer KEY):",
            *[f"    {name:<12} {key}" for name, key in k.items()],
            "",
            "Press Ctrl-C to stop.",
        ]
    )


def busy_ports(options: StackOptions) -> list[str]:
    """Which of the fixed ports something else already listens on."""
    import socket

    busy = []
    for flag, port in (("--ingest-port", options.ingest_port),
                       ("--appraisal-port", options.appraisal_port),
                       ("--kafka-port", options.kafka_port)):  # fmt: skip
        if not port:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                busy.append(f"port {port} is in use (choose another with {flag})")
    return busy


async def run(options: StackOptions, load_demo: Callable[[RunningStack], Any] | None) -> int:
    busy = busy_ports(options)
    if busy:
        print("Cannot start: " + "; ".join(busy), flush=True)
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with running_stack(options) as stack:
        if options.demo and not stack.reused and load_demo is not None:
            await load_demo(stack)
        print(banner(stack), flush=True)
        await stop.wait()
        print("Stopping…", flush=True)
    print("Stopped.")
    return 0


async def load_demo_county(stack: RunningStack, villages: int, seed: int) -> None:
    """Post a synthetic county through the real ingest API, then wait for the appraisal.

    Two years: 2024 is closed by the bureau (its verdicts issued, and one amended
    by a complaint upheld after the close); 2025 stays provisional.
    """
    from tqdm import tqdm

    from embedded.synth.config import CountyConfig
    from embedded.synth.post import IngestClient, post_events
    from embedded.synth.stream import generate

    config = CountyConfig(
        county_id=DEMO_COUNTY, villages=villages, years=(2024, 2025), close_years=(2024,),
        events_per_village=150, seed=seed,
    )  # fmt: skip
    client = IngestClient(stack.ingest_url, stack.credentials.ingest_keys["bureau-admin"])
    with tqdm(desc="Posting the demo county to ingest", unit="event") as bar:
        summary = await asyncio.to_thread(
            post_events, generate(config), client, progress=bar.update
        )
    client.close()
    print(
        f"Ingest: {summary.accepted} accepted, {summary.duplicate} duplicate, "
        f"{summary.rejected} rejected",
        flush=True,
    )
    await wait_for_appraisal(stack, summary.accepted)


async def wait_for_appraisal(stack: RunningStack, accepted: int) -> None:
    """Show the appraisal service catching up: every accepted event read, then projected."""
    import httpx
    from tqdm import tqdm

    metrics_url = f"{stack.appraisal_url}/metrics"
    async with httpx.AsyncClient(timeout=10) as http:
        with tqdm(desc="Appraising (events recorded)", unit="event", total=accepted) as bar:
            while True:
                text = (await http.get(metrics_url)).text
                read = _metric_sum(text, "appraisal_events_applied_total") + _metric_sum(
                    text, "appraisal_events_duplicate_total"
                )
                bar.n = min(int(read), accepted)
                bar.refresh()
                if read >= accepted:
                    break
                await asyncio.sleep(1)
        # The lag gauge is read from the stores after each projector step; one read
        # begun before the last batch was stored can still say 0. The second check
        # counted after this point began after it: its lag covers every event.
        checks = "appraisal_projection_progress_checks_total"
        first = _metric_sum((await http.get(metrics_url)).text, checks)
        with tqdm(desc="Appraising (read models)", unit="event") as bar:
            while True:
                text = (await http.get(metrics_url)).text
                position = _metric_sum(text, "appraisal_projection_position")
                lag = _metric_sum(text, "appraisal_projection_lag_notifications")
                bar.total = int(position + lag)
                bar.n = int(position)
                bar.refresh()
                if position > 0 and lag == 0 and _metric_sum(text, checks) >= first + 2:
                    break
                await asyncio.sleep(0.25 if lag == 0 else 1)


def _metric_sum(text: str, name: str) -> float:
    """The sum of a metric's samples (over all labels) in Prometheus text format."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith((name + " ", name + "{")):
            total += float(line.rsplit(" ", 1)[1])
    return total
