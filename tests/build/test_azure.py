"""`polyfn build --provider azure`: the generated function_app.py, imported as the host's worker
would, indexes every function with the expected binding; host.json carries the app-wide settings."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from polyfn_azure._build import _timespan, build, function_app_source, plan

from polyfn import App, ConfigError
from polyfn._app import DEFAULT_TIMEOUT_SECONDS
from polyfn._cli import main
from tests.build import richapp
from tests.build._cli import run_polyfn
from tests.build._ruff import assert_ruff_formatted


def _import(path: Path) -> Any:
    name = f"generated_function_app_{abs(hash(path))}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    out = tmp_path_factory.mktemp("azure")
    warnings = build(richapp.app, out, app_ref="tests.build.richapp:app")
    return out, warnings


def _bindings(out: Path) -> dict[str, dict[str, Any]]:
    module = _import(out / "function_app.py")
    found = {}
    for f in module.app.get_functions():
        (trigger,) = [
            b.get_dict_repr()
            for b in f.get_bindings()
            if b.get_dict_repr()["type"].endswith("Trigger")
        ]
        found[f.get_function_name()] = trigger
    return found


def test_generated_function_app_indexes_every_function(built: tuple[Path, list[str]]) -> None:
    out, _ = built
    source = (out / "function_app.py").read_text()
    assert "from tests.build.richapp import app as _polyfn_app" in source
    b = _bindings(out)
    assert set(b) == {fn.name for fn in richapp.app.functions}
    kinds = {name: d["type"] for name, d in b.items()}
    assert kinds == {
        "get_order": "httpTrigger",
        "put_file": "httpTrigger",
        "home": "httpTrigger",
        "nightly": "timerTrigger",
        "morning": "timerTrigger",
        "every_five": "timerTrigger",
        "on_upload": "blobTrigger",
        "on_delete": "eventGridTrigger",  # the blob trigger sees no deletes
        "on_order": "queueTrigger",
        "on_event": "serviceBusTrigger",  # fifo: Service Bus with sessions
        "audit": "serviceBusTrigger",  # subscribers: a Service Bus topic subscription each
        "notify": "serviceBusTrigger",
    }
    assert b["get_order"]["route"] == "orders/{order_id}"
    assert b["put_file"]["route"] == "files/{*path}"
    # NCRONTAB: seconds first; 08:30 Tokyo on weekdays is 23:30 UTC the day before.
    assert b["nightly"]["schedule"] == "0 0 2 * * *"
    assert b["morning"]["schedule"] == "0 30 23 * * 0-4"
    assert b["every_five"]["schedule"] == "0 */5 * * * *"
    assert b["on_upload"]["path"] == f"{richapp.UPLOADS}/incoming/{{name}}.csv"
    assert b["on_order"]["queueName"] == richapp.ORDERS
    assert b["on_event"]["queueName"] == richapp.EVENTS
    assert b["on_event"]["isSessionsEnabled"] is True
    for name in ("audit", "notify"):
        assert (b[name]["topicName"], b[name]["subscriptionName"]) == (richapp.NOTICES, name)


def test_host_json_and_settings(built: tuple[Path, list[str]]) -> None:
    out, warnings = built
    host = json.loads((out / "host.json").read_text())
    assert host["version"] == "2.0"
    assert host["extensionBundle"]["id"] == "Microsoft.Azure.Functions.ExtensionBundle"
    assert host["extensions"]["http"]["routePrefix"] == "api"
    assert host["extensions"]["queues"]["messageEncoding"] == "base64"
    assert host["extensions"]["queues"]["maxDequeueCount"] == 4  # on_order: retries=3
    assert host["functionTimeout"] == "00:02:00"  # the longest declared timeout (120 s)
    local = json.loads((out / "local.settings.json").read_text())["Values"]
    assert local["FUNCTIONS_WORKER_RUNTIME"] == "python"
    assert local["STAGE"] == "test"
    assert "ServiceBusConnection" in local
    assert (out / "requirements.txt").read_text().split() == ["azure-functions>=1.18"]
    joined = "\n".join(warnings)
    assert "'get_order': memory is a property of the hosting plan" in joined
    assert "'put_file': max_concurrency has no per-function setting" in joined
    # nightly's retries=1 is the generated function's own retry policy, so no warning
    assert "'nightly'" not in joined
    assert f"'on_order': dead_letter='{richapp.ORDERS}-dead'" in joined
    assert f"'{richapp.ORDERS}-poison'" in joined
    assert "'on_upload': maxDequeueCount is app-wide" in joined
    assert "functionTimeout is app-wide" in joined
    assert "'audit': retries/dead_letter are set in the Service Bus topic subscription" in joined


def test_conflicting_env_is_an_error() -> None:
    app = App("envs")
    app.http("/a", env={"MODE": "a"}, function_name="a")(lambda r, c: None)
    app.http("/b", env={"MODE": "b"}, function_name="b")(lambda r, c: None)
    with pytest.raises(ConfigError, match="app settings are shared"):
        plan(app)


def test_long_timeout_warns_about_the_consumption_plan() -> None:
    app = App("slow")
    app.queue("jobs", timeout=1200, function_name="work")(lambda m, c: None)
    host, _, warnings = plan(app)
    assert host["functionTimeout"] == "00:20:00"
    assert any("exceeds the Consumption plan's 10 minutes" in w for w in warnings)


def test_function_timeout_is_written_with_polyfn_default() -> None:
    app = App("plain")
    app.http("/", function_name="home")(lambda r, c: None)
    app.queue("jobs", function_name="work")(lambda m, c: None)
    host, _, warnings = plan(app)
    # Not the host's own default (5 min on Consumption, 30 min on Flex): polyfn's, for all clouds.
    assert host["functionTimeout"] == "00:01:00" == _timespan(DEFAULT_TIMEOUT_SECONDS)
    assert warnings == []


def test_an_app_in_function_app_py_keeps_its_file_and_the_entry_goes_elsewhere(
    tmp_path: Path,
) -> None:
    app = App("fa")
    app.http("/", function_name="home")(lambda r, c: None)
    warnings = build(app, tmp_path, app_ref="function_app:app")
    assert not (tmp_path / "function_app.py").exists()
    entry = (tmp_path / "polyfn_function_app.py").read_text()
    assert "from function_app import app as _polyfn_app" in entry
    local = json.loads((tmp_path / "local.settings.json").read_text())["Values"]
    assert local["PYTHON_SCRIPT_FILE_NAME"] == "polyfn_function_app.py"
    assert any("PYTHON_SCRIPT_FILE_NAME=polyfn_function_app.py" in w for w in warnings)


def test_schedule_azure_cannot_express_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "paris.py"
    src.write_text(
        "from polyfn import App\napp = App('paris')\n"
        "@app.schedule('30 8 * * 1-5', tz='Europe/Paris')\ndef tick(event, ctx):\n    pass\n"
    )
    assert main(["build", str(src), "--provider", "azure", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "Europe/Paris" in err and "UTC" in err
    assert "Traceback" not in err


def test_azure_options_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "pub.py"
    src.write_text(
        "from polyfn import App\napp = App('pub')\n"
        "@app.http('/hello')\ndef hello(req, ctx):\n    return 'hi'\n"
        "@app.queue('jobs')\ndef job(msg, ctx):\n    pass\n"
    )
    out = tmp_path / "o"
    argv = ["build", str(src), "--provider", "azure", "--out", str(out)]
    opts = ["--azure-option", "auth_level=ANONYMOUS", "--azure-option", "route_prefix="]
    opts += ["--azure-option", "service_bus_queues=jobs"]
    assert main([*argv, *opts]) == 0
    host = json.loads((out / "host.json").read_text())
    assert host["extensions"]["http"]["routePrefix"] == ""
    b = _bindings(out)
    assert str(b["hello"]["authLevel"]).lower().endswith("anonymous")
    assert b["job"]["type"] == "serviceBusTrigger"
    assert main([*argv, "--azure-option", "nope=1"]) == 2
    assert "expected NAME=VALUE with NAME one of auth_level" in capsys.readouterr().err
    # The options are written in the formatter's style (double quotes, one per line).
    assert_ruff_formatted(out / "function_app.py", 79, 120)
    assert "auth_level='ANONYMOUS'" not in (out / "function_app.py").read_text()


def test_generated_function_app_passes_ruff_format(built: tuple[Path, list[str]]) -> None:
    out, _ = built
    assert_ruff_formatted(out / "function_app.py", 79, 120)


def test_long_references_and_option_values_stay_formatted(tmp_path: Path) -> None:
    options = {
        "route_prefix": 'say "hi", it\'s',
        "service_bus_queues": tuple(f"queue-number-{i}" for i in range(8)),
        "storage_connection": "Conn'A",
    }
    module = "company.platform.services.orders.fulfilment.handlers.entrypoints"
    source = function_app_source(richapp.app, f"{module}:application", options)
    path = tmp_path / "function_app.py"
    path.write_text(source)
    assert_ruff_formatted(path, 79, 120)
    namespace: dict[str, Any] = {}
    body = source.split(f"from {module}", 1)[1].split("\n\n", 1)[1]  # the call, without imports
    exec(body, {"polyfn_azure": _Record(), "_polyfn_app": "APP"}, namespace)
    assert namespace["app"] == (("APP",), options)


class _Record:
    """Stands in for polyfn_azure to read back what the generated call passes."""

    @staticmethod
    def function_app(*args: Any, **kwargs: Any) -> Any:
        return args, kwargs


NO_HTTP_APP = """
from polyfn import App

