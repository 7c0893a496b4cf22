"""API keys: hashed in the keys file, looked up in constant time, scoped to types and counties."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from contracts import EVENT_TYPES, parse_inbound_event
from ingest.auth import ADMIN_EVENT_TYPES, FORBIDDEN_SCOPE, ApiKeyEntry, KeyRing, Scope, hash_key
from ingest.settings import ConfigurationError, Settings
from tests.ingest.helpers import KEYS, event, keys_json

pytestmark = pytest.mark.unit


def test_hash_key_is_the_hex_sha256() -> None:
    assert hash_key("s3cret") == hashlib.sha256(b"s3cret").hexdigest()


def test_a_configured_key_authenticates_to_its_scope_and_others_do_not() -> None:
    ring = KeyRing.from_json(keys_json(), "test")
    scope = ring.authenticate(KEYS["platform"].plaintext)
    assert scope is not None
    assert scope.name == "nansha-platform"
    assert ring.authenticate("not-a-key") is None
    assert ring.authenticate("") is None
    assert ring.authenticate(None) is None
    # The hash itself is not a key.
    assert ring.authenticate(KEYS["platform"].entry["sha256"]) is None


def test_keys_come_from_a_file_before_the_inline_json(tmp_path: Path) -> None:
    only_bureau = json.dumps({"keys": [KEYS["bureau"].entry]})
    path = tmp_path / "keys.json"
    path.write_text(only_bureau, encoding="utf-8")
    ring = KeyRing.from_settings(Settings(api_keys_file=path, api_keys=keys_json()))
    assert len(ring) == 1
    assert KeyRing.from_settings(Settings(api_keys=keys_json())).authenticate(
        KEYS["ratings"].plaintext
    )
    assert len(KeyRing.from_settings(Settings())) == 0


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("{", "invalid API keys"),
        (
            '{"keys": [{"name": "x", "sha256": "plaintext", "event_types": ["*"], '
            '"counties": ["*"]}]}',
            "sha256",
        ),
        (
            '{"keys": [{"name": "x", "sha256": "' + "a" * 64 + '", "event_types": ["nope.v1"], '
            '"counties": ["*"]}]}',
            "unknown event types",
        ),
        (
            '{"keys": [{"name": "x", "sha256": "' + "a" * 64 + '", "event_types": ["*"], '
            '"counties": ["4401"]}]}',
            "counties",
        ),
        (
            '{"keys": [{"name": "x", "sha256": "' + "a" * 64 + '", "event_types": ["*"], '
            '"counties": ["*"], "role": "admin"}]}',
            "role",
        ),
    ],
)
def test_a_bad_keys_file_stops_the_service_with_a_reason(text: str, complaint: str) -> None:
    with pytest.raises(ConfigurationError, match=complaint):
        KeyRing.from_json(text, "keys.json")


def test_the_same_hash_twice_is_refused() -> None:
    entry = KEYS["platform"].entry
    with pytest.raises(ConfigurationError, match="twice"):
        KeyRing([ApiKeyEntry.model_validate(entry), ApiKeyEntry.model_validate(entry)])


def test_a_missing_keys_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        KeyRing.from_settings(Settings(api_keys_file=tmp_path / "absent.json"))


def test_the_source_scope_defaults_to_the_key_name() -> None:
    entry = ApiKeyEntry(name="dongchong-ledger", sha256="a" * 64, event_types=["*"], counties=["*"])
    assert Scope.of(entry).sources == frozenset({"dongchong-ledger"})


# --- The scope matrix: every event type against every kind of key scope ------------

_COUNTY_IN = "440115"
_COUNTY_OUT = "440116"
_OTHER_TYPE = {
    t: ("activity.lecture.v1" if t != "activity.lecture.v1" else "activity.mediation.v1")
    for t in EVENT_TYPES
}


def _scope(*, types: str, counties: str, admin: bool) -> Scope:
    return Scope(
        name="k",
        event_types=None if types == "*" else frozenset({types}),
        counties=None if counties == "*" else frozenset({counties}),
        sources=frozenset({"nansha-platform"}),
        admin=admin,
    )


@pytest.mark.parametrize("type_", EVENT_TYPES)
@pytest.mark.parametrize("type_scope", ["*", "same", "other"])
@pytest.mark.parametrize("county_scope", ["*", "in", "out"])
@pytest.mark.parametrize("admin", [False, True])
def test_scope_matrix(type_: str, type_scope: str, county_scope: str, admin: bool) -> None:
    """An event is allowed iff its type, its county and (for policies/closings) admin all allow."""
    county = "000000" if type_ == "policy.published.v1" else _COUNTY_IN
    inbound = parse_inbound_event(event(type_, county_id=county))
    scope = _scope(
        types={"*": "*", "same": type_, "other": _OTHER_TYPE[type_]}[type_scope],
        counties={"*": "*", "in": county, "out": _COUNTY_OUT}[county_scope],
        admin=admin,
    )
    type_ok = type_scope != "other" and (admin or type_ not in ADMIN_EVENT_TYPES)
    county_ok = county_scope != "out"

    found = scope.violations(inbound)

    assert all(v.code == FORBIDDEN_SCOPE for v in found)
    assert ("$.type" not in {v.path for v in found}) == type_ok
    assert ("$.county_id" not in {v.path for v in found}) == county_ok
    assert (not found) == (type_ok and county_ok)


def test_a_key_may_not_send_events_of_another_source() -> None:
    scope = _scope(types="*", counties="*", admin=True)
    inbound = parse_inbound_event(event(source="someone-else"))
    (violation,) = scope.violations(inbound)
    assert (violation.code, violation.path) == (FORBIDDEN_SCOPE, "$.source")
