"""A command whose optional dependencies are not installed says which extra to install, with the
exact pip command, and exits 2: never "unexpected ImportError"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.build import richapp

ROOT = Path(__file__).resolve().parents[2]
APP = str(Path(richapp.__file__).resolve())
EVENT = str(ROOT / "tests" / "events" / "aws" / "apigw_http_v2.json")

# Runs `polyfn ARGV...` in a Python where the top-level modules named in argv[1] cannot be
# imported: a meta-path finder in front of every other raises ModuleNotFoundError for them, as
# an environment without the package would.
WITHOUT = """
import sys

BLOCKED = set(sys.argv[1].split(","))


class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


for loaded in [m for m in sys.modules if m.split(".")[0] in BLOCKED]:
    del sys.modules[loaded]
sys.meta_path.insert(0, NotInstalled())
from polyfn._cli import main

sys.exit(main(sys.argv[2:]))
"""


def _polyfn_without(blocked: str, *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT, blocked, *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("blocked", "argv", "extra", "checkout", "names"),
    [
        (
            "google",
            ["build", APP, "--provider", "gcp", "--out", "out"],
            "polyfn-gcp[build]",
            "./adapters/gcp[build]",
            ["google-cloud-functions", "google-cloud-scheduler"],
        ),
        (
            "google",
            ["package", APP, "--provider", "gcp", "--out", "out"],
            "polyfn-gcp[build]",
            "./adapters/gcp[build]",
            ["google-cloud-functions", "google-cloud-scheduler"],
        ),
        (
            "google",
            ["deploy", APP, "--provider", "gcp", "--project", "p"],
            "polyfn-gcp[deploy]",
            "./adapters/gcp[deploy]",
            ["google-cloud-functions", "google-cloud-scheduler"],
        ),
        (
            "awslambdaric",
            ["invoke", APP, "get_order", "--provider", "aws", "--event", EVENT],
            "polyfn-aws[invoke]",
            "./adapters/aws[invoke]",
            ["awslambdaric"],
        ),
        (
            "boto3",
            ["deploy", APP, "--provider", "aws", "--region", "eu-west-1"],
            "polyfn-aws[deploy]",
            "./adapters/aws[deploy]",
            ["boto3"],
        ),
        (
            "aws_lambda_powertools",
            ["conformance", "--target", "aws-*"],
            "polyfn[conformance]",
            ".[conformance]",
            ["aws-lambda-powertools[parser]"],
        ),
        (
            "functions_framework",
            ["conformance"],
            "polyfn[conformance]",
            ".[conformance]",
            ["polyfn-gcp"],
        ),
    ],
)
def test_a_missing_extra_names_the_pip_install(
    tmp_path: Path, blocked: str, argv: list[str], extra: str, checkout: str, names: list[str]
) -> None:
    done = _polyfn_without(blocked, *argv, cwd=tmp_path)
    err = " ".join(done.stderr.split())  # one paragraph, wrapped: compare without the wrapping
    assert done.returncode == 2, done.stderr
    assert err.startswith("polyfn: error: `polyfn ")
    assert f"pip install '{extra}' (from a checkout: pip install '{checkout}')" in err
    for name in names:
        assert name in err, name
    assert "unexpected" not in err and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()  # refused before any work


def test_a_cloud_the_conformance_run_leaves_out_is_not_required(tmp_path: Path) -> None:
    # Only AWS targets: the GCP driver's functions-framework is not needed.
    done = _polyfn_without(
        "functions_framework", "conformance", "--target", "aws-http", "--case", "get",
        cwd=tmp_path,
    )  # fmt: skip
    assert "functions-framework" not in done.stderr and "polyfn-gcp" not in done.stderr
    assert done.returncode == 0, done.stderr
