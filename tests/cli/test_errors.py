"""Bad input: one paragraph that says what is wrong and what to do, exit status 2, no traceback
(tracebacks only with --debug)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from tests.cli._run import SHOP, run, write_event

if TYPE_CHECKING:
    from pathlib import Path


def assert_usage_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert err.startswith("polyfn: error: ")
    assert "Traceback" not in err
    assert "\n\n" not in err.strip()  # one paragraph
    for needle in needles:
        assert needle in " ".join(err.split()), (needle, err)


def test_an_app_that_does_not_import(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "tick", "no_such_module_xyz:app", "nightly")
    assert_usage_error(code, err, "no module named 'no_such_module_xyz'", "Run polyfn from")

    broken = tmp_path / "broken_app.py"
    broken.write_text("import polyfn\n\nvalue = 1 / 0\n")
    code, _, err = run(capsys, "serve", str(broken))
    assert_usage_error(code, err, "ZeroDivisionError: division by zero", "broken_app.py, line 3")

    syntax = tmp_path / "syntax_app.py"
    syntax.write_text("def broken(:\n")
    code, _, err = run(capsys, "serve", str(syntax))
    assert_usage_error(code, err, "SyntaxError", "syntax_app.py, line 1")

    needs = tmp_path / "needs_app.py"
    needs.write_text("import not_installed_dependency_xyz\n")
    code, _, err = run(capsys, "serve", str(needs))
    assert_usage_error(code, err, "'not_installed_dependency_xyz', which is not installed")

    code, _, err = run(capsys, "serve", str(tmp_path / "missing.py"))
    assert_usage_error(code, err, "does not exist")


def test_an_app_reference_that_names_no_app(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "tick", f"{SHOP}:nope", "nightly")
    assert_usage_error(code, err, "no attribute 'nope'", "objects in it: app")
    code, _, err = run(capsys, "tick", f"{SHOP}:SEEN", "nightly")
    assert_usage_error(code, err, "is a list, not a polyfn App")
    empty = tmp_path / "empty_app.py"
    empty.write_text("x = 1\n")
    code, _, err = run(capsys, "tick", str(empty), "nightly")
    assert_usage_error(code, err, "has no polyfn App named 'app'")


def test_a_function_that_does_not_exist(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "tick", SHOP, "weekly")
    assert_usage_error(code, err, "has no function 'weekly'", "nightly")
    event = write_event(tmp_path, {"Records": []})
    code, _, err = run(capsys, "invoke", SHOP, "nope", "--provider", "aws", "--event", event)
    assert_usage_error(code, err, "has no function 'nope'", "get_order")
    code, _, err = run(capsys, "tick", SHOP, "get_order")
    assert_usage_error(code, err, "not a schedule", "nightly")


def test_an_event_file_that_is_not_json_or_not_the_trigger(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = run(
        capsys, "invoke", SHOP, "get_order", "--provider", "aws", "--event", str(bad)
    )
    assert_usage_error(code, err, "is not JSON", "polyfn events aws")
    code, _, err = run(
        capsys,
        "invoke",
        SHOP,
        "get_order",
        "--provider",
        "aws",
        "--event",
        str(tmp_path / "absent.json"),
    )
    assert_usage_error(code, err, "cannot read event file")
    listed = write_event(tmp_path, [1, 2])
    code, _, err = run(capsys, "invoke", SHOP, "get_order", "--provider", "gcp", "--event", listed)
    assert_usage_error(code, err, "holds a JSON list")

    for provider, trigger in (("aws", "s3"), ("azure", "queue"), ("gcp", "pubsub")):
        code, out, _ = run(capsys, "events", provider, trigger)
        event = write_event(tmp_path, json.loads(out))
        code, _, err = run(
            capsys, "invoke", SHOP, "get_order", "--provider", provider, "--event", event
        )
        assert_usage_error(
            code,
            err,
            f"holds an event of {provider} trigger '{trigger}'",
            "'get_order' is an HTTP function",
            f"polyfn events {provider}",
        )

    # Shaped like nothing the adapter serves: the adapter's EventError, as one paragraph.
    odd = write_event(tmp_path, {"hello": "world"})
    code, _, err = run(capsys, "invoke", SHOP, "on_order", "--provider", "aws", "--event", odd)
    assert_usage_error(code, err)
    # An Azure blob invocation for a function bound with an Event Grid trigger.
    code, out, _ = run(capsys, "events", "azure", "blob")
    code, _, err = run(
        capsys,
        "invoke",
        SHOP,
        "on_change",
        "--provider",
        "azure",
        "--event",
        write_event(tmp_path, json.loads(out)),
    )
    assert_usage_error(code, err, "eventGridTrigger", "polyfn events azure eventgrid-blob")


def test_bad_sample_requests(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "events", "aws", "kinesis")
    assert_usage_error(code, err, "aws has no trigger 'kinesis'", "http-rest")
    code, _, err = run(capsys, "events", "gcp", "storage", "--set", "colour=blue")
    assert_usage_error(code, err, "no field 'colour'", "bucket")
    code, _, err = run(capsys, "events", "aws", "sqs", "--set", "novalue")
    assert_usage_error(code, err, "is not KEY=VALUE")
    code, _, err = run(capsys, "events", "aws", "s3", "--set", "kind=archived")
    assert_usage_error(code, err, "must be one of: created, deleted")
    code, _, err = run(
        capsys, "send", "orders", f"@{tmp_path / 'nofile'}", "--state-dir", str(tmp_path)
    )
    assert_usage_error(code, err, "cannot read message body file")
    code, _, err = run(capsys, "messages", "orders", "--state-dir", str(tmp_path / "none"))
    assert_usage_error(code, err, "no local queues")
    with pytest.raises(SystemExit) as exc:  # argparse's own check of choices
        run(capsys, "events", "oracle", "http")
    assert exc.value.code == 2


def test_an_empty_or_mistyped_queue_says_which_queues_hold_messages(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    state = ["--state-dir", str(tmp_path)]
    app = tmp_path / "mistyped_queue_app.py"
    app.write_text(
        "from polyfn import App\napp = App('a')\n@app.queue('orders')\ndef f(m, c): ...\n"
    )
    assert run(capsys, "send", "orders", "one", "--app", str(app), *state)[0] == 0
    code, out, err = run(capsys, "messages", "order", *state)
    assert (code, out) == (0, "")  # an empty queue is no error, and prints no message line
    assert err == "polyfn: queue 'order' holds no messages; queues with messages: orders (1).\n"
    code, out, err = run(capsys, "messages", "orders", *state)
    assert (code, err) == (0, "") and json.loads(out)["body"] == "one"


def test_the_console_entry_prints_one_paragraph_and_debug_shows_the_traceback(
    tmp_path: Path,
) -> None:
    cmd = [sys.executable, "-m", "polyfn._cli", "serve", "no_such_module_xyz:app"]
    plain = subprocess.run(
        cmd, check=False, capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert plain.returncode == 2
    assert plain.stderr.startswith("polyfn: error: cannot import APP")
    assert "Traceback" not in plain.stderr and plain.stdout == ""
    debug = subprocess.run(
        [*cmd, "--debug"], check=False, capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert debug.returncode == 2  # the same status as without --debug
    assert "Traceback (most recent call last)" in debug.stderr
    assert "ModuleNotFoundError" in debug.stderr


def test_a_taken_port_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        code, _, err = run(capsys, "serve", SHOP, "--port", str(port), "--state-dir", str(tmp_path))
    assert_usage_error(code, err, f"cannot listen on 127.0.0.1:{port}", "--port")
