"""Writing the stream as NDJSON: one inbound event per line, UTF-8, byte-for-byte stable."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from pydantic_core import to_json

__all__ = ["WriteStats", "encode_event", "write_ndjson"]


def encode_event(event: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON of one event, Chinese unescaped, keys in the dict's order.

    The same bytes as ``json.dumps(event, ensure_ascii=False, separators=(",", ":"))``,
    three times faster (pydantic's Rust serializer).
    """
    return to_json(event)


@dataclass
class WriteStats:
    """What was written and how fast."""

    events: int = 0
    bytes: int = 0
    seconds: float = 0.0
    by_type: Counter[str] = field(default_factory=Counter)

    @property
    def events_per_second(self) -> float:
        """Throughput of generation plus encoding plus writing."""
        return self.events / self.seconds if self.seconds > 0 else 0.0


def write_ndjson(
    events: Iterable[dict[str, Any]],
    out: IO[bytes],
    *,
    progress: Callable[[int], object] | None = None,
    every: int = 10_000,
) -> WriteStats:
    """Write ``events`` to a binary stream, one JSON object per line.

    ``progress`` is called with the number of events written since its last call,
    every ``every`` events and at the end (a tqdm bar's ``update`` fits).
    """
    stats = WriteStats()
    started = time.perf_counter()
    chunk: list[bytes] = []
    counts: dict[str, int] = {}
    encode = to_json  # the hot loop: no wrapper call per event
    for event in events:
        kind = event["type"]
        counts[kind] = counts.get(kind, 0) + 1
        chunk.append(encode(event))
        if len(chunk) >= every:
            stats.bytes += _flush(out, chunk)
            stats.events += len(chunk)
            if progress is not None:
                progress(len(chunk))
            chunk = []
    if chunk:
        stats.bytes += _flush(out, chunk)
        stats.events += len(chunk)
        if progress is not None:
            progress(len(chunk))
    stats.by_type.update(counts)
    stats.seconds = time.perf_counter() - started
    return stats


def _flush(out: IO[bytes], lines: list[bytes]) -> int:
    data = b"\n".join(lines) + b"\n"
    out.write(data)
    return len(data)
