"""`polyfn.testing.Client`: the user's in-process test helper, provider "local"."""

from __future__ import annotations

from datetime import UTC, datetime

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
