"""Declaration mistakes named at the decorator, and responses polyfn refuses to send.

Each response check runs in `App.handle_http`, so every adapter and `polyfn serve` inherit it;
tests/aws, tests/local and the conformance cases injected-header-is-500 and
injected-cookie-is-500 (on all seven HTTP targets) check that the refusal reaches the client.
"""

from __future__ import annotations

import json

import pydantic
import pytest

from polyfn import App, ConfigError, Context, HTTPError, HttpRequest, HttpResponse


@pytest.fixture
def errors(log_lines):
    return lambda: [entry for entry in log_lines() if entry["level"] == "ERROR"]


# -- declaration -------------------------------------------------------------------------------


def test_methods_given_as_one_string_is_one_method():
    app = App("a")

    @app.http("/x", methods="POST")
    def x(req, ctx):
        return "ok"

    assert app.function("x").trigger.methods == ("POST",)
    resp = app.handle_http(HttpRequest("POST", "/x"), Context("local", "", "r"))
    assert resp.status == 200
    resp = app.handle_http(HttpRequest("GET", "/x"), Context("local", "", "r"))
    assert resp.status == 405 and resp.headers["Allow"] == "POST"


@pytest.mark.parametrize(
    ("decorator", "args", "typo", "meant", "listed"),
    [
        ("http", ("/x",), "method", "methods", "path, methods, body, function_name"),
        ("queue", ("q",), "bach_size", "batch_size", "queue, batch_size, fifo, function_name"),
        ("schedule", ("0 2 * * *",), "timezone", None, "schedule, tz, function_name"),
        ("storage", ("b",), "timout", "timeout", "bucket, on, prefix, suffix, function_name"),
    ],
)
def test_an_unknown_keyword_names_the_decorators_parameters(decorator, args, typo, meant, listed):
    app = App("a")
    with pytest.raises(ConfigError) as caught:
        getattr(app, decorator)(*args, **{typo: "x"})
    message = str(caught.value)
    assert message.startswith(f"app.{decorator}() got an unexpected keyword argument {typo!r}")
    assert listed in message and "memory, timeout" in message
    assert "Settings" not in message and "__init__" not in message
    if meant is not None:
        assert f"did you mean {meant!r}?" in message


def test_a_second_function_on_one_queue_is_refused_at_declaration():
    app = App("a")

    @app.queue("orders")
    def first(msg, ctx):
        return None

    with pytest.raises(ConfigError) as caught:

        @app.queue("orders", batch_size=1)
        def second(msg, ctx):
            return None

    message = str(caught.value)
    assert "'orders' already feeds function 'first'" in message
    assert "topic with one subscriber per function (app.subscribe)" in message
    assert [f.name for f in app.functions] == ["first"]
    assert app.queue_function("orders") is app.function("first")


def test_functions_on_different_queues_are_fine():
    app = App("a")
    app.queue("orders", function_name="orders")(lambda m, c: None)
    app.queue("tickets", fifo=True, function_name="tickets")(lambda m, c: None)
    assert len(app.functions) == 2


# -- JSON body models --------------------------------------------------------------------------


class Order(pydantic.BaseModel):
    sku: str


def _order_app(seen: list[str]) -> App:
    app = App("a")

    @app.http("/orders", methods=["POST"], body=Order)
    def create(req, ctx, order):
        seen.append(order.sku)
        return {"sku": order.sku}

    return app


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded"],
)
def test_a_json_body_model_refuses_a_body_of_another_type(content_type):
    seen: list[str] = []
    req = HttpRequest(
        "POST", "/orders", headers={"Content-Type": content_type}, body=b'{"sku": "A1"}'
    )
    resp = _order_app(seen).handle_http(req, Context("local", "", "r"))
    assert resp.status == 415
    assert json.loads(resp.body)["error"] == "request body must be JSON"
    assert content_type in json.loads(resp.body)["detail"]
    assert seen == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},
        {"Content-Type": "Application/JSON; charset=utf-8"},
        {"Content-Type": "application/merge-patch+json"},
        {},
    ],
)
def test_a_json_body_model_reads_json_types_and_untyped_bodies(headers):
    seen: list[str] = []
    req = HttpRequest("POST", "/orders", headers=headers, body=b'{"sku": "A1"}')
    resp = _order_app(seen).handle_http(req, Context("local", "", "r"))
    assert resp.status == 200 and seen == ["A1"]


# -- responses polyfn refuses to send ----------------------------------------------------------


