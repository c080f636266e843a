"""Google's emulators on 127.0.0.1 for the GCP resource backend: the Cloud SDK's Pub/Sub and
Firestore emulators (`gcloud ... emulators ... start`), gcp-storage-emulator from PyPI for Cloud
Storage, and conformance's fake Secret Manager that answers over REST as its API reference shows
(Google publishes no Secret Manager emulator).

`.ci/run` starts the emulators once and exports their addresses (POLYFN_TEST_PUBSUB,
POLYFN_TEST_FIRESTORE, POLYFN_TEST_GCS); run outside CI, each fixture starts its own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from conformance.resource_harnesses import FakeSecretManager, fake_secret_manager
from tests.conftest import free_port, wait_for_port

PROJECT = "polyfn-test"


@contextlib.contextmanager
def _process_group(cmd: list[str], port: int) -> Iterator[None]:
    # gcloud starts the emulator's JVM as a child: stop the whole group.
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        wait_for_port(port, proc, timeout=120)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(15)


def _gcloud_emulator(env_name: str, args: list[str]) -> Iterator[str]:
    host = os.environ.get(env_name)
    if host:
        yield host
        return
    if shutil.which("gcloud") is None:
        pytest.fail("the Google Cloud CLI (gcloud) with its emulators is needed: run .ci/run")
    port = free_port()
    with _process_group(["gcloud", *args, f"--host-port=127.0.0.1:{port}"], port):
        yield f"127.0.0.1:{port}"


@pytest.fixture(scope="session")
def pubsub_emulator() -> Iterator[str]:
    yield from _gcloud_emulator(
        "POLYFN_TEST_PUBSUB", ["beta", "emulators", "pubsub", "start", f"--project={PROJECT}"]
    )


@pytest.fixture(scope="session")
def firestore_emulator() -> Iterator[str]:
    yield from _gcloud_emulator("POLYFN_TEST_FIRESTORE", ["emulators", "firestore", "start"])


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[str]:
    url = os.environ.get("POLYFN_TEST_GCS")
    if url:
        yield url
        return
    port = free_port()
    binary = os.path.join(os.path.dirname(sys.executable), "gcp-storage-emulator")
    cmd = [binary, "start", "--host=127.0.0.1", f"--port={port}", "--in-memory", "-q"]
    with _process_group(cmd, port):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def secret_manager() -> Iterator[type[FakeSecretManager]]:
    with fake_secret_manager() as endpoint:
        FakeSecretManager.endpoint = endpoint  # type: ignore[attr-defined]
        yield FakeSecretManager


@pytest.fixture
def gcp_env(
    pubsub_emulator: str,
    firestore_emulator: str,
    gcs_emulator: str,
    secret_manager: type[FakeSecretManager],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[None]:
    """Point Google's client libraries at the emulators, with fresh polyfn clients."""
    from polyfn._resources import reset_backends

    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator)
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore_emulator)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    monkeypatch.setenv("POLYFN_SECRETMANAGER_ENDPOINT", secret_manager.endpoint)  # type: ignore[attr-defined]
    monkeypatch.setenv("POLYFN_PROVIDER", "gcp")
    import polyfn_gcp  # noqa: F401 - registers the gcp backend

    reset_backends()
    yield
    reset_backends()
