"""Observability costs (issue 10), in one process and the same rounds:

- one log line: ``ctx.log.info("order placed", extra={...})`` on an AWS invocation (Lambda's JSON
  shape, trace and cold start included) against aws-lambda-powertools' ``Logger.info`` of the
  same message and fields, with its Lambda context injected; both write to an in-memory stream.
  Budget: polyfn costs no more than Powertools.
- the closing line of an HTTP invocation (duration, status, method, path; written by the template
  in `polyfn._observe`) against Powertools' Logger writing the same fields.
- one metric datapoint: ``ctx.metrics.count(name, 1, region=...)``, recording only (the EMF
  flush is once per invocation, timed separately per 10 datapoints) against Powertools'
  ``Metrics.add_metric``. Budget: under 2 µs per datapoint.
"""

from __future__ import annotations

import io
import logging
import os
import sys
from pathlib import Path
from time import perf_counter

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import compare, fmt_us, table, verdict  # noqa: E402

METRIC_BUDGET_US = 2.0
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "orders")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "polyfn-bench")
os.environ.setdefault(
    "_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
)
os.environ.setdefault("AWS_LAMBDA_FUNCTION_NAME", "orders")


REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e812345678"


def lambda_context() -> object:
    """The context the Lambda runtime hands the handler (conformance's one emulation of it)."""
    from conformance.hosts.aws import lambda_context as runtime_context

    return runtime_context(REQUEST_ID, function="orders")


def main() -> None:
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools import Metrics as PowertoolsMetrics
    from polyfn_aws._context import to_context

    fields = {"order_id": "o-42", "amount": 12.5, "items": 3}
    sink = io.StringIO()

    powertools = Logger(service="orders", logger_handler=logging.StreamHandler(sink))
    powertools.append_keys(
        cold_start=False,
        function_name="orders",
        function_request_id=REQUEST_ID,
    )
    ctx = to_context(lambda_context(), "orders")
    log = ctx.log
    for handler in logging.getLogger("polyfn").handlers:
        handler.setStream(sink)  # type: ignore[attr-defined]

    def polyfn_line() -> None:
        log.info("order placed", extra=fields)

    def powertools_line() -> None:
        powertools.info("order placed", extra=fields)

    def reset() -> None:
        sink.seek(0)
        sink.truncate()

    from polyfn._observe import close_http

    class Request:
        method, path = "GET", "/orders/42"

    class Response:
        status = 200

    def polyfn_closing() -> None:
        ctx._trace = None  # each invocation reads its trace afresh
        close_http(ctx, perf_counter(), Request, Response)

    def powertools_closing() -> None:
        started = perf_counter()
        powertools.info(
            "invocation finished",
            extra={
                "duration_ms": round((perf_counter() - started) * 1000, 3),
                "status": 200,
                "method": "GET",
                "path": "/orders/42",
            },
        )

    lines = compare(
        {
            "polyfn ctx.log": polyfn_line,
            "powertools Logger": powertools_line,
            "polyfn closing": polyfn_closing,
            "powertools closing": powertools_closing,
        }
    )
    reset()
    poly, pt = lines.median("polyfn ctx.log"), lines.median("powertools Logger")
    closing, pt_closing = lines.median("polyfn closing"), lines.median("powertools closing")

    metrics = ctx.metrics
    pt_metrics = PowertoolsMetrics(namespace="polyfn-bench", service="orders")

    def polyfn_datapoint() -> None:
        metrics.count("orders_placed", 1, region="eu-west-1")
        if len(metrics.pending) > 1000:
            metrics.pending.clear()

    def powertools_datapoint() -> None:
        pt_metrics.add_metric(name="orders_placed", unit="Count", value=1)
        if len(pt_metrics.metric_set["orders_placed"]["Value"]) > 90:  # its limit is 100
            pt_metrics.clear_metrics()

    points = compare(
        {"polyfn count": polyfn_datapoint, "powertools add_metric": powertools_datapoint}
    )
    datapoint = points.median("polyfn count")

    print("### Observability: one log line and one metric datapoint (µs per call)")
    print()
    print(
        table(
            ["what", "polyfn", "aws-lambda-powertools", "budget", "verdict"],
            [
                [
                    "log line (AWS shape)",
                    fmt_us(poly),
                    fmt_us(pt),
                    "<= Powertools",
                    verdict(poly <= pt),
                ],
                [
                    "closing line of an HTTP invocation (AWS shape)",
                    fmt_us(closing),
                    fmt_us(pt_closing),
                    "<= Powertools",
                    verdict(closing <= pt_closing),
                ],
                [
                    "metric datapoint",
                    fmt_us(datapoint),
                    fmt_us(points.median("powertools add_metric")),
                    f"< {METRIC_BUDGET_US:g} µs",
                    verdict(datapoint < METRIC_BUDGET_US),
                ],
            ],
        )
    )
    reset()


if __name__ == "__main__":
    main()
