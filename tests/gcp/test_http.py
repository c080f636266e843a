"""polyfn_gcp.http through functions-framework's own Flask app: nothing lost in either direction."""

from __future__ import annotations

import base64

import flask
import pytest
from polyfn_gcp import to_flask_response, to_request

from polyfn import App, HttpResponse
from tests.gcp.conftest import Served, load_event


def echo(http_target, path, method="GET", **kwargs):
    resp = http_target.client.open(path, method=method, **kwargs)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def test_method_decoded_path_and_repeated_query_with_blanks(http_target):
    seen = echo(http_target, "/echo/a%20b/%C3%A9t%C3%A9?x=1&x=2&blank=&y=%C3%A9&plus=a+b&enc=%2B")
    assert seen["method"] == "GET"
    assert seen["path"] == "/echo/a b/été"
    assert seen["rest"] == "a b/été"
    assert seen["query"] == [
        ["x", "1"], ["x", "2"], ["blank", ""], ["y", "é"], ["plus", "a b"], ["enc", "+"]
    ]  # fmt: skip
    assert seen["provider"] == "gcp"
    assert seen["function"] == "echo"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_every_method_reaches_the_handler(http_target, method):
    assert echo(http_target, "/echo/x", method=method)["method"] == method


def test_headers_and_repeated_headers(http_target):
    seen = echo(
        http_target,
        "/echo/h",
        headers=[("X-One", "1"), ("X-Dup", "a"), ("X-Dup", "b"), ("Accept", "text/plain")],
    )
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert headers["x-one"] == ["1"]
    # WSGI gives one environ value per header name: repeated headers arrive comma-joined.
    assert headers["x-dup"] == ["a, b"]
    assert headers["accept"] == ["text/plain"]


def test_cookies_in(http_target):
    http_target.client.set_cookie("session", "abc123")
    http_target.client.set_cookie("theme", "dark")
    try:
        seen = echo(http_target, "/echo/c")
    finally:
        http_target.client.delete_cookie("session")
        http_target.client.delete_cookie("theme")
    assert seen["cookies"] == {"session": "abc123", "theme": "dark"}


def test_raw_binary_body_and_form_body_untouched(http_target):
    blob = bytes(range(256)) * 4
    seen = echo(http_target, "/echo/b", method="POST", data=blob,
                headers={"Content-Type": "application/octet-stream"})  # fmt: skip
    assert base64.b64decode(seen["body_b64"]) == blob
    form = b"a=1&a=2&b=%20"
    seen = echo(http_target, "/echo/f", method="POST", data=form,
                headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert base64.b64decode(seen["body_b64"]) == form


def test_one_megabyte_body(http_target):
    blob = b"\x00\xff" * (512 * 1024)
    resp = http_target.client.post("/binary", data=blob)
    assert resp.status_code == 201
    assert resp.get_data() == blob[::-1]


def test_source_ip_is_the_first_x_forwarded_for_entry_else_the_peer(http_target):
    seen = echo(http_target, "/echo/ip", headers={"X-Forwarded-For": "203.0.113.9, 10.1.2.3"})
    assert seen["source_ip"] == "203.0.113.9"
    seen = echo(http_target, "/echo/ip", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert seen["source_ip"] == "198.51.100.7"


def test_invocation_and_trace_ids_from_the_platform_headers(http_target):
    seen = echo(
        http_target,
        "/echo/t",
        headers={
            "Function-Execution-Id": "exec-42",
            "X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1",
        },
    )
    assert seen["invocation_id"] == "exec-42"
    assert seen["trace_id"] == "105445aa7843bc8bf206b12000100000"


def test_several_set_cookie_and_repeated_response_headers(http_target):
    resp = http_target.client.get("/cookies")
    assert resp.status_code == 200
    assert resp.headers.getlist("Set-Cookie") == [
        "a=1; Path=/; HttpOnly",
        "b=2; Max-Age=60; Path=/",
    ]
    assert resp.headers.getlist("X-Multi") == ["one", "two"]
    assert resp.headers.getlist("Content-Type") == ["text/plain; charset=utf-8"]
    assert resp.get_data() == b"two cookies"


def test_binary_response_status_and_type(http_target):
    resp = http_target.client.post("/binary", data=b"\x00\x01\xfe\xff")
    assert resp.status_code == 201
    assert resp.get_data() == b"\xff\xfe\x01\x00"
    assert resp.headers["Content-Type"] == "application/octet-stream"


def test_redirect_and_empty_responses_invent_no_content_type(http_target):
    resp = http_target.client.get("/redirect")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/elsewhere"
    assert "Content-Type" not in resp.headers
    resp = http_target.client.delete("/empty")
    assert resp.status_code == 204
    assert "Content-Type" not in resp.headers
    assert resp.get_data() == b""


def test_errors_404_405_and_500_without_traceback(http_target):
    resp = http_target.client.get("/nowhere")
    assert resp.status_code == 404
    assert resp.get_json() == {"error": "not found"}
    resp = http_target.client.post("/cookies")
    assert resp.status_code == 405
    assert resp.headers["Allow"] == "GET"
    resp = http_target.client.get("/boom")
    assert resp.status_code == 500
    body = resp.get_json()
    assert body["error"] == "internal error" and body["request_id"]
    assert b"secret" not in resp.get_data() and b"Traceback" not in resp.get_data()


def test_function_argument_serves_one_route_only():
    served = Served("only_echo", "http")
    assert served.client.get("/echo/x").status_code == 200
    assert served.client.get("/cookies").status_code == 404
    # The push and scheduler paths of other functions are not served by a one-function target.
    resp = served.client.post("/_polyfn/queue/orders", json=load_event("pubsub_push.json"))
    assert (resp.status_code, resp.get_json()) == (404, {"error": "not found"})


def test_translation_functions_round_trip_outside_a_server():
    app = flask.Flask("t")
    with app.test_request_context(
        "/p%20q?k=v&k=w", method="PUT", data=b"\x01\x02", headers={"X-A": "1"}
    ):
        req = to_request(flask.request)
    assert (req.method, req.path, req.query.getall("k"), req.body) == (
        "PUT", "/p q", ["v", "w"], b"\x01\x02"
    )  # fmt: skip
    out = to_flask_response(HttpResponse(b"x", 418, [("X-B", "1"), ("X-B", "2")], ["c=1", "d=2"]))
    assert out.status_code == 418
    assert out.headers.getlist("X-B") == ["1", "2"]
    assert out.headers.getlist("Set-Cookie") == ["c=1", "d=2"]
    assert "Content-Type" not in out.headers


def test_http_returns_a_plain_function_functions_framework_accepts():
    import types

    import polyfn_gcp

    app = App("t")
    target = polyfn_gcp.http(app)
    assert isinstance(target, types.FunctionType)
    assert target.__name__ == "http"
