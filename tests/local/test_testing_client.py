"""`polyfn.testing.Client`: the user's in-process test helper, provider "local"."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from polyfn import App, ConfigError, HttpResponse, QueueMessage, StorageEvent, TimerEvent
from polyfn.testing import Client

app = App("shop")
seen: list[object] = []


@app.http("/orders/{order_id}", methods=["GET", "PUT"])
def order(req, ctx):
    seen.append((ctx.provider, req.method, req.query.getall("tag"), req.headers.get("x-a")))
    if req.method == "PUT":
        return HttpResponse.json({"stored": req.json()}, 201)
    return {"id": req.path_params["order_id"]}


@app.schedule("0 2 * * *")
def nightly(event: TimerEvent, ctx):
    seen.append(event)
    return "swept"


@app.storage("uploads", on=["created", "deleted"], prefix="in/")
def on_upload(event: StorageEvent, ctx):
    seen.append(event)


@app.queue("orders")
def on_order(msg: QueueMessage, ctx):
    if msg.json().get("fail"):
        raise RuntimeError("refused")
    seen.append(msg)
    return msg.json()["id"]


@pytest.fixture(autouse=True)
def _clear() -> None:
    seen.clear()


def test_http_calls_route_through_the_app() -> None:
    client = Client(app)
    resp = client.get("/orders/42?tag=a&tag=b", headers=[("X-A", "1")])
    assert resp.status == 200 and client.json(resp) == {"id": "42"}
    assert seen == [("local", "GET", ["a", "b"], "1")]
    resp = client.put("/orders/7", json={"total": 3})
    assert resp.status == 201 and client.json(resp) == {"stored": {"total": 3}}
    assert client.delete("/orders/7").status == 405
    assert client.get("/missing").status == 404


def test_tick_put_delete_and_send() -> None:
    client = Client(app)
    when = datetime(2026, 1, 15, 2, 0, tzinfo=UTC)
    assert client.tick("nightly", scheduled_time=when) == "swept"
    assert seen[-1].scheduled_time == when and seen[-1].name == "nightly"
    assert client.put_object("uploads", "in/a b.csv", "x,y\n") == ["on_upload"]
    created = seen[-1]
    assert (created.kind, created.key, created.size, created.content_type) == (
        "created",
        "in/a b.csv",
        4,
        "text/csv",
    )
    assert client.put_object("uploads", "other/skip.csv", b"") == []
    assert client.delete_object("uploads", "in/a b.csv") == ["on_upload"]
    assert seen[-1].kind == "deleted" and seen[-1].size is None
    assert client.send("orders", {"id": 9}, attributes={"k": "v"}, group="g") == 9
    msg = seen[-1]
    assert (msg.queue, msg.attributes, msg.group, msg.delivery_count) == (
        "orders",
        {"k": "v"},
        "g",
        1,
    )
    with pytest.raises(RuntimeError, match="refused"):
        client.send("orders", {"fail": True})
    with pytest.raises(ConfigError, match="its queues: orders"):
        client.send("nope", "x")
    with pytest.raises(ConfigError, match="not a schedule"):
        client.tick("on_order")


# -- event.raw of storage events (issue 7, item 12) ----------------------------------------------

raw_app = App("raw")
read: list[tuple[str, dict[str, str], bytes | None]] = []


@raw_app.storage("uploads", on=["created", "deleted"])
def reads_the_file(event: StorageEvent, ctx):
    # What a handler written against `polyfn serve` does: read the object from its local file.
    assert ctx.provider == "local" and ctx.raw is event.raw
    path = event.raw["path"]
    content = Path(path).read_bytes() if event.kind == "created" else None
    read.append((event.kind, dict(event.raw), content))


def test_storage_events_carry_the_local_raw_shape_with_the_objects_file(tmp_path):
    read.clear()
    client = Client(raw_app, storage_dir=tmp_path)
    assert client.put_object("uploads", "in/a b.csv", b"id\n1\n") == ["reads_the_file"]
    file = tmp_path / "uploads" / "in" / "a b.csv"
    raw = {"provider": "local", "kind": "created", "bucket": "uploads", "key": "in/a b.csv"}
    assert read == [("created", {**raw, "path": str(file)}, b"id\n1\n")]
    assert client.delete_object("uploads", "in/a b.csv") == ["reads_the_file"]
    assert read[1] == ("deleted", {**raw, "kind": "deleted", "path": str(file)}, None)
    assert not file.exists()


def test_serve_and_the_test_client_give_the_same_raw(tmp_path):
    from polyfn._local._storage import FolderWatcher

    read.clear()
    Client(raw_app, storage_dir=tmp_path / "client").put_object("uploads", "x.txt", "hi")
    watcher = FolderWatcher(tmp_path / "serve", ["uploads"])
    (tmp_path / "serve" / "uploads" / "x.txt").write_text("hi")
    watcher.poll()
    [served] = watcher.poll()
    client_raw = read[0][1]
    assert {**served.raw, "path": ""} == {**client_raw, "path": ""}
    assert served.raw["path"] == str(tmp_path / "serve" / "uploads" / "x.txt")


def test_without_a_storage_dir_the_client_keeps_objects_in_a_temporary_folder():
    read.clear()
    client = Client(raw_app)
    client.put_object("uploads", "a.txt", b"data")
    path = read[0][1]["path"]
    assert read[0][2] == b"data"
    del client
    import gc

    gc.collect()
    assert not os.path.exists(path)


@pytest.mark.parametrize("key", ["../escape.txt", "a/../../b", "/abs", "dir/", ""])
def test_keys_that_are_no_file_inside_the_bucket_are_config_errors(tmp_path, key):
    with pytest.raises(ConfigError, match="object key"):
        Client(raw_app, storage_dir=tmp_path).put_object("uploads", key, b"x")
    assert not (tmp_path / "escape.txt").exists()
