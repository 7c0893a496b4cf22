"""Small helpers: percentiles, peak memory, Prometheus text."""

from __future__ import annotations

import contextlib
import resource
from pathlib import Path


def percentiles(values: list[float]) -> dict[str, float]:
    """p50/p95/p99 (nearest rank) of ``values``; zeros when empty."""
    if not values:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0}
    ordered = sorted(values)
    n = len(ordered)

    def rank(q: float) -> float:
        return ordered[min(n - 1, max(0, int(q * n + 0.5) - 1))]

    return {"p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99)}


def peak_rss_mb() -> float:
    """Peak resident set size of this process (VmHWM; ru_maxrss as a fallback), MB."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux: ``5 > /proc/self/clear_refs``)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def metric_sum(text: str, name: str, label: str = "") -> float:
    """Sum of a metric's samples in Prometheus text format (optionally containing ``label``)."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith((name + " ", name + "{")) and label in line:
            total += float(line.rsplit(" ", 1)[1])
    return total
