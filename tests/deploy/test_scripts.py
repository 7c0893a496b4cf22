"""The scripts the stack runs: topic creation (against a fake Kafka CLI) and database roles.

The Kafka command-line tools need Java and a broker, which this machine lacks: the
topic script runs against stand-ins that keep the topics' state in files, which is
enough to see what it asks Kafka for, and that a second run changes nothing.
The PostgreSQL init script runs for real against the local server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.conftest import PostgresServer
from tests.deploy.support import INITDB_SCRIPT, TOPICS_SCRIPT

FAKE_KAFKA_CLI = """\
#!{python}
# A stand-in for {tool}: records its arguments; topics are files holding partition counts.
import json, os, pathlib, sys
state = pathlib.Path(os.environ["FAKE_KAFKA_STATE"])
args = sys.argv[1:]
with open(state / "calls.jsonl", "a") as log:
    log.write(json.dumps(["{tool}", *args]) + "\\n")
if os.environ.get("FAKE_KAFKA_FAIL") == "{tool}":
    sys.exit("broker unreachable")
def value(flag):
    return args[args.index(flag) + 1]
if "{tool}" == "kafka-topics.sh":
    topic = state / ("topic-" + value("--topic"))
    if "--create" in args and not topic.exists():
        topic.write_text(value("--partitions"))
    elif "--alter" in args:
        topic.write_text(value("--partitions"))
    elif "--describe" in args:
        print(f"Topic: {{value('--topic')}}\\tTopicId: x\\tPartitionCount: {{topic.read_text()}}"
              "\\tReplicationFactor: 1\\tConfigs: ")
        print(f"\\tTopic: {{value('--topic')}}\\tPartition: 0\\tLeader: 1")
