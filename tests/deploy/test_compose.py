"""docker-compose.yml, read as `docker compose` reads it with an operator's .env.

Nothing here runs a container (this machine has no Docker engine): the file is
parsed, interpolated and checked against the services' own settings classes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from appraisal.api.auth import TokenRegistry
from embedded.topics import system_topics
from ingest.auth import KeyRing
from ingest.http import create_app as create_ingest_app
from ingest.settings import Settings as IngestSettings
from tests.deploy.support import (
    APP_SERVICES,
    BUREAU_TOKEN,
    COMPOSE_FILE,
    ENV_EXAMPLE,
    INITDB_SCRIPT,
    REPO,
    SECRETS,
    SOURCE_KEY,
    TOPICS_SCRIPT,
    Compose,
    MissingVariableError,
    ServiceKind,
    load_compose,
    operator_env,
    read_env_file,
    referenced_variables,
)

pytestmark = pytest.mark.unit

# Settings production must not leave at their defaults (which suit the embedded run).
MUST_SET = {
    "ingest": {"mode", "host", "port", "kafka_bootstrap", "hmac_key", "api_keys", "dedup_dsn"},
    "appraisal": {
        "host",
        "port",
        "kafka_bootstrap",
        "store",
        "postgres_host",
        "postgres_user",
        "postgres_password",
        "postgres_dbname",
        "tokens",
    },
}
# An explicit version: 1.2, 1.2.3, v3.5.0, 16.10-bookworm, 3.11.13-slim-bookworm.
PINNED_TAG = re.compile(r"^v?\d+\.\d+(\.\d+)?(-[a-z0-9.-]+)?$")


@pytest.fixture(scope="module")
def compose() -> Compose:
    return load_compose()


def _app_services(compose: Compose) -> dict[str, ServiceKind]:
    found = {}
    for name in compose.services:
        kind = compose.app_kind(name)
        if kind is not None:
            found[name] = kind
    return found


def _hosts(value: str) -> list[tuple[str, int]]:
    """host:port pairs of a bootstrap list or a URL/DSN."""
    if "://" in value:
        url = urlsplit(value)
        assert url.hostname is not None, value
        assert url.port is not None, value
        return [(url.hostname, url.port)]
    pairs = []
    for server in value.split(","):
        host, _, port = server.strip().rpartition(":")
        pairs.append((host, int(port)))
    return pairs


def _settings_env(compose: Compose, service: str) -> dict[str, str]:
    kind = APP_SERVICES[service]
    return {k: v for k, v in compose.environment(service).items() if k.startswith(kind.prefix)}


def _settings(
    monkeypatch: pytest.MonkeyPatch, compose: Compose, service: str, kind: ServiceKind
) -> Any:
    """The service's settings object built from its compose environment alone."""
    for key in list(os.environ):
        if key.startswith(kind.prefix):
            monkeypatch.delenv(key)
    for key, value in _settings_env(compose, service).items():
        monkeypatch.setenv(key, value)
    return kind.settings()


# --- the services of ours ------------------------------------------------------------------


def test_both_services_are_in_the_file(compose: Compose) -> None:
    assert sorted(_app_services(compose).values(), key=lambda k: k.module) == [
        APP_SERVICES["appraisal"],
        APP_SERVICES["ingest"],
    ]


