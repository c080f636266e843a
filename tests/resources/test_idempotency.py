"""`idempotent(table, key=...)`: once per key within a ttl, on Table's public API."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from polyfn import (
    App,
    ConfigError,
    Conflict,
    EventError,
    HttpResponse,
    QueueMessage,
    Table,
    idempotent,
)
from polyfn._idempotency import IN_PROGRESS, record_key
from polyfn.testing import Client

done = Table("idempotency")


def http_app(calls: list[str], *, ttl: float = 3600, gate: threading.Event | None = None) -> App:
    app = App("payments")

    @app.http("/pay", methods=["POST"])
    @idempotent(done, key="headers.Idempotency-Key", ttl=ttl)
    def pay(req, ctx):
        calls.append(req.text)
        if gate is not None:
            gate.wait(10)
        if req.text == "boom":
            raise RuntimeError("card declined")
        if req.text == "500":
            return HttpResponse.json({"error": "upstream"}, 503)
        resp = HttpResponse.json({"charged": req.text, "n": len(calls)}, 201)
        resp.headers.set("X-Charge", str(len(calls)))
        resp.cookies.append("seen=1")
        return resp

    return app


def pay(client: Client, key: str | None, body: str) -> HttpResponse:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post("/pay", headers=headers, body=body)


def test_http_repeat_gets_the_stored_response_without_running(state_dir: Path) -> None:
    calls: list[str] = []
    client = Client(http_app(calls), state_dir=state_dir)
    first = pay(client, "k1", "10")
    again = pay(client, "k1", "10")
    assert calls == ["10"]
    assert (again.status, again.body, again.cookies) == (first.status, first.body, first.cookies)
    assert again.headers.get("X-Charge") == "1" and first.status == 201
    other = pay(client, "k2", "10")
    assert calls == ["10", "10"] and Client.json(other)["n"] == 2


def test_a_failure_stores_nothing_so_a_retry_runs(state_dir: Path) -> None:
    calls: list[str] = []
    client = Client(http_app(calls), state_dir=state_dir)
    assert pay(client, "k", "boom").status == 500
    assert pay(client, "k", "500").status == 503
    assert pay(client, "k", "7").status == 201
    assert calls == ["boom", "500", "7"]
    assert pay(client, "k", "7").status == 201 and len(calls) == 3


def test_a_missing_key_is_a_400(state_dir: Path) -> None:
    calls: list[str] = []
    resp = pay(Client(http_app(calls), state_dir=state_dir), None, "1")
    assert resp.status == 400 and "Idempotency-Key" in Client.json(resp)["error"]
    assert calls == []


def test_a_concurrent_duplicate_gets_409_in_progress(state_dir: Path) -> None:
    calls: list[str] = []
    gate = threading.Event()
    client = Client(http_app(calls, gate=gate), state_dir=state_dir)
    results: list[HttpResponse] = []
    first = threading.Thread(target=lambda: results.append(pay(client, "same", "1")))
    first.start()
    deadline = time.monotonic() + 10
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    duplicate = pay(client, "same", "1")
    gate.set()
    first.join(10)
    assert duplicate.status == 409
    assert Client.json(duplicate)["idempotency"] == "in progress"
    assert calls == ["1"] and results[0].status == 201


def test_the_ttl_ends_the_deduplication(state_dir: Path) -> None:
    calls: list[str] = []
    client = Client(http_app(calls, ttl=0.2), state_dir=state_dir)
    pay(client, "k", "1")
    pay(client, "k", "1")
    time.sleep(0.3)
    pay(client, "k", "1")
    assert calls == ["1", "1"]


def test_a_crashed_claim_is_taken_over_after_its_deadline(state_dir: Path) -> None:
    calls: list[str] = []
    client = Client(http_app(calls), state_dir=state_dir)
    key = record_key("pay", "crashed")
    done.put(key, {"status": IN_PROGRESS, "until": time.time() + 60})
    assert pay(client, "crashed", "1").status == 409  # the claim still counts
    done.put(key, {"status": IN_PROGRESS, "until": time.time() - 1})
    assert pay(client, "crashed", "1").status == 201  # its deadline passed: taken over
    assert calls == ["1"]


def queue_app(calls: list[bytes], gate: threading.Event | None = None) -> App:
    app = App("worker")

    @app.queue("orders")
    @idempotent(done, key="body.order.id")
    def work(msg: QueueMessage, ctx):
        calls.append(msg.body)
        if gate is not None:
            gate.wait(10)
        return {"reserved": msg.json()["order"]["id"]}

    return app


def test_a_queue_repeat_is_acknowledged_without_running(state_dir: Path) -> None:
    calls: list[bytes] = []
    client = Client(queue_app(calls), state_dir=state_dir)
    assert client.send("orders", {"order": {"id": 5}}) == {"reserved": 5}
    assert client.send("orders", {"order": {"id": 5}, "resent": True}) == {"reserved": 5}
    assert len(calls) == 1
    with pytest.raises(EventError, match=r"body\.order\.id"):
        client.send("orders", {"order": {}})


def test_a_concurrent_queue_duplicate_fails_so_it_is_redelivered(state_dir: Path) -> None:
    calls: list[bytes] = []
    gate = threading.Event()
    client = Client(queue_app(calls, gate), state_dir=state_dir)
    first = threading.Thread(target=lambda: client.send("orders", {"order": {"id": 1}}))
    first.start()
    deadline = time.monotonic() + 10
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(Conflict, match="still being handled"):
        client.send("orders", {"order": {"id": 1}})
    gate.set()
    first.join(10)
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("key", "message", "expected"),
    [
        ("id", QueueMessage("m-1", b"{}", queue="q"), "m-1"),
        ("attributes.dedup", QueueMessage("m", b"", queue="q", attributes={"dedup": "d"}), "d"),
        ("body.a.b", QueueMessage("m", b'{"a": {"b": 3}}', queue="q"), 3),
        (lambda m: m.body.decode().upper(), QueueMessage("m", b"abc", queue="q"), "ABC"),
    ],
)
def test_key_forms(key: object, message: QueueMessage, expected: object) -> None:
    seen: list[object] = []

    class Recording(Table):
        __slots__ = ()

        def get(self, key: str) -> None:  # type: ignore[override]
            seen.append(key)
            raise RuntimeError("stop here")

    guard = idempotent(Recording("keys"), key=key)(lambda m, c: None)  # type: ignore[arg-type]
    from polyfn._local._invoke import local_context

    with pytest.raises(RuntimeError, match="stop here"):
        guard(message, local_context(None))
    assert seen == [record_key("", expected)]


@pytest.mark.parametrize("key", ["", "nothing", "body.", "headers", 7])
def test_bad_key_forms_are_config_errors(key: object) -> None:
    with pytest.raises(ConfigError, match="key"):
        idempotent(done, key=key)  # type: ignore[arg-type]


def test_bad_table_or_ttl_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="Table handle"):
        idempotent("idempotency", key="id")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="ttl"):
        idempotent(done, key="id", ttl=0)


def test_a_result_the_table_cannot_store_is_still_answered_and_not_deduplicated(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from polyfn import ResourceError
    from polyfn._local import _resources as local

    calls: list[str] = []
    client = Client(http_app(calls), state_dir=state_dir)
    real_put = local._Tables.put

    def refuse_results(self, table, key, fields, if_absent, if_version):  # type: ignore[no-untyped-def]
        if fields.get("status") == "completed":
            raise ResourceError("item too large")
        return real_put(self, table, key, fields, if_absent, if_version)

    monkeypatch.setattr(local._Tables, "put", refuse_results)
    assert pay(client, "big", "1").status == 201
    assert pay(client, "big", "1").status == 201
    assert calls == ["1", "1"]
