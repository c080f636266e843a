"""The runner detects broken adapters, runs a user's own app and cases, and reports properly."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance import _runner
from conformance._apps import DEFAULT_APP, load_app
from conformance.cases.http import CASES
from conformance.targets import aws_http, gcp_http

REPO = Path(__file__).resolve().parents[2]


def _cases(*names: str) -> list[Any]:
    return [c for c in CASES if c.name in names]


def _targets(*names: str) -> list[Any]:
    return [t for t in _runner.load_targets() if t.name in names]


@pytest.fixture
def fresh_drivers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Drivers cache the adapter's entry per app; start from none so a patched adapter is used."""
    monkeypatch.setattr(aws_http.AwsHttpTarget, "_handlers", {})
    monkeypatch.setattr(gcp_http.GcpHttpTarget, "_clients", {})
    monkeypatch.setenv("POLYFN_CONFORMANCE_NO_SERVER", "1")
    yield


def _drop_repeats(result: Any) -> Any:
    """What a careless adapter does: one value per header, one cookie."""
    if isinstance(result, dict):
        multi = result.get("multiValueHeaders") or {}
        for name, values in multi.items():
            multi[name] = values[:1]
        headers = result.get("headers") or {}
        for name, value in headers.items():
            headers[name] = value.split(",")[0]
        if result.get("cookies"):
            result["cookies"] = result["cookies"][:1]
    return result


@pytest.fixture
def broken_aws(monkeypatch: pytest.MonkeyPatch, fresh_drivers: None) -> None:
    """polyfn_aws.handler as a careless adapter would be: repeated headers and cookies dropped."""
    import polyfn_aws

    real = polyfn_aws.handler

    def broken(app: Any, **kwargs: Any) -> Any:
        inner = real(app, **kwargs)
        return lambda event, context: _drop_repeats(inner(event, context))

    monkeypatch.setattr(polyfn_aws, "handler", broken)


def test_runner_fails_an_aws_adapter_that_drops_repeated_headers(broken_aws: None) -> None:
    app = load_app(DEFAULT_APP)
    report = _runner.run(
        app,
        _cases("headers-repeated-out", "cookies-out-several", "get"),
        _targets("aws-rest", "aws-http", "aws-alb-multi"),
    )
    status = {(r.case, r.target): r.status for r in report.results}
    for target in ("aws-rest", "aws-http", "aws-alb-multi"):
        assert status[("headers-repeated-out", target)] == _runner.FAIL
        assert status[("cookies-out-several", target)] == _runner.FAIL
        assert status[("get", target)] == _runner.PASS
    text = _runner.format_matrix(report)
    assert "FAIL" in text and "Failures:" in text
    assert text.rstrip().endswith("3 passed, 6 failed, 0 skipped")
    assert "header x-multi" in text


def test_runner_fails_a_gcp_adapter_that_merges_set_cookie(
    monkeypatch: pytest.MonkeyPatch, fresh_drivers: None
) -> None:
    import polyfn_gcp

    real = polyfn_gcp.http

    def broken(app: Any, **kwargs: Any) -> Any:
        inner = real(app, **kwargs)

        def http(request: Any) -> Any:
            resp = inner(request)
            cookies = resp.headers.getlist("Set-Cookie")
            if cookies:
                resp.headers.remove("Set-Cookie")
                resp.headers["Set-Cookie"] = ", ".join(cookies)
            return resp

        return http

    monkeypatch.setattr(polyfn_gcp, "http", broken)
    report = _runner.run(
        load_app(DEFAULT_APP), _cases("cookies-out-several", "get"), _targets("gcp-http")
    )
    assert {r.case: r.status for r in report.results} == {
        "cookies-out-several": _runner.FAIL,
        "get": _runner.PASS,
    }
    assert "Set-Cookie" in report.failed[0].reason


