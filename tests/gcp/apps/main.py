"""The entry module functions-framework loads in the GCP tests (tests/gcp/apps/main.py).

Every handler records what it saw in SEEN (and, when POLYFN_GCP_RECORD names a file, as one JSON
line there, for the tests that run a real functions-framework server in another process).
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import polyfn_gcp

from polyfn import App, HttpRequest, HttpResponse, QueueMessage, StorageEvent, TimerEvent

app = App("shop")
SEEN: list[dict[str, Any]] = []


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None else None


def record(entry: dict[str, Any]) -> None:
    SEEN.append(entry)
    path = os.environ.get("POLYFN_GCP_RECORD")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


@app.http("/echo/{rest+}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
def echo(req: HttpRequest, ctx: Any) -> HttpResponse:
    return HttpResponse.json(
        {
            "method": req.method,
            "path": req.path,
            "rest": req.path_params["rest"],
            "query": req.query.multi_items(),
            "headers": req.headers.to_multi(),
            "cookies": req.cookies,
            "body_b64": base64.b64encode(req.body).decode(),
            "source_ip": req.source_ip,
            "function": ctx.function_name,
            "invocation_id": ctx.invocation_id,
            "trace_id": ctx.trace_id,
            "provider": ctx.provider,
        }
    )


@app.http("/cookies", methods=["GET"])
def cookies(req: HttpRequest, ctx: Any) -> HttpResponse:
    resp = HttpResponse.text("two cookies")
    resp.set_cookie("a", "1", http_only=True)
    resp.set_cookie("b", "2", max_age=60)
    resp.headers.add("X-Multi", "one")
    resp.headers.add("X-Multi", "two")
    return resp


@app.http("/binary", methods=["POST"])
def binary(req: HttpRequest, ctx: Any) -> HttpResponse:
    return HttpResponse.binary(bytes(reversed(req.body)), "application/octet-stream", 201)


@app.http("/redirect", methods=["GET"])
def redirect(req: HttpRequest, ctx: Any) -> HttpResponse:
    return HttpResponse.redirect("/elsewhere")


@app.http("/empty", methods=["DELETE"])
def empty(req: HttpRequest, ctx: Any) -> None:
    return None


@app.http("/boom", methods=["GET"])
def boom(req: HttpRequest, ctx: Any) -> None:
    raise RuntimeError("secret detail that must not reach the client")


@app.schedule("0 2 * * *")
def nightly(event: TimerEvent, ctx: Any) -> None:
    record(
        {
            "fn": "nightly",
            "name": event.name,
            "schedule": str(event.schedule),
            "scheduled_time": _iso(event.scheduled_time),
            "past_due": event.past_due,
            "ctx_function": ctx.function_name,
        }
    )


@app.schedule("*/5 * * * *")
def failing_tick(event: TimerEvent, ctx: Any) -> None:
    raise RuntimeError("tick failed")


def _storage(fn: str, event: StorageEvent, ctx: Any) -> None:
    record(
        {
            "fn": fn,
            "kind": event.kind,
            "bucket": event.bucket,
            "key": event.key,
            "size": event.size,
            "etag": event.etag,
            "content_type": event.content_type,
            "version": event.version,
            "time": _iso(event.time),
            "ctx_function": ctx.function_name,
            "invocation_id": ctx.invocation_id,
        }
    )
    if event.key.endswith("fail.txt"):
        raise RuntimeError("storage handler failed")


@app.storage("uploads", on=["created", "deleted", "archived", "metadata_updated"])
def on_upload(event: StorageEvent, ctx: Any) -> None:
    _storage("on_upload", event, ctx)


@app.storage("images", on=["created"], prefix="incoming/", suffix=".png")
def on_image(event: StorageEvent, ctx: Any) -> None:
    _storage("on_image", event, ctx)


@app.queue("orders")
def on_order(msg: QueueMessage, ctx: Any) -> None:
    record(
        {
            "fn": "on_order",
            "id": msg.id,
            "queue": msg.queue,
            "body_b64": base64.b64encode(msg.body).decode(),
            "attributes": msg.attributes,
            "delivery_count": msg.delivery_count,
            "enqueued_time": _iso(msg.enqueued_time),
            "group": msg.group,
            "ctx_function": ctx.function_name,
            "invocation_id": ctx.invocation_id,
        }
    )
    if msg.body == b"fail":
        raise RuntimeError("order handler failed")


# These targets test reading and dispatch; who may deliver is tests/gcp/test_auth.py's subject.
NO_AUTH = polyfn_gcp.DeliveryAuth.disabled()
http = polyfn_gcp.http(app, delivery_auth=NO_AUTH)
event = polyfn_gcp.cloud_event(app)
only_orders = polyfn_gcp.cloud_event(app, function="on_order")
only_echo = polyfn_gcp.http(app, function="echo", delivery_auth=NO_AUTH)
