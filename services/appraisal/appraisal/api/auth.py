"""Bearer tokens with a role and the counties they may see (DESIGN §7).

Roles: `bureau` (its counties), `association` (awards and scores of its
counties; never citizen comments or raw history), `auditor` (reads everything),
`admin`. Tokens are configured as SHA-256 hashes, never in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Role(StrEnum):
    BUREAU = "bureau"
    ASSOCIATION = "association"
    AUDITOR = "auditor"
    ADMIN = "admin"


ALL_COUNTIES = "*"


class TokenEntry(BaseModel):
    """One configured token: who holds it, what it may do, and its SHA-256."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="Who holds the token (for logs and audit).")
    role: Role
    counties: list[str] | str = Field(
        description='County codes the token may read, or "*" for all.'
    )
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the token, hex.")

    @field_validator("counties")
    @classmethod
    def _counties(cls, value: list[str] | str) -> list[str] | str:
        if isinstance(value, str) and value != ALL_COUNTIES:
            raise ValueError('counties must be a list of 6-digit codes or "*"')
        return value


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role
    counties: frozenset[str] | None  # None: every county

    def may_read_county(self, county_id: str) -> bool:
        if self.role in (Role.AUDITOR, Role.ADMIN):
            return True
        return self.counties is None or county_id in self.counties

    @property
    def sees_citizen_comments(self) -> bool:
        return self.role is not Role.ASSOCIATION

    @property
    def reads_history(self) -> bool:
        return self.role is not Role.ASSOCIATION


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenRegistry:
    """Looks a presented token up among the configured hashes (constant-time compare)."""

    def __init__(self, entries: list[TokenEntry]) -> None:
        self._entries = entries

    @classmethod
    def from_json(cls, text: str) -> TokenRegistry:
        raw: Any = json.loads(text or "[]")
        if not isinstance(raw, list):
            raise ValueError("tokens must be a JSON list of {name, role, counties, sha256}")
        return cls([TokenEntry.model_validate(item) for item in raw])

    @property
    def count(self) -> int:
        return len(self._entries)

    def lookup(self, token: str) -> Principal | None:
        digest = hash_token(token)
        found: TokenEntry | None = None
        for entry in self._entries:
            if hmac.compare_digest(entry.sha256, digest):
                found = entry
        if found is None:
            return None
        counties = None if found.counties == ALL_COUNTIES else frozenset(found.counties)
        return Principal(found.name, found.role, counties)
