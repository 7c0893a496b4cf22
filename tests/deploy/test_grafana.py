"""Grafana: provisioning finds the datasource and the dashboard; the dashboard is whole."""

from __future__ import annotations

import re
from itertools import combinations
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.deploy.promql import names
from tests.deploy.support import (
    DASHBOARDS,
    GRAFANA,
    REPO,
    dashboard_files,
    load_compose,
    load_json,
    load_yaml,
)

pytestmark = pytest.mark.unit

PROVISIONING = GRAFANA / "provisioning"


def _datasources() -> list[dict[str, Any]]:
    found = []
    for path in sorted((PROVISIONING / "datasources").glob("*.yml")):
        found.extend(load_yaml(path)["datasources"])
    return found


def _grafana_mounts() -> dict[Path, str]:
    """Host path → container path of grafana's bind mounts."""
    compose = load_compose()
    mounts = {}
    for volume in compose.services["grafana"]["volumes"]:
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            mounts[(REPO / source).resolve()] = target
    return mounts


def _panels() -> list[tuple[str, dict[str, Any]]]:
    return [
        (path.name, panel)
        for path in dashboard_files()
        for panel in load_json(path)["panels"]
        if panel["type"] != "row"
    ]


def test_provisioning_is_mounted_where_grafana_reads_it() -> None:
    mounts = _grafana_mounts()
    assert mounts[PROVISIONING.resolve()] == "/etc/grafana/provisioning"
    [provider] = load_yaml(PROVISIONING / "dashboards" / "advisor-appraisal.yml")["providers"]
    assert provider["type"] == "file"
    assert mounts[DASHBOARDS.resolve()] == provider["options"]["path"]
    home = load_compose().environment("grafana")["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert Path(home).parent == Path(provider["options"]["path"])
    assert (DASHBOARDS / Path(home).name).is_file()


def test_the_datasource_is_the_compose_prometheus() -> None:
    [datasource] = _datasources()
    assert datasource["type"] == "prometheus"
    assert datasource["uid"]
    url = urlsplit(datasource["url"])
    services = load_compose().services
    assert url.hostname in services
    assert services[url.hostname]["image"].startswith("prom/prometheus:")
    assert f":{url.port}" in " ".join(services[url.hostname]["ports"])


def test_every_panel_queries_the_provisioned_datasource() -> None:
    uids = {d["uid"] for d in _datasources()}
    for name, panel in _panels():
        assert panel["datasource"]["uid"] in uids, (name, panel["title"])
        assert panel["targets"], (name, panel["title"])
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(set(ref_ids)) == len(ref_ids), (name, panel["title"])
        for target in panel["targets"]:
            assert target.get("datasource", panel["datasource"])["uid"] in uids
            assert target["expr"].strip(), (name, panel["title"])


def test_the_dashboard_is_laid_out_without_overlaps() -> None:
    for path in dashboard_files():
        dashboard = load_json(path)
        assert dashboard["uid"], path.name
        assert dashboard["title"], path.name
        panels = dashboard["panels"]
        ids = [p["id"] for p in panels]
        assert len(set(ids)) == len(ids), f"{path.name}: duplicate panel ids"
        boxes = []
        for panel in panels:
            grid = panel["gridPos"]
            assert grid["x"] >= 0, panel["title"]
            assert grid["x"] + grid["w"] <= 24, panel["title"]
            boxes.append((panel["title"], grid))
        for (a, p), (b, q) in combinations(boxes, 2):
            apart = (
                p["x"] + p["w"] <= q["x"]
                or q["x"] + q["w"] <= p["x"]
                or p["y"] + p["h"] <= q["y"]
                or q["y"] + q["h"] <= p["y"]
            )
            assert apart, f"{path.name}: panels {a!r} and {b!r} overlap"


def test_every_template_variable_a_query_uses_is_defined() -> None:
    for path in dashboard_files():
        dashboard = load_json(path)
        defined = {v["name"] for v in dashboard.get("templating", {}).get("list", [])}
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                used = set(re.findall(r"\$\{?(?!__)(\w+)", target["expr"]))
                assert used <= defined, (path.name, panel["title"], used - defined)


@pytest.mark.parametrize(
    ("view", "metric", "grouping"),
    [
        ("ingest rate", "ingest_events_received_total", set()),
        ("rejections by reason", "ingest_events_rejected_total", {"reason"}),
        ("consumer lag per partition", "appraisal_consumer_lag_messages", {"partition"}),
        ("apply latency percentiles", "appraisal_apply_duration_seconds_bucket", {"le"}),
        ("verdicts by county", "appraisal_verdicts_published_total", {"county_id"}),
        ("appraisal DLQ size", "appraisal_events_dead_lettered_total", set()),
        ("ingest DLQ size", "ingest_dead_letters_published_total", set()),
        ("replay drift", "appraisal_replay_drift_rows", set()),
        ("projection lag", "appraisal_projection_lag_notifications", set()),
    ],
)
def test_the_dashboard_shows(view: str, metric: str, grouping: set[str]) -> None:
    showing = []
    for _, panel in _panels():
        for target in panel["targets"]:
            found = names(target["expr"])
            if metric in found.metrics and grouping <= found.grouping:
                showing.append(panel["title"])
    assert showing, f"no panel shows {view} ({metric} by {sorted(grouping)})"


def test_apply_latency_is_shown_as_percentiles() -> None:
    quantiles = {
        target["expr"].split(",")[0]
        for _, panel in _panels()
        for target in panel["targets"]
        if "appraisal_apply_duration_seconds_bucket" in target["expr"]
    }
    assert {"histogram_quantile(0.5", "histogram_quantile(0.99"} <= quantiles
