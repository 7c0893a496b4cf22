"""Slow and oversized requests are bounded: each is cut off with an explained 4xx, or closed.

Both services are served as in production (uvicorn with ``http_limits.uvicorn_options``
and ``RequestBodyGuard``), with the timeouts shortened so the tests take seconds.
docs/reliability.md ("Limits") lists the production numbers.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from appraisal.api.auth import TokenRegistry
from appraisal.api.http import MAX_BODY_BYTES
from appraisal.api.http import create_app as appraisal_app
from http_limits import HttpLimits
from ingest.http import create_app as ingest_app
from ingest.server import serving
from tests.ingest.helpers import KEYS, FakePublisher, make_settings
from tests.security.raw_http import RawAnswer, flood, send_raw, trickle

pytestmark = pytest.mark.integration

LIMITS = HttpLimits(head_timeout_s=1.0, body_timeout_s=1.5)
MAX_BYTES = 64 * 1024
KEY = KEYS["platform"].plaintext
BACKSTOP_S = LIMITS.body_timeout_s + 5.0  # http_limits' grace after the body timeout


@pytest.fixture
async def ingest_url(tmp_path: Path) -> AsyncIterator[str]:
    settings = make_settings(tmp_path, max_bytes=MAX_BYTES, max_events=100)
    app = ingest_app(settings, publisher=FakePublisher(), limits=LIMITS)
    async with serving(app, limits=LIMITS) as url:
        yield url


@pytest.fixture
async def appraisal_url() -> AsyncIterator[str]:
    # The body limits act before any query: a stand-in service is enough.
    service = SimpleNamespace(tokens=TokenRegistry([]))
    app = appraisal_app(service, manage_lifecycle=False, limits=LIMITS)  # type: ignore[arg-type]
    async with serving(app, limits=LIMITS) as url:
        yield url


def _head(method: str, path: str, *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: test", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _refused(answer: RawAnswer, status: int, code: str) -> None:
    assert answer.status == status, answer
    assert answer.headers.get("content-type", "").startswith("application/json"), answer
    assert answer.json()["error"]["code"] == code, answer
    assert answer.json()["error"]["message"], answer
    assert answer.closed, answer


# --- the request head ------------------------------------------------------------


async def test_a_connection_that_sends_nothing_is_answered_408_and_closed(ingest_url: str) -> None:
    answer = await send_raw(ingest_url, b"", timeout_s=10)
    _refused(answer, 408, "head_timeout")
    assert LIMITS.head_timeout_s <= answer.elapsed_s < LIMITS.head_timeout_s + 2


async def test_headers_trickled_byte_by_byte_are_cut_off(ingest_url: str) -> None:
    head = _head("GET", "/healthz", "X-Slow: " + "a" * 200)  # 20 s at this pace
    answer = await trickle(ingest_url, head, every_s=0.1, timeout_s=10)
    _refused(answer, 408, "head_timeout")
    assert answer.elapsed_s < LIMITS.head_timeout_s + 2
    assert answer.sent_bytes < len(head)


async def test_a_kept_alive_connection_cannot_trickle_its_next_head(ingest_url: str) -> None:
    first = _head("GET", "/healthz")
    answer = await trickle(
        ingest_url, _head("GET", "/healthz", "X-Slow: " + "a" * 200), prefix=first,
        every_s=0.1, timeout_s=10,
    )  # fmt: skip
    assert answer.status == 200  # the first request's answer …
    assert b"head_timeout" in answer.body  # … then the second's 408
    assert answer.closed
    assert answer.elapsed_s < LIMITS.head_timeout_s + 2


@pytest.mark.parametrize(
    ("what", "head"),
    [
        ("a header", _head("GET", "/healthz", "X-Big: " + "a" * 20_000)),
        ("the URL", _head("GET", "/healthz?q=" + "a" * 20_000)),
        ("many headers", _head("GET", "/healthz", *(f"X-{i}: {'a' * 40}" for i in range(500)))),
    ],
)
async def test_an_oversized_head_is_answered_431(ingest_url: str, what: str, head: bytes) -> None:
    answer = await send_raw(ingest_url, head)
    _refused(answer, 431, "headers_too_large")
    assert answer.json()["error"]["limit"] == LIMITS.max_head_bytes


async def test_a_head_just_under_the_limit_is_served(ingest_url: str) -> None:
    head = _head("GET", "/healthz", "Connection: close", "X-Big: " + "a" * 16_000)
    assert len(head) <= LIMITS.max_head_bytes
    answer = await send_raw(ingest_url, head)
    assert answer.status == 200, answer


async def test_a_head_growing_over_many_reads_is_answered_431(ingest_url: str) -> None:
    start = b"GET /healthz HTTP/1.1\r\nHost: test\r\n"
    header = b"X-Pad: " + b"a" * 100 + b"\r\n"
    answer = await flood(ingest_url, start, header, max_bytes=256 * 1024, timeout_s=10)
    _refused(answer, 431, "headers_too_large")


async def test_a_request_that_is_not_http_is_answered_400_with_a_reason(ingest_url: str) -> None:
    answer = await send_raw(ingest_url, _head("GET", "/healthz", "X-Key: \x7f\x7f"))
    _refused(answer, 400, "bad_request")


# --- the body ----------------------------------------------------------------------


async def test_a_body_trickled_byte_by_byte_is_answered_408(ingest_url: str) -> None:
    body = b'[{"type": "activity.lecture.v1"}]' * 10
    head = _head(
        "POST", "/v1/events", f"Authorization: Bearer {KEY}",
        "Content-Type: application/json", f"Content-Length: {len(body)}",
    )  # fmt: skip
    answer = await trickle(ingest_url, body, prefix=head, every_s=0.1, timeout_s=10)
    _refused(answer, 408, "body_timeout")
    assert answer.elapsed_s < LIMITS.body_timeout_s + 2


async def test_a_body_trickled_after_an_early_answer_is_cut_off(ingest_url: str) -> None:
    body = b"x" * 1000  # 100 s at this pace
    head = _head("POST", "/v1/events", "Content-Type: application/json", "Content-Length: 1000")
    answer = await trickle(ingest_url, body, prefix=head, every_s=0.1, timeout_s=20)
    assert answer.status == 401  # answered at once, without reading the body …
    assert answer.closed  # … and the connection closed once the body is overdue
    assert answer.elapsed_s < BACKSTOP_S + 2


async def test_a_declared_oversized_body_is_refused_unread(ingest_url: str) -> None:
    head = _head(
        "POST", "/v1/events", f"Authorization: Bearer {KEY}", "Connection: close",
        "Content-Type: application/json", f"Content-Length: {MAX_BYTES + 1}",
    )  # fmt: skip
    answer = await send_raw(ingest_url, head, timeout_s=5)
    _refused(answer, 413, "body_too_large")
    assert answer.json()["error"]["limit"] == MAX_BYTES


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/v1/events", "application/json"),
        ("/v1/events", "application/x-ndjson"),
        # Regression: the multipart parser spooled a chunked upload whole before the
        # route could check its size.
        ("/v1/ledgers", "multipart/form-data; boundary=b"),
    ],
)
async def test_a_chunked_body_without_length_is_cut_at_the_limit(
    ingest_url: str, path: str, content_type: str
) -> None:
    head = _head(
        "POST", path, f"Authorization: Bearer {KEY}", f"Content-Type: {content_type}",
        "Transfer-Encoding: chunked",
    )  # fmt: skip
    preamble = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
    data = (preamble if path == "/v1/ledgers" else b"") + b"a" * (64 * 1024)
    chunk = f"{len(data):x}\r\n".encode() + data + b"\r\n"
    started = time.monotonic()
    answer = await flood(ingest_url, head, chunk, max_bytes=64 * 1024 * 1024, timeout_s=20)
    _refused(answer, 413, "body_too_large")
    assert answer.sent_bytes < 64 * 1024 * 1024, "the server read the whole flood"
    assert time.monotonic() - started < 10


async def test_the_appraisal_api_bounds_bodies_too(appraisal_url: str) -> None:
    head = _head(
        "POST", "/v1/what-if/440115/2024", "Content-Type: application/json",
        "Transfer-Encoding: chunked",
    )  # fmt: skip
    data = b" " * (64 * 1024)
    chunk = f"{len(data):x}\r\n".encode() + data + b"\r\n"
    answer = await flood(appraisal_url, head, chunk, max_bytes=64 * 1024 * 1024, timeout_s=20)
    assert answer.status == 413, answer
    assert str(MAX_BODY_BYTES) in answer.json()["detail"]
    assert answer.closed

    body = b'{"grades": {}}' * 10
    slow = _head(
        "POST", "/v1/what-if/440115/2024", "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    )  # fmt: skip
    answer = await trickle(appraisal_url, body, prefix=slow, every_s=0.1, timeout_s=10)
    assert answer.status == 408, answer
    assert "did not arrive within" in answer.json()["detail"]
    assert answer.closed

    answer = await send_raw(appraisal_url, b"GET /healthz HTTP/1.1\r\nHost: t\r\n", timeout_s=10)
    _refused(answer, 408, "head_timeout")