@pytest.mark.parametrize("service", ["ingest", "appraisal"])
def test_every_variable_the_settings_read_is_known_and_the_needed_ones_are_set(
    compose: Compose, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind = APP_SERVICES[service]
    fields = kind.settings.model_fields
    assert MUST_SET[service] <= set(fields), "MUST_SET names a setting that no longer exists"
    env = _settings_env(compose, service)
    known = {kind.prefix + name.upper() for name in fields}
    assert set(env) - known == set(), f"{service} sets variables its settings do not read"
    required = {kind.prefix + n.upper() for n, f in fields.items() if f.is_required()}
    must = {kind.prefix + n.upper() for n in MUST_SET[service]}
    assert (required | must) - set(env) == set(), f"{service} leaves these unset"
    # They also parse: types, literals and bounds as the service would see them.
    _settings(monkeypatch, compose, service, kind)


def test_ingest_runs_in_production_mode_on_all_interfaces(
    compose: Compose, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings: IngestSettings = _settings(monkeypatch, compose, "ingest", APP_SERVICES["ingest"])
    assert settings.production
    assert settings.host == "0.0.0.0"
    assert settings.idempotent_producer
    assert settings.dedup_dsn.startswith("postgresql://")
    # Production mode refuses a missing or short HMAC key and an empty key ring: the app
    # builds from the compose environment with the keys shaped as .env.example shows.
    scope = KeyRing.from_settings(settings).authenticate(SOURCE_KEY)
    assert scope is not None
    assert scope.name == "nansha-platform"
    create_ingest_app(settings)


def test_appraisal_runs_replicated_in_one_group_on_postgresql(
    compose: Compose, monkeypatch: pytest.MonkeyPatch
) -> None:
    replicated = [
        name for name, kind in _app_services(compose).items() if kind.module == "appraisal"
    ]
    assert sum(compose.replicas(name) for name in replicated) >= 2
    groups = set()
    for name in replicated:
        settings = _settings(monkeypatch, compose, name, APP_SERVICES["appraisal"])
        assert settings.store == "postgres"
        assert settings.host == "0.0.0.0"
        assert settings.idempotent_producer
        principal = TokenRegistry.from_json(settings.tokens_json()).lookup(BUREAU_TOKEN)
        assert principal is not None
        assert principal.may_read_county("440115")
        groups.add(settings.group_id)
        postgres = compose.services[settings.postgres_host]
        assert postgres["image"].startswith("postgres:")
    assert len(groups) == 1, "all appraisal instances must share one consumer group"


def test_the_database_roles_are_those_the_init_script_creates(compose: Compose) -> None:
    script = INITDB_SCRIPT.read_text(encoding="utf-8")
    defaults = dict(re.findall(r'^(\w+)="\$\{\1:-(\w+)\}"$', script, re.M))
    appraisal = compose.environment("appraisal")
    assert appraisal["APPRAISAL_POSTGRES_USER"] == defaults["APPRAISAL_DB_USER"]
    assert appraisal["APPRAISAL_POSTGRES_DBNAME"] == defaults["APPRAISAL_DB_NAME"]
    assert appraisal["APPRAISAL_POSTGRES_PASSWORD"] == compose.env["APPRAISAL_DB_PASSWORD"]
    dsn = urlsplit(compose.environment("ingest")["INGEST_DEDUP_DSN"])
    assert dsn.username == defaults["INGEST_DB_USER"]
    assert dsn.path == "/" + defaults["INGEST_DB_NAME"]
    assert dsn.password == compose.env["INGEST_DB_PASSWORD"]
    postgres = compose.environment("postgres")
    for variable in ("APPRAISAL_DB_PASSWORD", "INGEST_DB_PASSWORD"):
        assert postgres[variable] == compose.env[variable]
    mounted = [v for v in compose.services["postgres"]["volumes"] if "initdb" in v]
    assert mounted == ["./deploy/postgres/initdb:/docker-entrypoint-initdb.d:ro"]


def test_host_names_in_the_settings_are_compose_services(compose: Compose) -> None:
    services = compose.services
    kafka_listeners = {}
    for name in services:
        advertised = compose.environment(name).get("KAFKA_ADVERTISED_LISTENERS")
        if advertised is not None:
            kafka_listeners.update(dict.fromkeys(_hosts(_listener_hosts(advertised)), name))
    assert kafka_listeners
    for name, kind in _app_services(compose).items():
        env = compose.environment(name)
        for host, port in _hosts(env[f"{kind.prefix}KAFKA_BOOTSTRAP"]):
            assert (host, port) in kafka_listeners, f"{name}: {host}:{port} is no Kafka listener"
    databases = [
        _hosts(compose.environment("ingest")["INGEST_DEDUP_DSN"])[0],
        (
            compose.environment("appraisal")["APPRAISAL_POSTGRES_HOST"],
            int(compose.environment("appraisal")["APPRAISAL_POSTGRES_PORT"]),
        ),
    ]
    for host, port in databases:
        assert services[host]["image"].startswith("postgres:")
        assert port == 5432
    topic_job = compose.environment("kafka-topics")["KAFKA_BOOTSTRAP"]
    assert all(pair in kafka_listeners for pair in _hosts(topic_job))


def _listener_hosts(listeners: str) -> str:
    """`NAME://host:port,…` → `host:port,…` of the listeners other containers use."""
    return ",".join(
        item.split("://", 1)[1]
        for item in listeners.split(",")
        if not item.split("://", 1)[1].startswith("localhost")
    )


@pytest.mark.parametrize("service", ["ingest", "appraisal"])
def test_the_healthcheck_and_the_published_port_are_the_port_the_service_listens_on(
    compose: Compose, service: str
) -> None:
    kind = APP_SERVICES[service]
    port = compose.environment(service)[f"{kind.prefix}PORT"]
    check = " ".join(compose.services[service]["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}/readyz" in check
    published = [p.rsplit(":", 1)[-1] for p in compose.services[service].get("ports", [])]
    assert published == [port]


# --- every service ---------------------------------------------------------------------------


def test_every_image_is_pinned_to_an_explicit_version(compose: Compose) -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    for name, service in compose.services.items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository, f"{name}: {image} has no tag"
        assert "/" not in tag, f"{name}: {image} has no tag"
        assert PINNED_TAG.match(tag), f"{name}: {image} is not pinned to a version"
        if "build" in service:
            assert tag == version, f"{name}: our image is tagged {tag}, the project is {version}"


def test_every_long_running_service_has_a_healthcheck(compose: Compose) -> None:
    for name, service in compose.services.items():
        if compose.one_shot(name):
            continue
        assert service.get("restart") in ("unless-stopped", "always"), name
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} has its healthcheck disabled"
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        for key in ("interval", "timeout", "retries", "start_period"):
            assert key in check, f"{name}: healthcheck without {key}"


def test_dependencies_wait_for_health_or_for_the_one_shot_job_to_succeed(
    compose: Compose,
) -> None:
    services = compose.services
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on without conditions"
        for target, rule in depends.items():
            condition = rule["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits on {target}'s health"
            else:
                assert condition == "service_completed_successfully", (name, target)
                assert compose.one_shot(target), f"{target} is not a one-shot job"
    for name, kind in _app_services(compose).items():
        env = compose.environment(name)
        needed = {h for h, _ in _hosts(env[f"{kind.prefix}KAFKA_BOOTSTRAP"])}
        needed |= {"postgres"} | {n for n in services if n != name and compose.one_shot(n)}
        assert needed <= set(services[name]["depends_on"]), f"{name} starts too early"


def test_host_ports_do_not_clash(compose: Compose) -> None:
    bound: dict[int, list[tuple[str, str]]] = {}
    for name, service in compose.services.items():
        replicas = compose.replicas(name)
        if replicas > 1:
            assert "container_name" not in service, f"{name}: replicas cannot share a name"
        for mapping in service.get("ports", []):
            address, host_ports = _host_side(str(mapping))
            # Each replica takes its own host port from the range.
            assert len(host_ports) >= replicas, f"{name}: {replicas} replicas, {mapping}"
            for port in host_ports:
                bound.setdefault(port, []).append((address, name))
    for port, users in bound.items():
        addresses = [address for address, _ in users]
        clash = len(set(addresses)) < len(addresses) or (
            "0.0.0.0" in addresses and len(addresses) > 1
        )
        assert not clash, f"host port {port} is published by {users}"


def _host_side(mapping: str) -> tuple[str, list[int]]:
    """`[ip:]host[-host]:container` → (ip, host ports)."""
    parts = mapping.split(":")
    assert len(parts) in (2, 3), f"{mapping}: give host and container ports"
    address = parts[0] if len(parts) == 3 else "0.0.0.0"
    first, _, last = parts[-2].partition("-")
    return address, list(range(int(first), int(last or first) + 1))


def test_bind_mounts_name_files_of_the_repository(compose: Compose) -> None:
    for name, service in compose.services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name} mounts missing {source}"
                assert volume.endswith(":ro"), f"{name} mounts {source} writable"


def test_scripts_run_by_the_images_are_executable() -> None:
    for script in (TOPICS_SCRIPT, INITDB_SCRIPT):
        assert script.stat().st_mode & 0o111, f"{script.name} is not executable"
        assert script.read_text().startswith("#!/bin/bash\n")


# --- topics -------------------------------------------------------------------------------


def _script_topics() -> dict[str, tuple[int, int]]:
    lines = re.findall(
        r"^ensure_topic\s+(\S+)\s+(\d+)\s+(\d+)\s*$", TOPICS_SCRIPT.read_text(), re.M
    )
    return {name: (int(partitions), int(days)) for name, partitions, days in lines}


def test_the_topic_job_creates_every_topic_of_the_system() -> None:
    topics = _script_topics()
    assert {t.name: t.partitions for t in system_topics(12)} == {
        name: partitions for name, (partitions, _) in topics.items()
    }
    assert topics["advisor-events"][0] == 12


def test_retention_rebuilds_a_lagging_consumer_and_keeps_dead_letters_longer() -> None:
    topics = _script_topics()
    input_days = topics["advisor-events"][1]
    assert input_days >= 7, "the input topic must outlive a week of consumer outage"
    for dlq in ("ingest-dlq", "appraisal-dlq"):
        assert topics[dlq][1] > input_days, dlq


def test_the_services_use_the_topics_the_job_creates(compose: Compose) -> None:
    topics = set(_script_topics())
    for name, kind in _app_services(compose).items():
        for key, value in compose.environment(name).items():
            if key.startswith(kind.prefix) and key.endswith("TOPIC"):
                assert value in topics, f"{name}: {key}={value} is not created"


# --- secrets and the env file ------------------------------------------------------------


def test_every_interpolated_variable_is_in_the_example_env_file(compose: Compose) -> None:
    referenced = referenced_variables(compose.raw)
    example = read_env_file(ENV_EXAMPLE)
    undocumented = {n for n, op in referenced.items() if n not in example and op not in (":-", "-")}
    assert undocumented == set()
    assert set(example) - set(referenced) == set(), ".env.example has unused variables"


def test_secrets_come_from_the_env_file_and_are_required(compose: Compose) -> None:
    referenced = referenced_variables(compose.raw)
    for secret in SECRETS:
        assert referenced.get(secret) == ":?", f"{secret} must be ${{{secret}:?…}}"


def test_the_example_env_file_holds_no_secret() -> None:
    example = read_env_file(ENV_EXAMPLE)
    for secret in SECRETS:
        assert example[secret] == "", f"{secret} has a value in .env.example"
    for key, value in example.items():
        assert not re.search(r"[0-9a-f]{32}|[A-Za-z0-9_-]{24}", value), key


def test_compose_refuses_to_start_while_a_secret_is_missing() -> None:
    for secret in SECRETS:
        env = {**operator_env(), secret: ""}
        with pytest.raises(MissingVariableError, match=secret):
            load_compose(env)


def test_no_secret_is_written_into_the_compose_file(compose: Compose) -> None:
    for name in compose.services:
        raw = compose.raw["services"][name].get("environment") or {}
        for key, value in raw.items():
            if re.search(r"PASSWORD|HMAC|API_KEYS|TOKENS", key):
                assert "${" in str(value), f"{name}: {key} is written in the file"


# --- the real docker compose, where installed ---------------------------------------------


def _compose_cli() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    return None


def test_docker_compose_accepts_the_file_and_agrees_on_the_environment(
    compose: Compose, tmp_path: Path
) -> None:
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no docker compose CLI here (the static checks above still ran)")
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}='{v}'\n" for k, v in compose.env.items()))
    done = subprocess.run(
        [*cli, "--project-directory", str(REPO), "--env-file", str(env_file), "-f",
         str(COMPOSE_FILE), "config", "--format", "json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    resolved: dict[str, Any] = json.loads(done.stdout)
    for name in compose.services:
        theirs = {
            k: str(v) for k, v in (resolved["services"][name].get("environment") or {}).items()
        }
        assert theirs == compose.environment(name), name
