"""Dependencies point inward: the domain knows the rules, eventsourcing and pydantic; no I/O."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import appraisal.domain
from tests.unit.policy.test_boundaries import imported_modules

pytestmark = pytest.mark.unit

PACKAGE = Path(appraisal.domain.__file__).parent


@pytest.mark.parametrize("source", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_the_domain_imports_no_kafka_http_sql_or_metrics(source: Path) -> None:
    for module in imported_modules(source):
        top = module.split(".")[0]
        if top == "appraisal":
            assert module.startswith(("appraisal.domain", "appraisal.policy")), module
        elif top == "eventsourcing":
            assert module in {"eventsourcing.domain"}, module
        else:
            # pydantic validates policy documents; it does no I/O.
            assert top in sys.stdlib_module_names or top == "pydantic", module
