"""The committed JSON Schemas and AsyncAPI document are exactly what the models generate."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from contracts import EVENT_TYPES
from contracts.generate import (
    CONTRACTS_DIR,
    REGENERATE_COMMAND,
    artifacts,
    asyncapi_document,
    drifted,
    main,
)

pytestmark = pytest.mark.unit


def test_committed_artifacts_match_the_models() -> None:
    changes = drifted()
    assert not changes, (
        "Contract artifacts under contracts/ differ from the models: "
        + ", ".join(changes)
        + ". Regenerate them with `python -m contracts.generate` and commit the result."
    )


def test_the_regenerate_command_is_the_documented_one() -> None:
    assert REGENERATE_COMMAND == "python -m contracts.generate"


def test_check_mode_lists_drifted_files_and_names_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--root", str(tmp_path)]) == 0
    assert main(["--check", "--root", str(tmp_path)]) == 0
    capsys.readouterr()

    (tmp_path / "schemas" / "activity.lecture.v1.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "schemas" / "activity.lecture.v0.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "asyncapi.json").unlink()

    assert main(["--check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "schemas/activity.lecture.v1.json" in err
    assert "schemas/activity.lecture.v0.json" in err
    assert "asyncapi.json" in err
    assert "python -m contracts.generate" in err

    assert main(["--root", str(tmp_path)]) == 0
    assert not (tmp_path / "schemas" / "activity.lecture.v0.json").exists()
    assert drifted(tmp_path) == []


def test_there_is_a_schema_per_event_type_and_per_union() -> None:
    names = set(artifacts())
    for type_ in EVENT_TYPES:
        assert f"schemas/{type_}.json" in names
        assert f"schemas/{type_}.inbound.json" in names
    for name in (
        "verdict.issued.v1",
        "verdict.amended.v1",
        "inbound-event.v1",
        "published-event.v1",
        "verdict-event.v1",
        "dead-letter.v1",
    ):
        assert f"schemas/{name}.json" in names
    assert "asyncapi.json" in names


def test_generation_is_deterministic_across_processes() -> None:
    here = hashlib.sha256(json.dumps(artifacts(), sort_keys=True).encode()).hexdigest()
    code = (
        "import hashlib, json; from contracts.generate import artifacts; "
        "print(hashlib.sha256(json.dumps(artifacts(), sort_keys=True).encode()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=CONTRACTS_DIR.parent,
    )
    assert result.stdout.strip() == here


def test_the_asyncapi_document_describes_the_four_topics_with_their_keys() -> None:
    document = asyncapi_document()
    assert document["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {"advisor-events", "appraisal-verdicts", "ingest-dlq", "appraisal-dlq"}

    actions = {
        (document["channels"][op["channel"]["$ref"].rsplit("/", 1)[-1]]["address"], op["action"])
        for op in document["operations"].values()
    }
    assert ("advisor-events", "send") in actions
    assert ("advisor-events", "receive") in actions
    assert ("appraisal-verdicts", "send") in actions

    for message in document["components"]["messages"].values():
        key = message["bindings"]["kafka"]["key"]
        assert key["type"] == "string"
        assert key["description"]
    advisor_key = next(
        m["bindings"]["kafka"]["key"]["description"]
        for name, m in document["components"]["messages"].items()
        if name.startswith("advisor-events")
    )
    assert "advisor_id" in advisor_key
    assert "county_id" in advisor_key


def test_every_event_schema_is_in_the_asyncapi_components() -> None:
    schemas = asyncapi_document()["components"]["schemas"]
    for name in ("ActivityLecture", "RatingSubmitted", "VerdictAmended", "DeadLetter"):
        assert name in schemas
    assert "citizen" not in schemas["RatingSubmittedPayload"]["properties"]
    assert "RatingSubmittedIn" not in schemas  # inbound shapes never travel on Kafka
