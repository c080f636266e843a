"""The entry module for tests/gcp/test_published.py: functions bound to the buckets and topics that
Google's published sample payloads name (tests/events/gcp/published/). Each handler appends
(function name, the neutral event or request) to SEEN."""

from __future__ import annotations

import base64
from typing import Any

import polyfn_gcp

from polyfn import App, HttpRequest, HttpResponse, QueueMessage, StorageEvent

app = App("published")
SEEN: list[tuple[str, Any]] = []


@app.storage("sample-bucket", on=["created", "deleted", "archived", "metadata_updated"])
def sample_any(event: StorageEvent, ctx: Any) -> None:
    SEEN.append(("sample_any", event))


@app.storage("sample-bucket", on=["created"])
def sample_created(event: StorageEvent, ctx: Any) -> None:
    SEEN.append(("sample_created", event))


@app.storage("some-bucket", on=["created"], prefix="folder/")
def some_folder(event: StorageEvent, ctx: Any) -> None:
    SEEN.append(("some_folder", event))


@app.storage("my-bucket", on=["created", "deleted", "archived", "metadata_updated"])
def my_bucket(event: StorageEvent, ctx: Any) -> None:
    SEEN.append(("my_bucket", event))


@app.queue("gcf-test")
def gcf_test(msg: QueueMessage, ctx: Any) -> None:
    SEEN.append(("gcf_test", msg))


@app.queue("my-topic")
def my_topic(msg: QueueMessage, ctx: Any) -> None:
    SEEN.append(("my_topic", msg))


@app.http("/echo/{rest+}", methods=["GET", "HEAD", "POST", "PUT"])
def echo(req: HttpRequest, ctx: Any) -> HttpResponse:
    SEEN.append(("echo", req))
    return HttpResponse.json(
        {
            "method": req.method,
            "path": req.path,
            "rest": req.path_params["rest"],
            "query": req.query.multi_items(),
            "cookies": req.cookies,
            "size": len(req.body),
            "body_b64": base64.b64encode(req.body[:64]).decode(),
        }
    )


@app.http("/cookies", methods=["GET"])
def cookies(req: HttpRequest, ctx: Any) -> HttpResponse:
    resp = HttpResponse.binary(bytes(range(256)), "application/octet-stream")
    resp.set_cookie("session", "s1", http_only=True, secure=True, same_site="Lax")
    resp.set_cookie("theme", "dark", expires="Thu, 01 Jan 2026 00:00:00 GMT")
    resp.set_cookie("gone", "", max_age=0)
    return resp


# Published payloads carry no Google-signed token; tests/gcp/test_auth.py tests the check.
http = polyfn_gcp.http(app, delivery_auth=polyfn_gcp.DeliveryAuth.disabled())
event = polyfn_gcp.cloud_event(app)
