"""Shared fixtures: local servers on 127.0.0.1 (moto_server, Azurite).

`.ci/run` starts each server once and exports its address (POLYFN_TEST_MOTO_URL,
POLYFN_TEST_AZURITE); run outside CI, a fixture starts its own server on a free port and stops it
at the end of the session. No test sends traffic anywhere but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# CI runs the property tests with a fixed seed sequence, so a landing is repeatable; a
# developer's run explores new examples each time. No deadline either way: two cores shared with
# local servers make per-example timings meaningless.
settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# Never let a test reach a real cloud account: fake credentials, a fixed region.
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_SESSION_TOKEN"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.pop("AWS_PROFILE", None)

# Azurite's documented development account (the same for every Azurite install).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port} within {timeout} s")


@contextlib.contextmanager
def running(cmd: list[str], port: int, **kwargs: object) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]
    try:
        wait_for_port(port, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def azurite_connection_string(blob_port: int, queue_port: int, table_port: int) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{blob_port}/{AZURITE_ACCOUNT};"
        f"QueueEndpoint=http://127.0.0.1:{queue_port}/{AZURITE_ACCOUNT};"
        f"TableEndpoint=http://127.0.0.1:{table_port}/{AZURITE_ACCOUNT};"
    )


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """Base URL of a moto_server on 127.0.0.1 (S3, SQS, SNS, CloudFormation, Lambda ...)."""
    url = os.environ.get("POLYFN_TEST_MOTO_URL")
    if url:
        yield url.rstrip("/")
        return
    port = free_port()
    cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with running(cmd, port):
        base = f"http://127.0.0.1:{port}"
        # moto_server answers once its WSGI app is up; wait for a real response.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(base + "/moto-api/", timeout=2).close()
                break
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        yield base


def _azurite_binary() -> str | None:
    candidates = [
        os.environ.get("POLYFN_AZURITE_BIN"),
        shutil.which("azurite"),
        str(Path.home() / ".cache/polyfn/azurite/node_modules/.bin/azurite"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def azurite() -> Iterator[str]:
    """Connection string of Azurite (blob and queue storage emulator) on 127.0.0.1."""
    conn = os.environ.get("POLYFN_TEST_AZURITE")
    if conn:
        yield conn
        return
    binary = _azurite_binary()
    if binary is None:
        pytest.fail(
            "Azurite is not installed: run `bash .ci/run`, or "
            "`npm install --prefix ~/.cache/polyfn/azurite azurite@3`"
        )
    blob, queue, table = free_port(), free_port(), free_port()
    with tempfile.TemporaryDirectory() as location:
        cmd = [
            binary, "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--loose",
            "--location", location,
            "--blobHost", "127.0.0.1", "--blobPort", str(blob),
            "--queueHost", "127.0.0.1", "--queuePort", str(queue),
            "--tableHost", "127.0.0.1", "--tablePort", str(table),
        ]  # fmt: skip
        with running(cmd, queue):
            wait_for_port(blob)
            yield azurite_connection_string(blob, queue, table)
