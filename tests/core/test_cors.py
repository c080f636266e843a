"""CORS in the core: declaration checks, preflights answered by polyfn, headers on actual requests.

The conformance cases cors-* run the same behaviour on all seven HTTP targets.
"""

from __future__ import annotations

import json

import pytest

from polyfn import App, ConfigError, Context, CORSConfig, HTTPError, HttpRequest

SHOP = "https://shop.example"


def ctx() -> Context:
    return Context("local", "", "r")


def preflight(path, method="POST", origin=SHOP, headers=None):
    pairs = [("Origin", origin), ("Access-Control-Request-Method", method)]
    if headers:
        pairs.append(("Access-Control-Request-Headers", headers))
    return HttpRequest("OPTIONS", path, headers=pairs)


@pytest.fixture
def app():
    app = App("c", cors=CORSConfig([SHOP], headers=["content-type"], max_age=600))

    @app.http("/orders", methods=["GET", "POST"])
    def orders(req, ctx):
        return {"ok": True}

    @app.http("/open", cors=CORSConfig("*", expose_headers=["X-Total"]))
    def open_(req, ctx):
        return "open"

    @app.http("/private", cors=False)
    def private(req, ctx):
        return "private"

    @app.http("/boom")
    def boom(req, ctx):
        raise RuntimeError("no")

    return app


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"origins": "*", "credentials": True}, "credentials=True with origins='*'"),
        ({"origins": ["https://a.example/"]}, "is not an origin"),
        ({"origins": ["a.example"]}, "is not an origin"),
        ({"origins": ["*", SHOP]}, "do not list others"),
        ({"origins": []}, "at least one origin"),
        ({"origins": SHOP, "methods": ["FETCH"]}, "unknown HTTP method"),
        ({"origins": SHOP, "headers": ["bad header"]}, "not an HTTP token"),
        ({"origins": SHOP, "max_age": -1}, "max_age"),
    ],
)
def test_declaration_mistakes_are_config_errors(kwargs, words):
    origins = kwargs.pop("origins")
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace("*", r"\*")):
        CORSConfig(origins, **kwargs)


def test_route_cors_must_be_a_cors_config():
    with pytest.raises(ConfigError, match="cors= must be"):
        App("a").http("/x", cors={"origins": "*"})


def test_preflight_is_answered_by_polyfn_without_calling_the_handler(app):
    calls = []
    app.before(lambda req, ctx: calls.append(req.method))
    resp = app.handle_http(preflight("/orders", headers="Content-Type"), ctx())
    assert resp.status == 204 and resp.body == b""
    assert resp.headers["Access-Control-Allow-Origin"] == SHOP
    assert resp.headers["Access-Control-Allow-Methods"] == "GET, POST"
    assert resp.headers["Access-Control-Allow-Headers"] == "content-type"
    assert resp.headers["Access-Control-Max-Age"] == "600"
    assert "Origin" in resp.headers["Vary"]
    assert calls == []  # before any middleware: a preflight carries no credentials


@pytest.mark.parametrize(
    ("request_", "status", "error"),
    [
        (preflight("/orders", origin="https://evil.example"), 403, "origin"),
        (preflight("/orders", method="DELETE"), 403, "method 'DELETE' is not allowed"),
        (preflight("/orders", headers="X-Secret"), 403, "x-secret not allowed"),
        (preflight("/orders", origin="not an origin"), 400, "malformed Origin"),
        (preflight("/orders", origin="https://shop.example/path"), 400, "malformed Origin"),
        (preflight("/orders", method="GE T"), 400, "malformed Access-Control-Request-Method"),
    ],
)
def test_refused_preflights_have_documented_statuses(app, request_, status, error):
    resp = app.handle_http(request_, ctx())
    assert resp.status == status
    assert error in json.loads(resp.body)["error"]
    assert "Access-Control-Allow-Origin" not in resp.headers


def test_actual_request_from_an_allowed_origin_gets_cors_headers_and_vary(app):
    resp = app.handle_http(HttpRequest("GET", "/orders", headers={"Origin": SHOP}), ctx())
    assert resp.status == 200
    assert resp.headers["Access-Control-Allow-Origin"] == SHOP
    assert resp.headers["Vary"] == "Origin"


def test_a_request_without_origin_still_varies_on_origin(app):
    resp = app.handle_http(HttpRequest("GET", "/orders"), ctx())
    assert "Access-Control-Allow-Origin" not in resp.headers
    assert resp.headers["Vary"] == "Origin"


def test_disallowed_origin_runs_but_gets_no_cors_headers(app):
    req = HttpRequest("GET", "/orders", headers={"Origin": "https://evil.example"})
    resp = app.handle_http(req, ctx())
    assert resp.status == 200 and "Access-Control-Allow-Origin" not in resp.headers


def test_malformed_origin_on_an_actual_request_is_400_not_500(app):
    req = HttpRequest("GET", "/orders", headers={"Origin": "https://x.example\\@evil"})
    assert app.handle_http(req, ctx()).status == 400


def test_wildcard_route_and_exposed_headers(app):
    resp = app.handle_http(HttpRequest("GET", "/open", headers={"Origin": SHOP}), ctx())
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert resp.headers["Access-Control-Expose-Headers"] == "X-Total"
    assert "Vary" not in resp.headers


def test_route_opted_out_has_no_cors_and_its_options_is_routed(app):
    resp = app.handle_http(HttpRequest("GET", "/private", headers={"Origin": SHOP}), ctx())
    assert "Access-Control-Allow-Origin" not in resp.headers
    assert app.handle_http(preflight("/private", method="GET"), ctx()).status == 405


def test_errors_carry_cors_headers_so_a_page_can_read_them(app):
    resp = app.handle_http(HttpRequest("GET", "/boom", headers={"Origin": SHOP}), ctx())
    assert resp.status == 500 and resp.headers["Access-Control-Allow-Origin"] == SHOP


def test_credentials_echo_the_origin():
    app = App("c")

    @app.http("/me", cors=CORSConfig([SHOP], credentials=True))
    def me(req, ctx):
        raise HTTPError(401, "who are you")

    resp = app.handle_http(HttpRequest("GET", "/me", headers={"Origin": SHOP}), ctx())
    assert resp.status == 401
    assert resp.headers["Access-Control-Allow-Origin"] == SHOP
    assert resp.headers["Access-Control-Allow-Credentials"] == "true"


def test_vary_keeps_what_the_handler_set():
    app = App("c", cors=CORSConfig([SHOP]))

    @app.http("/v")
    def v(req, ctx):
        return "x", 200, {"Vary": "Accept-Encoding"}

    resp = app.handle_http(HttpRequest("GET", "/v", headers={"Origin": SHOP}), ctx())
    assert resp.headers.getall("Vary") == ["Accept-Encoding", "Origin"]


def test_an_explicit_options_route_still_gets_plain_options():
    app = App("c", cors=CORSConfig("*"))

    @app.http("/x", methods=["GET", "OPTIONS"])
    def x(req, ctx):
        return {"method": req.method}

    assert app.handle_http(HttpRequest("OPTIONS", "/x"), ctx()).status == 200
    assert app.handle_http(preflight("/x", method="GET"), ctx()).status == 204


def test_unknown_path_preflight_is_404():
    app = App("c", cors=CORSConfig("*"))
    assert app.handle_http(preflight("/nowhere"), ctx()).status == 404
