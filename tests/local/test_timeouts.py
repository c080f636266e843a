"""Local timeouts: every invocation has its function's timeout (or polyfn's default), a real
`ctx.remaining_time()`, and fails past it as the cloud fails it."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from polyfn import App
from polyfn._app import DEFAULT_TIMEOUT_SECONDS
from polyfn._cli import main
from polyfn._local._invoke import InvocationTimeout
from polyfn._local._runtime import LocalRuntime
from polyfn.testing import Client

if TYPE_CHECKING:
    from pathlib import Path


def test_remaining_time_counts_down_from_the_declared_or_default_timeout() -> None:
    app = App("clock")
    seen: dict[str, Any] = {}

    @app.http("/default")
    def default(req, ctx):
        seen["default"] = ctx.remaining_time()

    @app.queue("jobs", timeout=5)
    def job(msg, ctx):
        first = ctx.remaining_time()
        time.sleep(0.05)
        seen["job"] = (first, ctx.remaining_time())

    client = Client(app)
    assert client.get("/default").status == 204
    assert timedelta(seconds=DEFAULT_TIMEOUT_SECONDS - 1) < seen["default"]
    assert seen["default"] <= timedelta(seconds=DEFAULT_TIMEOUT_SECONDS)
    client.send("jobs", b"x")
    first, later = seen["job"]
    assert timedelta(seconds=4) < first <= timedelta(seconds=5)
    assert later <= first - timedelta(seconds=0.05)


def test_the_testing_client_fails_a_handler_that_returned_after_its_timeout() -> None:
    app = App("late")

    @app.http("/slow", timeout=0.05)
    def slow(req, ctx):
        time.sleep(0.2)
        return {"done": True}

    @app.schedule("0 2 * * *", timeout=0.05)
    def nightly(event, ctx):
        time.sleep(0.2)

    client = Client(app)
    resp = client.get("/slow")
    assert resp.status == 504
    body = client.json(resp)
    assert body["error"] == "timeout" and body["request_id"]
    with pytest.raises(InvocationTimeout, match=r"'nightly' timed out after 0\.05 s"):
        client.tick("nightly")
    with pytest.raises(TimeoutError):  # catchable as the builtin too
        client.tick("nightly")


def test_serve_answers_504_at_the_deadline_without_waiting_for_the_handler(
    tmp_path: Path, local_log: list[logging.LogRecord]
) -> None:
    app = App("web")
    release = threading.Event()

    @app.http("/hang", timeout=0.3)
    def hang(req, ctx):
        release.wait(30)
        return "too late"

    runtime = LocalRuntime(app, port=0, state_dir=tmp_path)
    runtime.start()
    try:
        started = time.monotonic()
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(runtime.url + "/hang", timeout=10)
        took = time.monotonic() - started
        with exc.value as resp:
            assert resp.code == 504
            body = json.loads(resp.read())
        assert body["error"] == "timeout"
        assert 0.3 <= took < 5  # answered at the deadline while the handler still waits
    finally:
        release.set()
        runtime.stop()
    line = next(r for r in local_log if r.getMessage() == "invocation")
    assert (line.function, line.outcome, line.status) == ("hang", "timeout", 504)  # type: ignore[attr-defined]
    assert line.invocation_id == body["request_id"]  # type: ignore[attr-defined]


def test_a_timed_out_message_is_failed_and_its_late_handler_cannot_acknowledge_it(
    tmp_path: Path, local_log: list[logging.LogRecord]
) -> None:
    app = App("worker")
    release, late_done = threading.Event(), threading.Event()

    @app.queue("jobs", timeout=0.3, retries=0)
    def job(msg, ctx):
        release.wait(30)
        late_done.set()  # returns normally, long after its timeout

    runtime = LocalRuntime(app, port=0, state_dir=tmp_path, poll_interval=0.02)
    runtime.start()
    try:
        runtime.queue.send("jobs", b"x")
        deadline = time.monotonic() + 15
        while not runtime.queue.messages("jobs-dead"):
            assert time.monotonic() < deadline, "the message was never failed"
            time.sleep(0.02)
        assert not late_done.is_set()  # failed at its timeout, while the handler still ran
        release.set()
        assert late_done.wait(10)
        time.sleep(0.3)
        # The handler returned, but its message stays failed: nothing acknowledged it.
        [dead] = runtime.queue.messages("jobs-dead")
        assert "timed out after 0.3 s" in (dead.last_error or "")
        assert runtime.queue.messages("jobs") == []
    finally:
        release.set()
        runtime.stop()
    outcomes = [r.outcome for r in local_log if r.getMessage() == "invocation"]  # type: ignore[attr-defined]
    assert outcomes == ["timeout"]
    assert any(
        r.getMessage().startswith("handler finished after its invocation timed out")
        for r in local_log
    )


def test_polyfn_tick_exits_1_at_the_timeout(tmp_path: Path) -> None:
    source = tmp_path / "stuck_tick_app.py"
    source.write_text(
        "import threading\nfrom polyfn import App\napp = App('t')\nrelease = threading.Event()\n"
        "@app.schedule('0 2 * * *', timeout=0.2)\n"
        "def stuck(event, ctx):\n    release.wait(30)\n"
    )
    started = time.monotonic()
    try:
        assert main(["tick", str(source), "stuck"]) == 1
        assert time.monotonic() - started < 10
    finally:
        module = sys.modules.get("stuck_tick_app")
        if module is not None:
            module.release.set()


@pytest.mark.parametrize(("provider", "trigger"), [("aws", "sqs"), ("gcp", "pubsub")])
def test_polyfn_invoke_gives_the_cloud_deadline_of_the_declared_or_default_timeout(
    provider: str, trigger: str
) -> None:
    import importlib

    samples = importlib.import_module(f"polyfn_{provider}._samples")
    app = App("deadlines")
    seen: dict[str, Any] = {}

    @app.queue("orders", timeout=7)
    def declared(msg, ctx):
        seen["declared"] = ctx.remaining_time()

    @app.queue("invoices")
    def default(msg, ctx):
        seen["default"] = ctx.remaining_time()

    assert samples.invoke(app, "declared", samples.sample_event(trigger, queue="orders"))[1]
    assert samples.invoke(app, "default", samples.sample_event(trigger, queue="invoices"))[1]
    assert timedelta(seconds=6) < seen["declared"] <= timedelta(seconds=7)
    low = timedelta(seconds=DEFAULT_TIMEOUT_SECONDS - 1)
    assert low < seen["default"] <= timedelta(seconds=DEFAULT_TIMEOUT_SECONDS)
