"""Where polyfn's time goes in one warm invocation: cProfile over many calls of one scenario.

    python bench/hotspots.py aws-sqs [--top 15]

Scenarios: aws-http, aws-sqs, aws-s3, aws-schedule, azure-http, gcp-http, gcp-tick. Each runs the
same event as the benchmark tables. Printed per function: calls per invocation, its own time
(not its callees') per invocation under the profiler, its share of all own time, and that share
of the invocation's median time measured without the profiler. The profiler slows small,
frequent calls more than others, so the last column is an estimate; the shares rank the costs.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _apps import seen_box, shop_app  # noqa: E402
from _common import compare, load_event, table  # noqa: E402


def _aws(event: dict[str, Any], app: Any) -> Callable[[], object]:
    import polyfn_aws
    from awslambdaric.lambda_context import LambdaContext

    context = LambdaContext("req-1", None, None, 4102444800000, "arn:aws:lambda:us-east-1:1:f")
    return partial(polyfn_aws.handler(app), event, context)


def aws_http() -> Callable[[], object]:
    from cold_start import EVENT

    import polyfn

    app = polyfn.App("shop")

    @app.http("/orders/{order_id}", methods=["GET"])
    def get_order(req: polyfn.HttpRequest, ctx: polyfn.Context) -> dict[str, str]:
        return {"id": req.path_params["order_id"]}

    return _aws(json.loads(json.dumps(EVENT)), app)


def aws_sqs() -> Callable[[], object]:
    from aws_invoke import sqs_event

    import polyfn

    app = polyfn.App("worker")
    seen = seen_box()

    @app.queue("orders")
    def on_order(msg: polyfn.QueueMessage, ctx: polyfn.Context) -> None:
        seen.append(len(msg.body))

    return _aws(sqs_event(10), app)


def aws_s3() -> Callable[[], object]:
    return _aws(load_event("aws", "s3_put.json"), shop_app(seen_box()))


def aws_schedule() -> Callable[[], object]:
    return _aws(load_event("aws", "eventbridge_schedule.json"), shop_app(seen_box()))


def azure_http() -> Callable[[], object]:
    import polyfn_azure
    from _clouds import azure_call

    call = azure_call(
        polyfn_azure.function_app(shop_app(seen_box())), "get_order", "http_request.json"
    )
    return partial(call.call, call.decode())


def _gcp_http(method: str, path: str, headers: dict[str, str], body: bytes) -> Callable[[], object]:
    import flask
    from _clouds import environ, ff_app

    ff_app("polyfn_http", "http")
    targets = sys.modules["_gcp_targets"]
    env = environ(method, path, headers, body)

    def call() -> object:
        # A fresh request each time: werkzeug caches parsed parts (headers, args) on the object.
        # Building it shows up below as werkzeug's Request.__init__.
        return targets.polyfn_http(flask.Request(env()))

    return call


def gcp_http() -> Callable[[], object]:
    from azure_gcp import GCP_HEADERS, GCP_PATH

    return _gcp_http("GET", GCP_PATH, GCP_HEADERS, b"")


def gcp_tick() -> Callable[[], object]:
    from _clouds import load_gcp

    tick = load_gcp("scheduler_http.json")
    return _gcp_http(tick["method"], tick["path"], tick["headers"], tick["body"].encode())


SCENARIOS: dict[str, Callable[[], Callable[[], object]]] = {
    "aws-http": aws_http,
    "aws-sqs": aws_sqs,
    "aws-s3": aws_s3,
    "aws-schedule": aws_schedule,
    "azure-http": azure_http,
    "gcp-http": gcp_http,
    "gcp-tick": gcp_tick,
}


def _where(func: tuple[str, int, str]) -> str:
    """file:line(function), the path cut to the package (or "stdlib/") it belongs to."""
    import sysconfig

    path, line, name = func
    stdlib = sysconfig.get_paths()["stdlib"] + "/"
    for marker in ("/polyfn/", "/polyfn_aws/", "/polyfn_azure/", "/polyfn_gcp/"):
        if marker in path:
            path = marker[1:] + path.split(marker, 1)[1]
            break
    else:
        if "site-packages/" in path:
            path = path.split("site-packages/", 1)[1]
        elif path.startswith(stdlib):
            path = "stdlib/" + path[len(stdlib) :]
    return f"{path}:{line}({name})" if line else name


def profile(scenario: str, calls: int, top: int) -> str:
    fn = SCENARIOS[scenario]()
    median = compare({scenario: fn}, rounds=15).median(scenario)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        fn()
    prof.disable()
    stats: dict[Any, Any] = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    own_total = sum(entry[2] for entry in stats.values())
    ranked = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    rows = []
    for func, (_cc, ncalls, tottime, _cumtime, _callers) in ranked:
        share = tottime / own_total
        rows.append(
            [
                _where(func),
                f"{ncalls / calls:g}",
                f"{tottime / calls * 1e6:.2f}",
                f"{share:.1%}",
                f"{share * median:.2f}",
            ]
        )
    head = (
        f"#### {scenario}: {median:.2f} µs per invocation without the profiler "
        f"(median); {calls} invocations profiled"
    )
    columns = ["function", "calls/inv", "own µs/inv (profiled)", "share", "est. µs/inv"]
    # The same own time summed per file: builtins count where they are called from is not
    # known to pstats, so they form one group of their own.
    by_file: dict[str, float] = {}
    for func, entry in stats.items():
        where = _where(func).split(":", 1)[0] if func[1] else "builtins (C functions)"
        by_file[where] = by_file.get(where, 0.0) + entry[2]
    files = sorted(by_file.items(), key=lambda item: item[1], reverse=True)[:top]
    file_rows = [
        [name, f"{own / own_total:.1%}", f"{own / own_total * median:.2f}"] for name, own in files
    ]
    return "\n".join(
        [
            head,
            "",
            table(columns, rows),
            "",
            table(["file", "share", "est. µs/inv"], file_rows),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("scenario", nargs="+", choices=sorted(SCENARIOS))
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    print("\n\n".join(profile(s, args.calls, args.top) for s in args.scenario))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
