"""API keys of the sources and what each may write (来源系统授权).

The keys file holds SHA-256 hashes, never keys::

    {"keys": [{"name": "nansha-platform",
               "sha256": "<python -m ingest hash-key KEY>",
               "event_types": ["activity.lecture.v1", "activity.onsite_duty.v1"],
               "counties": ["440115"],
               "sources": ["nansha-platform"],
               "admin": false}]}

``event_types``, ``counties`` and ``sources`` (the ``source`` values the key may
send; default ``[name]``) accept ``"*"`` for "all".
A key is looked up by hashing the presented key and comparing it with every
configured hash in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Final

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from contracts import EVENT_TYPES, InboundEnvelope, Violation
from ingest.settings import ConfigurationError, Settings

FORBIDDEN_SCOPE: Final = "forbidden_scope"
"""Reason code of an event its key may not write (added to the contract's codes)."""

ANY: Final = "*"
ADMIN_EVENT_TYPES: Final = frozenset({"policy.published.v1", "period.closed.v1"})
"""County-wide decisions: only a bureau's admin key may publish a policy or close a year."""

_Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
_CountyOrAny = Annotated[str, StringConstraints(pattern=r"^(?:[0-9]{6}|\*)$")]
_Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)]


def hash_key(key: str) -> str:
    """The SHA-256 (hex) of an API key, as written in the keys file."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiKeyEntry(BaseModel):
    """One configured API key: its hash and its scope."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: _Name = Field(description="Who holds the key (logs and metrics name it, never the key).")
    sha256: _Sha256Hex = Field(description="SHA-256 of the key, lowercase hex.")
    event_types: tuple[str, ...] = Field(min_length=1, description="Types it may write, or `*`.")
    counties: tuple[_CountyOrAny, ...] = Field(min_length=1, description="Counties, or `*`.")
    sources: tuple[_Name | Annotated[str, StringConstraints(pattern=r"^\*$")], ...] = Field(
        default=(), description="`source` values it may send; default: its `name`."
    )
    admin: bool = Field(default=False, description="May publish policies and close years.")

    @model_validator(mode="after")
    def _known_types(self) -> ApiKeyEntry:
        unknown = sorted(set(self.event_types) - {ANY, *EVENT_TYPES})
        if unknown:
            msg = f"unknown event types {unknown}; expected '*' or some of {list(EVENT_TYPES)}"
            raise ValueError(msg)
        return self


class KeysFile(BaseModel):
    """The keys file: ``{"keys": [ApiKeyEntry…]}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keys: tuple[ApiKeyEntry, ...]


def _matcher(values: Iterable[str]) -> frozenset[str] | None:
    """``None`` stands for "any"."""
    values = frozenset(values)
    return None if ANY in values else values


@dataclass(frozen=True)
class Scope:
    """What one authenticated key may write."""

    name: str
    event_types: frozenset[str] | None
    counties: frozenset[str] | None
    sources: frozenset[str] | None
    admin: bool

    @classmethod
    def of(cls, entry: ApiKeyEntry) -> Scope:
        """The scope a configured key grants."""
        return cls(
            name=entry.name,
            event_types=_matcher(entry.event_types),
            counties=_matcher(entry.counties),
            sources=_matcher(entry.sources or (entry.name,)),
            admin=entry.admin,
        )

    def violations(self, event: InboundEnvelope) -> list[Violation]:
        """Why this key may not write ``event`` (empty when it may)."""
        found: list[Violation] = []
        if self.sources is not None and event.source not in self.sources:
            found.append(_forbidden("$.source", "this API key may not send events of this source"))
        if event.type in ADMIN_EVENT_TYPES and not self.admin:
            found.append(_forbidden("$.type", "this event type needs an admin API key"))
        elif self.event_types is not None and event.type not in self.event_types:
            found.append(_forbidden("$.type", "this API key may not write this event type"))
        if self.counties is not None and event.county_id not in self.counties:
            found.append(_forbidden("$.county_id", "this API key may not write for this county"))
        return found

    def allows_source(self, source: str) -> bool:
        """Whether the key may send events with this ``source``."""
        return self.sources is None or source in self.sources


def _forbidden(path: str, message: str) -> Violation:
    return Violation(code=FORBIDDEN_SCOPE, path=path, message=message)


class KeyRing:
    """The configured keys; :meth:`authenticate` maps a presented key to its scope."""

    def __init__(self, entries: Iterable[ApiKeyEntry]) -> None:
        self._entries = [(bytes.fromhex(e.sha256), Scope.of(e)) for e in entries]
        digests = [digest for digest, _ in self._entries]
        if len(set(digests)) != len(digests):
            raise ConfigurationError("the API keys file lists the same key hash twice")

    def __len__(self) -> int:
        return len(self._entries)

    def authenticate(self, presented: str | None) -> Scope | None:
        """The scope of a presented key, or ``None``; compares with every hash in constant time."""
        if not presented:
            return None
        digest = hashlib.sha256(presented.encode("utf-8")).digest()
        found: Scope | None = None
        for expected, scope in self._entries:
            # No early exit: the time taken does not tell which entry matched.
            if hmac.compare_digest(digest, expected):
                found = scope
        return found

    @classmethod
    def from_json(cls, text: str, origin: str) -> KeyRing:
        """Parse the keys JSON; ``origin`` names where it came from in error messages."""
        try:
            parsed = KeysFile.model_validate_json(text)
        except ValidationError as error:
            details = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
                for e in error.errors(include_input=False)
            )
            raise ConfigurationError(f"invalid API keys in {origin}: {details}") from None
        return cls(parsed.keys)

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        """The keys of ``INGEST_API_KEYS_FILE``, else of ``INGEST_API_KEYS``, else none."""
        if settings.api_keys_file is not None:
            path: Path = settings.api_keys_file
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as error:
                raise ConfigurationError(f"cannot read API keys file {path}: {error}") from None
            return cls.from_json(text, str(path))
        if settings.api_keys:
            return cls.from_json(settings.api_keys, "INGEST_API_KEYS")
        return cls(())


def presented_key(authorization: str | None, x_api_key: str | None) -> str | None:
    """The key of ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    if x_api_key and x_api_key.strip():
        return x_api_key.strip()
    return None