BAD_RESPONSES = {
    "crlf-in-header-value": lambda: HttpResponse("x", headers={"X-A": "1\r\nSet-Cookie: evil=1"}),
    "lf-in-header-value": lambda: HttpResponse("x", headers={"X-A": "1\nX-B: 2"}),
    "nul-in-header-value": lambda: HttpResponse("x", headers={"X-A": "a\x00b"}),
    "crlf-in-header-name": lambda: HttpResponse("x", headers={"X-A\r\nX-B": "1"}),
    "space-in-header-name": lambda: HttpResponse("x", headers={"X A": "1"}),
    "colon-in-header-name": lambda: HttpResponse("x", headers={"X-A:": "1"}),
    "empty-header-name": lambda: HttpResponse("x", headers={"": "1"}),
    "non-ascii-header-name": lambda: HttpResponse("x", headers={"X-Café": "1"}),
    "int-header-value": lambda: HttpResponse("x", headers={"X-Count": 3}),  # type: ignore[dict-item]
    "crlf-in-cookie": lambda: HttpResponse("x").set_cookie("a", "1\r\nX-Injected: 1"),
    "nul-in-cookie": lambda: HttpResponse("x", cookies=["a=1\x00"]),
    "set-cookie-header-with-lf": lambda: HttpResponse("x", headers={"Set-Cookie": "a=1\nb=2"}),
    "status-600": lambda: HttpResponse("x", 600),
    "status-99": lambda: HttpResponse("x", 99),
    "status-0": lambda: HttpResponse("x", 0),
}


def _with_status(value: object) -> HttpResponse:
    resp = HttpResponse("x")
    resp.status = value  # type: ignore[assignment]
    return resp


BAD_RESPONSES.update(
    {
        "status-bool": lambda: _with_status(True),
        "status-str": lambda: _with_status("200"),
        "status-float": lambda: _with_status(200.0),
        "status-none": lambda: _with_status(None),
    }
)


@pytest.mark.parametrize("name", sorted(BAD_RESPONSES))
def test_a_response_that_cannot_be_sent_is_answered_500_and_logged(name, errors):
    app = App("a")

    @app.http("/r")
    def respond(req, ctx):
        return BAD_RESPONSES[name]()

    resp = app.handle_http(HttpRequest("GET", "/r"), Context("local", "", "req-9"))
    assert resp.status == 500
    assert json.loads(resp.body) == {"error": "internal error", "request_id": "req-9"}
    assert resp.cookies == [] and list(resp.headers) == ["Content-Type"]
    (line,) = errors()
    assert line["message"].startswith("respond returned a response that cannot be sent: ")
    assert line["invocation_id"] == "req-9"


@pytest.mark.parametrize(
    "result",
    [
        ("created", True),  # a bool is an int to isinstance, not a status
        ("created", 700),
        ({"ok": 1}, 201, {"X-A": "1\r\nX-B: 2"}),
    ],
)
def test_returned_tuples_are_checked_too(result):
    app = App("a")
    app.http("/r", function_name="r")(lambda req, ctx: result)
    resp = app.handle_http(HttpRequest("GET", "/r"), Context("local", "", "req-1"))
    assert resp.status == 500


def test_an_http_error_with_an_injected_header_is_answered_500():
    app = App("a")

    @app.http("/r")
    def refuse(req, ctx):
        raise HTTPError(403, "no", headers={"WWW-Authenticate": "Basic\r\nSet-Cookie: a=1"})

    resp = app.handle_http(HttpRequest("GET", "/r"), Context("local", "", "req-1"))
    assert resp.status == 500 and resp.cookies == []


@pytest.mark.parametrize(
    "resp",
    [
        HttpResponse("x", 100),
        HttpResponse("x", 599),
        HttpResponse("x", headers={"X-Tab": "a\tb", "X-Latin": "café", "!#$%&'*+.^_`|~": "v"}),
        HttpResponse("x").set_cookie("s", "a b", expires="Wed, 21 Oct 2026 07:28:00 GMT"),
    ],
    ids=["status-100", "status-599", "odd-but-valid-headers", "cookie-with-comma"],
)
def test_valid_edge_responses_pass_unchanged(resp):
    app = App("a")
    app.http("/r", function_name="r")(lambda req, ctx: resp)
    out = app.handle_http(HttpRequest("GET", "/r"), Context("local", "", "req-1"))
    assert out is resp and out.status == resp.status
