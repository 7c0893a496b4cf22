"""One read shared by the requests that wait for it, none of them served a stale one.

Every cached answer of the read API is valid for one projection position, so each
request reads the position (issue #8, B3). Under load, many requests ask at once;
`SharedRead` lets them share a read, with one rule that keeps answers as fresh as
reading alone would: a caller is served by a read that *began after it asked*. A
caller arriving while a read is under way waits for the next one, which starts as
soon as that read ends and serves everyone who arrived meanwhile. So at most one
read runs at a time, and a caller waits at most for the rest of the current read
plus one more.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SharedRead(Generic[T]):
    """Coalesces concurrent calls of a blocking `read` (run in a worker thread)."""

    def __init__(self, read: Callable[[], T]) -> None:
        self._read = read
        self._next: asyncio.Future[T] | None = None  # the read not yet begun
        self._reading: asyncio.Task[None] | None = None
        self.reads = 0
        """How many reads ran (for tests and the curious)."""

    async def __call__(self) -> T:
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        waiting = self._next
        if self._reading is None:
            self._reading = asyncio.create_task(self._run())
        # Shielded: a caller that goes away (a client disconnecting) must not cancel the
        # read the others wait for.
        return await asyncio.shield(waiting)

    async def _run(self) -> None:
        serving: asyncio.Future[T] | None = None
        try:
            while self._next is not None:
                serving, self._next = self._next, None
                self.reads += 1
                try:
                    value = await asyncio.to_thread(self._read)
                except Exception as error:  # every waiter sees the read's own error
                    serving.set_exception(error)
                    serving.exception()  # retrieved: no "never retrieved" warning if all left
                else:
                    serving.set_result(value)
        finally:
            self._reading = None
            # Cancelled (the server stopping): nobody waits for a read that will not come.
            for pending in (serving, self._next):
                if pending is not None and not pending.done():
                    pending.cancel()
            self._next = None
