"""Deploying and serving native handlers: `polyfn package` for one cloud puts the adapter whose
native handlers the app wraps into the zip as well, and `polyfn serve` runs them over HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from polyfn._cli import main

ROOT = Path(__file__).resolve().parents[2]
SERVE = [sys.executable, "-m", "polyfn._cli", "serve", "tests.native.app:app", "--port", "0"]

LAMBDA_APP = """\
import polyfn_aws
from polyfn import App

def lambda_handler(event, context):
    return {"statusCode": 200, "body": event["path"]}

app = App("moved")
app.http("/{path+}")(polyfn_aws.from_lambda(lambda_handler, event="rest"))
"""


def test_a_gcp_zip_of_lambda_handlers_holds_polyfn_aws(tmp_path: Path) -> None:
    (tmp_path / "moved.py").write_text(LAMBDA_APP)
    out = tmp_path / "gcp.zip"
    assert (
        main(["package", str(tmp_path / "moved.py"), "--provider", "gcp", "--out", str(out)]) == 0
    )
    names = zipfile.ZipFile(out).namelist()
    assert "polyfn_aws/_native.py" in names
    assert "polyfn_gcp/_http.py" in names
    assert "polyfn_azure/__init__.py" not in names


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("native-serve")
    stdout = tmp / "serve.out"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    with stdout.open("wb") as out:
        proc = subprocess.Popen(
            [*SERVE, "--state-dir", str(tmp / "state")],
            stdout=out,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=ROOT,
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            match = re.search(r"on (http://127\.0\.0\.1:\d+)", stdout.read_text())
            if match:
                break
            assert proc.poll() is None, "polyfn serve exited"
            time.sleep(0.05)
        else:
            raise AssertionError("polyfn serve printed no URL")
        yield match.group(1)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(15)


def test_powertools_resolver_and_flask_view_under_polyfn_serve(served: str) -> None:
    with urllib.request.urlopen(served + "/todos/42?tag=a&tag=b", timeout=10) as resp:
        assert resp.status == 200
        assert json.loads(resp.read())["tags"] == ["a", "b"]
    request = urllib.request.Request(
        served + "/hello",
        data=b'{"name": "Gus"}',
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.status == 201
        assert json.loads(resp.read()) == {"greeted": "Gus"}
        assert [c.split("=", 1)[0] for c in resp.headers.get_all("Set-Cookie")] == [
            "visited",
            "lang",
        ]
