"""The PromQL name reader the metric checks rely on: what counts as a metric, a label."""

from __future__ import annotations

import pytest

from tests.deploy.promql import (
    Selector,
    grafana_to_promql,
    grafana_variable_query,
    names,
    parse_exposition,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("expr", "selectors", "grouping"),
    [
        ("up", [Selector("up")], set()),
        ('up{job=~"ingest|appraisal"} == 0', [Selector("up", frozenset({"job"}))], set()),
        (
            "histogram_quantile(0.99, sum by (le) (rate(a_seconds_bucket[5m])))",
            [Selector("a_seconds_bucket")],
            {"le"},
        ),
        (
            "histogram_quantile(0.5, sum(rate(a_seconds_bucket{job='x'}[5m])) by (le, route))",
            [Selector("a_seconds_bucket", frozenset({"job"}))],
            {"le", "route"},
        ),
        (
            "sum without (instance) (rate(foo_total[5m] offset 1h)) > bool 3",
            [Selector("foo_total")],
            {"instance"},
        ),
        (
            "a_total / on (instance) group_left (county_id) b_info",
            [Selector("a_total"), Selector("b_info")],
            {"instance", "county_id"},
        ),
        (
            '{__name__="named_total", reason!=""}',
            [Selector("named_total", frozenset({"reason"}))],
            set(),
        ),
        ("max_over_time(x[5m:1m]) @ start() - -y", [Selector("x"), Selector("y")], set()),
        (
            "sum(a) and sum(b) or vector(0) unless count(c == 1) < 2",
            [Selector("a"), Selector("b"), Selector("c")],
            set(),
        ),
        (
            'label_replace(x, "dst", "$1", "src", "(.*)") # a comment with y_total',
            [Selector("x")],
            set(),
        ),
        ('absent(up{job="ingest"} == 1) + Inf * NaN', [Selector("up", frozenset({"job"}))], set()),
        (
            "ingest:events_rejected:ratio_rate10m > 2 * ingest:events_rejected:ratio_rate1d",
            [
                Selector("ingest:events_rejected:ratio_rate10m"),
                Selector("ingest:events_rejected:ratio_rate1d"),
            ],
            set(),
        ),
        (
            "deriv(sum(x)[15m:1m]) > 1e3 and topk(5, y) > 0x10",
            [Selector("x"), Selector("y")],
            set(),
        ),
    ],
)
def test_names_are_read_from_expressions(
    expr: str, selectors: list[Selector], grouping: set[str]
) -> None:
    found = names(expr)
    assert list(found.selectors) == selectors
    assert found.grouping == grouping


def test_grafana_variables_are_durations_and_values() -> None:
    expr = (
        'sum by (county_id, verdict) (increase(v_total{county_id=~"$county"}[$__range]))'
        " / rate(w_total[$__rate_interval])"
    )
    assert grafana_to_promql(expr).count("[6h]") == 1
    found = names(expr)
    assert found.metrics == {"v_total", "w_total"}
    assert found.grouping == {"county_id", "verdict"}
    query = grafana_variable_query("label_values(v_total, county_id)")
    assert query.metrics == {"v_total"}
    assert query.grouping == {"county_id"}


EXPOSITION = """\
# HELP ingest_events_received_total Events received, by type.
# TYPE ingest_events_received_total counter
ingest_events_received_total{type="activity.lecture.v1"} 1.0
# HELP ingest_events_received_created Events received, by type.
# TYPE ingest_events_received_created gauge
ingest_events_received_created{type="activity.lecture.v1"} 1.7e+09
# HELP ingest_publish_failures_total Requests answered 503.
# TYPE ingest_publish_failures_total counter
# HELP a_seconds Time.
# TYPE a_seconds histogram
a_seconds_bucket{le="+Inf"} 0.0
a_seconds_count 0.0
a_seconds_sum 0.0
# TYPE lag_messages gauge
lag_messages{partition="3"} 7.0
# TYPE om_events counter
om_events_total 1.0
"""


def test_an_exposition_offers_the_series_names_of_each_type() -> None:
    exposition = parse_exposition(EXPOSITION)
    offered = set(exposition.sample_names)
    assert {
        "ingest_events_received_total",
        "ingest_publish_failures_total",  # declared although no child exists yet
        "a_seconds_bucket",
        "a_seconds_sum",
        "a_seconds_count",
        "lag_messages",
        "om_events_total",  # OpenMetrics names the counter family without _total
    } <= offered
    for wrong in ("ingest_events_received", "a_seconds", "lag_messages_total", "om_events"):
        assert wrong not in offered, wrong
    received = exposition.family_of("ingest_events_received_total")
    assert received is not None
    assert (received.sampled, received.labels) == (True, {"type"})
    failures = exposition.family_of("ingest_publish_failures_total")
    assert failures is not None
    assert not failures.sampled
    assert exposition.suggestion("a_seconds") == (
        "a_seconds_bucket, a_seconds_count, a_seconds_created, a_seconds_sum"
    )
