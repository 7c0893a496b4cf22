"""The rules package stays pure: standard library, pydantic and chinese_calendar only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import appraisal.policy

pytestmark = pytest.mark.unit

PACKAGE = Path(appraisal.policy.__file__).parent
THIRD_PARTY_ALLOWED = {"pydantic", "chinese_calendar"}


def imported_modules(source: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("source", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_the_rules_import_nothing_with_io(source: Path) -> None:
    for module in imported_modules(source):
        top = module.split(".")[0]
        if top == "appraisal":
            assert module.startswith("appraisal.policy"), module
        else:
            assert top in sys.stdlib_module_names or top in THIRD_PARTY_ALLOWED, module


def test_nothing_reads_the_clock() -> None:
    for source in PACKAGE.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        for call in ("now(", "today(", "utcnow(", "time.time(", "monotonic("):
            assert call not in text, f"{source.name} calls {call}"
