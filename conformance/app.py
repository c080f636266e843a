"""The conformance app: one polyfn App, the same on every target.

Its HTTP handlers either echo what they saw (every part of the request, in neutral terms, recorded
into `Recorder` and returned as JSON under ``"echo"``, so a driver that talks to a real server in
another process can still read it) or build the response a case asks for: a status, repeated
headers, several Set-Cookie, JSON/text/binary/empty bodies, the return conversions, a redirect,
an `HTTPError`, a crash (500), a body validated by a pydantic model (400). Routes under /cors,
/mw and /auth carry CORS rules, middleware (app-wide and per route) and authentication hooks.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from typing import Annotated, Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, Field

from conformance._spec import Recorder
from conformance.app_events import register_event_functions
from polyfn import (
    App,
    Context,
    CORSConfig,
    Header,
    HTTPError,
    HttpRequest,
    HttpResponse,
    Path,
    Query,
    after,
    api_key,
    before,
    jwt_bearer,
)

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


class Typed(BaseModel):
    item_id: int
    limit: int
    tags: list[str]
    flag: bool
    tenant: str


@app.http("/typed/{item_id}", methods=["GET"], response_model=Typed)
def typed(
    req: HttpRequest,
    ctx: Context,
    item_id: Annotated[int, Path(ge=1)],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    tag: tuple[str, ...] = (),
    flag: bool = False,
    tenant: Annotated[str, Header(alias="X-Tenant", min_length=2)] = "none",
    broken: bool = False,
) -> dict[str, Any]:
    """Typed path, query and header parameters and a response model (`broken` returns a value
    the model refuses: polyfn's 500)."""
    seen(req, ctx)
    if broken:
        return {"item_id": "not a number"}
    return {"item_id": item_id, "limit": limit, "tags": tag, "flag": flag, "tenant": tenant}


# -- CORS, middleware and authentication (conformance/cases/http_cors_auth.py) -------------------

CORS_ORIGIN = "https://app.example"
STRICT_CORS = CORSConfig(
    [CORS_ORIGIN],
    headers=["content-type", "x-api-key"],
    credentials=True,
    max_age=600,
    expose_headers=["X-Total"],
)
API_KEY = "conformance-key"
JWT_SECRET = "conformance-secret-of-32-bytes!!"
JWT_AUDIENCE = "conformance"
MIDDLEWARE_PREFIX = "/mw/"


def _order(req: HttpRequest, step: str) -> None:
    req.state.setdefault("order", []).append(step)


def _wrapping(name: str) -> Any:
    """A wrapping middleware that records itself on the way in and on the way out (as a
    response header, since the body is written by then)."""

    def layer(req: HttpRequest, ctx: Context, call_next: Any) -> HttpResponse:
        if not req.path.startswith(MIDDLEWARE_PREFIX):
            passed: HttpResponse = call_next()
            return passed
        _order(req, f"{name}>")
        resp: HttpResponse = call_next()
        resp.headers.add("X-Order", f"<{name}")
        return resp

    return layer


def _before(name: str) -> Any:
    def hook(req: HttpRequest, ctx: Context) -> None:
        if req.path.startswith(MIDDLEWARE_PREFIX):
            _order(req, name)

    return hook


def _after(name: str) -> Any:
    def hook(req: HttpRequest, ctx: Context, resp: HttpResponse) -> None:
        if req.path.startswith(MIDDLEWARE_PREFIX):
            resp.headers.add("X-Order", name)

    return hook


# App-wide layers: they run for every route of the app, and record only under /mw/.
app.use(_wrapping("app"))
app.before(_before("app-before"))
app.after(_after("app-after"))


@app.http("/cors/strict", methods=["GET", "PUT"], cors=STRICT_CORS)
def cors_strict(req: HttpRequest, ctx: Context) -> HttpResponse:
    seen(req, ctx)
    return HttpResponse.json({"ok": True}, headers={"X-Total": "3"})


@app.http("/cors/open", methods=["GET"], cors=CORSConfig("*", expose_headers=["X-Total"]))
def cors_open(req: HttpRequest, ctx: Context) -> dict[str, Any]:
    seen(req, ctx)
    return {"ok": True}


@app.http(
    "/mw/order",
    methods=["GET"],
    middleware=[_wrapping("route"), before(_before("route-before")), after(_after("route-after"))],
)
def mw_order(req: HttpRequest, ctx: Context) -> dict[str, Any]:
    seen(req, ctx)
    return {"order": [*req.state.get("order", []), "handler"]}


def _refuse_teapots(req: HttpRequest, ctx: Context) -> Any:
    return ({"error": "short-circuited"}, 418) if req.query.get("teapot") else None


def _crash(req: HttpRequest, ctx: Context, call_next: Any) -> HttpResponse:
    raise RuntimeError("secret-detail: middleware failed with hunter2")


@app.http("/mw/short", methods=["GET"], middleware=[before(_refuse_teapots)])
def mw_short(req: HttpRequest, ctx: Context) -> dict[str, Any]:
    seen(req, ctx)
    return {"ran": True}


@app.http("/mw/crash", methods=["GET"], middleware=[_crash])
def mw_crash(req: HttpRequest, ctx: Context) -> dict[str, Any]:
    seen(req, ctx)
    return {"ran": True}


def _principal(req: HttpRequest, ctx: Context) -> dict[str, Any]:
    seen(req, ctx)
    principal = req.principal
    assert principal is not None
    return {"subject": principal.subject, "scheme": principal.scheme}


app.http(
    "/auth/key",
    methods=["GET"],
    cors=STRICT_CORS,
    middleware=[api_key({API_KEY: "conformance-client"})],
    function_name="auth_key",
)(_principal)
app.http(
    "/auth/jwt",
    methods=["GET"],
    middleware=[
        jwt_bearer(key=JWT_SECRET, algorithms=["HS256"], audience=JWT_AUDIENCE),
    ],
    function_name="auth_jwt",
)(_principal)


# The schedule, storage and queue functions of the same app (conformance/app_events.py, written by
# the events side of the suite).
register_event_functions(app)