"""


@dataclass
class FakeKafka:
    state: Path
    bin: Path

    def run(self, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(TOPICS_SCRIPT)],
            env={
                **os.environ,
                "KAFKA_BIN": str(self.bin),
                "FAKE_KAFKA_STATE": str(self.state),
                "KAFKA_BOOTSTRAP": "kafka:9092",
                **env,
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def calls(self) -> list[list[str]]:
        log = self.state / "calls.jsonl"
        if not log.exists():
            return []
        calls = [json.loads(line) for line in log.read_text().splitlines()]
        log.unlink()
        return calls

    def partitions(self) -> dict[str, int]:
        return {
            p.name.removeprefix("topic-"): int(p.read_text()) for p in self.state.glob("topic-*")
        }


@pytest.fixture
def fake_kafka(tmp_path: Path) -> FakeKafka:
    state, bin_dir = tmp_path / "state", tmp_path / "bin"
    state.mkdir()
    bin_dir.mkdir()
    for tool in ("kafka-topics.sh", "kafka-configs.sh"):
        script = bin_dir / tool
        script.write_text(FAKE_KAFKA_CLI.format(python=sys.executable, tool=tool))
        script.chmod(0o755)
    return FakeKafka(state, bin_dir)


def _value(call: list[str], flag: str) -> str:
    return call[call.index(flag) + 1]


def _configs(call: list[str]) -> dict[str, str]:
    pairs = [call[i + 1] for i, a in enumerate(call) if a in ("--config", "--add-config")]
    return dict(item.split("=", 1) for pair in pairs for item in pair.split(","))


DAY_MS = 86_400_000


@pytest.mark.unit
def test_the_topic_job_creates_each_topic_with_its_partitions_and_retention(
    fake_kafka: FakeKafka,
) -> None:
    done = fake_kafka.run()
    assert done.returncode == 0, done.stderr
    creates = [c for c in fake_kafka.calls() if "--create" in c]
    created = {_value(c, "--topic"): (int(_value(c, "--partitions")), _configs(c)) for c in creates}
    assert {name: p for name, (p, _) in created.items()} == {
        "advisor-events": 12,
        "appraisal-verdicts": 3,
        "ingest-dlq": 1,
        "appraisal-dlq": 1,
    }
    days = {name: int(c["retention.ms"]) / DAY_MS for name, (_, c) in created.items()}
    assert days == {
        "advisor-events": 30,
        "appraisal-verdicts": 90,
        "ingest-dlq": 180,
        "appraisal-dlq": 180,
    }
    for call in creates:
        assert "--if-not-exists" in call
        assert _value(call, "--bootstrap-server") == "kafka:9092"
        assert _value(call, "--replication-factor") == "1"
        assert _configs(call)["cleanup.policy"] == "delete"


@pytest.mark.unit
def test_running_the_topic_job_again_reapplies_retention_and_grows_partitions(
    fake_kafka: FakeKafka,
) -> None:
    assert fake_kafka.run().returncode == 0
    fake_kafka.calls()
    (fake_kafka.state / "topic-advisor-events").write_text("6")  # created by an older file

    again = fake_kafka.run()
    assert again.returncode == 0, again.stderr
    calls = fake_kafka.calls()
    retention = {
        _value(c, "--entity-name"): int(_configs(c)["retention.ms"]) // DAY_MS
        for c in calls
        if c[0] == "kafka-configs.sh"
    }
    assert retention["advisor-events"] == 30
    assert len(retention) == 4
    alters = [c for c in calls if c[0] == "kafka-topics.sh" and "--alter" in c]
    assert [(_value(c, "--topic"), _value(c, "--partitions")) for c in alters] == [
        ("advisor-events", "12")
    ]
    assert fake_kafka.partitions()["advisor-events"] == 12


@pytest.mark.unit
def test_the_topic_job_never_lowers_partitions_and_says_so(fake_kafka: FakeKafka) -> None:
    assert fake_kafka.run().returncode == 0
    (fake_kafka.state / "topic-ingest-dlq").write_text("4")
    done = fake_kafka.run()
    assert done.returncode == 0
    assert "ingest-dlq has 4 partitions, more than the 1 wanted" in done.stderr
    assert fake_kafka.partitions()["ingest-dlq"] == 4


@pytest.mark.unit
@pytest.mark.parametrize("tool", ["kafka-topics.sh", "kafka-configs.sh"])
def test_the_topic_job_fails_when_kafka_does(fake_kafka: FakeKafka, tool: str) -> None:
    done = fake_kafka.run(FAKE_KAFKA_FAIL=tool)
    assert done.returncode != 0
    assert "ready" not in done.stdout


@pytest.mark.unit
def test_a_replicated_cluster_gets_min_insync_replicas_below_the_replication_factor(
    fake_kafka: FakeKafka,
) -> None:
    assert fake_kafka.run(REPLICATION_FACTOR="3").returncode == 0
    for call in (c for c in fake_kafka.calls() if "--create" in c):
        assert _value(call, "--replication-factor") == "3"
        assert _configs(call)["min.insync.replicas"] == "2"


@pytest.mark.unit
@pytest.mark.parametrize("script", [TOPICS_SCRIPT, INITDB_SCRIPT], ids=lambda p: p.name)
def test_the_scripts_pass_bash_and_shellcheck(script: Path) -> None:
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (bash -n passed)")
    done = subprocess.run([shellcheck, str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


# --- PostgreSQL ------------------------------------------------------------------------


@dataclass
class Roles:
    server: PostgresServer
    names: dict[str, str]


@pytest.fixture
def initdb_roles(postgres_server: PostgresServer) -> Iterator[Roles]:
    """Unique role and database names for one run of the init script; dropped after."""
    tag = uuid.uuid4().hex[:8]
    names = {
        "APPRAISAL_DB_USER": f"appraisal_{tag}",
        "APPRAISAL_DB_NAME": f"appraisal_{tag}",
        "INGEST_DB_USER": f"ingest_{tag}",
        "INGEST_DB_NAME": f"ingest_{tag}",
    }
    yield Roles(postgres_server, names)
    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as conn:
        for key in ("APPRAISAL_DB_NAME", "INGEST_DB_NAME"):
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(names[key])
                )
            )
        for key in ("APPRAISAL_DB_USER", "INGEST_DB_USER"):
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(names[key])))


def _connect(server: PostgresServer, user: str, dbname: str) -> psycopg.Connection[Any]:
    info = psycopg.conninfo.make_conninfo(
        server.conninfo(), user=user, dbname=dbname, password="x'; DROP ROLE postgres; --"
    )
    return psycopg.connect(info, autocommit=True)


@pytest.mark.integration
@pytest.mark.postgres
def test_the_init_script_gives_each_service_its_own_role_and_database(
    initdb_roles: Roles,
) -> None:
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed")
    server, names = initdb_roles.server, initdb_roles.names
    # A password with quotes: psql's :'variable' quoting must keep it a literal.
    password = "x'; DROP ROLE postgres; --"
    done = subprocess.run(
        ["bash", str(INITDB_SCRIPT)],
        env={
            **os.environ,
            **names,
            "PGHOST": server.host,
            "PGPORT": str(server.port),
            "PGPASSWORD": server.password,
            "POSTGRES_USER": server.user,
            "POSTGRES_DB": server.dbname,
            "APPRAISAL_DB_PASSWORD": password,
            "INGEST_DB_PASSWORD": password,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with psycopg.connect(server.conninfo(), autocommit=True) as admin:
        row = admin.execute(
            "SELECT rolpassword IS NOT NULL, rolsuper, rolcreatedb FROM pg_authid "
            "WHERE rolname = %s",
            [names["APPRAISAL_DB_USER"]],
        ).fetchone()
        assert row == (True, False, False)
        assert admin.execute("SELECT 1 FROM pg_roles WHERE rolname = 'postgres'").fetchone()
    # Each role owns its database and can create the tables its service creates there.
    for role, db in (
        ("APPRAISAL_DB_USER", "APPRAISAL_DB_NAME"),
        ("INGEST_DB_USER", "INGEST_DB_NAME"),
    ):
        with _connect(server, names[role], names[db]) as conn:
            conn.execute("CREATE TABLE t (id int)")
    # Neither may connect to the other's database.
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        _connect(server, names["INGEST_DB_USER"], names["APPRAISAL_DB_NAME"])
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        _connect(server, names["APPRAISAL_DB_USER"], names["INGEST_DB_NAME"])
