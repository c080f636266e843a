"""Cold start: a fresh process that imports the library, builds the handler of a 4-function app
and serves one API Gateway HTTP API event, against the same process with a raw handler (both load
the event with json and use awslambdaric's LambdaContext). For reference: bare python, importing
polyfn + polyfn_aws alone, and the same event through aws-lambda-powertools' event handler and
through Mangum (import, build, serve).

How a process is started, and why:
- Bytecode cached. The environment sets PYTHONDONTWRITEBYTECODE=1; a deployed Lambda imports from
  .pyc after its first import (or from a zip/layer built with them), so the variable is removed for
  these processes, one warm-up run per variant writes the caches, and the script checks that the
  .pyc of polyfn and polyfn_aws exist before it measures.
- ``python -S`` with the code and the dependency directory put first on sys.path by the script:
  the venv's .pth files (setuptools' editable-install finders, a namespace-package hook) would run
  in every process and route polyfn's imports through an import hook, which a Lambda (code and
  dependencies in /var/task, no .pth processing there) does not have. Every variant, bare python
  included, starts the same way.
- Interleaved: each of `--runs` rounds starts every variant once, so drift in the machine's load
  hits all of them alike; the table gives the median wall time of the whole process, its
  interquartile range, and the paired median differences from the raw handler and bare python.

Budget (DESIGN.md): polyfn + polyfn_aws at most 10 ms over the raw handler.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import REPO, Timings, table, verdict  # noqa: E402

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

# Where a Lambda finds code and dependencies (/var/task): here the repository's packages and the
# venv's site-packages, put on sys.path by each script (the processes run with -S, see above).
CODE_PATHS = [str(REPO), str(REPO / "adapters" / "aws"), sysconfig.get_paths()["purelib"]]

PRELUDE = """
import json, sys
from awslambdaric.lambda_context import LambdaContext
event = json.load(open(sys.argv[1]))
context = LambdaContext("req-1", None, None, 4102444800000, "arn:aws:lambda:us-east-1:1:function:f")
"""

RAW = "raw handler"
POLYFN = "polyfn + polyfn_aws, 4-function app"
BARE = "bare python"

VARIANTS = {
    BARE: "",
    RAW: PRELUDE
    + """
def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"id": event["pathParameters"]["order_id"]})}
out = handler(event, context)
assert out["statusCode"] == 200
""",
    POLYFN: PRELUDE
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
    "import polyfn, polyfn_aws (only)": "import polyfn, polyfn_aws\n",
    "Powertools APIGatewayHttpResolver (import, build, serve)": PRELUDE
    + """
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
app = APIGatewayHttpResolver()

@app.get("/orders/<order_id>")
def get_order(order_id):
    return {"id": order_id}

out = app.resolve(event, context)
assert out["statusCode"] == 200, out
""",
    "import aws_lambda_powertools.event_handler (only)": (
        "import aws_lambda_powertools.event_handler\n"
    ),
    "Mangum + minimal ASGI app (import, build, serve)": PRELUDE
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
    "import mangum (only)": "import mangum\n",
}


def run_once(script: Path, event_file: Path, env: dict[str, str]) -> float:
    """Wall time (ms) of one fresh process running `script`."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-S", str(script), str(event_file)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return (time.perf_counter() - start) * 1000


def bytecode_cached(paths: list[str]) -> list[str]:
    """The polyfn and polyfn_aws modules that have no .pyc next to them (should be none)."""
    missing = []
    for root in (REPO / "polyfn", REPO / "adapters" / "aws" / "polyfn_aws"):
        for module in ("__init__", "_app", "_http", "_handler"):
            source = root / f"{module}.py"
            if source.exists() and not Path(importlib.util.cache_from_source(str(source))).exists():
                missing.append(str(source.relative_to(REPO)))
    return missing


def bench(runs: int) -> str:
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")
    }
    header = f"import sys\nsys.path[:0] = {CODE_PATHS!r}\n"
    with tempfile.TemporaryDirectory() as tmp:
        event_file = Path(tmp) / "event.json"
        event_file.write_text(json.dumps(EVENT))
        scripts: dict[str, Path] = {}
        for name, code in VARIANTS.items():
            path = Path(tmp) / f"v{len(scripts)}.py"
            path.write_text(header + code if code else "pass\n")
            scripts[name] = path
            run_once(path, event_file, env)  # warm-up: writes the .pyc files
        missing = bytecode_cached(CODE_PATHS)
        if missing:
            raise SystemExit(f"no bytecode cache written for {missing}: is the checkout writable?")
        samples: dict[str, list[float]] = {name: [] for name in scripts}
        names = list(scripts)
        for r in range(runs):
            # Interleaved, in a rotating order, so drift in the load hits all variants alike.
            for name in names[r % len(names) :] + names[: r % len(names)]:
                samples[name].append(run_once(scripts[name], event_file, env))
    t = Timings(samples)
    rows = [
        [
            name,
            f"{t.median(name):.1f}",
            t.spread(name),
            f"{t.diff(name, BARE):+.1f}",
            f"{t.diff(name, RAW):+.1f}",
        ]
        for name in names
    ]
    over = t.diff(POLYFN, RAW)
    return "\n".join(
        [
            f"### AWS cold start: a fresh `python -S` process, {runs} interleaved runs each",
            "",
            table(["process", "median ms", "IQR ms", "vs bare python", "vs raw handler"], rows),
            "",
            f"Budget: polyfn + polyfn_aws over the raw handler = {over:+.1f} ms (at most 10 ms): "
            f"{verdict(over <= 10)}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_COLD_RUNS", "40")))
    args = parser.parse_args(argv)
    print(bench(args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
