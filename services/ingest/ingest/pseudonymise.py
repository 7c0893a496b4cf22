"""Citizens are pseudonymised at the door (群众信息脱敏).

A rating's or complaint's ``citizen`` (phone or id number) becomes
``citizen_ref`` = HMAC-SHA256(key, normalised citizen), hex. The same citizen
gets the same ref for as long as the key stays the same, which is what the
one-rating-per-citizen-per-day rule needs; without the key the ref cannot be
turned back into a phone number by trying all 10^11 of them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from typing import Final

from ingest.settings import MIN_HMAC_KEY_CHARS, ConfigurationError, Settings

_SEPARATORS: Final = re.compile(r"[\s\-()（）]")
_CHINA_PREFIX: Final = re.compile(r"^(?:\+86|0086)(1[0-9]{10})$")


def normalise_citizen(raw: str) -> str:
    """One spelling per citizen: no spaces, dashes or brackets, upper case, no +86 on mobiles.

    ``"138-0013 8000"``, ``"+8613800138000"`` and ``"13800138000"`` are the same
    person; so are ID numbers ending in ``x`` and ``X``.
    """
    compact = _SEPARATORS.sub("", raw).upper()
    mobile = _CHINA_PREFIX.match(compact)
    return mobile.group(1) if mobile else compact


class Pseudonymiser:
    """Maps a raw citizen identifier to its ``citizen_ref``. Holds the secret key."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("the pseudonymisation key must not be empty")
        self._key = key

    def __call__(self, citizen: str) -> str:
        """The ``citizen_ref`` of ``citizen`` (64 lowercase hex characters)."""
        message = normalise_citizen(citizen).encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "Pseudonymiser(key=<secret>)"


def pseudonymiser_from_settings(settings: Settings, log: logging.Logger) -> Pseudonymiser:
    """The pseudonymiser of ``INGEST_HMAC_KEY``; refuse production without one.

    In development an ephemeral key is generated (and a warning logged): refs
    then change at every restart, so duplicate ratings across restarts go unseen.
    """
    configured = settings.hmac_key.get_secret_value() if settings.hmac_key else ""
    if configured:
        if settings.production and len(configured) < MIN_HMAC_KEY_CHARS:
            raise ConfigurationError(
                f"INGEST_HMAC_KEY must have at least {MIN_HMAC_KEY_CHARS} characters in "
                "production (e.g. python -c 'import secrets; print(secrets.token_hex(32))')"
            )
        return Pseudonymiser(configured.encode("utf-8"))
    if settings.production:
        raise ConfigurationError(
            "INGEST_HMAC_KEY is not set: production mode refuses to start without the "
            "citizen pseudonymisation key"
        )
    log.warning(
        "INGEST_HMAC_KEY is not set: using an ephemeral pseudonymisation key (development "
        "mode). citizen_ref values will change when the service restarts."
    )
    return Pseudonymiser(secrets.token_bytes(32))
