"""`python -m embedded.synth`: files, manifest, summary and argument errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts import parse_inbound_event
from embedded.synth.__main__ import main

pytestmark = pytest.mark.unit

SMALL = ["--villages=30", "--events-per-village=60", "--seed=3"]


def test_it_writes_ndjson_a_manifest_and_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, manifest = tmp_path / "county.ndjson", tmp_path / "county.json"
    assert main([*SMALL, f"--out={out}", f"--manifest={manifest}"]) == 0
    lines = out.read_bytes().splitlines()
    assert lines
    parse_inbound_event(lines[0])
    parse_inbound_event(lines[-1])
    data = json.loads(manifest.read_text(encoding="utf-8"))
    assert data["county_id"] == "440115"
    assert set(data["showcase"]) >= {"exemplary", "chronic", "failing", "newcomer", "overloaded"}
    assert {p["profile"] for p in data["profiles"]} >= set(data["advisors_by_profile"])
    summary = capsys.readouterr().err
    assert f"{len(lines):,} events" in summary
    assert "events/s" in summary
    assert "showcase: " in summary


def test_close_years_and_scale_are_passed_on(tmp_path: Path) -> None:
    out = tmp_path / "county.ndjson"
    assert (
        main([*SMALL[:1], "--scale=0.2", "--close-years", "2025", f"--out={out}", "--quiet"]) == 0
    )
    types = {json.loads(line)["type"] for line in out.read_bytes().splitlines()}
    assert "period.closed.v1" in types


def test_the_manifest_alone_can_go_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*SMALL, "--manifest=-", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["villages"] == 30


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (SMALL, "say where to"),
        ([*SMALL, "--post=http://h"], "--key"),
        (["--villages=5", "--out=-"], "at least 30 villages"),
        (["--years", "2023", "2025", "--out=-"], "consecutive"),
        (["--close-years", "2020", "--out=-"], "close_years"),
        (["--batch-size=0", "--out=-"], "--batch-size"),
    ],
)
def test_bad_arguments_are_refused_with_a_reason(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SYNTH_API_KEY", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
