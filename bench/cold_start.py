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
- CPU time: the process's user + system time (getrusage of the child) decides the budget; the
  wall time is shown beside it. On a machine shared with other jobs the wall time also counts
  the time the process waited for a CPU; on a Lambda's own vCPU, with files in the page cache,
  the two are close.

Budget (DESIGN.md): polyfn + polyfn_aws at most 10 ms over the raw handler.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
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

POLYFN_IMPORT = "import polyfn, polyfn_aws\n"
POLYFN_APP = """
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
"""
POLYFN_BUILD = "handler = polyfn_aws.handler(app)\n"
POLYFN_SERVE = """
out = handler(event, context)
assert out["statusCode"] == 200, out
"""

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
    POLYFN: PRELUDE + POLYFN_IMPORT + POLYFN_APP + POLYFN_BUILD + POLYFN_SERVE,
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


def _env() -> dict[str, str]:
    """This environment, with bytecode caching back on (see the module docstring)."""
    return {
        k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")
    }


def run_once(script: Path, event_file: Path, env: dict[str, str]) -> tuple[float, float]:
    """CPU time (user + system) and wall time, in ms, of one fresh process running `script`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-S", str(script), str(event_file)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return cpu * 1000, wall * 1000


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
        cpu: dict[str, list[float]] = {name: [] for name in scripts}
        wall: dict[str, list[float]] = {name: [] for name in scripts}
        names = list(scripts)
        for r in range(runs):
            # Interleaved, in a rotating order, so drift in the load hits all variants alike.
            for name in names[r % len(names) :] + names[: r % len(names)]:
                c, w = run_once(scripts[name], event_file, env)
                cpu[name].append(c)
                wall[name].append(w)
    t, tw = Timings(cpu), Timings(wall)
    rows = [
        [
            name,
            f"{t.median(name):.1f}",
            t.spread(name),
            f"{t.diff(name, BARE):+.1f}",
            f"{t.diff(name, RAW):+.1f}",
            f"{tw.median(name):.1f}",
            f"{tw.diff(name, RAW):+.1f}",
        ]
        for name in names
    ]
    over, over_wall = t.diff(POLYFN, RAW), tw.diff(POLYFN, RAW)
    columns = [
        "process",
        "CPU ms",
        "IQR",
        "vs bare python",
        "vs raw handler",
        "wall ms",
        "wall vs raw",
    ]
    return "\n".join(
        [
            f"### AWS cold start: a fresh `python -S` process, {runs} interleaved runs each",
            "",
            "Medians of the process's CPU time (user + system; the wall time beside it also counts "
            "waiting for a CPU on a shared machine).",
            "",
            table(columns, rows),
            "",
            f"Budget: polyfn + polyfn_aws over the raw handler = {over:+.1f} ms CPU "
            f"({over_wall:+.1f} ms wall) (at most 10 ms): {verdict(over <= 10)}",
        ]
    )


def _row(t: Timings, name: str) -> list[str]:
    return [name, f"{t.median(name):.2f}", t.spread(name)]


PHASES = ["import polyfn, polyfn_aws", "define the 4-function app", "polyfn_aws.handler(app)",
          "serve the first event"]  # fmt: skip


def breakdown(runs: int) -> str:
    """Where the polyfn process spends its CPU beyond the raw handler's: per phase, and per
    module it imports that the raw handler's process does not (-X importtime self time)."""
    mark = "_t.append(_time.process_time())\n"
    code = (
        f"import sys\nsys.path[:0] = {CODE_PATHS!r}\n"
        + PRELUDE
        + "import time as _time\n_before = set(sys.modules)\n_t = [_time.process_time()]\n"
        + POLYFN_IMPORT + mark + POLYFN_APP + mark + POLYFN_BUILD + mark + POLYFN_SERVE + mark
        + "print(json.dumps([[b - a for a, b in zip(_t, _t[1:])], "
        + "sorted(set(sys.modules) - _before)]))\n"
    )  # fmt: skip
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")
    }
    phases: dict[str, list[float]] = {name: [] for name in PHASES}
    modules: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        event_file, script = Path(tmp) / "event.json", Path(tmp) / "breakdown.py"
        event_file.write_text(json.dumps(EVENT))
        script.write_text(code)
        for _ in range(runs + 1):  # the first run writes the bytecode caches
            done = subprocess.run(
                [sys.executable, "-S", "-X", "importtime", str(script), str(event_file)],
                check=True, env=env, capture_output=True, text=True,
            )  # fmt: skip
            times, loaded = json.loads(done.stdout)
            for name, took in zip(PHASES, times, strict=True):
                phases[name].append(took * 1000)
            for line in done.stderr.splitlines()[1:]:
                # "import time: <self us> | <cumulative us> | <indented module name>"
                head, _, name = line.split("|")
                name = name.strip()
                if name in loaded:
                    modules.setdefault(name, []).append(int(head.split(":")[1]) / 1000)
    t = Timings({k: v[1:] for k, v in phases.items()})
    m = Timings({k: v[1:] for k, v in modules.items() if len(v) > runs // 2})
    by_cost = sorted(m.samples, key=m.median, reverse=True)
    return "\n".join(
        [
            f"### polyfn cold start, phase by phase ({runs} runs, medians of CPU ms)",
            "",
            table(["phase", "CPU ms", "IQR"], [_row(t, n) for n in PHASES]),
            "",
            "Modules the polyfn process imports that the raw handler's does not (self time under "
            "-X importtime, which inflates it):",
            "",
            table(["module", "self ms", "IQR"], [_row(m, n) for n in by_cost]),
        ]
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_COLD_RUNS", "40")))
    parser.add_argument(
        "--breakdown", action="store_true", help="per phase and per module, polyfn's process only"
    )
    args = parser.parse_args(argv)
    print(breakdown(args.runs) if args.breakdown else bench(args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
