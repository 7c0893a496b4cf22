"""Limits on what one HTTP client may cost a service: both services are served with them.

uvicorn with httptools (the parser both services run: a fraction of h11's CPU)
bounds neither the request head's size nor the time a client takes to send it,
nor the body's size or time: a client trickling headers or a body byte by byte
(slowloris) would hold a connection and a task for ever. Two layers:

* :func:`uvicorn_options` — a protocol that answers **408** when the request
  head is not complete ``head_timeout_s`` after the connection opened (or after
  the first byte of a kept-alive request), **431** when it is larger than
  ``max_head_bytes``, and closes a connection whose body is still arriving
  ``body_timeout_s`` (+ a grace) after its head: the backstop for handlers that
  answer without reading the body.
* :class:`RequestBodyGuard` — ASGI middleware: the body must arrive within
  ``body_timeout_s`` of the request (**408**) and be at most ``max_body_bytes``
  (**413**), chunked or not. It raises :class:`BodyLimitError` (an
  ``HTTPException``) from ``receive``, so each app answers in its own error shape.

docs/reliability.md ("Limits") lists every number.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_HEAD_END: Final = re.compile(rb"\r?\n\r?\n")
_BODY_GRACE_S: Final = 5.0


@dataclass(frozen=True)
class HttpLimits:
    """What one request may take; the defaults are the services' settings."""

    head_timeout_s: float = 10.0
    """From the connection (or the next request's first byte) until the head is complete."""
    body_timeout_s: float = 60.0
    """From the head until the last byte of the body."""
    max_head_bytes: int = 16 * 1024
    """Request line and headers together (h11's default; counted here for httptools)."""
    keep_alive_s: int = 5
    """An idle kept-alive connection is closed after this (uvicorn's default)."""


DEFAULT_LIMITS: Final = HttpLimits()


class BodyLimitError(HTTPException):
    """The body was too slow or too large; ``code`` and ``limit`` say which."""

    def __init__(self, status_code: int, code: str, message: str, limit: float) -> None:
        super().__init__(status_code, message, headers={"Connection": "close"})
        self.code = code
        self.limit = int(limit)


def body_too_large(max_bytes: int) -> BodyLimitError:
    return BodyLimitError(
        413, "body_too_large", f"the body may be at most {max_bytes} bytes", max_bytes
    )


class RequestBodyGuard:
    """Bounds the size and the arrival time of every request body (see the module doc)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, body_timeout_s: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.body_timeout_s
        received = 0
        complete = False

        async def bounded() -> Message:
            nonlocal received, complete
            if complete:  # after the body only a disconnect can come; waiting is the app's call
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyLimitError(
                    408,
                    "body_timeout",
                    f"the body did not arrive within {self.body_timeout_s:g} s",
                    self.body_timeout_s,
                ) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise body_too_large(self.max_body_bytes)
                complete = not message.get("more_body", False)
            else:
                complete = True
            return message

        await self.app(scope, bounded, send)


def error_body(code: str, message: str, limit: float | None = None) -> bytes:
    """The JSON of a refusal made before any app saw the request (ingest's error shape)."""
    detail: dict[str, Any] = {"code": code, "message": message}
    if limit is not None:
        detail["limit"] = int(limit)
    return json.dumps({"error": detail}).encode("ascii")


class _GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline on the request head and on the body.

    httptools (llhttp, C) parses a request for a fraction of h11's CPU: on B3 of
    issue #8 it took the read API's server CPU from ~1.06 to ~0.80 ms per request.
    llhttp sets no limit on the head's size, so this protocol counts it.
    """

    limits: ClassVar[HttpLimits] = DEFAULT_LIMITS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._in_body = False  # between a head's end and its message's end
        self._head_size = 0  # bytes of the current head received so far
        self._head_tail = b""  # its last bytes, for an end split across reads
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._in_body:
            self._arm_head_timer()
            if self._head_too_large(data):
                self._refuse(
                    431,
                    "Request Header Fields Too Large",
                    "headers_too_large",
                    f"the request line and headers may be at most {self.limits.max_head_bytes} "
                    "bytes",
                    self.limits.max_head_bytes,
                )
                return
        super().data_received(data)

    def _head_too_large(self, data: bytes) -> bool:
        window = self._head_tail + data
        end = _HEAD_END.search(window)
        size = self._head_size + (end.end() if end else len(window)) - len(self._head_tail)
        if end is None:
            self._head_size, self._head_tail = size, window[-3:]
        return size > self.limits.max_head_bytes

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers text; a refusal says why in JSON, as every other one.
        self._refuse(400, "Bad Request", "bad_request", "the request is not valid HTTP/1.1", None)

    def on_headers_complete(self) -> None:
        self._cancel(self._head_timer)
        self._head_timer = None
        self._head_size, self._head_tail = 0, b""
        self._in_body = True
        self._body_timer = self.loop.call_later(
            self.limits.body_timeout_s + _BODY_GRACE_S, self._body_timed_out
        )
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_body = False
        self._cancel(self._body_timer)
        self._body_timer = None
        super().on_message_complete()

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(
                self.limits.head_timeout_s, self._head_timed_out
            )

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self._in_body and not self.transport.is_closing():
            self._refuse(
                408,
                "Request Timeout",
                "head_timeout",
                f"the request line and headers did not arrive within "
                f"{self.limits.head_timeout_s:g} s",
                self.limits.head_timeout_s,
            )

    def _body_timed_out(self) -> None:
        # The app answers 408 itself when it reads the body (RequestBodyGuard); this is
        # for a body still trickling in after the app answered without reading it.
        self._body_timer = None
        if self._in_body and not self.transport.is_closing():
            self.logger.info("closing a connection whose request body is too slow")
            self.transport.close()

    def _refuse(
        self, status: int, reason: str, code: str, message: str, limit: float | None
    ) -> None:
        body = error_body(code, message, limit)
        head = (
            f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode("ascii") + body)
        self.transport.close()
        self._cancel_timers()

    def _cancel_timers(self) -> None:
        self._cancel(self._head_timer)
        self._cancel(self._body_timer)
        self._head_timer = self._body_timer = None

    @staticmethod
    def _cancel(timer: asyncio.TimerHandle | None) -> None:
        if timer is not None:
            timer.cancel()


def guarded_protocol(limits: HttpLimits = DEFAULT_LIMITS) -> type[HttpToolsProtocol]:
    """uvicorn's ``http`` protocol class enforcing ``limits``."""
    return type("GuardedHttpToolsProtocol", (_GuardedHttpToolsProtocol,), {"limits": limits})


def uvicorn_options(limits: HttpLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """Keyword arguments of ``uvicorn.Config``/``uvicorn.run`` that enforce ``limits``."""
    return {
        "http": guarded_protocol(limits),
        "timeout_keep_alive": limits.keep_alive_s,
    }
