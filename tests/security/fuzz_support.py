"""Fuzzing a served API from its OpenAPI document with schemathesis, and what a fuzz run counts.

Each operation becomes a Hypothesis test over ``operation.as_strategy(mode)``:
positive cases follow the schema, negative ones break it on purpose. Every
answer must pass schemathesis' ``not_a_server_error`` (plus the conformance
checks a test asks for) and :func:`explained_rejection`: a 4xx carries a JSON
body that says why. The run is blocking (requests), so async tests call it
through ``asyncio.to_thread`` while the served app keeps running on the loop.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy
from schemathesis import APIOperation, Case, CheckContext, GenerationMode
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.core.result import Err

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
"""Examples per operation and mode; ``FUZZ_EXAMPLES=1000`` for a long run."""
REQUEST_TIMEOUT_S = 10.0
"""An answer slower than this is a hang."""


def explained_rejection(
    ctx: CheckContext, response: schemathesis.Response, case: Case[Any]
) -> bool:
    """A 4xx says why: a JSON body with ``error.code`` + ``error.message``, or ``detail``."""
    if not 400 <= response.status_code < 500:
        return True
    try:
        body = response.json()
    except ValueError as error:
        raise AssertionError(f"{response.status_code} without a JSON body") from error
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error_detail = body["error"]
        assert error_detail.get("code"), f"{response.status_code} without error.code: {body}"
        assert error_detail.get("message"), f"{response.status_code} without error.message"
        return True
    assert isinstance(body, dict), f"{response.status_code} body is not an object: {body}"
    assert body.get("detail"), f"{response.status_code} without detail: {body}"
    return True


@dataclass
class FuzzReport:
    """What a run sent and got back."""

    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: Counter[str] = field(default_factory=Counter)
    slowest_s: float = 0.0
    unbreakable: set[str] = field(default_factory=set)
    seconds: float = 0.0

    def line(self) -> str:
        codes = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        return (
            f"{self.cases} requests in {self.seconds:.1f} s (slowest {self.slowest_s:.2f} s); "
            f"statuses {codes}"
        )


def fuzz(
    schema: schemathesis.BaseSchema,
    base_url: str,
    *,
    headers: Mapping[str, str] | None = None,
    modes: Iterable[GenerationMode] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    checks: Iterable[CheckFunction] = (),
    known: Mapping[str, Any] | None = None,
    examples: int = EXAMPLES,
    report: FuzzReport | None = None,
) -> FuzzReport:
    """Fuzz every operation of ``schema`` against ``base_url``; raise at the first failure.

    ``known`` fixes path parameters (e.g. a county that has data) where an operation has them,
    so the cases reach past "not found"; the rest of each request is still generated.
    """
    report = report or FuzzReport()
    started = time.monotonic()
    call = _Call(
        base_url=base_url,
        headers=dict(headers or {}),
        checks=[not_a_server_error, explained_rejection, *checks],
        session=requests.Session(),
        report=report,
    )
    for operation in _operations(schema):
        names = {p.name for p in operation.path_parameters}
        fixed = {k: v for k, v in (known or {}).items() if k in names}
        for mode in modes:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed or None)
            try:
                _run(strategy, call, f"{operation.label} {mode.value}", examples)
            except Unsatisfiable:  # nothing to break, e.g. GET /healthz has no parameters
                report.unbreakable.add(operation.label)
    report.seconds += time.monotonic() - started
    return report


@dataclass(frozen=True)
class _Call:
    """Sends one case and checks its answer."""

    base_url: str
    headers: dict[str, str]
    checks: list[CheckFunction]
    session: requests.Session
    report: FuzzReport

    def __call__(self, case: Case[Any], label: str) -> None:
        sent = time.monotonic()
        response = case.call(
            base_url=self.base_url,
            session=self.session,
            headers=self.headers,
            timeout=REQUEST_TIMEOUT_S,
        )
        elapsed = time.monotonic() - sent
        self.report.cases += 1
        self.report.statuses[response.status_code] += 1
        self.report.by_operation[f"{label} → {response.status_code}"] += 1
        self.report.slowest_s = max(self.report.slowest_s, elapsed)
        case.validate_response(response, checks=self.checks)


def _run(strategy: SearchStrategy[Case[Any]], call: _Call, label: str, examples: int) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,  # the same requests every run: a failure is a bug, not luck
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first case
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Case[Any]) -> None:
        call(case, label)

    run()


def _operations(schema: schemathesis.BaseSchema) -> list[APIOperation[Any, Any, Any, Any]]:
    found = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        found.append(result.ok())
    return found


def as_schema(document: dict[str, Any]) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_dict(document)
