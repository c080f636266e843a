"""The whole conformance matrix, one test per case x target, so a failure names both.

Each test runs the case through the target's driver exactly as `polyfn conformance` does (the
runner's own `run_one`), against the conformance app; a case the cloud cannot deliver is skipped
with the driver's reason. gcp-http cases marked ``live`` go to a real functions-framework server
on 127.0.0.1, so they carry the e2e mark.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conformance import _runner
from conformance._apps import DEFAULT_APP, load_app

CASES = _runner.load_cases()
TARGETS = _runner.load_targets()


def _params() -> list[Any]:
    params = []
    for case in CASES:
        for target in TARGETS:
            if target.trigger != case.trigger:
                continue
            marks = []
            if target.name == "gcp-http" and getattr(case, "live", False):
                marks.append(pytest.mark.e2e)
            params.append(pytest.param(case, target, id=f"{target.name}:{case.name}", marks=marks))
    return params


@pytest.fixture(scope="module", autouse=True)
def _close_targets() -> Iterator[None]:
    yield
    for target in TARGETS:
        close = getattr(target, "close", None)
        if close is not None:
            close()


@pytest.mark.parametrize(("case", "target"), _params())
def test_case_on_target(case: Any, target: Any) -> None:
    result = _runner.run_one(case, target, load_app(DEFAULT_APP))
    if result.status == _runner.SKIP:
        pytest.skip(result.reason)
    assert result.status == _runner.PASS, "\n".join([*result.problems, *result.logs[-5:]])


def test_every_http_target_is_there() -> None:
    names = {t.name for t in TARGETS if t.trigger == "http"}
    assert names == {
        "aws-rest", "aws-http", "aws-url", "aws-alb", "aws-alb-multi", "azure-http", "gcp-http"
    }  # fmt: skip


def test_at_least_thirty_http_cases_with_distinct_names() -> None:
    http = [c for c in CASES if c.trigger == "http"]
    assert len(http) >= 30
    assert len({c.name for c in http}) == len(http)


@pytest.mark.e2e
def test_same_answer_on_every_http_target() -> None:
    """Cases whose answer does not depend on the cloud get the same bytes from every target."""
    from conformance.cases import http, http_cors_auth

    cases = [c for c in CASES if getattr(c, "same_everywhere", False)]
    assert {c.name for c in cases} == http.SAME_EVERYWHERE | http_cors_auth.SAME_EVERYWHERE
    targets = [t for t in _runner.load_targets() if t.trigger == "http"]
    report = _runner.run(load_app(DEFAULT_APP), cases, targets)
    assert report.ok, _runner.format_matrix(report)
