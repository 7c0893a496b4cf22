"""Helpers of the deployment tests: the deploy files, compose interpolation, missing tools.

The compose file is read the way `docker compose` reads it: YAML (with merge keys),
then `${VAR…}` interpolation from an env file. The env file the tests use is what an
operator makes from `.env.example` by filling in every secret (`operator_env`).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import secrets
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from appraisal.api.auth import hash_token
from appraisal.settings import AppraisalSettings
from ingest.auth import hash_key
from ingest.settings import Settings as IngestSettings

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
DEPLOY = REPO / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
PROMETHEUS_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
ALERT_RULES = DEPLOY / "prometheus" / "alerts.yml"
ALERT_TESTS = Path(__file__).resolve().parent / "alerts.test.yml"
GRAFANA = DEPLOY / "grafana"
DASHBOARDS = GRAFANA / "dashboards"
TOPICS_SCRIPT = DEPLOY / "kafka" / "create-topics.sh"
INITDB_SCRIPT = DEPLOY / "postgres" / "initdb" / "10-roles-and-databases.sh"
OPERATIONS_DOC = REPO / "docs" / "operations.md"

# Variables of .env.example that hold secrets: the example must leave them empty.
SECRETS = (
    "POSTGRES_PASSWORD",
    "APPRAISAL_DB_PASSWORD",
    "INGEST_DB_PASSWORD",
    "INGEST_HMAC_KEY",
    "INGEST_API_KEYS",
    "APPRAISAL_TOKENS",
    "GRAFANA_ADMIN_PASSWORD",
)


@dataclass(frozen=True)
class ServiceKind:
    """A service of ours: the module `python -m` runs and the settings class it reads."""

    module: str
    settings: type[Any]
    prefix: str


APP_SERVICES = {
    "ingest": ServiceKind("ingest", IngestSettings, "INGEST_"),
    "appraisal": ServiceKind("appraisal", AppraisalSettings, "APPRAISAL_"),
}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> NoReturn:
    """A tool the test needs is missing: a failure in CI, a skip with the reason elsewhere."""
    if in_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def yaml_module() -> Any:
    try:
        return importlib.import_module("yaml")
    except ImportError:
        unavailable("PyYAML is not installed: the deployment tests need it (pip install pyyaml)")


def load_yaml(path: Path) -> Any:
    return yaml_module().safe_load(path.read_text(encoding="utf-8"))


# --- env files and interpolation --------------------------------------------------------

_ENV_LINE = re.compile(r"^\s*(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*)$")


def read_env_file(path: Path) -> dict[str, str]:
    """A compose env file: KEY=VALUE lines, `#` comments, '…' literal, "…" with escapes."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if match is None:
            raise ValueError(f"{path.name}: not KEY=VALUE: {line!r}")
        raw = match["value"].strip()
        if raw[:1] == "'" and raw.rfind("'") > 0:
            value = raw[1 : raw.rfind("'")]
        elif raw[:1] == '"' and raw.rfind('"') > 0:
            value = raw[1 : raw.rfind('"')].encode().decode("unicode_escape")
        else:
            value = re.sub(r"\s+#.*$", "", raw)
        values[match["key"]] = value
    return values


class MissingVariableError(ValueError):
    """A `${VAR:?message}` whose variable is unset or empty."""


_VARIABLE = re.compile(r"\$(?:(?P<dollar>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_]\w*))")
_BRACED = re.compile(r"^(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?+])(?P<arg>.*))?$", re.DOTALL)


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's interpolation: $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e}, ${VAR?e}, $$."""

    def replace(match: re.Match[str]) -> str:
        if match["dollar"]:
            return "$"
        if match["named"]:
            return env.get(match["named"], "")
        braced = _BRACED.match(match["braced"])
        if braced is None:
            raise ValueError(f"invalid interpolation {match[0]!r}")
        name, op, arg = braced["name"], braced["op"], braced["arg"] or ""
        value = env.get(name)
        unset_or_empty = not value
        if op in (":-", "-"):
            missing = unset_or_empty if op == ":-" else value is None
            return interpolate(arg, env) if missing else value or ""
        if op in (":?", "?"):
            missing = unset_or_empty if op == ":?" else value is None
            if missing:
                raise MissingVariableError(f"{name}: {arg}")
            return value or ""
        if op in (":+", "+"):
            present = not unset_or_empty if op == ":+" else value is not None
            return interpolate(arg, env) if present else ""
        return value or ""

    return _VARIABLE.sub(replace, text)


