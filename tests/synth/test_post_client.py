"""Unit test of the ingest client's batching and retries (an httpx MockTransport stands in
for the network; the real ingest service is exercised by its own tests)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from embedded.synth.post import (
    IngestClient,
    PostError,
    encode_batches,
    events_url,
    post_batches,
    post_events,
)

pytestmark = pytest.mark.unit

URL = "http://ingest.test"


def _events(n: int) -> list[dict[str, Any]]:
    return [{"type": "t", "source": "s", "source_event_id": f"E-{i}", "n": i} for i in range(n)]


def _report(batch: list[dict[str, Any]], rejected: frozenset[str] = frozenset()) -> dict[str, Any]:
    statuses = ["rejected" if e["source_event_id"] in rejected else "accepted" for e in batch]
    return {
        "accepted": statuses.count("accepted"),
        "duplicate": 0,
        "rejected": statuses.count("rejected"),
        "events": [
            {
                "index": i,
                "status": s,
                "event_id": None,
                "reasons": [{"code": "future_time", "path": "$.occurred_at", "message": "m"}]
                if s == "rejected"
                else [],
            }
            for i, s in enumerate(statuses)
        ],
    }


def _sleeps() -> list[float]:
    return []


class Recorder:
    """Answers like ingest; can be told to fail the first requests."""

    def __init__(
        self,
        failures: list[httpx.Response] | None = None,
        rejected: frozenset[str] = frozenset(),
    ) -> None:
        self.failures = list(failures or [])
        self.rejected = rejected
        self.batches: list[list[dict[str, Any]]] = []
        self.headers: list[httpx.Headers] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.headers.append(request.headers)
        if self.failures:
            return self.failures.pop(0)
        batch = json.loads(request.content)
        self.batches.append(batch)
        return httpx.Response(202, json=_report(batch, self.rejected))


def _client(recorder: Recorder, sleeps: list[float], retries: int = 5) -> IngestClient:
    transport = httpx.MockTransport(recorder)
    return IngestClient(
        URL,
        "secret-key",
        client=httpx.Client(transport=transport),
        sleep=sleeps.append,
        max_retries=retries,
    )


def test_events_go_in_batches_of_at_most_batch_size_with_the_bearer_key() -> None:
    recorder, sleeps = Recorder(), _sleeps()
    summary = post_events(_events(25), _client(recorder, sleeps), batch_size=10)
    assert [len(b) for b in recorder.batches] == [10, 10, 5]
    assert [e["n"] for b in recorder.batches for e in b] == list(range(25))
    assert all(h["authorization"] == "Bearer secret-key" for h in recorder.headers)
    assert (summary.requests, summary.events, summary.accepted, summary.retries) == (3, 25, 25, 0)
    assert sleeps == []


def test_a_batch_is_also_cut_before_it_exceeds_the_byte_limit() -> None:
    recorder, sleeps = Recorder(), _sleeps()
    one = len(json.dumps(_events(1)[0], separators=(",", ":")))
    post_events(_events(10), _client(recorder, sleeps), batch_size=10, max_bytes=3 * one + 4)
    assert [len(b) for b in recorder.batches] == [3, 3, 3, 1]


def test_a_503_is_retried_after_the_retry_after_seconds() -> None:
    busy = httpx.Response(503, headers={"Retry-After": "7"}, json={"code": "kafka_unavailable"})
    recorder, sleeps = Recorder(failures=[busy, busy]), _sleeps()
    summary = post_events(_events(3), _client(recorder, sleeps))
    assert sleeps == [7.0, 7.0]
    assert len(recorder.batches) == 1
    assert (summary.accepted, summary.retries) == (3, 2)


def test_a_retry_after_date_is_waited_for_relative_to_the_answers_date() -> None:
    busy = httpx.Response(
        503,
        headers={
            "Retry-After": "Wed, 21 Oct 2026 07:28:30 GMT",
            "Date": "Wed, 21 Oct 2026 07:28:00 GMT",
        },
    )
    recorder, sleeps = Recorder(failures=[busy]), _sleeps()
    post_events(_events(1), _client(recorder, sleeps))
    assert sleeps == [30.0]


def test_a_503_without_retry_after_backs_off() -> None:
    recorder, sleeps = Recorder(failures=[httpx.Response(503), httpx.Response(503)]), _sleeps()
    post_events(_events(1), _client(recorder, sleeps))
    assert sleeps == [1.0, 2.0]


def test_lost_connections_are_retried() -> None:
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(202, json=_report(json.loads(request.content)))

    sleeps = _sleeps()
    client = IngestClient(
        URL, "k", client=httpx.Client(transport=httpx.MockTransport(flaky)), sleep=sleeps.append
    )
    assert post_events(_events(2), client).accepted == 2
    assert sleeps == [1.0]


def test_it_gives_up_after_the_retry_budget() -> None:
    recorder, sleeps = Recorder(failures=[httpx.Response(503)] * 4), _sleeps()
    with pytest.raises(PostError, match="gave up after 3 retries"):
        post_events(_events(1), _client(recorder, sleeps, retries=3))


def test_an_unauthorised_key_fails_at_once() -> None:
    recorder, sleeps = (
        Recorder(failures=[httpx.Response(401, json={"code": "unauthorized"})]),
        _sleeps(),
    )
    with pytest.raises(PostError, match="401"):
        post_events(_events(1), _client(recorder, sleeps))
    assert sleeps == []


def test_rejections_are_summed_and_the_first_ones_kept_with_their_reasons() -> None:
    recorder, sleeps = Recorder(rejected=frozenset({"E-1", "E-4"})), _sleeps()
    summary = post_events(_events(5), _client(recorder, sleeps), batch_size=3)
    assert (summary.accepted, summary.rejected) == (3, 2)
    assert [r["source_event_id"] for r in summary.rejections] == ["E-1", "E-4"]
    assert summary.rejections[0]["reasons"][0]["code"] == "future_time"


def test_progress_is_reported_per_batch() -> None:
    recorder, sleeps, seen = Recorder(), _sleeps(), _sleeps()
    post_events(_events(5), _client(recorder, sleeps), batch_size=2, progress=seen.append)
    assert seen == [2, 2, 1]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://h:8081", "http://h:8081/v1/events"),
        ("http://h:8081/", "http://h:8081/v1/events"),
        ("http://h:8081/v1/events", "http://h:8081/v1/events"),
    ],
)
def test_the_events_url_is_derived_from_a_base_url(given: str, expected: str) -> None:
    assert events_url(given) == expected


def test_batch_size_is_bounded_by_ingests_limit() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        post_events([], _client(Recorder(), []), batch_size=10_001)


def test_batches_encoded_ahead_are_posted_as_post_events_posts_them() -> None:
    ahead, sleeps = Recorder(rejected=frozenset({"E-3"})), _sleeps()
    batches = list(encode_batches(_events(7), batch_size=3))
    assert [b.count for b in batches] == [3, 3, 1]
    summary = post_batches(batches, _client(ahead, sleeps))
    direct = Recorder(rejected=frozenset({"E-3"}))
    expected = post_events(_events(7), _client(direct, sleeps), batch_size=3)
    assert ahead.batches == direct.batches
    assert (summary.events, summary.accepted, summary.rejected) == (7, 6, 1)
    assert summary.rejections == expected.rejections
    assert summary.rejections[0]["source_event_id"] == "E-3"


def test_a_bad_batch_size_is_refused_before_any_event_is_encoded() -> None:
    def never() -> Iterator[dict[str, Any]]:
        raise AssertionError("encoded")
        yield {}

    with pytest.raises(ValueError, match="batch_size"):
        encode_batches(never(), batch_size=0)
