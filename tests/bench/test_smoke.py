"""`python -m bench` in miniature: every benchmark runs on a few thousand events.

No thresholds: this only keeps the benchmark code from rotting. The numbers live
in docs/performance.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from bench.cli import ALL, Options, run, table, write

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def _postgres_or_skip() -> None:
    try:
        psycopg.connect("host=127.0.0.1 user=postgres dbname=test connect_timeout=3").close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is unreachable: {exc}")


async def test_every_benchmark_runs_on_a_small_county(tmp_path: Path) -> None:
    _postgres_or_skip()
    out = tmp_path / "latest.json"
    options = Options(
        events=2_500,
        villages=30,
        clients=4,
        seconds=2,
        stores=("postgres",),
        quiet=True,
        out=out,
        instances=2,  # the second instance as a process, as in the scaling runs
    )
    report = await run(options)
    write(report, out)

    saved = json.loads(out.read_text(encoding="utf-8"))
    assert set(saved["results"]) == {"B0", "B1_postgres", "B2", "B3", "B4", "B5"}
    assert saved["results"]["B1_postgres"]["accepted"] > 1_000
    assert saved["results"]["B1_postgres"]["instances"] == 2
    b1 = saved["results"]["B1_postgres"]
    # Timed from the first post, after the client encoded its batches.
    assert b1["encode_seconds"] > 0
    assert 0 < b1["post_seconds"] <= b1["recorded_seconds"] <= b1["seconds"]
    assert b1["projector_step_seconds"] > 0
    assert saved["results"]["B2"]["events"] >= saved["results"]["B1_postgres"]["accepted"]
    assert saved["results"]["B3"]["requests"] > 0
    assert saved["results"]["B5"]["verdicts_published"] >= saved["results"]["B5"]["assignments"]
    assert saved["summary"]["B1_over_B0"] > 0
    text = table(report)
    for name in ALL:
        assert name in text
