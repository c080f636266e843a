"""Middleware and before/after hooks: order, short-circuits, errors (the 500 contract)."""

from __future__ import annotations

import json

import pytest

from polyfn import (
    App,
    ConfigError,
    Context,
    HTTPError,
    HttpRequest,
    HttpResponse,
    after,
    before,
)


def ctx() -> Context:
    return Context("local", "", "r")


def test_documented_order_app_layers_outside_route_layers():
    order: list[str] = []

    def wrap(name):
        def layer(req, ctx, call_next):
            order.append(f"{name}>")
            resp = call_next()
            order.append(f"<{name}")
            return resp

        return layer

    app = App("m", middleware=[wrap("app1")])
    app.use(wrap("app2"))
    app.before(lambda req, ctx: order.append("app-before"))
    app.after(lambda req, ctx, resp: order.append("app-after"))

    @app.http(
        "/x",
        middleware=[
            wrap("route1"),
            before(lambda req, ctx: order.append("route-before")),
            after(lambda req, ctx, resp: order.append("route-after")),
        ],
    )
    def x(req, ctx):
        order.append("handler")
        return "ok"

    assert app.handle_http(HttpRequest("GET", "/x"), ctx()).status == 200
    assert order == [
        "app1>", "app2>", "app-before", "route1>", "route-before", "handler",
        "route-after", "<route1", "app-after", "<app2", "<app1",
    ]  # fmt: skip


def test_before_hook_answers_instead_of_the_handler():
    app = App("m")
    app.before(lambda req, ctx: ({"blocked": True}, 429) if "x-block" in req.headers else None)

    @app.http("/x")
    def x(req, ctx):
        return "ran"

    resp = app.handle_http(HttpRequest("GET", "/x", headers={"X-Block": "1"}), ctx())
    assert resp.status == 429 and json.loads(resp.body) == {"blocked": True}
    assert app.handle_http(HttpRequest("GET", "/x"), ctx()).body == b"ran"


def test_after_hook_sees_and_changes_the_response_and_http_errors():
    app = App("m")

    @app.after
    def stamp(req, ctx, resp):
        resp.headers.set("X-Status-Seen", str(resp.status))

    @app.http("/x/{code}")
    def x(req, ctx):
        raise HTTPError(int(req.path_params["code"]), "no")

    resp = app.handle_http(HttpRequest("GET", "/x/409"), ctx())
    assert resp.status == 409 and resp.headers["X-Status-Seen"] == "409"


def test_middleware_hands_state_and_a_new_request_to_the_handler():
    app = App("m")

    def tenant(req, ctx, call_next):
        req.state["tenant"] = req.headers.get("x-tenant")
        return call_next(HttpRequest(req.method, "/ignored", headers=req.headers.multi_items()))

    @app.http("/x", middleware=tenant)
    def x(req, ctx):
        return {"path": req.path, "tenant": req.state.get("tenant")}

    resp = app.handle_http(HttpRequest("GET", "/x", headers={"X-Tenant": "t1"}), ctx())
    assert json.loads(resp.body) == {"path": "/ignored", "tenant": None}


@pytest.mark.parametrize("where", ["before", "after", "wrap"])
def test_an_exception_in_middleware_is_polyfns_500(where, log_lines):
    def fail(*args):
        raise RuntimeError("secret-detail")

    layer = {"before": before(fail), "after": after(fail), "wrap": fail}[where]
    app = App("m", middleware=[layer])

    @app.http("/x")
    def x(req, ctx):
        return "ok"

    resp = app.handle_http(HttpRequest("GET", "/x"), Context("local", "", "req-7"))
    assert resp.status == 500
    assert json.loads(resp.body) == {"error": "internal error", "request_id": "req-7"}
    assert b"secret-detail" not in resp.body
    assert any("secret-detail" in line.get("exception", "") for line in log_lines())


def test_a_wrapping_middleware_may_catch_the_handlers_exception():
    def conflicts(req, ctx, call_next):
        try:
            return call_next()
        except KeyError:
            return HttpResponse.json({"error": "conflict"}, 409)

    app = App("m", middleware=[conflicts])

    @app.http("/x")
    def x(req, ctx):
        raise KeyError("k")

    assert app.handle_http(HttpRequest("GET", "/x"), ctx()).status == 409


def test_bad_middleware_is_refused_at_declaration():
    with pytest.raises(ConfigError, match="expected a function"):
        App("m", middleware=["not callable"])
    with pytest.raises(ConfigError, match="expected a function"):
        App("m").http("/x", middleware=[42])