def test_main_exits_non_zero_on_failure(broken_aws: None) -> None:
    out = io.StringIO()
    code = _runner.main(target_glob="aws-rest", case_glob="cookies-out-*", out=out)
    assert code == 1
    assert "0 passed, 1 failed, 0 skipped" in out.getvalue()


def test_main_exits_zero_and_prints_the_matrix() -> None:
    out = io.StringIO()
    code = _runner.main(target_glob="aws-*,azure-http", case_glob="get,redirect", out=out)
    text = out.getvalue()
    assert code == 0, text
    assert "aws-rest" in text and "azure-http" in text and "redirect" in text
    assert text.rstrip().endswith("12 passed, 0 failed, 0 skipped")


def test_main_json_output() -> None:
    import json

    out = io.StringIO()
    code = _runner.main(target_glob="aws-alb", case_glob="one-megabyte-body", as_json=True, out=out)
    doc = json.loads(out.getvalue())
    assert code == 0
    assert doc["summary"] == {"passed": 0, "failed": 0, "skipped": 1}
    assert "1 MB" in doc["results"][0]["reason"]


def _polyfn_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run `polyfn conformance ARGV`: exit 2, nothing on stdout, one `polyfn: error:` paragraph
    on stderr (returned unwrapped)."""
    from polyfn._cli import main

    assert main(["conformance", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("polyfn: error: ") and err.count("polyfn: error:") == 1
    # One paragraph; textwrap may break a name after a hyphen, so join those back.
    return " ".join(err.replace("-\n  ", "-").split())


def test_a_target_glob_matching_nothing_names_the_targets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = _polyfn_error(capsys, "--target", "aws-http-api")
    assert err.startswith("polyfn: error: --target 'aws-http-api' matches no target;")
    assert "http: aws-rest, aws-http, aws-url, aws-alb, aws-alb-multi, azure-http, gcp-http" in err
    assert "queue: aws-sqs, aws-sqs-fifo," in err
    assert "matches no case" not in err  # every case was selected: only the target is wrong


def test_a_case_glob_matching_nothing_names_the_cases(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = _polyfn_error(capsys, "--case", "cookie-*", "--target", "nope")
    assert "--target 'nope' matches no target; the targets are schedule: aws-eventbridge," in err
    assert "--case 'cookie-*' matches no case; the cases are http: get, post-json," in err
    assert "cookies-in, cookies-out-several" in err and "schedule: cron-tick," in err


def test_globs_whose_triggers_do_not_meet_say_which_targets_fit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = _polyfn_error(capsys, "--case", "get", "--target", "aws-sqs")
    assert "--target 'aws-sqs' selects (queue: aws-sqs) run none of the selected cases" in err
    assert "which are http cases; the targets for those are http: aws-rest," in err


def test_nothing_selected_raises_usage_error_from_main() -> None:
    from polyfn._cli_errors import UsageError

    out = io.StringIO()
    with pytest.raises(UsageError, match="matches no case"):
        _runner.main(case_glob="no-such-case", out=out)
    assert out.getvalue() == ""


USER_MODULE = """
from polyfn import App, HttpResponse
from conformance import HttpCase

app = App("shop")

@app.http("/price/{sku}")
def price(req, ctx):
    return {"sku": req.path_params["sku"], "price": 12}

@app.http("/where")
def where(req, ctx):
    return {"provider": ctx.provider}

