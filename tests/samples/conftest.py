"""The samples' resources: while a sample runs through its AWS, Azure or GCP entry file here, its
handles talk to the local twins, in a fresh state folder per test (`_native.local_resources`).
The tests that run a sample against the emulators (test_live.py) override `sample_resources`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.resources_gcp.conftest import (  # noqa: F401 - Google's emulators, for test_live
    firestore_emulator,
    pubsub_emulator,
)
from tests.samples._native import local_resources


@pytest.fixture(autouse=True)
def sample_resources(tmp_path: Path) -> Iterator[Path]:
    with local_resources(tmp_path / "state") as state:
        yield state
