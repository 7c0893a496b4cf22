"""Ready JSON answers and their cache: assembled without re-encoding, bounded by bytes,
one build per stale key however many callers wait for it."""

from __future__ import annotations

import json
import threading
import time

import pytest

from appraisal.documents import SMALL_VALUE_BYTES, DocumentCache, JsonDocument, from_cache

pytestmark = pytest.mark.unit


def test_assembling_keeps_stored_items_as_they_are() -> None:
    items = ['{"a":1.0,"名":"东村"}', '{"a":2}']
    doc = JsonDocument.assemble({"county_id": "440115", "closed": False}, "assignments", items)
    assert (
        doc.body
        == (
            '{"county_id":"440115","closed":false,"assignments":[{"a":1.0,"名":"东村"},{"a":2}]}'
        ).encode()
    )
    assert json.loads(JsonDocument.assemble({"x": 1}, "items", []).body) == {"x": 1, "items": []}


def test_items_read_as_utf8_bytes_assemble_the_same_document() -> None:
    items = ['{"a":1.0,"名":"东村"}', '{"a":2}']
    head = {"county_id": "440115"}
    as_bytes = [item.encode() for item in items]
    assert JsonDocument.assemble(head, "assignments", as_bytes) == JsonDocument.assemble(
        head, "assignments", items
    )


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ("", False),
        ("*", True),
        ('"other"', False),
        ('"other", {etag}', True),
        ("W/{etag}", True),
    ],
)
def test_if_none_match_names_the_document(header: str | None, matches: bool) -> None:
    doc = JsonDocument.of(b"{}")
    assert doc.matches(None if header is None else header.format(etag=doc.etag)) is matches


def test_equal_bodies_have_equal_tags_and_different_bodies_different_ones() -> None:
    assert JsonDocument.of(b'{"a":1}').etag == JsonDocument.of(b'{"a":1}').etag
    assert JsonDocument.of(b'{"a":1}').etag != JsonDocument.of(b'{"a":2}').etag


def test_a_document_is_valid_for_its_revision_only() -> None:
    cache = DocumentCache()
    doc = JsonDocument.of(b"{}")
    cache.put("k", 1, doc)
    assert cache.get("k", 1) is doc
    assert cache.get("k", 2) is None
    assert cache.get("other", 1) is None


def test_the_least_recently_used_documents_go_first_beyond_the_byte_budget() -> None:
    cache = DocumentCache(max_bytes=25)
    for key in "abc":
        cache.put(key, 0, JsonDocument.of(b"x" * 10))
        cache.get("a", 0)  # keep "a" recently used
    assert (cache.get("a", 0) is not None, cache.get("b", 0), cache.get("c", 0) is not None) == (
        True,
        None,
        True,
    )
    assert cache.size == 20
    cache.put("huge", 0, JsonDocument.of(b"x" * 26))
    assert cache.get("huge", 0) is None
    assert cache.size == 20


def test_not_cacheable_means_built_every_time() -> None:
    cache, builds = DocumentCache(), []

    def build() -> JsonDocument:
        builds.append(1)
        return JsonDocument.of(b"{}")

    cache.get_or_build("k", None, build)
    cache.get_or_build("k", None, build)
    assert len(builds) == 2


def test_concurrent_callers_of_a_stale_document_wait_for_one_build() -> None:
    cache, builds = DocumentCache(), []

    def build() -> JsonDocument:
        builds.append(1)
        time.sleep(0.05)
        return JsonDocument.of(b"{}")

    got: list[JsonDocument] = []
    threads = [
        threading.Thread(target=lambda: got.append(cache.get_or_build("k", 7, build)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1
    assert len({id(d) for d in got}) == 1


def test_small_values_are_cached_beside_documents_and_counted_by_a_fixed_size() -> None:
    cache = DocumentCache(max_bytes=SMALL_VALUE_BYTES * 2)
    built: list[str] = []

    def county() -> str | None:
        built.append("read")
        return None if len(built) > 1 else "440115"

    assert cache.get_or_build("advisor-county", 1, county) == "440115"
    assert cache.get_or_build("advisor-county", 1, county) == "440115"
    assert cache.get_or_build("advisor-county", 2, county) is None  # a cached None
    assert cache.get_or_build("advisor-county", 2, county) is None
    assert (built, cache.size) == (["read", "read"], SMALL_VALUE_BYTES)
    assert cache.get("advisor-county", 2) is None  # `get` answers documents only


def test_from_cache_answers_only_what_is_cached_and_builds_nothing() -> None:
    cache = DocumentCache()
    builds: list[int] = []

    def build() -> JsonDocument:
        builds.append(1)
        return JsonDocument.of(b"{}")

    assert from_cache(lambda: cache.get_or_build("k", 1, build)) is None
    assert from_cache(lambda: cache.get_or_build("k", None, build)) is None  # uncacheable
    assert builds == []
    built = cache.get_or_build("k", 1, build)
    assert from_cache(lambda: cache.get_or_build("k", 1, build)) is built
    assert from_cache(lambda: cache.get_or_build("k", 2, build)) is None  # another revision
    assert builds == [1]
    assert cache.get_or_build("k", 2, build) is not built  # outside, it builds as ever
    assert builds == [1, 1]
