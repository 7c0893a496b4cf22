"""Ready answers of the read API: UTF-8 JSON with an entity tag, and a cache of them.

The read models hold every body as canonical JSON text, so an answer is assembled
from the stored text without parsing and re-encoding it (issue #8, B3: a county
list of 3,000 assignments is ~10 MB of JSON). Answers that are the same for every
caller of a county-year are kept per process under the revision they were built
from; a request first reads the current revision (one indexed row) and rebuilds
only when it moved.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final, TypeVar


@dataclass(frozen=True, slots=True)
class JsonDocument:
    """An answer as sent: the JSON body and its strong entity tag (`ETag`)."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> JsonDocument:
        return cls(body, f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"')

    @classmethod
    def of_text(cls, text: str) -> JsonDocument:
        return cls.of(text.encode("utf-8"))

    @classmethod
    def assemble(
        cls, head: dict[str, Any], field: str, items: Sequence[str | bytes]
    ) -> JsonDocument:
        """The object `head` plus `field`: a JSON array of `items`, each already JSON
        (text, or UTF-8 bytes as the store gives a county list's, `_bodies`).

        Made in UTF-8 by one join: a county list's ~3,000 items are texts whose Chinese
        reasons make each string two bytes a character, and joining them as text, then
        formatting, then encoding held three ~24 MB copies at once for a 10 MB answer
        (issue #8, B4)."""
        assert head, "an object with at least one member"
        assert field not in head
        opening = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
        parts = [f"{opening},{json.dumps(field)}:[".encode()]
        for index, item in enumerate(items):
            if index:
                parts.append(b",")
            parts.append(item if isinstance(item, bytes) else item.encode())
        parts.append(b"]}")
        return cls.of(b"".join(parts))

    def matches(self, if_none_match: str | None) -> bool:
        """Whether an `If-None-Match` header names this document (RFC 9110 §13.1.2)."""
        if not if_none_match:
            return False
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or self.etag in tags


class NotCached(Exception):
    """Inside `from_cache`: the answer needs a build or a store read."""


_CACHE_ONLY: ContextVar[bool] = ContextVar("cache_only", default=False)


def from_cache(answer: Callable[[], T]) -> T | None:
    """`answer()` when everything it needs is cached, else None: nothing built or read.

    Lets the API serve a cached answer on the event loop, without a trip to the
    thread pool; on None it runs `answer` in a thread as before (issue #8, B3).
    """
    token = _CACHE_ONLY.set(True)
    try:
        return answer()
    except NotCached:
        return None
    finally:
        _CACHE_ONLY.reset(token)


def needs_store() -> None:
    """Call before a read of the store that a cached answer skips (see `from_cache`)."""
    if _CACHE_ONLY.get():
        raise NotCached


SMALL_VALUE_BYTES: Final = 256
"""What a cached value other than a document is counted as (a county id, say)."""

T = TypeVar("T")


def _cost(value: object) -> int:
    return len(value.body) if isinstance(value, JsonDocument) else SMALL_VALUE_BYTES


class DocumentCache:
    """The least recently used documents up to `max_bytes`, each valid for one revision.

    Documents count by their body's size; small values kept alongside them (which
    county an advisor is filed under, for the token check) by `SMALL_VALUE_BYTES`.
    Thread-safe: the API builds answers in worker threads. Concurrent requests for a
    stale document wait for one build instead of each building it.
    """

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[Hashable, object]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._builds: dict[Hashable, threading.Lock] = {}

    def lookup(self, key: Hashable, revision: Hashable) -> tuple[bool, object]:
        """(True, value) when a value of `key` is held for `revision`, else (False, None)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != revision:
                return False, None
            self._entries.move_to_end(key)
            return True, entry[1]

    def holds(self, key: Hashable, revision: Hashable) -> bool:
        """Whether a value of `key` is held for `revision`."""
        return self.lookup(key, revision)[0]

    def get(self, key: Hashable, revision: Hashable) -> JsonDocument | None:
        found, value = self.lookup(key, revision)
        return value if found and isinstance(value, JsonDocument) else None

    def put(self, key: Hashable, revision: Hashable, value: object) -> None:
        size = _cost(value)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= _cost(old[1])
            if size > self.max_bytes:
                return
            self._entries[key] = (revision, value)
            self._size += size
            while self._size > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._size -= _cost(dropped)

    def get_or_build(self, key: Hashable, revision: Hashable | None, build: Callable[[], T]) -> T:
        """The value of `key` at `revision`; `None` means: not cacheable now, build it."""
        if revision is None:
            needs_store()
            return build()
        found, value = self.lookup(key, revision)
        if found:
            return value  # type: ignore[return-value]  # put under this key by `build`
        needs_store()
        with self._lock:
            gate = self._builds.setdefault(key, threading.Lock())
        with gate:
            found, value = self.lookup(key, revision)
            if not found:
                value = build()
                self.put(key, revision, value)
            return value  # type: ignore[return-value]

    @property
    def size(self) -> int:
        """Bytes of the bodies held."""
        return self._size
