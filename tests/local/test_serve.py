"""`polyfn serve` for real: a subprocess on 127.0.0.1, poked over HTTP, through its folders and its
SQLite queue, stopped with SIGINT (and killed with SIGKILL mid-handler)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import time
import urllib.parse
from typing import TYPE_CHECKING

import pytest

from polyfn._local._statelock import holder
from tests.local._serve import APPS, Served, cli

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served("recorder.py", tmp_path)
    try:
        yield server
    finally:
        server.kill()


def request(
    url: str,
    method: str,
    path: str,
    *,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes | None = None,
) -> http.client.HTTPResponse:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    conn.putrequest(method, path)
    for name, value in headers:
        conn.putheader(name, value)
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    resp = conn.getresponse()
    resp.read_body = resp.read()  # type: ignore[attr-defined]
    conn.close()
    return resp


def test_http_keeps_repeated_headers_query_keys_and_cookies(served: Served) -> None:
    resp = request(
        served.url,
        "GET",
        "/echo/caf%C3%A9%20au%20lait?a=1&a=2&empty=&b=x%2By",
        headers=[("X-Multi", "one"), ("X-Multi", "two"), ("Cookie", "sid=abc; theme=dark")],
    )
    assert resp.status == 200
    body = json.loads(resp.read_body)  # type: ignore[attr-defined]
    assert body["name"] == "café au lait"
    assert body["query"] == [["a", "1"], ["a", "2"], ["empty", ""], ["b", "x+y"]]
    assert body["multi"] == ["one", "two"]
    assert body["cookies"] == {"sid": "abc", "theme": "dark"}
    assert body["provider"] == "local"
    assert resp.headers.get_all("Set-Cookie") == ["first=1; Path=/", "second=2; Path=/; HttpOnly"]
    assert resp.headers.get_all("X-Several") == ["a", "b"]
    assert resp.headers["Content-Type"] == "application/json"


def test_http_binary_body_round_trips_and_errors_stay_generic(served: Served) -> None:
    payload = bytes(range(256)) * 40
    resp = request(served.url, "POST", "/bytes", body=payload)
    assert resp.status == 200
    assert resp.read_body == payload[::-1]  # type: ignore[attr-defined]

    resp = request(served.url, "GET", "/fail")
    assert resp.status == 500
    body = json.loads(resp.read_body)  # type: ignore[attr-defined]
    assert body["error"] == "internal error" and "secret" not in resp.read_body.decode()  # type: ignore[attr-defined]
    assert request(served.url, "GET", "/nowhere").status == 404
    resp = request(served.url, "DELETE", "/echo/x")
    assert resp.status == 405 and resp.headers["Allow"] == "GET, POST"

    # A chunked request body is read as the client sent it.
    parts = urllib.parse.urlsplit(served.url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    conn.request(
        "POST",
        "/bytes",
        body=iter([b"abc", b"def"]),
        encode_chunked=True,
        headers={"Transfer-Encoding": "chunked"},
    )
    assert conn.getresponse().read() == b"fedcba"
    conn.close()

    lines = [entry for entry in served.log_lines() if entry.get("message") == "invocation"]
    fail_line = next(e for e in lines if e["function"] == "fail")
    assert fail_line["trigger"] == "http" and fail_line["outcome"] == "error"
    assert fail_line["status"] == 500 and fail_line["duration_ms"] >= 0


def test_schedule_fires_on_demand_and_sigint_stops_cleanly(served: Served) -> None:
    resp = request(served.url, "POST", "/_polyfn/tick/hourly")
    assert resp.status == 200 and json.loads(resp.read_body)["outcome"] == "ok"  # type: ignore[attr-defined]
    records = served.wait_records(lambda r: any(e["fn"] == "hourly" for e in r))
    assert records[0]["provider"] == "local"
    resp = request(served.url, "POST", "/_polyfn/tick/echo")
    assert resp.status == 404
    assert served.stop(signal.SIGINT) == 0
    out = served.stdout_path.read_text()
    assert "polyfn: stopped recorder" in out
    assert "Traceback" not in served.stderr()


def test_storage_folder_fires_created_changed_and_deleted(served: Served) -> None:
    folder = served.state / "storage" / "uploads"
    assert (folder / "in").is_dir()  # the prefix's folder is there to copy into (docs/local.md)
    (folder / "in" / "deep").mkdir()
    (folder / "in" / "deep" / "a b+c.txt").write_bytes(b"hello")
    (folder / "elsewhere.txt").write_bytes(b"not under the prefix")
    served.wait_records(lambda r: len(r) >= 1)
    (folder / "in" / "deep" / "a b+c.txt").write_bytes(b"hello again")
    served.wait_records(lambda r: len(r) >= 2)
    (folder / "in" / "deep" / "a b+c.txt").unlink()
    records = served.wait_records(lambda r: len(r) >= 3)
    time.sleep(0.3)  # nothing else arrives: the file outside the prefix fired nothing
    records = served.records()
    assert [(e["kind"], e["key"], e["size"]) for e in records] == [
        ("created", "in/deep/a b+c.txt", 5),
        ("created", "in/deep/a b+c.txt", 11),
        ("deleted", "in/deep/a b+c.txt", None),
    ]
    assert records[0]["etag"] == "5d41402abc4b2a76b9719d911017c592"  # md5("hello")


def test_queue_delivers_sent_messages_and_dead_letters_after_retries(served: Served) -> None:
    sent = cli(
        "send", "orders", '{"id": 1}', "--attr", "source=test", "--state-dir", str(served.state)
    )
    assert sent.returncode == 0, sent.stderr
    assert cli("send", "orders", "poison", "--state-dir", str(served.state)).returncode == 0
    records = served.wait_records(lambda r: sum(e["body"] == "poison" for e in r) >= 3)
    assert {
        "fn": "on_order",
        "body": '{"id": 1}',
        "delivery": 1,
        "attrs": {"source": "test"},
    } in records
    # retries=2: three deliveries, then the message moves to orders-dead.
    assert [e["delivery"] for e in records if e["body"] == "poison"] == [1, 2, 3]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        dead = cli("messages", "orders-dead", "--state-dir", str(served.state))
        if dead.stdout.strip():
            break
        time.sleep(0.1)
    entry = json.loads(dead.stdout.splitlines()[0])
    assert entry["body"] == "poison" and "cannot handle poison" in entry["last_error"]
    assert (entry["deliveries"], entry["failed_deliveries"]) == (0, 3)
    time.sleep(0.3)
    assert sum(e["body"] == "poison" for e in served.records()) == 3  # not delivered again
    warning = [e for e in served.log_lines() if e.get("message") == "message dead-lettered"]
    assert warning and warning[0]["dead_letter_queue"] == "orders-dead"


def test_queue_survives_stop_and_sigkill_mid_handler(tmp_path: Path) -> None:
    state = tmp_path / "state"
    # Sent while no runtime runs (and never has: --app names the app's queues): durable.
    sent = cli(
        "send",
        "orders",
        "before-start",
        "--app",
        str(APPS / "recorder.py"),
        "--state-dir",
        str(state),
    )
    assert sent.returncode == 0, sent.stderr
    first = Served("recorder.py", tmp_path)
    try:
        first.wait_records(lambda r: any(e["body"] == "before-start" for e in r))
        assert cli("send", "orders", "slow", "--state-dir", str(state)).returncode == 0
        first.wait_records(lambda r: any(e["body"] == "slow" for e in r))
        first.proc.send_signal(signal.SIGKILL)  # dies inside the handler: never acknowledged
        # Not reaped: the dead serve stays a zombie whose pid still answers kill(pid, 0), but
        # the kernel has dropped its lock on the state directory.
        deadline = time.monotonic() + 10
        while holder(state) is not None:
            assert time.monotonic() < deadline, "the killed serve still holds its lock"
            time.sleep(0.02)
        os.kill(first.proc.pid, 0)
        pending = cli("messages", "orders", "--state-dir", str(state))
        assert json.loads(pending.stdout.splitlines()[0])["state"] == "in flight"

        second = Served("recorder.py", tmp_path)
        try:
            # Redelivered at once (its owner is gone), not after its 60 s visibility timeout,
            # counted as the second delivery, then done.
            records = second.wait_records(lambda r: sum(e["body"] == "slow" for e in r) >= 2)
            assert [e["delivery"] for e in records if e["body"] == "slow"] == [1, 2]
            deadline = time.monotonic() + 10
            while cli("messages", "--state-dir", str(state)).stdout.strip() not in ("{}", ""):
                assert time.monotonic() < deadline, "the queue never emptied"
                time.sleep(0.1)
            assert second.stop(signal.SIGTERM) == 0
        finally:
            second.kill()
    finally:
        first.kill()
    assert sum(e["body"] == "before-start" for e in second.records()) == 1


def test_a_second_serve_on_the_same_state_dir_is_refused_naming_the_first(
    served: Served,
) -> None:
    second = cli(
        "serve", str(APPS / "recorder.py"), "--port", "0", "--state-dir", str(served.state)
    )
    assert second.returncode == 2
    said = " ".join(second.stderr.split())
    assert f"pid {served.proc.pid}" in said and "--state-dir" in said
    assert "Traceback" not in second.stderr
    assert served.proc.poll() is None  # the first carries on


def test_serve_exits_non_zero_naming_the_file_when_its_queue_file_is_corrupted(
    served: Served,
) -> None:
    with (served.state / "queues.db").open("r+b") as fh:
        fh.write(b"scribbled over by something else" * 4)
    assert served.proc.wait(15) == 2
    said = " ".join(served.stderr().split())
    assert "queues.db" in said and "polyfn messages --reset" in said
    # Logged as a JSON line like every other, though no invocation has run yet.
    [stopping] = [e for e in served.log_lines() if e["level"] == "CRITICAL"]
    assert stopping["message"].startswith("the local runtime is stopping")
