"""The conformance app: one polyfn App, the same on every target.

Its HTTP handlers either echo what they saw (every part of the request, in neutral terms, recorded
into `Recorder` and returned as JSON under ``"echo"``, so a driver that talks to a real server in
another process can still read it) or build the response a case asks for: a status, repeated
headers, several Set-Cookie, JSON/text/binary/empty bodies, the return conversions, a redirect,
an `HTTPError`, a crash (500), a body validated by a pydantic model (400).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, Field

from conformance._spec import Recorder
from conformance.app_events import register_event_functions
from polyfn import App, Context, HTTPError, HttpRequest, HttpResponse

app = App("conformance")

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

# Bodies up to this size are echoed whole (base64); larger ones by length and digest only.
ECHO_BODY_LIMIT = 64 * 1024

# Every byte value: not UTF-8, so it must travel base64-encoded wherever a cloud wants text.
BINARY = bytes(range(256))


# A request with this header has the handler log one line and count one datapoint of that name.
METRIC_HEADER = "x-conformance-metric"


def seen(req: HttpRequest, ctx: Context) -> dict[str, Any]:
    """Record what the handler sees of `req` and return it."""
    entry: dict[str, Any] = {
        "function": ctx.function_name,
        "provider": ctx.provider,
        "has_invocation_id": bool(ctx.invocation_id),
        "method": req.method,
        "path": req.path,
        "route": req.route,
        "path_params": dict(req.path_params),
        "query": req.query.to_multi(),
        "headers": {},
        "cookies": dict(req.cookies),
        "body_len": len(req.body),
        "body_sha256": hashlib.sha256(req.body).hexdigest(),
        "source_ip": req.source_ip,
    }
    headers: dict[str, list[str]] = entry["headers"]
    for name, value in req.headers.multi_items():
        headers.setdefault(name.lower(), []).append(value)
    metric = req.headers.get(METRIC_HEADER)
    if metric:  # the observability cases (conformance/cases/observe.py)
        ctx.log.info("metric asked", extra={"metric_name": metric})
        ctx.metrics.count(metric, 1)
    if len(req.body) <= ECHO_BODY_LIMIT:
        entry["body_b64"] = base64.b64encode(req.body).decode()
    ctype = (req.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":
        entry["form"] = [list(p) for p in parse_qsl(req.text, keep_blank_values=True)]
    elif ctype == "application/json" and req.body:
        entry["json"] = req.json()
    Recorder.record(entry)
    return entry


@app.http("/echo", methods=ALL_METHODS)
def echo(req: HttpRequest, ctx: Context) -> dict[str, Any]:
    return {"echo": seen(req, ctx)}


@app.http("/echo/{first}/{second}", methods=ALL_METHODS)
def echo_params(req: HttpRequest, ctx: Context) -> dict[str, Any]:
    return {"echo": seen(req, ctx)}


@app.http("/files/{path+}", methods=["GET"])
def files(req: HttpRequest, ctx: Context) -> dict[str, Any]:
    return {"echo": seen(req, ctx)}


@app.http("/items/{item_id}", methods=["GET", "DELETE"])
def item(req: HttpRequest, ctx: Context) -> dict[str, Any] | None:
    entry = seen(req, ctx)
    if req.method == "DELETE":
        return None  # the None -> 204 conversion
    return {"echo": entry}


@app.http("/respond", methods=["GET", "POST"])
def respond(req: HttpRequest, ctx: Context) -> HttpResponse:
    """Build the response the query asks for.

    ``status``; ``h=Name:Value`` (repeatable, or several lines in one value; repeated names
    kept); ``c=<Set-Cookie value>``
    (repeatable); ``kind`` = json | text | binary | empty | html | gzip; ``size`` (binary bytes);
    ``text``; ``ctype`` (Content-Type for the binary kind).
    """
    seen(req, ctx)
    q = req.query
    status = int(q.get("status", "200"))
    kind = q.get("kind", "json")
    if kind == "json":
        resp = HttpResponse.json({"ok": True, "text": q.get("text", "")}, status)
    elif kind == "text":
        resp = HttpResponse.text(q.get("text", ""), status)
    elif kind == "html":
        resp = HttpResponse.html(q.get("text", ""), status)
    elif kind == "binary":
        size = int(q.get("size", str(len(BINARY))))
        data = (BINARY * (size // len(BINARY) + 1))[:size]
        resp = HttpResponse.binary(data, q.get("ctype", "application/octet-stream"), status)
    elif kind == "empty":
        resp = HttpResponse.empty(status)
    elif kind == "gzip":
        # A compressed text body: binary on the wire whatever its Content-Type says.
        resp = HttpResponse.text(q.get("text", ""), status)
        resp.body = gzip.compress(resp.body, mtime=0)
        resp.headers.set("Content-Encoding", "gzip")
    else:
        raise HTTPError(400, f"unknown kind {kind!r}")
    for specs in q.getall("h"):
        for spec in specs.split("\n"):
            name, _, value = spec.partition(":")
            resp.headers.add(name, value)
    for cookie in q.getall("c"):
        resp.cookies.append(cookie)
    return resp


@app.http("/return/{kind}", methods=["GET"])
def returns(req: HttpRequest, ctx: Context) -> Any:
    """Return a plain value, to check each conversion DESIGN.md lists."""
    seen(req, ctx)
    kind = req.path_params["kind"]
    values: dict[str, Any] = {
        "dict": {"kind": "dict", "n": 1, "unicode": "café ✓"},
        "list": [1, "two", None],
        "str": "plain text ✓",
        "bytes": BINARY,
        "none": None,
        "tuple": ({"created": True}, 201),
        "model": Order(sku="ABC-1", quantity=2),
    }
    if kind not in values:
        raise HTTPError(404, f"no such return kind {kind!r}")
    return values[kind]


@app.http("/redirect", methods=["GET"])
def redirect(req: HttpRequest, ctx: Context) -> HttpResponse:
    seen(req, ctx)
    return HttpResponse.redirect("https://example.com/landing?from=conformance", 302)


@app.http("/fail/http/{status}", methods=["GET"])
def fail_http(req: HttpRequest, ctx: Context) -> HttpResponse:
    seen(req, ctx)
    raise HTTPError(int(req.path_params["status"]), "refused on purpose", headers={"X-Why": "test"})


@app.http("/fail/crash", methods=["GET", "POST"])
def fail_crash(req: HttpRequest, ctx: Context) -> HttpResponse:
    seen(req, ctx)
    raise RuntimeError("secret-detail: the database password is hunter2")


class Order(BaseModel):
    sku: str = Field(min_length=1)
    quantity: int = Field(gt=0)


@app.http("/orders", methods=["POST"], body=Order)
def create_order(req: HttpRequest, ctx: Context, order: Order) -> tuple[dict[str, Any], int]:
    seen(req, ctx)
    return {"sku": order.sku, "quantity": order.quantity}, 201


# The schedule, storage and queue functions of the same app (conformance/app_events.py, written by
# the events side of the suite).
register_event_functions(app)
