"""`polyfn.asgi`: the ASGI bridge's own contract, with real Starlette and FastAPI apps.

Lifespan startup once per process and a failed startup named in the log (never a traceback to the
client), several Set-Cookie, binary bodies, repeated headers and query keys, a streaming response
buffered whole, an exception inside the app as polyfn's 500, and the stage or route prefix as
``scope["root_path"]`` on the adapters that have one.
"""

from __future__ import annotations

import json
import logging
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

import polyfn
from conformance._httpcase import HttpCase
from conformance.targets.aws_http import AwsHttpTarget
from conformance.targets.azure_http import AzureHttpTarget
from polyfn import App, ConfigError
from polyfn.testing import Client

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def serve(asgi_app: Any, name: str = "web", **kwargs: Any) -> App:
    app = App(name)
    app.http("/{path+}", methods=METHODS, function_name="api")(polyfn.asgi(asgi_app, **kwargs))
    return app


async def where(request: Request) -> Response:
    scope = request.scope
    return JSONResponse(
        {
            "root_path": scope["root_path"],
            "path": scope["path"],
            "url": str(request.url),
            "link": str(request.url_for("where")),
            "query": request.query_params.multi_items(),
            "headers": request.headers.getlist("x-multi"),
            "client": request.client.host if request.client else None,
            "state": getattr(request.state, "started", None),
        }
    )


async def cookies(request: Request) -> Response:
    resp = Response(b"\x00\xff" * 8, media_type="application/octet-stream")
    resp.set_cookie("a", "1", path="/")
    resp.set_cookie("b", "2", max_age=60)
    resp.raw_headers.append((b"x-multi", b"one"))
    resp.raw_headers.append((b"x-multi", b"two"))
    return resp


async def upload(request: Request) -> Response:
    body = await request.body()
    return Response(body[::-1], media_type="application/octet-stream")


async def stream(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for i in range(3):
            yield f"chunk {i}\n".encode()

    return StreamingResponse(chunks(), media_type="text/plain")


async def crash_after_start(request: Request) -> Response:
    raise RuntimeError("secret-detail hunter2")


STARTS: list[str] = []


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    STARTS.append("start")
    yield {"started": len(STARTS)}


ROUTES = [
    Route("/where", where),
    Route("/cookies", cookies),
    Route("/upload", upload, methods=["POST"]),
    Route("/stream", stream),
    Route("/crash", crash_after_start),
]


def test_lifespan_startup_runs_once_per_process_and_its_state_reaches_requests() -> None:
    STARTS.clear()
    client = Client(serve(Starlette(routes=ROUTES, lifespan=lifespan)))
    for _ in range(3):
        resp = client.get("/where")
        assert resp.status == 200, resp.body
        assert Client.json(resp)["state"] == 1
    assert STARTS == ["start"]


def test_a_failed_startup_is_a_logged_500_naming_the_failure_never_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[str] = []

    @asynccontextmanager
    async def broken(app: Starlette) -> AsyncIterator[None]:
        calls.append("start")
        raise RuntimeError("cannot reach the database at db.internal:5432")
        yield  # pragma: no cover

    client = Client(serve(Starlette(routes=ROUTES, lifespan=broken)))
    with caplog.at_level(logging.ERROR, logger="polyfn"):
        first, second = client.get("/where"), client.get("/where")
    for resp in (first, second):
        assert resp.status == 500
        body = Client.json(resp)
        assert body["error"] == "internal error" and body["request_id"]
        assert b"Traceback" not in resp.body and b"db.internal" not in resp.body
    assert calls == ["start"]  # not retried on every request
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "failed its lifespan startup" in logged
    assert "RuntimeError: cannot reach the database at db.internal:5432" in logged
    assert "lifespan='off'" in logged


def test_an_app_without_lifespan_support_is_served_in_auto_mode_and_refused_in_on_mode() -> None:
    async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError("http only")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    assert Client(serve(bare)).get("/x").body == b"ok"
    resp = Client(serve(bare, lifespan="on")).get("/x")
    assert resp.status == 500 and b"ValueError" not in resp.body


def test_bad_arguments_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="lifespan='sometimes'"):
        polyfn.asgi(Starlette(), lifespan="sometimes")
    with pytest.raises(ConfigError, match="ASGI application"):
        polyfn.asgi("main:app")
    with pytest.raises(ConfigError, match="WSGI application"):
        polyfn.wsgi(None)


