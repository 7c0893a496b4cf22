"""The README's settings table lists every setting the appraisal service reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from appraisal.settings import AppraisalSettings

pytestmark = pytest.mark.unit

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_appraisal_setting_is_documented() -> None:
    text = README.read_text(encoding="utf-8")
    documented = set(re.findall(r"APPRAISAL_[A-Z_]+", text))
    for name in AppraisalSettings.model_fields:
        variable = f"APPRAISAL_{name.upper()}"
        short = "_" + name.upper().removeprefix("POSTGRES_")
        assert variable in documented or (name.startswith("postgres_") and short in text), variable


def test_the_readme_names_exactly_one_run_and_one_test_command() -> None:
    text = README.read_text(encoding="utf-8")
    first_block = text.split("```")[1]
    assert "make run" in first_block
    assert "make test" in first_block
