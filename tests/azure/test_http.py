"""HTTP through polyfn_azure: host-shaped Datums -> HttpRequestConverter -> the registered function
-> HttpResponseConverter.encode, the form the worker hands back to the host."""

from __future__ import annotations

import json
from typing import Any

from tests.azure._host import Host, encoded_response, load
from tests.azure.conftest import Recorder


def request(method: str, url: str, body: bytes = b"", **headers: str) -> dict[str, Any]:
    fixture = load("http_request.json")
    value = fixture["data"]["value"]
    value["method"]["value"] = method
    value["url"]["value"] = url
    value["body"] = {"type": "bytes", "value": body.decode("latin-1")} if body else value["body"]
    if body:
        import base64

        value["body"] = {"type": "bytes", "base64": base64.b64encode(body).decode()}
    for name, v in headers.items():
        value["headers"][name.replace("_", "-")] = {"type": "string", "value": v}
    return fixture


def test_the_fixture_request_reaches_the_handler_whole(host: Host) -> None:
    status, headers, cookies, body = encoded_response(
        host.http("get_order", load("http_request.json"))
    )
    assert status == 200
    assert headers["content-type"] == "application/json"
    seen = json.loads(body)
    assert seen["id"] == "42"
    assert seen["path"] == "/orders/42"  # the api/ prefix is gone
    # repeated keys come from the url, not from the single-valued params ("a,b")
    assert seen["tags"] == ["a", "b"]
    assert ["empty", ""] in seen["query"]
    assert ["q", "café"] in seen["query"]
    # the host joins repeated headers with ","; polyfn hands on what arrived
    assert seen["multi"] == ["one,two"]
    assert seen["cookies"] == {"session": "abc123", "theme": "dark"}
    assert seen["ip"] == "203.0.113.7"
    assert seen["fn"] == "get_order"
    assert seen["trace"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert cookies == []


def test_binary_body_repeated_headers_and_cookies_survive_the_response_converter(
    host: Host,
) -> None:
    payload = bytes(range(256))
    fixture = request(
        "POST",
        "https://shop-app.azurewebsites.net/api/orders",
        payload,
        content_type="application/octet-stream",
    )
    status, headers, cookies, body = encoded_response(host.http("create_order", fixture))
    assert status == 201
    assert body == payload
    assert headers["x-seen"] == "a, b"
    assert headers["content-type"] == "application/octet-stream"
    assert "set-cookie" not in {k.lower() for k in headers}
    assert sorted(cookies) == sorted(
        ["session=s1; HttpOnly; Path=/; SameSite=Lax", "theme=dark; Max-Age=3600; Path=/"]
    )


def test_any_http_function_routes_through_the_whole_app(host: Host) -> None:
    # The host tries routes in registration order: POST /orders/new may land on get_order's
    # Azure function (it binds every method /orders/{id} leaves unclaimed); the app still routes.
    fixture = request("POST", "https://x/api/orders", b"{}", content_type="application/json")
    status, _, _, _ = encoded_response(host.http("get_order", fixture))
    assert status == 201


def test_unclaimed_method_gets_405_with_allow(host: Host) -> None:
    fixture = request("PUT", "https://x/api/orders/7")
    status, headers, _, body = encoded_response(host.http("get_order", fixture))
    assert status == 405
    assert headers["allow"] == "DELETE, GET"
    assert json.loads(body) == {"error": "method not allowed"}


def test_greedy_route_and_encoded_path(host: Host) -> None:
    fixture = request("GET", "https://x/api/files/a/b%20c/%C3%A9.txt")
    status, _, _, body = encoded_response(host.http("read_file", fixture))
    assert status == 200
    assert json.loads(body) == {"path": "a/b c/é.txt"}


def test_unknown_path_is_404_json(host: Host) -> None:
    status, _, _, body = encoded_response(
        host.http("get_order", request("GET", "https://x/api/nothing/here/at/all"))
    )
    assert status == 404
    assert json.loads(body) == {"error": "not found"}


def test_handler_exception_is_500_without_traceback(host: Host) -> None:
    fixture = request("GET", "https://x/api/boom")
    status, _, _, body = encoded_response(host.http("boom", fixture))
    assert status == 500
    answer = json.loads(body)
    assert answer["error"] == "internal error"
    assert answer["request_id"]
    assert b"secret detail" not in body


def test_cookie_the_worker_would_drop_is_refused_loudly(host: Host) -> None:
    # SimpleCookie reads "p2=y; Partitioned" as nothing: the worker would drop it silently.
    status, _, cookies, body = encoded_response(
        host.http("bad_cookie", request("GET", "https://x/api/cookie-trouble"))
    )
    assert status == 500
    assert json.loads(body)["error"] == "internal error"
    assert cookies == []


def test_route_prefix_option(rec: Recorder) -> None:
    import polyfn_azure

    from tests.azure.conftest import make_app

    host = Host(polyfn_azure.function_app(make_app(rec), route_prefix=""))
    status, _, _, body = encoded_response(
        host.http("get_order", request("GET", "https://x/orders/9"))
    )
    assert status == 200
    assert json.loads(body)["path"] == "/orders/9"


def test_unreadable_request_is_400_naming_the_field(host: Host) -> None:
    fixture = request("GET", "https://x/api/orders/1")
    fixture["data"]["value"]["url"]["value"] = "http://[::1"
    status, _, _, body = encoded_response(host.http("get_order", fixture))
    assert status == 400
    assert "url" in json.loads(body)["detail"]
