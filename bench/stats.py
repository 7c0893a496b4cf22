"""Small helpers: percentiles, peak memory, Prometheus text."""

from __future__ import annotations

import contextlib
import os
import resource
import threading
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


def peak_rss_mb(pid: int | None = None) -> float:
    """Peak resident set size of this process or `pid` (VmHWM; ru_maxrss as a fallback), MB."""
    with contextlib.suppress(OSError):
        status = Path(f"/proc/{pid or 'self'}/status")
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0 if pid else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def projector_peak_rss_mb() -> float:
    """Peak RSS of the appraisal service's projector process (0 if it runs as a thread)."""
    import multiprocessing

    return sum(
        peak_rss_mb(p.pid)
        for p in multiprocessing.active_children()
        if p.name == "appraisal-projector" and p.pid
    )


def child_pids() -> set[int]:
    """This process's children (from /proc: any child, however it was started)."""
    me, found = os.getpid(), set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                # The fields after the command's closing parenthesis: state, ppid, ...
                if int(entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1]) == me:
                    found.add(int(entry.name))
    return found


class NewChildrenPeak:
    """Sum of the peak RSS of children started after this is, sampled until `stop`
    (replay worker processes: VmHWM only rises, so a sample late in a child's life
    is its peak)."""

    def __init__(self, every_s: float = 0.5) -> None:
        self._before = child_pids()
        self._peaks: dict[int, float] = {}
        self._done = threading.Event()
        self._every_s = every_s
        self._thread = threading.Thread(target=self._run, name="children-peak", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.wait(self._every_s):
            for pid in child_pids() - self._before:
                self._peaks[pid] = max(self._peaks.get(pid, 0.0), peak_rss_mb(pid))

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return sum(self._peaks.values())


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
