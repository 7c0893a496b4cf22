"""Splitting request bodies: JSON arrays and NDJSON, read strictly, one event at a time."""

from __future__ import annotations

import json

import pytest

from ingest.bodies import BodyError, split_body

pytestmark = pytest.mark.unit


def test_a_json_array_is_split_into_its_elements_in_order() -> None:
    raws = split_body(b'[{"a": 1}, {"b": 2}, 3]', "application/json", 10)
    assert [r.value for r in raws] == [{"a": 1}, {"b": 2}, 3]
    assert all(not r.problems for r in raws)


def test_ndjson_lines_are_events_and_blank_lines_are_skipped() -> None:
    raws = split_body(b'{"a": 1}\n\n  \r\n{"b": 2}\r\n', "application/x-ndjson", 10)
    assert [r.value for r in raws] == [{"a": 1}, {"b": 2}]


def test_a_single_object_is_a_batch_of_one() -> None:
    assert [r.value for r in split_body(b'{"a": 1}', "application/json", 10)] == [{"a": 1}]


def test_a_bad_ndjson_line_rejects_only_its_own_event() -> None:
    raws = split_body(b'{"a": 1}\n{"b": \n\xff\xfe\n{"c": 3}', None, 10)
    assert [r.value for r in raws] == [{"a": 1}, None, None, {"c": 3}]
    assert raws[1].problems[0].code == "invalid_json"
    assert "line 1 column" in raws[1].problems[0].message
    assert "UTF-8" in raws[2].problems[0].message


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'[{"a": 1}, {"b": ]', "invalid_json"),
        (b'[{"a": NaN}]', "invalid_json"),
        (b'[{"a": Infinity}]', "invalid_json"),
        (b'[{"a": "\xff"}]', "invalid_json"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
        (b"[" + b"9" * 5000 + b"]", "invalid_json"),
        (b"[]", "empty_body"),
        (b"", "empty_body"),
        (b"\n\n  \n", "empty_body"),
    ],
)
def test_a_body_unreadable_as_a_whole_is_a_400(body: bytes, code: str) -> None:
    with pytest.raises(BodyError) as caught:
        split_body(body, "application/json", 10)
    assert caught.value.status == 400
    assert caught.value.code == code


def test_nan_in_an_ndjson_line_rejects_that_line() -> None:
    (raw,) = split_body(b'{"score": NaN}', "application/x-ndjson", 10)
    assert raw.problems[0].code == "invalid_json"
    assert "NaN" in raw.problems[0].message


def test_duplicate_keys_reject_the_event_and_name_the_key_and_path() -> None:
    raws = split_body(
        b'[{"a": 1}, {"payload": {"score": 5, "score": 1}}, {"b": 1, "b": 2}]',
        "application/json",
        10,
    )
    assert not raws[0].problems
    (problem,) = raws[1].problems
    assert (problem.code, problem.path) == ("invalid_json", "$.payload")
    assert "'score'" in problem.message
    assert raws[2].problems[0].path == "$"


def test_more_events_than_the_limit_is_a_413_naming_the_limit() -> None:
    array = json.dumps([{}] * 4).encode()
    lines = b"{}\n" * 4
    for body in (array, lines):
        with pytest.raises(BodyError) as caught:
            split_body(body, "application/json", 3)
        assert (caught.value.status, caught.value.code, caught.value.limit) == (
            413,
            "too_many_events",
            3,
        )


def test_other_media_types_are_a_415() -> None:
    with pytest.raises(BodyError) as caught:
        split_body(b"[]", "text/html", 10)
    assert caught.value.status == 415


def test_a_utf8_bom_is_ignored() -> None:
    assert [r.value for r in split_body(b'\xef\xbb\xbf[{"a": 1}]', None, 10)] == [{"a": 1}]


def test_messages_never_echo_the_input() -> None:
    secret = "13912345678"
    bodies = [
        f'{{"citizen": "{secret}", "x": }}'.encode(),
        f'{{"citizen": "{secret}", "citizen": "{secret}"}}'.encode(),
    ]
    for body in bodies:
        (raw,) = split_body(body, "application/x-ndjson", 10)
        assert all(secret not in p.message for p in raw.problems)
