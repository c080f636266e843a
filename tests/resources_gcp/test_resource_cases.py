"""The neutral resource cases (conformance/resources.py) on the GCP backend: Cloud Storage on
gcp-storage-emulator, Pub/Sub and Firestore on the Cloud SDK's emulators, Secret Manager over the
REST fake of conftest.py ("fake transport"). A queue is read the way its consumer function is
served: each pulled message becomes the push request Pub/Sub would POST, handed to polyfn_gcp's
HTTP entry under functions-framework (conformance/resource_harnesses.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance._resources_runner import not_judged
from conformance._spec import Skip
from conformance.resource_harnesses import GcpHarness
from conformance.resources import CASES

from .conftest import PROJECT

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("gcp_env")]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_resource_case_on_gcp(case: Callable[[Any], None]) -> None:
    reason = not_judged("gcp", case.__name__)
    if reason:
        pytest.skip(reason)
    try:
        case(lambda: GcpHarness(PROJECT))
    except Skip as why:
        pytest.skip(str(why))
