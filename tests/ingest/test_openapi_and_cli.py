"""The committed OpenAPI document, its examples, and the command line."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from contracts import parse_inbound_event
from ingest import cli, openapi

pytestmark = pytest.mark.unit


def test_the_committed_openapi_document_matches_the_api() -> None:
    assert not openapi.drifted(), (
        f"{openapi.OPENAPI_PATH} differs from the API; regenerate it with "
        f"`{openapi.REGENERATE_COMMAND}` and commit the result."
    )


def test_the_regenerate_command_is_the_documented_one() -> None:
    assert openapi.REGENERATE_COMMAND == "python -m ingest openapi"


def test_every_example_in_the_document_is_a_valid_event() -> None:
    document = json.loads(openapi.OPENAPI_PATH.read_text(encoding="utf-8"))
    content = document["paths"]["/v1/events"]["post"]["requestBody"]["content"]
    parsed = 0
    for example in content["application/json"]["examples"].values():
        for value in example["value"]:
            parse_inbound_event(value)
            parsed += 1
    for example in content["application/x-ndjson"]["examples"].values():
        for line in example["value"].splitlines():
            parse_inbound_event(line)
            parsed += 1
    for name, schema in document["components"]["schemas"].items():
        if name.endswith("In"):
            for value in schema.get("examples", []):
                parse_inbound_event(value)
                parsed += 1
    assert parsed > 17 * 2


def test_check_mode_reports_drift_and_names_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "openapi.json"
    assert cli.main(["openapi", "--output", str(target)]) == 0
    assert cli.main(["openapi", "--check", "--output", str(target)]) == 0
    target.write_text("{}\n", encoding="utf-8")
    assert cli.main(["openapi", "--check", "--output", str(target)]) == 1
    assert "python -m ingest openapi" in capsys.readouterr().err


def test_hash_key_prints_the_sha256(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli.main(["hash-key", "s3cret"]) == 0
    assert capsys.readouterr().out.strip() == hashlib.sha256(b"s3cret").hexdigest()
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret\n"))
    assert cli.main(["hash-key", "-"]) == 0
    assert capsys.readouterr().out.strip() == hashlib.sha256(b"s3cret").hexdigest()


def test_serve_refuses_production_without_an_hmac_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INGEST_MODE", "production")
    monkeypatch.delenv("INGEST_HMAC_KEY", raising=False)
    monkeypatch.setenv("INGEST_API_KEYS", json.dumps({"keys": []}))
    assert cli.main(["serve"]) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert "cannot start" in err
    assert "INGEST_HMAC_KEY" in err or "API keys" in err


@pytest.mark.parametrize(
    ("extra", "complaint"),
    [
        (["--county", "4401", "--key", "k"], "6-digit"),
        (["--county", "440115"], "API key"),
    ],
)
def test_import_ledger_checks_its_arguments(
    extra: list[str],
    complaint: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("INGEST_API_KEY", raising=False)
    argv = ["import-ledger", "x.csv", "--source", "s", "--url", "http://127.0.0.1:9", *extra]
    assert cli.main(argv) == cli.EXIT_FAILED
    assert complaint in capsys.readouterr().err


def test_import_ledger_of_a_missing_file_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "import-ledger",
        str(tmp_path / "absent.xlsx"),
        "--source",
        "s",
        "--county",
        "440115",
        "--url",
        "http://127.0.0.1:9",
        "--key",
        "k",
    ]
    assert cli.main(argv) == cli.EXIT_FAILED
    assert "import failed" in capsys.readouterr().err


def test_every_setting_is_in_the_documented_table() -> None:
    from ingest.settings import Settings

    doc = (Path(__file__).resolve().parents[2] / "docs" / "ingest.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"| `INGEST_{name.upper()}` |" in doc, name
