"""A fourth provider, registered only through entry points, works with no edit to the core.

tests/toy_provider holds the toy distribution as pip would install it: the package, a
conformance driver module and toy_polyfn-0.1.dist-info (METADATA, entry_points.txt). Putting
that folder on the path is all it takes for importlib.metadata, and so polyfn, to find it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TOY = Path(__file__).resolve().parents[1] / "toy_provider"

SHOP = """\
from polyfn import App

app = App("toyshop")


@app.http("/orders/{order_id}")
def get_order(req, ctx):
    return {"order": req.path_params["order_id"], "provider": ctx.provider}


@app.queue("orders")
def on_order(msg, ctx):
    if msg.json().get("fail"):
        raise RuntimeError("refused")
"""


def polyfn(*argv: str, cwd: Path, toy: bool = True) -> subprocess.CompletedProcess[str]:
    """`polyfn ARGV` in a fresh interpreter, with the toy distribution on the path or not."""
    env = dict(os.environ)
    paths = [str(cwd), *([str(TOY)] if toy else [])]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.pop("POLYFN_PROVIDER", None)
    code = "import sys; from polyfn._cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    (tmp_path / "toyshop.py").write_text(SHOP)
    return tmp_path


def test_build_writes_the_toy_artefacts_with_its_own_flag(shop: Path) -> None:
    done = polyfn(
        "build", "toyshop:app", "--provider", "toy", "--out", "out", "--toy-port", "9000",
        cwd=shop,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "toy: 2 functions of app 'toyshop' built into out" in done.stdout
    assert json.loads((shop / "out" / "toy.json").read_text())["port"] == 9000
    entry = (shop / "out" / "wsgi_app.py").read_text()
    assert "from toyshop import app as app" in entry and "application = wsgi(app)" in entry


def test_a_provider_flag_belongs_to_its_provider(shop: Path) -> None:
    done = polyfn(
        "build", "toyshop:app", "--provider", "aws", "--out", "o", "--toy-port", "1", cwd=shop
    )
    assert done.returncode == 2
    assert "unrecognized arguments: --toy-port" in done.stderr


def test_events_and_invoke_run_through_the_toy_runtime_entry(shop: Path) -> None:
    listed = polyfn("events", "toy", cwd=shop)
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ["http", "queue"]

    event = polyfn("events", "toy", "http", "--set", "path=/orders/42", cwd=shop)
    (shop / "http.json").write_text(event.stdout)
    done = polyfn(
        "invoke", "toyshop:app", "get_order", "--provider", "toy", "--event", "http.json", cwd=shop
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == 200
    assert json.loads(result["body"]) == {"order": "42", "provider": "toy"}

    failing = polyfn("events", "toy", "queue", "--set", 'body={"fail": true}', cwd=shop)
    (shop / "queue.json").write_text(failing.stdout)
    done = polyfn(
        "invoke", "toyshop:app", "on_order", "--provider", "toy", "--event", "queue.json", cwd=shop
    )
    assert done.returncode == 1, done.stderr  # the handler raised: the invocation failed
    assert json.loads(done.stdout)["status"] == 500

    # The toy's trigger_of tells a queue event from an HTTP one, as every provider's does.
    done = polyfn(
        "invoke", "toyshop:app", "get_order", "--provider", "toy", "--event", "queue.json", cwd=shop
    )
    assert done.returncode == 2
    assert "toy trigger 'queue'" in done.stderr


def test_conformance_runs_the_http_cases_on_the_toy_target(shop: Path) -> None:
    done = polyfn("conformance", "--target", "toy-*", "--json", cwd=shop)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    report = json.loads(done.stdout)
    assert {r["target"] for r in report["results"]} == {"toy-wsgi"}
    assert report["summary"]["failed"] == 0 and report["summary"]["passed"] >= 50


def test_deploy_asks_the_provider_and_lists_those_that_deploy(shop: Path) -> None:
    done = polyfn("deploy", "toyshop:app", "--provider", "toy", cwd=shop)
    assert done.returncode == 2
    err = " ".join(done.stderr.split())
    assert "polyfn deploys to aws and gcp itself; on toy, run `polyfn build toyshop:app" in err


def test_without_the_distribution_there_is_no_toy(shop: Path) -> None:
    done = polyfn("events", "toy", cwd=shop, toy=False)
    assert done.returncode == 2
    assert "invalid choice: 'toy' (choose from 'aws', 'azure', 'gcp')" in done.stderr
    listed = polyfn("build", "--help", cwd=shop)
    assert "{aws,azure,gcp,toy}" in listed.stdout and "toy: port the WSGI server" in listed.stdout


# Runs in a fresh interpreter: counts entry-point scans while polyfn and an adapter's runtime entry
# load and serve an invocation, then while a resource handle used outside any invocation finds
# its cloud from the environment.
SCANS = """
import importlib.metadata, json, os, sys, time

scans = []
real = importlib.metadata.entry_points


def counting(**kwargs):
    scans.append(kwargs.get("group"))
    return real(**kwargs)


importlib.metadata.entry_points = counting
import polyfn, polyfn_aws

app = polyfn.App("cold")


@app.http("/")
def home(req, ctx):
    return "ok"


handler = polyfn_aws.handler(app)
cold = len(scans)
from polyfn._resources import current_provider

os.environ.pop("POLYFN_PROVIDER", None)
os.environ[sys.argv[1]] = "1"
start = time.perf_counter()
where = current_provider()
print(json.dumps([cold, where, len(scans), time.perf_counter() - start]))
"""


@pytest.mark.parametrize(
    ("marker", "expected", "scans"),
    [
        # polyfn_aws registered itself when imported: no scan to find it.
        ("AWS_LAMBDA_FUNCTION_NAME", "aws", 0),
        # The toy is found through its entry point, on first use.
        ("TOY_POLYFN_HOST", "toy", 1),
        ("NO_CLOUD_HERE", "local", 1),
    ],
)
def test_providers_are_scanned_only_when_a_resource_needs_one(
    tmp_path: Path, marker: str, expected: str, scans: int
) -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in ("K_SERVICE", "FUNCTIONS_WORKER_RUNTIME")
    }
    env["PYTHONPATH"] = str(TOY)
    env.pop("AWS_LAMBDA_FUNCTION_NAME", None)
    done = subprocess.run(
        [sys.executable, "-c", SCANS, marker],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    )  # fmt: skip
    cold, where, count, _seconds = json.loads(done.stdout)
    assert cold == 0  # import polyfn and building the handler scan nothing
    assert where == expected
    assert count == scans
