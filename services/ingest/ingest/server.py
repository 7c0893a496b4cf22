"""Running the ingest app under uvicorn: as the service, or in-process (tests, embedded run)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import uvicorn
from fastapi import FastAPI

from http_limits import DEFAULT_LIMITS, HttpLimits, uvicorn_options


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to whoever embeds it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving(
    app: FastAPI, host: str = "127.0.0.1", port: int = 0, limits: HttpLimits = DEFAULT_LIMITS
) -> AsyncIterator[str]:
    """Serve ``app`` on this event loop for the duration of the block; yield its base URL.

    ``port=0`` takes a free port. The app's lifespan (Kafka, dedup store) runs
    inside: the block starts once the app is ready to answer. ``limits`` bound slow
    and oversized requests (docs/reliability.md, "Limits").
    """
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        log_config=None,
        access_log=False,
        **uvicorn_options(limits),
    )
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task
            raise RuntimeError("the ingest server stopped while starting (see the log)")
        await asyncio.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()
    try:
        yield f"http://{host}:{bound[1]}"
    finally:
        server.should_exit = True
        await task


def run(app: FastAPI, host: str, port: int) -> None:
    """Serve ``app`` in the foreground until SIGINT/SIGTERM (``python -m ingest serve``)."""
    uvicorn.run(app, host=host, port=port, lifespan="on", proxy_headers=False, **uvicorn_options())
