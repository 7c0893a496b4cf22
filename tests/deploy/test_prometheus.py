"""Prometheus: the scrape config, the alert rules and the dashboard's queries, by promtool."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.promql import grafana_to_promql, names
from tests.deploy.support import (
    ALERT_RULES,
    ALERT_TESTS,
    OPERATIONS_DOC,
    PROMETHEUS_CONFIG,
    REPO,
    dashboard_files,
    load_compose,
    load_json,
    load_yaml,
)

pytestmark = pytest.mark.unit


def _promtool(promtool: str, *args: str) -> str:
    done = subprocess.run([promtool, *args], cwd=REPO, capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"promtool {' '.join(args)} failed:\n{output}"
    return output


def _rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(ALERT_RULES)["groups"] for rule in group["rules"]]


def _alerts() -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for rule in _rules() if "alert" in rule}


def _metrics_behind(expr: str, recorded: dict[str, str]) -> set[str]:
    """The scraped metrics an expression reads, through recording rules."""
    found: set[str] = set()
    for metric in names(expr).metrics:
        found |= _metrics_behind(recorded[metric], recorded) if metric in recorded else {metric}
    return found


def test_promtool_accepts_the_scrape_config_and_the_rules_it_loads(promtool: str) -> None:
    output = _promtool(promtool, "check", "config", str(PROMETHEUS_CONFIG))
    assert "1 rule files found" in output


def test_promtool_accepts_the_alert_rules(promtool: str) -> None:
    _promtool(promtool, "check", "rules", str(ALERT_RULES))


def test_the_alerts_fire_and_stay_quiet_as_their_unit_tests_say(promtool: str) -> None:
    _promtool(promtool, "test", "rules", str(ALERT_TESTS))


def test_every_alert_is_seen_firing_in_a_unit_test() -> None:
    fired = {
        case["alertname"]
        for test in load_yaml(ALERT_TESTS)["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert set(_alerts()) - fired == set()


def test_the_dashboard_queries_are_valid_promql(promtool: str, tmp_path: Path) -> None:
    """Each dashboard query, Grafana's interval variables replaced, as a recording rule."""
    rules = []
    for path in dashboard_files():
        for panel in load_json(path)["panels"]:
            for target in panel.get("targets", []):
                rules.append(
                    {
                        "record": f"dashboard:panel{panel['id']}:{target['refId'].lower()}",
                        "expr": grafana_to_promql(target["expr"]),
                    }
                )
    assert rules
    rules_file = tmp_path / "dashboard-rules.yml"
    # JSON is YAML: promtool reads it as a rules file.
    rules_file.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))
    _promtool(promtool, "check", "rules", str(rules_file))


@pytest.mark.parametrize(
    ("concern", "metric"),
    [
        ("consumer lag growing", "appraisal_consumer_lag_messages"),
        ("appraisal DLQ growing", "appraisal_events_dead_lettered_total"),
        ("ingest DLQ growing", "ingest_dead_letters_published_total"),
        ("replay drift", "appraisal_replay_drift_rows"),
        ("a service down", "up"),
        ("ingest rejection-rate spike", "ingest_events_rejected_total"),
    ],
)
def test_an_alert_watches(concern: str, metric: str) -> None:
    recorded = {rule["record"]: rule["expr"] for rule in _rules() if "record" in rule}
    watching = [
        name
        for name, rule in _alerts().items()
        if metric in _metrics_behind(rule["expr"], recorded)
    ]
    assert watching, f"no alert for {concern} ({metric})"


def test_a_service_is_down_when_up_is_zero() -> None:
    exprs = [rule["expr"] for rule in _alerts().values()]
    assert any(re.search(r"\bup\{[^}]*\}\s*==\s*0\b", e) for e in exprs)


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    anchors = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", markdown, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


def test_every_alert_says_how_bad_it_is_and_where_its_runbook_is() -> None:
    anchors = _anchors(OPERATIONS_DOC.read_text(encoding="utf-8"))
    for name, rule in _alerts().items():
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        assert rule["annotations"]["summary"], name
        document, _, anchor = rule["annotations"]["runbook"].partition("#")
        assert document == "docs/operations.md", name
        assert anchor in anchors, f"{name}: no heading #{anchor} in docs/operations.md"


def test_prometheus_scrapes_every_replica_of_both_services() -> None:
    compose = load_compose()
    config = load_yaml(PROMETHEUS_CONFIG)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for service in ("ingest", "appraisal"):
        kind = compose.app_kind(service)
        assert kind is not None
        port = int(compose.environment(service)[f"{kind.prefix}PORT"])
        job = jobs[service]
        # Docker's DNS answers the service name with every replica: one target each.
        [discovery] = job["dns_sd_configs"]
        assert discovery["names"] == [service]
        assert (discovery["type"], discovery["port"]) == ("A", port)
        assert job.get("metrics_path", "/metrics") == "/metrics"
        assert "static_configs" not in job, "a static target would reach one replica only"


def test_the_rule_files_are_mounted_next_to_the_config() -> None:
    compose = load_compose()
    mounts = {
        target: (REPO / source).resolve()
        for source, target, *_ in (
            volume.split(":") for volume in compose.services["prometheus"]["volumes"]
        )
        if source.startswith("./")
    }
    config_target = next(t for t, s in mounts.items() if s == PROMETHEUS_CONFIG)
    assert f"--config.file={config_target}" in compose.services["prometheus"]["command"]
    for rule_file in load_yaml(PROMETHEUS_CONFIG)["rule_files"]:
        in_container = str(Path(config_target).parent / rule_file)
        assert in_container in mounts, f"{rule_file} is not mounted at {in_container}"
        assert mounts[in_container] == (PROMETHEUS_CONFIG.parent / rule_file).resolve()


def test_alerts_read_recording_rules_of_the_same_evaluation() -> None:
    """A recorded series an alert reads is recorded earlier in the alert's own group.

    Groups are evaluated concurrently; within a group, in order. Otherwise an alert
    sees the previous evaluation's value (and promtool's unit tests turn flaky).
    """
    groups = load_yaml(ALERT_RULES)["groups"]
    for group in groups:
        recorded_before: set[str] = set()
        recorded_elsewhere = {
            rule["record"]
            for other in groups
            if other is not group
            for rule in other["rules"]
            if "record" in rule
        }
        for rule in group["rules"]:
            used = names(rule["expr"]).metrics
            assert not used & recorded_elsewhere, rule.get("alert") or rule.get("record")
            if "alert" in rule:
                pending = {m for m in used if ":" in m} - recorded_before
                assert not pending, f"{rule['alert']} reads {pending} before they are recorded"
            else:
                recorded_before.add(rule["record"])
