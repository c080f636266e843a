"""`ctx.metrics`: refused at the call when CloudWatch would refuse it; EMF on AWS as Powertools
writes it and as the EMF specification bounds it; log lines elsewhere."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from typing import Any

import pytest
from polyfn_aws._context import to_context

from polyfn import Context, MetricError
from polyfn._metrics import EMF_MAX_METRICS, emf_entries


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda m: m.count("orders", unit="Things"), "unit 'Things'"),
        (lambda m: m.gauge("depth", float("nan")), "not a value CloudWatch stores"),
        (lambda m: m.gauge("depth", float("inf")), "not a value CloudWatch stores"),
        (lambda m: m.gauge("depth", 1e200), "not a value CloudWatch stores"),
        (lambda m: m.gauge("depth", "3"), "must be an int or float"),
        (lambda m: m.gauge("depth", True), "must be an int or float"),
        (lambda m: m.count(""), "metric ''"),
        (lambda m: m.count("x" * 256), "1 to 255"),
        (lambda m: m.count(":orders"), "not starting with ':'"),
        (lambda m: m.count("orders", **{f"d{i}": "v" for i in range(31)}), "at most 30"),
        (lambda m: m.count("orders", region=""), "dimension region=''"),
        (lambda m: m.count("orders", region=3), "dimension region=3"),
    ],
)
def test_what_the_cloud_rejects_is_refused_at_the_call(call: Any, says: str) -> None:
    metrics = Context("aws", "f", "i").metrics
    with pytest.raises(MetricError, match=says.replace("(", r"\(").replace("'", "'")):
        call(metrics)
    assert metrics.pending == []


def test_thirty_dimensions_are_taken() -> None:
    metrics = Context("aws", "f", "i").metrics
    metrics.count("orders", **{f"d{i}": "v" for i in range(30)})
    assert len(metrics.pending) == 1


def test_emf_matches_powertools_for_the_same_metrics() -> None:
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    powertools = Metrics(namespace="shop", service="orders")
    powertools.add_metric(name="placed", unit=MetricUnit.Count, value=1)
    powertools.add_metric(name="placed", unit=MetricUnit.Count, value=2)
    powertools.add_metric(name="latency", unit=MetricUnit.Milliseconds, value=12.5)
    theirs = powertools.serialize_metric_set()

    ours = emf_entries(
        [
            ("placed", 1, "Count", "count", {"service": "orders"}),
            ("placed", 2, "Count", "count", {"service": "orders"}),
            ("latency", 12.5, "Milliseconds", "timing", {"service": "orders"}),
        ],
        "shop",
        timestamp_ms=theirs["_aws"]["Timestamp"],
    )
    assert len(ours) == 1
    assert ours[0] == theirs


def test_emf_chunks_at_100_metrics_and_100_values() -> None:
    pending = [(f"m{i}", 1.0, "Count", "count", {}) for i in range(EMF_MAX_METRICS + 5)]
    pending += [("m0", float(v), "Count", "count", {}) for v in range(150)]
    entries = emf_entries(pending, "ns", timestamp_ms=0)
    for entry in entries:
        directive = entry["_aws"]["CloudWatchMetrics"][0]
        assert len(directive["Metrics"]) <= EMF_MAX_METRICS
        for metric in directive["Metrics"]:
            assert 1 <= len(entry[metric["Name"]]) <= 100
    m0: list[float] = []
    for entry in entries:
        if "m0" in entry:
            m0 += entry["m0"]
    assert sorted(m0) == sorted([1.0] + [float(v) for v in range(150)])
    names = {m["Name"] for e in entries for m in e["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert len(names) == EMF_MAX_METRICS + 5


def test_dimension_sets_go_to_separate_documents() -> None:
    entries = emf_entries(
        [
            ("placed", 1, "Count", "count", {"region": "eu"}),
            ("placed", 1, "Count", "count", {"region": "us"}),
            ("placed", 1, "Count", "count", {}),
        ],
        "ns",
        timestamp_ms=0,
    )
    assert [e["_aws"]["CloudWatchMetrics"][0]["Dimensions"] for e in entries] == [
        [["region"]],
        [["region"]],
        [[]],
    ]
    assert [e.get("region") for e in entries] == ["eu", "us", None]


def test_aws_flushes_emf_once_when_the_invocation_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    from polyfn import App, HttpRequest

    monkeypatch.setenv("POLYFN_METRICS_NAMESPACE", "shop")
    app = App("shop")

    @app.http("/")
    def home(req: HttpRequest, ctx: Context) -> str:
        ctx.metrics.count("visits", region="eu")
        ctx.metrics.timing("render", 3.5, region="eu")
        return "hi"

    out = io.StringIO()
    with redirect_stdout(out):
        app.handle_http(HttpRequest("GET", "/"), to_context(None, "home", "req-1"))
    (line,) = out.getvalue().splitlines()
    entry = json.loads(line)
    directive = entry["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "shop" and directive["Dimensions"] == [["region"]]
    assert directive["Metrics"] == [
        {"Name": "visits", "Unit": "Count"},
        {"Name": "render", "Unit": "Milliseconds"},
    ]
    assert (entry["visits"], entry["render"], entry["region"]) == ([1], [3.5], "eu")


def test_elsewhere_each_datapoint_is_a_log_line_of_the_invocation(lines: Any) -> None:
    from polyfn import App, HttpRequest

    app = App("shop")

    @app.http("/")
    def home(req: HttpRequest, ctx: Context) -> str:
        ctx.metrics.gauge("queue_depth", 7, region="eu")
        return "hi"

    ctx = Context("local", "home", "req-2")
    app.handle_http(HttpRequest("GET", "/"), ctx)
    metric, closing = lines()[-2:]
    assert metric["metric"] == {
        "name": "queue_depth",
        "value": 7,
        "unit": "None",
        "kind": "gauge",
        "dimensions": {"region": "eu"},
    }
    assert metric["trace_id"] == closing["trace_id"] == ctx.trace.trace_id
    assert closing["message"] == "invocation finished"