def test_several_cookies_repeated_headers_and_a_binary_body_are_exact() -> None:
    resp = Client(serve(Starlette(routes=ROUTES))).get("/cookies")
    assert resp.status == 200
    assert resp.body == b"\x00\xff" * 8
    assert [c.split(";")[0] for c in resp.cookies] == ["a=1", "b=2"]
    assert resp.headers.getall("x-multi") == ["one", "two"]
    # The bridge leaves Content-Length to the cloud's front end (it describes the app's body).
    assert "content-length" not in resp.headers


def test_repeated_query_keys_and_request_headers_and_a_binary_request_body() -> None:
    client = Client(serve(Starlette(routes=ROUTES)))
    resp = client.get(
        "/where?tag=a&tag=b&flag&q=caf%C3%A9", headers=[("X-Multi", "1"), ("X-Multi", "2")]
    )
    seen = Client.json(resp)
    assert seen["query"] == [["tag", "a"], ["tag", "b"], ["flag", ""], ["q", "café"]]
    assert seen["headers"] == ["1", "2"]
    body = bytes(range(256))
    assert client.post("/upload", body=body).body == body[::-1]


def test_a_streaming_response_is_buffered_whole() -> None:
    resp = Client(serve(Starlette(routes=ROUTES))).get("/stream")
    assert resp.status == 200
    assert resp.body == b"chunk 0\nchunk 1\nchunk 2\n"


def test_an_exception_in_the_app_is_polyfns_500_even_after_starlette_answered_its_own() -> None:
    resp = Client(serve(Starlette(routes=ROUTES))).get("/crash")
    assert resp.status == 500
    body = Client.json(resp)
    assert body["error"] == "internal error" and body["request_id"]
    assert b"hunter2" not in resp.body


def test_an_app_that_never_answers_is_a_500() -> None:
    async def silent(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise ValueError("no lifespan")

    assert Client(serve(silent)).get("/x").status == 500


WHERE = HttpCase("where", "GET", "/where", query="a=1&a=2")


@pytest.mark.parametrize(
    ("target", "root"),
    [
        (AwsHttpTarget("aws-rest"), "/prod"),
        (AwsHttpTarget("aws-rest", base_path="v1"), "/v1"),
        (AwsHttpTarget("aws-http"), ""),
        (AwsHttpTarget("aws-url"), ""),
        (AwsHttpTarget("aws-alb-multi"), ""),
        (AzureHttpTarget(), "/api"),
    ],
    ids=["rest-stage", "rest-base-path", "http", "url", "alb", "azure"],
)
def test_root_path_is_the_stage_or_route_prefix_the_client_url_has(target: Any, root: str) -> None:
    app = serve(Starlette(routes=ROUTES), name=f"where{abs(hash(target.name)) % 1000}")
    outcome = target.run(WHERE, app)
    assert outcome.status == 200, outcome.body
    seen = json.loads(outcome.body)
    assert seen["root_path"] == root
    assert seen["path"] == root + "/where"
    # A link the app builds is one the client can follow: it keeps the prefix.
    assert seen["link"].endswith(f"{root}/where")
    assert seen["query"] == [["a", "1"], ["a", "2"]]


def test_an_http_api_named_stage_is_the_root_path() -> None:
    import polyfn_aws

    from conformance.hosts.aws import lambda_context
    from conformance.targets.aws_http import render_http_api

    event = render_http_api(WHERE)
    event["rawPath"] = "/v2/where"
    event["requestContext"]["stage"] = "v2"
    event["requestContext"]["http"]["path"] = "/v2/where"
    handler = polyfn_aws.handler(serve(Starlette(routes=ROUTES), name="stage"))
    result = handler(event, lambda_context("r-1"))
    seen = json.loads(result["body"])
    assert (seen["root_path"], seen["path"]) == ("/v2", "/v2/where")
    assert seen["client"] == WHERE.source_ip


def test_one_handler_serves_the_root_and_every_path_below_it() -> None:
    async def root(request: Request) -> Response:
        return JSONResponse({"path": request.url.path})

    handler = polyfn.asgi(Starlette(routes=[Route("/", root), *ROUTES]))
    app = App("rooted")
    app.http("/", methods=METHODS, function_name="api_root")(handler)
    app.http("/{path+}", methods=METHODS, function_name="api")(handler)
    client = Client(app)
    assert Client.json(client.get("/")) == {"path": "/"}
    assert client.get("/stream").body == b"chunk 0\nchunk 1\nchunk 2\n"
