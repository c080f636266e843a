"""Cold start as deployed: the zip that ``polyfn package --provider aws`` writes for a 4-function
app, unzipped read-only the way Lambda's /var/task holds it, and a fresh process that imports the
generated entry module (which builds the handler) and serves one API Gateway HTTP API event;
against the same process with a raw handler unzipped the same way (both load the event with json
and use awslambdaric's LambdaContext). For reference: bare python, importing polyfn + polyfn_aws
alone from the unzipped package, and the same event through aws-lambda-powertools' event handler
and through Mangum (import, build, serve; from the venv's site-packages).

How a process is started, and why:
- As Lambda loads a zip: the package is unzipped into a temporary folder whose files and folders
  are then made read-only, and every process runs with PYTHONDONTWRITEBYTECODE=1 (the benchmark
  may run as root, which permissions alone do not stop), so Python can only use the bytecode that
  is inside the zip and compiles everything else from source on every start, as a Lambda does in
  its read-only /var/task. The script checks that no process wrote a bytecode file.
- ``python -S`` with the unzipped folder first on sys.path, then the venv's site-packages (which
  stands for the Lambda runtime's own packages, such as awslambdaric): the venv's .pth files
  (setuptools' editable-install finders) would send polyfn's imports back to the checkout, which
  a Lambda does not have. A check run asserts that polyfn and polyfn_aws load from the unzipped
  folder. Every variant, bare python included, starts the same way.
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
import json
import os
import resource
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

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

# What stands for the Lambda runtime's own packages (awslambdaric, and the reference libraries):
# the venv's site-packages, after the unzipped task folder on sys.path (see the module docstring).
RUNTIME_PATH = sysconfig.get_paths()["purelib"]

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
# The app, as the user's module `shop_app.py` that `polyfn package` puts into the zip.
POLYFN_APP = """
import polyfn

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
# The raw handler, as the module `lambda_function.py` of a zip of its own.
RAW_HANDLER = """
import json

def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"id": event["pathParameters"]["order_id"]})}
"""
SERVE = """
out = handler(event, context)
assert out["statusCode"] == 200, out
"""