CASES = [
    HttpCase("price", "GET", "/price/A%201", response_json={"sku": "A 1", "price": 12}, live=True),
    HttpCase("price-same", "GET", "/price/B", status=None, same_everywhere=True),
]
FAILING = [HttpCase("where-same", "GET", "/where", status=None, same_everywhere=True)]
"""


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = "user_shop_conformance"
    (tmp_path / f"{name}.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name


@pytest.mark.e2e
def test_a_user_runs_their_own_app_and_cases(user_module: str) -> None:
    """Their app loads in a functions-framework server too (the "price" case is live)."""
    out = io.StringIO()
    code = _runner.main(
        app_ref=f"{user_module}:app",
        case_modules=[user_module],
        target_glob="*http*,aws-*",
        out=out,
    )
    assert code == 0, out.getvalue()
    assert "14 passed, 0 failed, 0 skipped" in out.getvalue()


def test_same_everywhere_catches_a_handler_that_differs_by_cloud(user_module: str) -> None:
    out = io.StringIO()
    code = _runner.main(
        app_ref=f"{user_module}:app",
        case_modules=[f"{user_module}:FAILING"],
        target_glob="aws-rest,azure-http,gcp-http",
        out=out,
    )
    assert code == 1
    assert "where another target gave" in out.getvalue()


def test_python_dash_m_conformance() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "--target", "aws-http", "--case", "get"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed, 0 failed, 0 skipped" in proc.stdout


def test_cli_registers_the_subcommand() -> None:
    import argparse

    from conformance import _cli

    parser = argparse.ArgumentParser(prog="polyfn")
    _cli.register(parser.add_subparsers())
    args = parser.parse_args(["conformance", "--target", "gcp-*", "--case", "get", "--json"])
    assert args.run is _cli.run
    assert (args.target, args.case, args.json, args.app, args.cases) == (
        "gcp-*",
        "get",
        True,
        None,
        None,
    )


def test_cli_reports_an_app_that_does_not_import() -> None:
    import argparse

    from conformance import _cli
    from polyfn._cli_errors import UsageError

    args = argparse.Namespace(
        app="no_such_module:app",
        cases=["conformance.cases.http"],
        target=None,
        case=None,
        json=False,
    )
    with pytest.raises(UsageError, match="no_such_module"):
        _cli.run(args)


def test_an_app_without_cases_is_refused_before_anything_runs(
    capsys: pytest.CaptureFixture[str], user_module: str
) -> None:
    """The built-in cases only fit the conformance app: on another they all fail (639 failures
    on a newcomer's app), which says nothing about that app."""
    err = _polyfn_error(capsys, "--app", f"{user_module}:app", "--target", "aws-http")
    assert f"--app '{user_module}:app' needs --cases MODULE" in err
    assert "leave out --app to run the built-in cases" in err


def test_the_conformance_app_named_explicitly_runs_the_built_in_cases() -> None:
    out = io.StringIO()
    code = _runner.main(app_ref=DEFAULT_APP, target_glob="aws-http", case_glob="get", out=out)
    assert code == 0 and "1 passed, 0 failed, 0 skipped" in out.getvalue()


def test_skip_reasons_are_listed_once_as_notes() -> None:
    report = _runner.run(
        load_app(DEFAULT_APP),
        _cases("headers-repeated-in", "query-repeated"),
        _targets("aws-alb"),
    )
    text = _runner.format_matrix(report)
    assert "SKIP(1)" in text and "SKIP(2)" in text
    assert (
        textwrap.dedent("""\
        Skipped, because the cloud cannot deliver it:
          (1) ALB single-value mode passes one value per query key
          (2) ALB single-value mode passes one value per header name""")
        in text
    )


HTTP_TARGETS = [t.name for t in _runner.load_targets() if t.trigger == "http"]


@pytest.mark.parametrize("target", HTTP_TARGETS)
def test_a_crash_goes_to_the_log_not_to_the_client(
    target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLYFN_CONFORMANCE_NO_SERVER", "1")
    result = _runner.run_one(_cases("crash-is-500")[0], _targets(target)[0], load_app(DEFAULT_APP))
    assert result.status == _runner.PASS, result.problems
    assert any("hunter2" in line and "RuntimeError" in line for line in result.logs), result.logs


def test_present_needs_a_non_empty_request_id() -> None:
    from conformance._spec import Outcome

    case = _cases("crash-is-500")[0]
    aws = _targets("aws-http")[0]
    body = b'{"error": "internal error", "request_id": ""}'
    assert any("request_id" in p for p in case.check(Outcome(500, body=body), aws))
    good = b'{"error": "internal error", "request_id": "r-1"}'
    assert case.check(Outcome(500, body=good), aws) == []


def test_a_handler_must_know_its_cloud_and_invocation() -> None:
    from conformance._spec import Outcome

    case = _cases("get")[0]
    saw = {"method": "GET", "path": "/echo", "route": "/echo", "function": "echo"}
    gcp = _targets("gcp-http")[0]
    ok = Outcome(200, {"content-type": ["application/json"]}, seen=[
        {**saw, "provider": "gcp", "has_invocation_id": True}
    ])  # fmt: skip
    assert case.check(ok, gcp) == []
    wrong = Outcome(200, {"content-type": ["application/json"]}, seen=[
        {**saw, "provider": "aws", "has_invocation_id": False}
    ])  # fmt: skip
    assert case.check(wrong, gcp) == [
        "ctx.provider 'aws', expected 'gcp'",
        "ctx.invocation_id is empty",
    ]


def test_cli_takes_an_app_file_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--app ./shop.py:app` works as in every other polyfn command."""
    import argparse

    from conformance import _cli

    (tmp_path / "shopfile.py").write_text(USER_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "shopfile", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    args = argparse.Namespace(
        app="./shopfile.py:app", cases=["shopfile"], target="aws-http,azure-http", case=None,
        json=False,
    )  # fmt: skip
    assert _cli.run(args) == 0


def test_schedule_cases_are_called_schedule_and_still_load_by_their_old_module_name() -> None:
    """The core's word for the trigger is "schedule"; `--cases conformance.cases.timer`, the
    module's former name, still selects the same cases."""
    from conformance.cases import schedule

    assert {c.trigger for c in schedule.CASES} == {"schedule"}
    assert _runner.load_cases(["conformance.cases.timer"]) == schedule.CASES
    out = io.StringIO()
    code = _runner.main(target_glob="aws-eventbridge", case_glob="cron-tick", out=out)
    assert code == 0, out.getvalue()
    assert out.getvalue().startswith("schedule ") and "timer" not in out.getvalue()


class _RecordingTarget:
    """A driver that calls a handler which records, and never touches `Recorder` itself."""

    name = "fake-http"
    cloud = "fake"
    trigger = "http"

    def __init__(self, seen_elsewhere: list[dict[str, Any]] | None = None) -> None:
        self.seen_elsewhere = seen_elsewhere or []

    def run(self, case: Any, app: Any) -> Any:
        from conformance._spec import Outcome, Recorder

        Recorder.record({"fn": "handler", "case": case.name})
        return Outcome(200, seen=list(self.seen_elsewhere))


class _Case:
    name = "recorded"
    trigger = "http"

    def __init__(self) -> None:
        self.checked: list[tuple[Any, Any]] = []

    def check(self, outcome: Any, target: Any) -> list[str]:
        self.checked.append((outcome, target))
        return []


def test_the_runner_owns_the_recording() -> None:
    from conformance._spec import Recorder

    Recorder.record({"fn": "stale", "case": "an earlier run"})  # never reported
    case, target = _Case(), _RecordingTarget()
    result = _runner.run_one(case, target, load_app(DEFAULT_APP))
    assert result.status == _runner.PASS, result.problems
    assert result.outcome is not None
    assert result.outcome.seen == [{"fn": "handler", "case": "recorded"}]
    assert Recorder.calls == []  # taken: nothing leaks into the next case
    assert case.checked == [(result.outcome, target)]  # check(outcome, target), always


def test_what_a_driver_saw_elsewhere_comes_first() -> None:
    remote = {"fn": "handler", "case": "in the server's process"}
    result = _runner.run_one(_Case(), _RecordingTarget([remote]), load_app(DEFAULT_APP))
    assert result.outcome is not None
    assert result.outcome.seen == [remote, {"fn": "handler", "case": "recorded"}]
