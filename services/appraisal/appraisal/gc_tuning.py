"""Garbage-collector thresholds for the appraisal processes.

The service and its projector hold hundreds of thousands of long-lived objects
(cached ledgers and their facts, the projector's kept appraisals) and allocate
millions of short-lived ones per step, almost none of them in reference cycles.
With CPython's default thresholds (700, 10, 10) the collector ran so often that it
took 10 s of an 82 s projector run (30 live-sized steps over 150,000 events), and
20 s of 94 s once the projector kept each advisor's last appraisal; with these
thresholds 4 s of 74 s (docs/performance.md). Objects are still freed by reference
counting as before; only cycles wait a little longer to be found.

Both processes also use at most `MALLOC_ARENAS` glibc malloc arenas (glibc's
default is 8 per core): a thread's short-lived allocations (the consumer's batches
in `asyncio.to_thread`, the projector's steps) went to arenas of their own whose
freed pages stayed resident. At 312k events, two interleaved pairs: peak RSS of
service and projector 704 -> 641 MB and 744 -> 664 MB, B1 within noise (issue #8,
B4). A `MALLOC_ARENA_MAX` in the environment is glibc's own setting and wins.

The projector also gives freed heap back after each step (`trim_heap`). glibc
returns the top of its heap only, so the pages a step's short-lived buffers (rows,
decoded states, lists of events) left free inside it stayed resident: ~46 MB at
312k events. After the consumer's batches it saved ~3 MB and is not done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os

GC_THRESHOLDS = (100_000, 50, 100)
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)


def tune_gc() -> None:
    """Set this process's collector thresholds to `GC_THRESHOLDS`, and its malloc
    arenas to `MALLOC_ARENAS` (see the module's docstring)."""
    gc.set_threshold(*GC_THRESHOLDS)
    limit_malloc_arenas()


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


_LIBC = _libc()
_MALLOC_TRIM = getattr(_LIBC, "malloc_trim", None)


def trim_heap() -> bool:
    """Give the heap's free pages back to the system (glibc's `malloc_trim(0)`; it
    takes well under a millisecond when little is free). False where not glibc."""
    if _MALLOC_TRIM is None:
        return False
    _MALLOC_TRIM(0)
    return True


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for threads started from now on; False where the
    environment already sets `MALLOC_ARENA_MAX` or the C library is not glibc."""
    mallopt = getattr(_LIBC, "mallopt", None)
    if "MALLOC_ARENA_MAX" in os.environ or mallopt is None:
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))
