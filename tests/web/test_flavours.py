"""The built-in HTTP conformance cases through a FastAPI app (`polyfn.asgi`) and a Flask app
(`polyfn.wsgi`) on all seven HTTP targets: every case passes as it does for the native handlers,
or is skipped for the framework's stated reason (the app module's SKIPS) or the cloud's own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance import _runner
from conformance._apps import DEFAULT_APP, load_app
from conformance._flavours import FLAVOURS, framework_cases, polyfn_template, skips_of
from conformance._spec import Skip

REPO = Path(__file__).resolve().parents[2]
HTTP_TARGETS = {
    "aws-rest",
    "aws-http",
    "aws-url",
    "aws-alb",
    "aws-alb-multi",
    "azure-http",
    "gcp-http",
}


def _http(items: list[Any]) -> list[Any]:
    return [item for item in items if item.trigger == "http"]


@pytest.mark.parametrize("target_name", sorted(HTTP_TARGETS))
@pytest.mark.parametrize("flavour", ["fastapi", "flask"])
def test_every_http_case_on_every_http_target(
    flavour: str, target_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # gcp-http in process (functions-framework's own Flask app); the live cases over the wire
    # are the e2e test below.
    monkeypatch.setenv("POLYFN_CONFORMANCE_NO_SERVER", "1")
    cases = framework_cases(_runner.load_cases())
    targets = [t for t in _runner.load_targets() if t.name == target_name]
    skips = skips_of(FLAVOURS[flavour])
    assert skips and set(skips) <= {c.name for c in cases}
    report = _runner.run(load_app(FLAVOURS[flavour].app_ref), cases, targets, skips=skips)
    assert report.ok, _runner.format_matrix(report)
    assert report.count(_runner.PASS) >= (len(cases) - len(skips)) * 0.9
    # Any other skip is the cloud's, and the native handlers get the very same one.
    native = load_app(DEFAULT_APP)
    by_name = {c.name: c for c in cases}
    for result in report.results:
        if result.status != _runner.SKIP:
            continue
        if result.case in skips:
            assert result.reason == skips[result.case]
            continue
        with pytest.raises(Skip) as native_skip:
            targets[0].run(by_name[result.case], native)
        assert str(native_skip.value) == result.reason


def test_the_seven_http_targets_are_the_matrix_columns() -> None:
    assert {t.name for t in _http(_runner.load_targets())} == HTTP_TARGETS


@pytest.mark.e2e
@pytest.mark.parametrize("flavour", ["fastapi", "flask"])
def test_live_cases_over_the_wire_on_gcp(flavour: str) -> None:
    cases = [c for c in framework_cases(_runner.load_cases()) if c.live]
    targets = [t for t in _runner.load_targets() if t.name == "gcp-http"]
    report = _runner.run(
        load_app(FLAVOURS[flavour].app_ref), cases, targets, skips=skips_of(FLAVOURS[flavour])
    )
    assert report.ok, _runner.format_matrix(report)
    assert report.count(_runner.PASS) == len(cases)


def test_the_cli_runs_the_flavours_one_matrix_each() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "--app-flavour", "fastapi,flask", "--target",
         "aws-http", "--case", "get,cookies-*"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "== app flavour fastapi: a FastAPI app through polyfn.asgi" in proc.stdout
    assert "== app flavour flask: a Flask app through polyfn.wsgi" in proc.stdout
    assert proc.stdout.count("3 passed, 0 failed, 0 skipped") == 2


def test_an_unknown_flavour_or_one_with_app_is_a_usage_error() -> None:
    import argparse

    from conformance import _cli
    from polyfn._cli_errors import UsageError

    parser = argparse.ArgumentParser(prog="polyfn")
    _cli.register(parser.add_subparsers())
    args = parser.parse_args(["conformance", "--app-flavour", "django"])
    with pytest.raises(UsageError, match="the flavours are native, fastapi, flask"):
        _cli.run(args)
    args = parser.parse_args(["conformance", "--app-flavour", "flask", "--app", "x:app"])
    with pytest.raises(UsageError, match="leave out --app"):
        _cli.run(args)


def test_framework_templates_read_as_polyfn_templates() -> None:
    assert polyfn_template("/files/{path:path}") == "/files/{path+}"
    assert polyfn_template("/files/<path:path>") == "/files/{path+}"
    assert polyfn_template("/echo/<first>/<int:second>") == "/echo/{first}/{second}"
    assert polyfn_template("/echo/{first}") == "/echo/{first}"
