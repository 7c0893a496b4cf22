"""Same arguments and seed, same bytes; another seed, another county."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from embedded.synth import CountyConfig, generate
from embedded.synth.output import write_ndjson

pytestmark = pytest.mark.unit

CONFIG = CountyConfig(villages=30, events_per_village=100, years=(2024, 2025), seed=42)
ROOT = Path(__file__).resolve().parents[2]


def _ndjson(config: CountyConfig) -> bytes:
    out = io.BytesIO()
    write_ndjson(generate(config), out)
    return out.getvalue()


def test_the_same_seed_gives_identical_bytes() -> None:
    assert _ndjson(CONFIG) == _ndjson(CONFIG)


def test_another_seed_gives_another_county() -> None:
    other = CountyConfig(villages=30, events_per_village=100, years=(2024, 2025), seed=43)
    assert _ndjson(CONFIG) != _ndjson(other)


def test_the_bytes_do_not_depend_on_hash_randomisation(tmp_path: Path) -> None:
    out = tmp_path / "county.ndjson"
    command = [
        sys.executable,
        "-m",
        "embedded.synth",
        "--villages=30",
        "--events-per-village=100",
        "--years",
        "2024",
        "2025",
        "--seed=42",
        f"--out={out}",
        "--quiet",
    ]
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run(command, check=True, cwd=ROOT, env=env, timeout=120)
    expected = hashlib.sha256(_ndjson(CONFIG)).hexdigest()
    assert hashlib.sha256(out.read_bytes()).hexdigest() == expected
