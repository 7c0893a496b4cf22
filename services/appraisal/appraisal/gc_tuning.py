"""Garbage-collector thresholds for the appraisal processes.

The service and its projector hold hundreds of thousands of long-lived objects
(cached ledgers and their facts, the projector's kept appraisals) and allocate
millions of short-lived ones per step, almost none of them in reference cycles.
With CPython's default thresholds (700, 10, 10) the collector ran so often that it
took 10 s of an 82 s projector run (30 live-sized steps over 150,000 events), and
20 s of 94 s once the projector kept each advisor's last appraisal; with these
thresholds 4 s of 74 s (docs/performance.md). Objects are still freed by reference
counting as before; only cycles wait a little longer to be found.
"""

from __future__ import annotations

import gc

GC_THRESHOLDS = (100_000, 50, 100)


def tune_gc() -> None:
    """Set this process's collector thresholds to `GC_THRESHOLDS`."""
    gc.set_threshold(*GC_THRESHOLDS)
