"""The neutral resource cases (conformance/resources.py) on the local twins."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance._spec import Skip
from conformance.resource_harnesses import LocalHarness
from conformance.resources import CASES, ResourceHarness


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_resource_case_on_local(case, state_dir: Path) -> None:
    def make_handles() -> ResourceHarness:
        return LocalHarness(state_dir)

    try:
        case(make_handles)
    except Skip as why:
        pytest.skip(str(why))
