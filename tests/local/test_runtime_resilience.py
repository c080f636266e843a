"""`LocalRuntime` under trouble: a queue database locked for long, a corrupt one, a second runtime
on the same state directory, failing messages that back off, unknown queues."""

from __future__ import annotations

import itertools
import json
import logging
import os
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest

from polyfn import App
from polyfn._local._queue import LocalQueue, QueueCorruptError
from polyfn._local._runtime import LocalRuntime, retry_delay
from polyfn._local._statelock import StateDirInUseError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def wait_until(predicate: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_a_queue_consumer_outlives_a_lock_held_past_the_busy_timeout(
    tmp_path: Path, local_log: list[logging.LogRecord]
) -> None:
    app = App("locked")
    handled: list[tuple[str, int]] = []
    started, finish = threading.Event(), threading.Event()

    @app.queue("orders")
    def on_order(msg, ctx):
        if msg.text == "first":
            started.set()
            finish.wait(10)
        handled.append((msg.text, msg.delivery_count))

    runtime = LocalRuntime(app, port=0, state_dir=tmp_path, poll_interval=0.02, busy_timeout=0.1)
    runtime.start()
    db = tmp_path / "queues.db"
    try:
        runtime.queue.send("orders", b"first")
        assert started.wait(10)
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")  # another program holds the file's lock for long
        finish.set()  # the handler returns while the lock is held: its ack has to wait
        time.sleep(1.0)  # ten busy timeouts: every receive and the ack fail meanwhile
        other.execute("ROLLBACK")
        other.close()
        sender = LocalQueue(db)
        for i in range(50):
            sender.send("orders", str(i).encode())
        wait_until(lambda: len(handled) == 51)
        wait_until(lambda: runtime.queue.queues() == {})
    finally:
        runtime.stop()
    # Every message handled, each once: the first was acknowledged after the lock went away.
    assert handled == [("first", 1)] + [(str(i), 1) for i in range(50)]
    messages = [r.getMessage() for r in local_log]
    assert "queue database locked; retrying until it is free" in messages
    assert "queue consumer running again" in messages
    assert runtime.fatal is None


def orders_runtime(state_dir: Path) -> LocalRuntime:
    """A started runtime of an app whose one function consumes queue "orders"."""
    app = App("shop")

    @app.queue("orders")
    def on_order(msg, ctx):
        pass

    runtime = LocalRuntime(app, port=0, state_dir=state_dir, poll_interval=0.02)
    runtime.start()
    return runtime


def test_a_queue_file_corrupted_under_a_running_runtime_stops_it_with_the_reason(
    tmp_path: Path, local_log: list[logging.LogRecord]
) -> None:
    runtime = orders_runtime(tmp_path)
    try:
        with (tmp_path / "queues.db").open("r+b") as fh:
            fh.write(b"scribbled over by something else" * 4)
        assert runtime.wait(10)  # the runtime asks itself to stop: it cannot go on
    finally:
        runtime.stop()
    assert isinstance(runtime.fatal, QueueCorruptError)
    assert "--reset" in str(runtime.fatal)
    assert any(r.levelno == logging.CRITICAL for r in local_log)


def test_a_second_runtime_on_one_state_dir_is_refused_naming_the_first(tmp_path: Path) -> None:
    first = LocalRuntime(App("first"), port=0, state_dir=tmp_path)
    first.start()
    try:
        second = LocalRuntime(App("second"), port=0, state_dir=tmp_path)
        with pytest.raises(StateDirInUseError) as exc:
            second.start()
        assert f"pid {os.getpid()}" in str(exc.value) and str(tmp_path) in str(exc.value)
    finally:
        first.stop()
    second.start()  # free once the first has stopped
    second.stop()


def assert_backed_off(attempts: list[float], delays: tuple[float, ...]) -> None:
    """Each attempt came at least its retry's delay after the one before (and not much later)."""
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert len(gaps) == len(delays), attempts
    for gap, delay in zip(gaps, delays, strict=True):
        assert delay <= gap < delay + 1.0


def test_failed_messages_back_off_exponentially(tmp_path: Path) -> None:
    assert [retry_delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert retry_delay(3, 0.5) == 2.0
    app = App("backoff")
    seen: list[float] = []

    @app.queue("jobs", retries=3)
    def job(msg, ctx):
        seen.append(time.monotonic())
        raise RuntimeError("always")

    runtime = LocalRuntime(app, port=0, state_dir=tmp_path, poll_interval=0.01, retry_delay=0.2)
    runtime.start()
    try:
        runtime.queue.send("jobs", b"x")
        wait_until(lambda: len(runtime.queue.messages("jobs-dead")) == 1)
    finally:
        runtime.stop()
    assert_backed_off(seen, (0.2, 0.4, 0.8))


def post(url: str, body: bytes = b"") -> tuple[int, Any]:
    req = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_the_send_endpoint_refuses_a_queue_the_app_does_not_know(tmp_path: Path) -> None:
    runtime = orders_runtime(tmp_path)
    try:
        status, body = post(runtime.url + "/_polyfn/send/ordres", b"x")
        assert status == 404
        assert body["queues"] == {
            "orders": "consumed by on_order",
            "orders-dead": ("dead letters of orders"),
        }
        assert post(runtime.url + "/_polyfn/send/orders", b"x")[0] == 202
    finally:
        runtime.stop()
    assert "ordres" not in runtime.queue.queues()
    # serve registered the app's queues in the file, for `polyfn send` to check names against.
    assert LocalQueue(tmp_path / "queues.db").registered() == {
        "orders": "consumed by on_order",
        "orders-dead": "dead letters of orders",
    }


def test_failed_storage_events_back_off_the_same_way(tmp_path: Path) -> None:
    app = App("uploads")
    seen: list[float] = []

    @app.storage("uploads", on=["created"], retries=2)
    def on_upload(event, ctx):
        seen.append(time.monotonic())
        raise RuntimeError("always")

    runtime = LocalRuntime(app, port=0, state_dir=tmp_path, poll_interval=0.02, retry_delay=0.2)
    runtime.start()
    try:
        (tmp_path / "storage" / "uploads" / "a.txt").write_bytes(b"x")
        wait_until(lambda: len(seen) == 3)
        time.sleep(0.5)
    finally:
        runtime.stop()
    assert_backed_off(seen, (0.2, 0.4))  # the first attempt and two retries, then dropped
