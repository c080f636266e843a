"""Fixtures of the resource tests: a fresh local state folder per test, through the environment
(the conformance cases use threads, which a ContextVar would not reach)."""

from __future__ import annotations

from pathlib import Path

import pytest

from polyfn._local._resources import STATE_ENV, STORAGE_ENV
from polyfn._resources import reset_backends


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    state = tmp_path / "state"
    monkeypatch.setenv(STATE_ENV, str(state))
    monkeypatch.delenv(STORAGE_ENV, raising=False)
    # Outside an invocation a handle picks its cloud from the environment: pin "local", as other
    # tests in the same process may leave a cloud's runtime variables behind.
    monkeypatch.setenv("POLYFN_PROVIDER", "local")
    reset_backends()
    return state
