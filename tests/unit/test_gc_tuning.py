"""Process tuning of the appraisal processes (appraisal.gc_tuning)."""

from __future__ import annotations

import gc
import platform

import pytest

from appraisal.gc_tuning import GC_THRESHOLDS, limit_malloc_arenas, trim_heap, tune_gc

pytestmark = pytest.mark.unit


def test_the_environments_malloc_arena_max_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_arenas_are_capped_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_malloc_arenas() is True


def test_tuning_sets_the_collector_thresholds() -> None:
    before = gc.get_threshold()
    try:
        tune_gc()
        assert gc.get_threshold() == GC_THRESHOLDS
    finally:
        gc.set_threshold(*before)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_freed_heap_is_given_back_on_glibc() -> None:
    assert trim_heap() is True