app = App("worker")


@app.queue("jobs")
def job(msg, ctx):
    pass
"""


@pytest.mark.parametrize("command", ["build", "package"])
def test_an_app_without_http_builds_without_azure_functions_auth_level_notice(
    tmp_path: Path, command: str
) -> None:
    """azure-functions logs "Auth level is not applied to non http function app" from
    FunctionApp.get_functions(); polyfn's own calls of it keep that off the user's terminal."""
    src = tmp_path / "worker.py"
    src.write_text(NO_HTTP_APP)
    out = tmp_path / ("o" if command == "build" else "o.zip")
    proc = run_polyfn(command, str(src), "--provider", "azure", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Auth level" not in proc.stderr and "WARNING:root" not in proc.stderr, proc.stderr
    assert out.exists()


def test_the_auth_level_filter_drops_only_that_notice(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from polyfn_azure._build import _functions

    class Noisy:
        def get_functions(self) -> list[str]:
            logging.warning("Auth level is not applied to non http function app. Ref: ...")
            logging.warning("something else")
            return ["f"]

    with caplog.at_level(logging.WARNING):
        assert _functions(Noisy()) == ["f"]  # type: ignore[arg-type]
        logging.warning("Auth level is not applied to non http function app, later")
    assert [r.getMessage() for r in caplog.records] == [
        "something else",
        "Auth level is not applied to non http function app, later",
    ]


def test_deploy_to_azure_says_how_instead_of_failing(capsys: pytest.CaptureFixture[str]) -> None:
    from polyfn._cli import main

    assert main(["deploy", "tests.build.richapp:app", "--provider", "azure"]) == 2
    err = " ".join(capsys.readouterr().err.split())  # the message is wrapped to the terminal
    assert "polyfn package tests.build.richapp:app --provider azure" in err
    assert "config-zip" in err and "Traceback" not in err


def test_azure_option_pairs_split_list_options_and_refuse_unknown_names() -> None:
    import pytest
    from polyfn_azure._build import options_from_pairs

    from polyfn import ConfigError

    pairs = ["service_bus_queues=a,b,", "route_prefix=", "auth_level=ANONYMOUS"]
    assert options_from_pairs(pairs) == {
        "service_bus_queues": ("a", "b"),
        "route_prefix": "",
        "auth_level": "ANONYMOUS",
    }
    with pytest.raises(ConfigError, match="NAME one of"):
        options_from_pairs(["nope=1"])
