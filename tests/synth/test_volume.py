"""The default county is realistic in size; generation streams instead of accumulating."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from embedded.synth import CountyConfig, generate

ROOT = Path(__file__).resolve().parents[2]

_PEAK = """
import resource, sys
from embedded.synth import CountyConfig, generate
config = CountyConfig(villages=30, events_per_village=int(sys.argv[1]), seed=1)
count = sum(1 for _ in generate(config))
print(count, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.unit
def test_the_default_county_has_about_a_hundred_thousand_events_a_year() -> None:
    count = sum(1 for _ in generate(CountyConfig()))
    assert 85_000 <= count <= 120_000


@pytest.mark.unit
def test_volume_follows_events_per_village() -> None:
    small = sum(1 for _ in generate(CountyConfig(villages=30, events_per_village=250)))
    large = sum(1 for _ in generate(CountyConfig(villages=30, events_per_village=1000)))
    assert 2.5 < large / small < 4.5


def _peak(events_per_village: int) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, str(events_per_village)],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    count, peak_kib = done.stdout.split()
    return int(count), int(peak_kib)


@pytest.mark.unit
def test_memory_does_not_grow_with_the_number_of_events() -> None:
    few, few_peak = _peak(200)
    many, many_peak = _peak(4000)
    assert many > 10 * few
    # Holding the events would cost about 1 KiB each (peaks are in KiB); streaming keeps
    # the growth to a small fraction of that.
    assert many_peak - few_peak < (many - few) // 20
