"""The conformance app's HTTP routes as a FastAPI app, served by `polyfn.asgi` on every target.

Each view records what FastAPI (Starlette's `Request`) showed it, and answers as the native
handler of the same route does (conformance/app.py), with FastAPI's own responses, exceptions and
body validation. Exception handlers give errors polyfn's JSON shape (``{"error": ...}``); a
crash is left to propagate, so polyfn answers its own 500.
"""

from __future__ import annotations

import gzip
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import polyfn
from conformance._flavours import WEB_METHODS, json_return, record_framework_view
from conformance.app import BINARY, Order
from polyfn import App

api = FastAPI(redirect_slashes=False, openapi_url=None, docs_url=None, redoc_url=None)

# Case name -> why FastAPI answers it otherwise than the native handlers.
SKIPS = {
    "head-on-a-get-route": (
        "FastAPI answers HEAD only on a route that lists it (an APIRoute adds no HEAD to GET): "
        "405 otherwise"
    ),
    "trailing-slash": (
        "Starlette routes /echo/ apart from /echo (it redirects, or 404s with "
        "redirect_slashes=False); a trailing slash is significant to it"
    ),
}


async def _seen(request: Request) -> dict[str, Any]:
    scope = request.scope
    root = scope.get("root_path", "")
    client = request.client
    return record_framework_view(
        scope["polyfn.context"],
        endpoint=scope["endpoint"].__name__,
        route=scope["route"].path,
        method=request.method,
        path=scope["path"][len(root) :],
        path_params=dict(request.path_params),
        query=request.query_params.multi_items(),
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
        cookies=dict(request.cookies),
        body=await request.body(),
        source_ip=client.host if client else None,
    )


@api.exception_handler(StarletteHTTPException)
async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    detail = exc.detail if exc.status_code not in (404, 405) else str(exc.detail).lower()
    return JSONResponse({"error": detail}, exc.status_code, headers=exc.headers)


@api.exception_handler(RequestValidationError)
async def invalid_body(request: Request, exc: RequestValidationError) -> Response:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return JSONResponse({"error": "request body is not valid JSON"}, 400)
    fields = [
        {"loc": [str(p) for p in e["loc"][1:]], "msg": e["msg"], "type": e["type"]} for e in errors
    ]
    return JSONResponse({"error": "request body failed validation", "fields": fields}, 400)


@api.api_route("/echo", methods=WEB_METHODS)
async def echo(request: Request) -> Response:
    return JSONResponse({"echo": await _seen(request)})


@api.api_route("/echo/{first}/{second}", methods=WEB_METHODS)
async def echo_params(request: Request) -> Response:
    return JSONResponse({"echo": await _seen(request)})


@api.get("/files/{path:path}")
async def files(request: Request) -> Response:
    return JSONResponse({"echo": await _seen(request)})


@api.api_route("/items/{item_id}", methods=["GET", "DELETE"])
async def item(request: Request) -> Response:
    entry = await _seen(request)
    if request.method == "DELETE":
        return Response(status_code=204)
    return JSONResponse({"echo": entry})


@api.api_route("/respond", methods=["GET", "POST"])
async def respond(request: Request) -> Response:
    await _seen(request)
    q = request.query_params
    status = int(q.get("status", "200"))
    kind = q.get("kind", "json")
    text = q.get("text", "")
    resp: Response
    if kind == "json":
        resp = JSONResponse({"ok": True, "text": text}, status)
    elif kind in ("text", "html"):
        ctype = "text/plain; charset=utf-8" if kind == "text" else "text/html; charset=utf-8"
        resp = Response(text, status, media_type=ctype)
    elif kind == "binary":
        size = int(q.get("size", str(len(BINARY))))
        data = (BINARY * (size // len(BINARY) + 1))[:size]
        resp = Response(data, status, media_type=q.get("ctype", "application/octet-stream"))
    elif kind == "empty":
        resp = Response(b"", status)
    elif kind == "gzip":
        resp = Response(
            gzip.compress(text.encode(), mtime=0),
            status,
            headers={"Content-Encoding": "gzip"},
            media_type="text/plain; charset=utf-8",
        )
    else:
        raise HTTPException(400, f"unknown kind {kind!r}")
    for specs in q.getlist("h"):
        for spec in specs.split("\n"):
            name, _, value = spec.partition(":")
            resp.raw_headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    for cookie in q.getlist("c"):
        resp.raw_headers.append((b"set-cookie", cookie.encode("latin-1")))
    return resp


@api.get("/return/{kind}")
async def returns(request: Request, kind: str) -> Response:
    await _seen(request)
    json_value = json_return(kind)
    if json_value is not None:
        doc, status = json_value
        return JSONResponse(doc, status)
    if kind == "str":
        return PlainTextResponse("plain text ✓")
    if kind == "bytes":
        return Response(BINARY, media_type="application/octet-stream")
    if kind == "none":
        return Response(status_code=204)
    raise HTTPException(404, f"no such return kind {kind!r}")


@api.get("/redirect")
async def redirect(request: Request) -> Response:
    await _seen(request)
    return RedirectResponse("https://example.com/landing?from=conformance", 302)


@api.get("/fail/http/{status}")
async def fail_http(request: Request, status: int) -> Response:
    await _seen(request)
    raise HTTPException(status, "refused on purpose", headers={"X-Why": "test"})


@api.api_route("/fail/crash", methods=["GET", "POST"])
async def fail_crash(request: Request) -> Response:
    await _seen(request)
    raise RuntimeError("secret-detail: the database password is hunter2")


@api.post("/orders", status_code=201)
async def create_order(request: Request, order: Order) -> dict[str, Any]:
    await _seen(request)
    return {"sku": order.sku, "quantity": order.quantity}


app = App("conformance-fastapi")
app.http("/{path+}", methods=WEB_METHODS, function_name="api")(polyfn.asgi(api))