# The reference rows: (name, code run after PRELUDE, or alone when it has no "event").
REFERENCES = {
    "import polyfn, polyfn_aws (only)": "import polyfn, polyfn_aws\n",
    "Powertools APIGatewayHttpResolver (import, build, serve)": """
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
    "Mangum + minimal ASGI app (import, build, serve)": """
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
    """This environment, with no bytecode writes (Lambda's /var/task is read-only)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _polyfn(*args: str, cwd: Path) -> None:
    """Run the polyfn command of this environment (as a user would, in a process of its own)."""
    subprocess.run(
        [sys.executable, "-m", "polyfn._cli", *args],
        check=True,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def _http_handler(template: dict[str, Any], route: str) -> str:
    """The Handler (``module.attribute``) of the Lambda function behind the HTTP API `route`, read
    from the template `polyfn build` wrote (so the benchmark follows how entries are named)."""
    resources = template["Resources"]
    # The app's HTTP routes share one Lambda behind the API's $default route unless a route's
    # settings split it off with a route key of its own.
    keys = [route, "$default"]
    routes = [
        r
        for key in keys
        for r in resources.values()
        if r["Type"] == "AWS::ApiGatewayV2::Route" and r["Properties"]["RouteKey"] == key
    ]
    for r in routes[:1]:
        # "Target": {"Fn::Join": ["/", ["integrations", {"Ref": <integration>}]]}
        integration = r["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
        function = resources[integration]["Properties"]["IntegrationUri"]["Fn::GetAtt"][0]
        return str(resources[function]["Properties"]["Handler"])
    raise SystemExit(f"no route {route!r} in the template polyfn build wrote")


def _read_only(folder: Path) -> None:
    for path in folder.rglob("*"):
        path.chmod(0o555 if path.is_dir() else 0o444)
    folder.chmod(0o555)


def _writable(folder: Path) -> None:
    """Undo `_read_only`, so the temporary folder can be removed."""
    folder.chmod(0o755)
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


# The task folders: the polyfn package as written, and two variants of it for comparison.
POLYFN_TASK, RAW_TASK = "task-polyfn", "task-raw"
NO_PYC_TASK, UNCHECKED_TASK = "task-polyfn-no-pyc", "task-polyfn-unchecked"
POLYFN_NO_PYC = "polyfn, the same zip without its .pyc"
POLYFN_UNCHECKED = "polyfn, the same zip with unchecked-hash .pyc"


def lambda_tasks(tmp: Path) -> tuple[dict[str, Path], str]:
    """Read-only task folders, as Lambda unzips a package: `polyfn package --provider aws` of the
    4-function app (as written; without its .pyc; with its .pyc marked unchecked-hash), and a zip
    of the raw handler. Returns the folders by name and the handler (``module.attribute``)."""
    src = tmp / "src"
    src.mkdir()
    (src / "shop_app.py").write_text(POLYFN_APP)
    polyfn_zip = tmp / "shop-aws.zip"
    _polyfn("package", "shop_app.py", "--provider", "aws", "--out", str(polyfn_zip), cwd=src)
    _polyfn("build", "shop_app.py", "--provider", "aws", "--out", str(tmp / "build"), cwd=src)
    template = json.loads((tmp / "build" / "template.json").read_text())
    handler = _http_handler(template, "GET /orders/{order_id}")
    raw_zip = tmp / "raw.zip"
    with zipfile.ZipFile(raw_zip, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("lambda_function.py", RAW_HANDLER)
    tasks = {}
    for name, package in (
        (POLYFN_TASK, polyfn_zip),
        (NO_PYC_TASK, polyfn_zip),
        (UNCHECKED_TASK, polyfn_zip),
        (RAW_TASK, raw_zip),
    ):
        with zipfile.ZipFile(package) as zf:
            zf.extractall(tmp / name)
        tasks[name] = tmp / name
    for pyc in tasks[NO_PYC_TASK].rglob("*.pyc"):
        pyc.unlink()
    for pyc in tasks[UNCHECKED_TASK].rglob("*.pyc"):
        data = pyc.read_bytes()  # PEP 552 flags, bytes 4-8: 0b01 hash-based, 0b10 check source
        pyc.write_bytes(data[:4] + (0b01).to_bytes(4, "little") + data[8:])
    for folder in tasks.values():
        _read_only(folder)
    return tasks, handler


def _bytecode_files(folder: Path) -> int:
    return sum(1 for _ in folder.rglob("*.pyc"))


def variants(tasks: dict[str, Path], handler: str) -> dict[str, str]:
    """Each variant's script: its task folder first on sys.path, then the runtime's packages."""
    module, _, attr = handler.rpartition(".")
    serve = PRELUDE + f"from {module} import {attr} as handler\n" + SERVE

    def on_path(task: str) -> str:
        return f"import sys\nsys.path[:0] = {[str(tasks[task]), RUNTIME_PATH]!r}\n"

    out = {
        BARE: "pass\n",
        RAW: on_path(RAW_TASK) + PRELUDE + "from lambda_function import handler\n" + SERVE,
        POLYFN: on_path(POLYFN_TASK) + serve,
        POLYFN_UNCHECKED: on_path(UNCHECKED_TASK) + serve,
        POLYFN_NO_PYC: on_path(NO_PYC_TASK) + serve,
    }
    for name, code in REFERENCES.items():
        out[name] = on_path(POLYFN_TASK) + (PRELUDE + code if "event" in code else code)
    return out


def check_loads_from_task(polyfn_task: Path, env: dict[str, str]) -> None:
    """polyfn and polyfn_aws must come from the unzipped package, not from the checkout."""
    code = (
        f"import sys\nsys.path[:0] = {[str(polyfn_task), RUNTIME_PATH]!r}\n"
        "import polyfn, polyfn_aws\nprint(polyfn.__file__, polyfn_aws.__file__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", code], check=True, env=env, capture_output=True, text=True
    )
    if not all(f.startswith(str(polyfn_task)) for f in done.stdout.split()):
        raise SystemExit(f"polyfn did not load from the unzipped package: {done.stdout.strip()}")


def bench(runs: int) -> str:
    env = _env()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        tasks, handler = lambda_tasks(tmp)
        try:
            shipped = {task: _bytecode_files(folder) for task, folder in tasks.items()}
            check_loads_from_task(tasks[POLYFN_TASK], env)
            event_file = tmp / "event.json"
            event_file.write_text(json.dumps(EVENT))
            scripts: dict[str, Path] = {}
            for label, code in variants(tasks, handler).items():
                path = tmp / f"v{len(scripts)}.py"
                path.write_text(code)
                scripts[label] = path
                run_once(path, event_file, env)  # warm-up: the page cache, not bytecode
            cpu: dict[str, list[float]] = {label: [] for label in scripts}
            wall: dict[str, list[float]] = {label: [] for label in scripts}
            names = list(scripts)
            for r in range(runs):
                # Interleaved, in a rotating order, so drift in the load hits all variants alike.
                for label in names[r % len(names) :] + names[: r % len(names)]:
                    c, w = run_once(scripts[label], event_file, env)
                    cpu[label].append(c)
                    wall[label].append(w)
            written = [t for t, folder in tasks.items() if _bytecode_files(folder) != shipped[t]]
            if written:
                raise SystemExit(f"bytecode files were written into {written}")
        finally:
            for folder in tasks.values():
                _writable(folder)
    t, tw = Timings(cpu), Timings(wall)
    rows = [
        [
            label,
            f"{t.median(label):.1f}",
            t.spread(label),
            f"{t.diff(label, BARE):+.1f}",
            f"{t.diff(label, RAW):+.1f}",
            f"{tw.median(label):.1f}",
            f"{tw.diff(label, RAW):+.1f}",
        ]
        for label in names
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
            f"### AWS cold start as deployed: a fresh `python -S` process, {runs} interleaved runs "
            "each",
            "",
            f"The `polyfn package --provider aws` zip ({shipped[POLYFN_TASK]} .pyc files inside) "
            "and a zip of "
            "the raw handler, each unzipped read-only, PYTHONDONTWRITEBYTECODE=1. Medians of the "
            "process's CPU time (user + system; the wall time beside it also counts waiting for a "
            "CPU on a shared machine).",
            "",
            table(columns, rows),
            "",
            f"Budget: polyfn + polyfn_aws over the raw handler = {over:+.1f} ms CPU "
            f"({over_wall:+.1f} ms wall) (at most 10 ms): {verdict(over <= 10)}",
        ]
    )


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


def _row(t: Timings, name: str) -> list[str]:
    return [name, f"{t.median(name):.2f}", t.spread(name)]


PHASES = ["import polyfn, polyfn_aws", "import the 4-function app",
          "import the entry module (polyfn_aws.handler)", "serve the first event"]  # fmt: skip


def breakdown(runs: int) -> str:
    """Where the polyfn process spends its CPU beyond the raw handler's: per phase, and per
    module it imports that the raw handler's process does not (-X importtime self time), run
    from the same read-only unzipped package as `bench`."""
    mark = "_t.append(_time.process_time())\n"
    env = _env()
    phases: dict[str, list[float]] = {name: [] for name in PHASES}
    modules: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        tasks, handler = lambda_tasks(tmp)
        polyfn_task = tasks[POLYFN_TASK]
        module, _, attr = handler.rpartition(".")
        code = (
            f"import sys\nsys.path[:0] = {[str(polyfn_task), RUNTIME_PATH]!r}\n"
            + PRELUDE
            + "import time as _time\n_before = set(sys.modules)\n_t = [_time.process_time()]\n"
            + POLYFN_IMPORT + mark + "from shop_app import app\n" + mark
            + f"from {module} import {attr} as handler\n" + mark + SERVE + mark
            + "print(json.dumps([[b - a for a, b in zip(_t, _t[1:])], "
            + "sorted(set(sys.modules) - _before)]))\n"
        )  # fmt: skip
        event_file, script = tmp / "event.json", tmp / "breakdown.py"
        event_file.write_text(json.dumps(EVENT))
        script.write_text(code)
        try:
            for _ in range(runs + 1):  # the first run fills the page cache
                done = subprocess.run(
                    [sys.executable, "-S", "-X", "importtime", str(script), str(event_file)],
                    check=True, env=env, capture_output=True, text=True,
                )  # fmt: skip
                times, loaded = json.loads(done.stdout)
                for phase, took in zip(PHASES, times, strict=True):
                    phases[phase].append(took * 1000)
                for line in done.stderr.splitlines()[1:]:
                    # "import time: <self us> | <cumulative us> | <indented module name>"; the
                    # invocation's own log lines share the stream.
                    if not line.startswith("import time:"):
                        continue
                    head, _, mod = line.split("|")
                    mod = mod.strip()
                    if mod in loaded:
                        modules.setdefault(mod, []).append(int(head.split(":")[1]) / 1000)
        finally:
            for folder in tasks.values():
                _writable(folder)
    t = Timings({k: v[1:] for k, v in phases.items()})
    m = Timings({k: v[1:] for k, v in modules.items() if len(v) > runs // 2})
    by_cost = sorted(m.samples, key=m.median, reverse=True)
    return "\n".join(
        [
            f"### polyfn cold start as deployed, phase by phase ({runs} runs, medians of CPU ms)",
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
