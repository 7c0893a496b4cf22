"""A bounded store ping for `/readyz`: a prompt 503 with a reason while the store is away.

Readiness must answer within a probe's timeout whatever the store does. Going
through the default executor would not: while PostgreSQL is unreachable its
workers sit in the library's connection retries (consumer, projector, outbox,
read routes), and every abandoned probe would hold one more. So the ping runs in
a thread of its own, and at most one ping is ever in flight: a probe that finds
the previous ping still stuck waits for that one, bounded, instead of starting
another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


class StorePing:
    """Runs `ping(timeout)` (blocking, raises when the store does not answer) for readiness."""

    def __init__(self, ping: Callable[[float], None], timeout: float) -> None:
        self._ping = ping
        self.timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="readiness")
        self._inflight: asyncio.Future[None] | None = None

    async def problem(self) -> str | None:
        """None when the store answered within the timeout, else why it is not ready."""
        if self._inflight is None or self._inflight.done():
            loop = asyncio.get_running_loop()
            self._inflight = loop.run_in_executor(self._executor, self._ping, self.timeout)
        try:
            # The ping itself waits at most `timeout` for a connection; the margin is
            # for the round trip. shield: a probe giving up must not cancel the ping
            # the next probe will wait for.
            await asyncio.wait_for(asyncio.shield(self._inflight), self.timeout + 0.5)
        except TimeoutError:
            return f"event store: no answer within {self.timeout + 0.5:g} s"
        except Exception as exc:
            first_line = str(exc).strip().splitlines()[:1]
            return f"event store: {type(exc).__name__}: {''.join(first_line)}"
        return None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
