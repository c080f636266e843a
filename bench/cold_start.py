"""Cold start: a fresh process that imports the library, builds the handler and serves one
API Gateway HTTP API event, against the same process with a raw handler (both load the event
with json and use awslambdaric's LambdaContext). Also: bare `python -c pass`, and the imports of
aws-lambda-powertools' event handler and Mangum for reference.

Each variant runs `--runs` times, interleaved, after a warm-up run that writes bytecode caches;
the table gives the median wall time of the whole process and its difference from the raw
handler. Budget (DESIGN.md): polyfn + polyfn_aws at most 10 ms over the raw handler.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import table  # noqa: E402

EVENT = {
    "version": "2.0",
    "routeKey": "GET /orders/{order_id}",
    "rawPath": "/orders/42",
    "rawQueryString": "expand=items",
    "headers": {"accept": "application/json", "host": "abc.execute-api.us-east-1.amazonaws.com"},
    "queryStringParameters": {"expand": "items"},
    "pathParameters": {"order_id": "42"},
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "abc",
        "domainName": "abc.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "abc",
        "http": {
            "method": "GET",
            "path": "/orders/42",
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.9",
            "userAgent": "bench",
        },
        "requestId": "r-1",
        "routeKey": "GET /orders/{order_id}",
        "stage": "$default",
        "time": "27/Nov/2026:10:00:00 +0000",
        "timeEpoch": 1795773600000,
    },
    "isBase64Encoded": False,
}

PRELUDE = """
import json, sys
from awslambdaric.lambda_context import LambdaContext
event = json.load(open(sys.argv[1]))
context = LambdaContext("req-1", None, None, 4102444800000, "arn:aws:lambda:us-east-1:1:function:f")
"""

VARIANTS = {
    "bare python (-c pass)": None,
    "raw handler": PRELUDE
    + """
def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"id": event["pathParameters"]["order_id"]})}
out = handler(event, context)
assert out["statusCode"] == 200
""",
    "polyfn + polyfn_aws, 4-function app": PRELUDE
    + """
import polyfn, polyfn_aws
app = polyfn.App("shop")

@app.http("/orders", methods=["GET"])
def list_orders(req, ctx):
    return {"orders": []}

@app.http("/orders/{order_id}", methods=["GET"])
def get_order(req, ctx):
    return {"id": req.path_params["order_id"]}

@app.http("/orders/{order_id}", methods=["DELETE"])
def delete_order(req, ctx):
    return None

@app.queue("orders")
def on_order(msg, ctx):
    pass

handler = polyfn_aws.handler(app)
out = handler(event, context)
assert out["statusCode"] == 200, out
""",
    "aws-lambda-powertools APIGatewayHttpResolver": PRELUDE
    + """
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
app = APIGatewayHttpResolver()

@app.get("/orders/<order_id>")
def get_order(order_id):
    return {"id": order_id}

out = app.resolve(event, context)
assert out["statusCode"] == 200, out
""",
    "Mangum + minimal ASGI app": PRELUDE
    + """
from mangum import Mangum

async def asgi(scope, receive, send):
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"id": "42"}'})

handler = Mangum(asgi, lifespan="off")
out = handler(event, context)
assert out["statusCode"] == 200, out
""",
}


def run_once(script: Path | None, event_file: Path, env: dict[str, str]) -> float:
    cmd = [sys.executable, "-c", "pass"] if script is None else [sys.executable, str(script)]
    if script is not None:
        cmd.append(str(event_file))
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as tmp:
        event_file = Path(tmp) / "event.json"
        event_file.write_text(json.dumps(EVENT))
        scripts: dict[str, Path | None] = {}
        for name, code in VARIANTS.items():
            if code is None:
                scripts[name] = None
                continue
            path = Path(tmp) / f"v{len(scripts)}.py"
            path.write_text(code)
            scripts[name] = path
            run_once(path, event_file, env)  # warm-up: writes .pyc files
        times: dict[str, list[float]] = {name: [] for name in scripts}
        for _ in range(args.runs):
            for name, script in scripts.items():  # interleaved, so drift hits all alike
                times[name].append(run_once(script, event_file, env))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    raw = med["raw handler"]
    rows = [
        [name, f"{m:.1f}", f"{m - raw:+.1f}", f"{statistics.quantiles(times[name], n=4)[0]:.1f}"
         f"-{statistics.quantiles(times[name], n=4)[2]:.1f}"]
        for name, m in med.items()
    ]  # fmt: skip
    print(f"Cold start, {args.runs} runs each, python {sys.version.split()[0]}")
    print(table(["process", "median ms", "vs raw handler", "IQR ms"], rows))
    over = med["polyfn + polyfn_aws, 4-function app"] - raw
    verdict = "within" if over <= 10 else "OVER"
    print(f"\npolyfn cold-start overhead: {over:+.1f} ms ({verdict} the 10 ms budget)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
