"""`polyfn conformance --resources`: the resource matrix (case x backend) from the command line,
on the local twins alone, and on the emulators with their settings in the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.resources import CASES

ROOT = Path(__file__).resolve().parents[2]
POLYFN = str(Path(sys.executable).parent / "polyfn")
# What makes a cloud's column run (conformance/_resources_runner.py); left out for the local run.
CLOUD_SETTINGS = (
    "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE",
    "AzureWebJobsStorage", "PUBSUB_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST",
    "STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS",
)  # fmt: skip


def conformance(
    args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [POLYFN, "conformance", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=600,
        check=False,
    )


def rows(output: str) -> dict[str, list[str]]:
    """The matrix's rows: case name -> its cells (split on runs of two or more spaces)."""
    import re

    found = {}
    for line in output.splitlines():
        if line.startswith("case_"):
            name, *cells = re.split(r"\s{2,}", line.strip())
            found[name] = cells
    return found


def test_local_matrix_passes_every_case_and_clouds_are_not_configured(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in CLOUD_SETTINGS}
    env.pop("POLYFN_PROVIDER", None)
    proc = conformance(["--resources-only"], env, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    header = next(line for line in proc.stdout.splitlines() if line.startswith("resource case"))
    assert header.split()[2:] == ["local", "aws", "azure", "gcp"]
    matrix = rows(proc.stdout)
    assert sorted(matrix) == sorted(c.__name__ for c in CASES)
    for name, cells in matrix.items():
        assert cells == ["pass", "not configured", "not configured", "not configured"], name
    assert f"resources: {len(CASES)} pass, 0 fail, 0 skip, {3 * len(CASES)} not configured" in (
        proc.stdout
    )
    assert not any(tmp_path.iterdir())  # its state folder was a temporary one


def test_help_documents_the_resource_matrix() -> None:
    proc = subprocess.run(
        [POLYFN, "conformance", "--help"], capture_output=True, text=True, check=True
    )
    text = " ".join(proc.stdout.split())
    assert "--resources-only" in text and '"not configured"' in text


@pytest.mark.e2e
def test_matrix_on_the_emulators_marks_fakes_and_missing_brokers(
    tmp_path: Path,
    moto_url: str,
    azurite: str,
    pubsub_emulator: str,
    firestore_emulator: str,
    gcs_emulator: str,
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k != "POLYFN_PROVIDER"},
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AzureWebJobsStorage": azurite,
        "PUBSUB_EMULATOR_HOST": pubsub_emulator,
        "FIRESTORE_EMULATOR_HOST": firestore_emulator,
        "STORAGE_EMULATOR_HOST": gcs_emulator,
        "GOOGLE_CLOUD_PROJECT": "polyfn-test",
    }
    chosen = [
        "case_bucket_round_trip_binary_and_unicode",
        "case_table_conditional_writes",
        "case_table_concurrent_if_absent",
        "case_secret_value_and_missing",
        "case_queue_send_receive_identical",
        "case_queue_fifo_group",
        "case_topic_publish_reaches_every_subscriber",
    ]
    args = ["--resources-only", "--backend", "aws,azure,gcp", "--resource-case", ",".join(chosen)]
    proc = conformance(args, env, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    matrix = rows(proc.stdout)
    assert sorted(matrix) == sorted(chosen)
    moto_race = "skip: moto's conditional writes are not atomic"
    assert matrix["case_table_concurrent_if_absent"][0] == moto_race
    assert matrix["case_secret_value_and_missing"] == [
        "pass",
        "pass (fake transport)",
        "pass (fake transport)",
    ]
    for name in ("case_queue_fifo_group", "case_topic_publish_reaches_every_subscriber"):
        aws, azure, gcp = matrix[name]
        assert (aws, gcp) == ("pass", "pass"), name
        assert azure.startswith("skip: no Service Bus broker"), azure
    for name in ("case_bucket_round_trip_binary_and_unicode", "case_queue_send_receive_identical"):
        assert matrix[name] == ["pass", "pass", "pass"], name
