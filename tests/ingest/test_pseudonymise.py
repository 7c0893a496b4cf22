"""Citizens become HMAC refs; production refuses to run without the key."""

from __future__ import annotations

import hashlib
import hmac
import logging

import pytest

from ingest.pseudonymise import Pseudonymiser, normalise_citizen, pseudonymiser_from_settings
from ingest.settings import ConfigurationError, Settings

pytestmark = pytest.mark.unit


def test_the_ref_is_the_hex_hmac_sha256_of_the_normalised_citizen() -> None:
    key = b"k" * 32
    expected = hmac.new(key, b"13800138000", hashlib.sha256).hexdigest()
    assert Pseudonymiser(key)("13800138000") == expected


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("13800138000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("44011519900101123x", "44011519900101123X"),
        ("(020) 8888 1234", "02088881234"),
    ],
)
def test_spellings_of_one_citizen_normalise_to_one_value(raw: str, normalised: str) -> None:
    assert normalise_citizen(raw) == normalised


def test_the_same_citizen_gets_the_same_ref_and_other_keys_give_other_refs() -> None:
    one, other = Pseudonymiser(b"a" * 32), Pseudonymiser(b"b" * 32)
    assert one("13800138000") == one("+86 138 0013 8000")
    assert one("13800138000") != one("13800138001")
    assert one("13800138000") != other("13800138000")


def test_the_key_never_shows_in_the_repr() -> None:
    assert "aaaa" not in repr(Pseudonymiser(b"a" * 32))


def test_production_refuses_to_start_without_a_key() -> None:
    settings = Settings(mode="production", hmac_key=None)
    with pytest.raises(ConfigurationError, match="INGEST_HMAC_KEY"):
        pseudonymiser_from_settings(settings, logging.getLogger("test"))


def test_production_refuses_a_short_key() -> None:
    settings = Settings(mode="production", hmac_key="short")
    with pytest.raises(ConfigurationError, match="at least 32"):
        pseudonymiser_from_settings(settings, logging.getLogger("test"))


def test_development_generates_an_ephemeral_key_and_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        first = pseudonymiser_from_settings(Settings(hmac_key=None), logging.getLogger("t"))
        second = pseudonymiser_from_settings(Settings(hmac_key=None), logging.getLogger("t"))
    assert first("13800138000") != second("13800138000")
    assert "ephemeral" in caplog.text