def interpolate_tree(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [interpolate_tree(item, env) for item in node]
    if isinstance(node, dict):
        return {key: interpolate_tree(value, env) for key, value in node.items()}
    return node


def referenced_variables(node: Any) -> dict[str, str]:
    """Every variable interpolated in the values of `node`, with its operator ('' if none).

    Values only, as compose interpolates them: comments and keys do not count.
    """
    found: dict[str, str] = {}
    if isinstance(node, dict):
        node = list(node.values())
    if isinstance(node, list):
        for item in node:
            for name, op in referenced_variables(item).items():
                found[name] = op or found.get(name, "")
        return found
    if not isinstance(node, str):
        return found
    for match in _VARIABLE.finditer(node):
        if match["named"]:
            found.setdefault(match["named"], "")
        elif match["braced"] is not None:
            braced = _BRACED.match(match["braced"])
            if braced is not None:
                found[braced["name"]] = braced["op"] or found.get(braced["name"], "")
    return found


# --- the operator's .env -----------------------------------------------------------------

SOURCE_KEY = "nansha-platform-key-0123456789"
BUREAU_TOKEN = "nansha-bureau-token-0123456789"
_EXAMPLE = re.compile(r"^#\s+(?P<key>INGEST_API_KEYS|APPRAISAL_TOKENS)='(?P<json>.*)'\s*$", re.M)


def documented_examples() -> dict[str, str]:
    """The JSON examples .env.example shows in comments, with real hashes filled in."""
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    found = {m["key"]: m["json"] for m in _EXAMPLE.finditer(text)}
    found["INGEST_API_KEYS"] = found["INGEST_API_KEYS"].replace(
        "<python -m ingest hash-key KEY>", hash_key(SOURCE_KEY)
    )
    found["APPRAISAL_TOKENS"] = found["APPRAISAL_TOKENS"].replace(
        "<python -m appraisal hash-token TOKEN>", hash_token(BUREAU_TOKEN)
    )
    return found


def operator_env() -> dict[str, str]:
    """.env as an operator fills it in from .env.example, as docs/operations.md says."""
    env = read_env_file(ENV_EXAMPLE)
    examples = documented_examples()
    env.update(
        POSTGRES_PASSWORD=secrets.token_urlsafe(24),
        APPRAISAL_DB_PASSWORD=secrets.token_urlsafe(24),
        INGEST_DB_PASSWORD=secrets.token_urlsafe(24),
        INGEST_HMAC_KEY=secrets.token_hex(32),
        INGEST_API_KEYS=examples["INGEST_API_KEYS"],
        APPRAISAL_TOKENS=examples["APPRAISAL_TOKENS"],
        GRAFANA_ADMIN_PASSWORD=secrets.token_urlsafe(24),
    )
    return env


@dataclass(frozen=True)
class Compose:
    """docker-compose.yml as read (`raw`) and as interpolated with an env file (`model`)."""

    raw: dict[str, Any]
    model: dict[str, Any]
    env: dict[str, str]

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        services: dict[str, dict[str, Any]] = self.model["services"]
        return services

    def environment(self, service: str) -> dict[str, str]:
        """The service's environment (mapping or list form), values as strings."""
        declared = self.services[service].get("environment") or {}
        if isinstance(declared, list):
            declared = dict(item.split("=", 1) for item in declared)
        return {key: "" if value is None else str(value) for key, value in declared.items()}

    def command(self, service: str) -> list[str]:
        command = self.services[service].get("command") or []
        return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]

    def replicas(self, service: str) -> int:
        deploy = self.services[service].get("deploy") or {}
        return int(deploy.get("replicas", 1))

    def one_shot(self, service: str) -> bool:
        return str(self.services[service].get("restart", "no")) == "no"

    def app_kind(self, service: str) -> ServiceKind | None:
        """Which of our services a compose service runs (`python -m MODULE serve`)."""
        command = self.command(service)
        for kind in APP_SERVICES.values():
            if command[-3:] == ["-m", kind.module, "serve"]:
                return kind
        return None


def load_compose(env: Mapping[str, str] | None = None) -> Compose:
    env = dict(operator_env() if env is None else env)
    raw = load_yaml(COMPOSE_FILE)
    return Compose(raw=raw, model=interpolate_tree(raw, env), env=env)


def healthcheck_command(service: dict[str, Any]) -> list[str]:
    """The argv a CMD healthcheck runs (CMD-SHELL → sh -c)."""
    test = service["healthcheck"]["test"]
    if isinstance(test, str):
        return ["sh", "-c", test]
    kind, *argv = test
    return ["sh", "-c", " ".join(argv)] if kind == "CMD-SHELL" else list(argv)


def dashboard_files() -> list[Path]:
    return sorted(DASHBOARDS.glob("*.json"))


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
