"""Every HTTP case through API Gateway REST behind a custom domain with a base path mapping.

There ``path`` starts with the base path (``/shop/echo``) while the app's routes do not; the
handler must see the same path, parameters and answer as without the domain.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance import _runner
from conformance._apps import DEFAULT_APP, load_app
from conformance.cases.http import CASES
from conformance.targets.aws_http import AwsHttpTarget, render_rest

TARGET = AwsHttpTarget("aws-rest-domain", base_path="shop")


def test_the_event_carries_the_base_path() -> None:
    event = render_rest(CASES[0], "shop")
    assert event["path"] == "/shop/echo"
    assert event["requestContext"]["path"] == "/shop/echo"
    assert event["pathParameters"] == {"proxy": "echo"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: str(c.name))
def test_case_behind_a_custom_domain(case: Any) -> None:
    result = _runner.run_one(case, TARGET, load_app(DEFAULT_APP))
    if result.status == _runner.SKIP:
        pytest.skip(result.reason)
    assert result.status == _runner.PASS, "\n".join(result.problems)
