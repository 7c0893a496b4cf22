"""A raw HTTP/1.1 client for hostile-client tests: slow, oversized and unfinished requests.

httpx cannot send a head byte by byte or keep writing a body after the server
answered; these helpers talk to the socket directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class RawAnswer:
    """What the server sent before it closed (or before the client gave up)."""

    status: int | None
    headers: dict[str, str]
    body: bytes
    closed: bool
    elapsed_s: float
    sent_bytes: int = 0

    def json(self) -> Any:
        return json.loads(self.body)


@contextlib.asynccontextmanager
async def connection(
    base_url: str,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    parts = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def parse(raw: bytes, closed: bool, elapsed_s: float, sent: int = 0) -> RawAnswer:
    head, _, body = raw.partition(b"\r\n\r\n")
    if not head:
        return RawAnswer(None, {}, b"", closed, elapsed_s, sent)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawAnswer(status, headers, body, closed, elapsed_s, sent)


class _Listener:
    """Reads the answer in the background while the client keeps sending."""

    def __init__(self, reader: asyncio.StreamReader, timeout_s: float) -> None:
        self.started = time.monotonic()
        self.raw = b""
        self.closed = False
        self._task = asyncio.create_task(self._read(reader, self.started + timeout_s))

    async def _read(self, reader: asyncio.StreamReader, deadline: float) -> None:
        while (left := deadline - time.monotonic()) > 0:
            try:
                chunk = await asyncio.wait_for(reader.read(65536), left)
            except TimeoutError:
                return
            except ConnectionError:
                self.closed = True
                return
            if not chunk:
                self.closed = True
                return
            self.raw += chunk

    @property
    def answered(self) -> bool:
        return bool(self.raw) or self.closed

    def timed_out(self, timeout_s: float) -> bool:
        return time.monotonic() - self.started > timeout_s

    async def answer(self, sent: int) -> RawAnswer:
        await self._task
        return parse(self.raw, self.closed, time.monotonic() - self.started, sent)


async def trickle(
    base_url: str,
    data: bytes,
    *,
    every_s: float,
    timeout_s: float,
    prefix: bytes = b"",
) -> RawAnswer:
    """Send ``prefix`` at once, then ``data`` one byte per ``every_s``, until the server closes.

    The answer is read until the server closes the connection or ``timeout_s`` passed.
    """
    async with connection(base_url) as (reader, writer):
        listener = _Listener(reader, timeout_s)
        writer.write(prefix)
        sent = len(prefix)
        for i in range(len(data)):
            if listener.closed or listener.timed_out(timeout_s):
                break
            try:
                writer.write(data[i : i + 1])
                await writer.drain()
            except ConnectionError:
                break
            sent += 1
            await asyncio.sleep(every_s)
        return await listener.answer(sent)


async def flood(
    base_url: str, head: bytes, chunk: bytes, *, max_bytes: int, timeout_s: float
) -> RawAnswer:
    """Send ``head`` then ``chunk`` repeatedly (up to ``max_bytes``) until the server answers."""
    async with connection(base_url) as (reader, writer):
        listener = _Listener(reader, timeout_s)
        writer.write(head)
        sent = 0
        while sent < max_bytes and not listener.answered and not listener.timed_out(timeout_s):
            try:
                writer.write(chunk)
                await writer.drain()
            except ConnectionError:
                break
            sent += len(chunk)
            await asyncio.sleep(0)
        return await listener.answer(sent)


async def send_raw(base_url: str, request: bytes, *, timeout_s: float = 10.0) -> RawAnswer:
    """Send ``request`` at once and read the answer until the server closes or time runs out."""
    async with connection(base_url) as (reader, writer):
        listener = _Listener(reader, timeout_s)
        writer.write(request)
        await writer.drain()
        return await listener.answer(len(request))
