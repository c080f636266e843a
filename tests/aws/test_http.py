"""HTTP through `polyfn_aws.handler`: every API Gateway flavour, function URLs and both ALB modes.

Each event is a fixture validated by Powertools' parser model first; the handler gets
awslambdaric's LambdaContext, and its answer is read back as the service would (JSON).
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import timedelta
from typing import Any

import polyfn_aws
import pytest
from polyfn_aws._http import app_path

from polyfn import EventError

from .conftest import MODELS, event, lambda_context, validate

HTTP_FIXTURES = [
    "apigw_rest",
    "apigw_http_v1",
    "apigw_http_v2",
    "function_url",
    "alb",
    "alb_multi",
]


def call(app: Any, ev: dict[str, Any], ctx: Any = None, **kw: Any) -> dict[str, Any]:
    result = polyfn_aws.handler(app, **kw)(ev, ctx if ctx is not None else lambda_context())
    assert isinstance(result, dict)
    # What Lambda hands back to the service is the JSON of the result.
    return dict(json.loads(json.dumps(result)))


def body_json(result: dict[str, Any]) -> Any:
    assert result["isBase64Encoded"] is False
    return json.loads(result["body"])


def test_rest_api_request_is_read_in_full(app, seen):
    result = call(app, event("apigw_rest"))
    assert result["statusCode"] == 200
    seen_body = body_json(result)
    assert seen_body["path"] == "/orders/A 42"  # REST keeps the path encoded: decoded once
    assert seen_body["order_id"] == "A 42"
    assert seen_body["query"] == [["tag", "x"], ["tag", "y"], ["q", "a b"]]
    assert seen_body["tags"] == ["a", "b"]
    assert seen_body["cookies"] == {"session": "abc123", "theme": "dark"}
    assert seen_body["source_ip"] == "203.0.113.7"
    assert set(result) == {"statusCode", "multiValueHeaders", "body", "isBase64Encoded"}
    assert result["multiValueHeaders"]["Content-Type"] == ["application/json"]


def test_rest_api_custom_domain_base_path_is_dropped(app, seen):
    result = call(app, event("apigw_rest_custom_domain"))
    assert result["statusCode"] == 200, result
    assert body_json(result) == {"path": "a/b.txt"}
    assert seen[0][1].path == "/files/a/b.txt"


def test_rest_api_base_path_with_a_parameter_route(app):
    ev = event("apigw_rest")
    ev["path"] = "/shop/v1/orders/A%2042"
    ev["requestContext"]["path"] = "/shop/v1/orders/A%2042"
    ev["requestContext"]["domainName"] = "api.example.com"
    result = call(app, validate("APIGatewayProxyEventModel", ev))
    assert body_json(result)["path"] == "/orders/A 42"


def test_http_api_v2_request_is_read_in_full(app, seen, monkeypatch):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-65f1c2a0-3c1d2e3f4a5b6c7d8e9f0a1b;Sampled=0")
    result = call(app, event("apigw_http_v2"), lambda_context("req-v2", remaining_ms=25_000))
    seen_body = body_json(result)
    assert seen_body["path"] == "/orders/A 42"
    assert seen_body["query"] == [["tag", "x"], ["tag", "y"], ["q", "a b"], ["empty", ""]]
    # HTTP APIs join a repeated header with commas before Lambda sees it: one value, as sent.
    assert seen_body["tags"] == ["a,b"]
    assert seen_body["cookies"] == {"session": "abc123", "theme": "dark"}
    _, req, ctx = seen[0]
    assert req.headers.get("cookie") == "session=abc123; theme=dark"
    assert ctx.provider == "aws"
    assert ctx.function_name == "get_order"
    assert ctx.invocation_id == "req-v2"
    assert ctx.trace_id == "Root=1-65f1c2a0-3c1d2e3f4a5b6c7d8e9f0a1b;Sampled=0"
    remaining = ctx.remaining_time()
    assert timedelta(seconds=20) < remaining <= timedelta(seconds=25)
    assert set(result) == {"statusCode", "headers", "body", "isBase64Encoded"}


def test_http_api_v2_named_stage_is_dropped(app, seen):
    result = call(app, event("apigw_http_v2_stage"))
    assert body_json(result)["path"] == "/orders/A 42"


def test_http_api_v2_default_route_drops_a_named_stage(app):
    ev = event("apigw_http_v2_stage")
    ev["routeKey"] = ev["requestContext"]["routeKey"] = "$default"
    ev.pop("pathParameters")
    assert body_json(call(app, validate("APIGatewayProxyEventV2Model", ev)))["path"] == (
        "/orders/A 42"
    )


def test_http_api_paths_are_not_decoded_twice(app):
    # The HTTP API decodes the path it passes on: a client's /orders/100%2525 arrives as
    # /orders/100%25, which is the order id.
    ev = event("apigw_http_v2")
    ev["rawPath"] = ev["requestContext"]["http"]["path"] = "/orders/100%25"
    assert body_json(call(app, ev))["order_id"] == "100%25"
    ev = event("apigw_http_v1")
    ev["path"] = "/orders/100%25"
    assert body_json(call(app, ev))["order_id"] == "100%25"


def test_http_api_payload_v1_is_read(app):
    seen_body = body_json(call(app, event("apigw_http_v1")))
    assert seen_body["path"] == "/orders/A 42"
    assert seen_body["query"] == [["tag", "x"], ["tag", "y"], ["q", "a b"]]
    assert seen_body["cookies"] == {"session": "abc123", "theme": "dark"}


def test_function_url_binary_body_and_encoded_path(app, seen):
    result = call(app, event("function_url"))
    seen_body = body_json(result)
    assert seen_body["method"] == "POST"
    assert seen_body["path"] == "/orders/A 42"
    assert base64.b64decode(seen_body["body"]) == b"\x00\x01\x02\xff"
    # Function URLs send cookies both in the array and the header: never doubled.
    assert seen[0][1].headers.getall("cookie") == ["session=abc123; theme=dark"]
    assert seen_body["cookies"] == {"session": "abc123", "theme": "dark"}


def test_alb_single_value_decodes_query_and_takes_the_alb_address(app):
    result = call(app, event("alb"))
    assert result["statusDescription"] == "200 OK"
    assert set(result) == {"statusCode", "statusDescription", "headers", "body", "isBase64Encoded"}
    seen_body = body_json(result)
    assert seen_body["path"] == "/orders/A 42"
    assert seen_body["query"] == [["tag", "y"], ["q", "a b"], ["plus", "1 1"]]
    assert seen_body["cookies"] == {"session": "abc123", "theme": "dark"}
    # X-Forwarded-For: the entry the ALB appended, not what the client claimed.
    assert seen_body["source_ip"] == "203.0.113.7"


def test_alb_multi_value_keeps_every_value(app):
    result = call(app, event("alb_multi"))
    assert set(result) == {
        "statusCode",
        "statusDescription",
        "multiValueHeaders",
        "body",
        "isBase64Encoded",
    }
    seen_body = body_json(result)
    assert seen_body["query"] == [["tag", "x"], ["tag", "y"], ["q", "a b"], ["plus", "1 1"]]
    assert seen_body["tags"] == ["a", "b"]
    assert seen_body["cookies"] == {"session": "abc123", "theme": "dark"}


def _to(name: str, path: str) -> dict[str, Any]:
    """Fixture `name` turned into a GET of `path` (as a route of its own for API Gateway)."""
    ev = event(name)
    if "httpMethod" in ev:
        ev["httpMethod"] = "GET"
        ev["path"] = path
        if "resource" in ev:
            ev["resource"] = ev["requestContext"]["resourcePath"] = path
            ev["pathParameters"] = None
    else:
        ev["rawPath"] = ev["requestContext"]["http"]["path"] = path
        ev["requestContext"]["http"]["method"] = "GET"
    return validate(MODELS[name], ev)


def set_cookies_of(name: str, result: dict[str, Any]) -> list[str]:
    if name in ("apigw_http_v2", "function_url"):
        assert "Set-Cookie" not in result["headers"]
        return list(result.get("cookies", []))
    if name == "alb":
        value = result["headers"].get("Set-Cookie")
        return [value] if value else []
    return list(result["multiValueHeaders"].get("Set-Cookie", []))


@pytest.mark.parametrize("name", HTTP_FIXTURES)
def test_several_set_cookies_are_never_merged(app, name, caplog):
    result = call(app, _to(name, "/cookies"))
    cookies = set_cookies_of(name, result)
    first, second = "a=1; Path=/; HttpOnly", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/"
    if name == "alb":
        # One value per header name: the last Set-Cookie goes, the rest are reported.
        assert cookies == [second]
    else:
        assert cookies == [first, second]
    if "headers" in result:
        assert result["headers"]["X-Multi"] == "1, 2"
    else:
        assert result["multiValueHeaders"]["X-Multi"] == ["1", "2"]


def test_single_value_alb_logs_the_cookies_it_cannot_send(app):
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("polyfn")
    keep = Keep()
    logger.addHandler(keep)
    try:
        call(app, _to("alb", "/cookies"))
    finally:
        logger.removeHandler(keep)
    messages = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    assert any("dropped 1" in m and "'a'" in m for m in messages), messages


@pytest.mark.parametrize("name", HTTP_FIXTURES)
def test_binary_and_encoded_bodies_travel_base64(app, name):
    result = call(app, _to(name, "/binary"))
    assert result["isBase64Encoded"] is True
    assert base64.b64decode(result["body"]) == bytes(range(256))
    result = call(app, _to(name, "/gzip"))
    assert result["isBase64Encoded"] is True
    import gzip

    assert gzip.decompress(base64.b64decode(result["body"])) == b'{"a":1}'
    result = call(app, _to(name, "/cookies"))
    assert result["isBase64Encoded"] is False
    assert result["body"] == "ok"


@pytest.mark.parametrize("name", HTTP_FIXTURES)
def test_a_raise_is_a_500_without_the_traceback(app, name):
    result = call(app, _to(name, "/boom"), lambda_context("req-boom"))
    assert result["statusCode"] == 500
    assert "secret" not in result["body"]
    assert json.loads(result["body"]) == {"error": "internal error", "request_id": "req-boom"}
    if name.startswith("alb"):
        assert result["statusDescription"] == "500 Internal Server Error"


@pytest.mark.parametrize("name", HTTP_FIXTURES)
def test_unknown_path_and_wrong_method(app, name):
    assert call(app, _to(name, "/nowhere"))["statusCode"] == 404
    ev = _to(name, "/cookies")
    if "httpMethod" in ev:
        ev["httpMethod"] = "DELETE"
    else:
        ev["requestContext"]["http"]["method"] = "DELETE"
    result = call(app, ev)
    assert result["statusCode"] == 405
    allow = result.get("headers", {}).get("Allow") or result["multiValueHeaders"]["Allow"][0]
    assert allow == "GET"


def test_a_lambda_for_one_function_serves_only_its_route(app):
    assert call(app, event("apigw_http_v2"), function="get_file")["statusCode"] == 404
    result = call(app, _to("apigw_http_v2", "/files/x/y"), function="get_file")
    assert body_json(result) == {"path": "x/y"}
    with pytest.raises(EventError, match="on_order"):
        call(app, event("apigw_http_v2"), function="on_order")


def test_local_call_without_a_context(app, seen):
    handler = polyfn_aws.handler(app)
    result = handler(event("apigw_http_v2"), None)
    assert result is not None and result["statusCode"] == 200
    ctx = seen[0][2]
    assert ctx.invocation_id == "JKJaXmPLvHcESHA="  # the gateway's request id
    assert ctx.remaining_time() is None


@pytest.mark.parametrize(
    ("path", "template", "params", "stage", "expected"),
    [
        ("/orders/1", "/orders/{id}", {"id": "1"}, None, "/orders/1"),
        ("/shop/orders/1", "/orders/{id}", {"id": "1"}, None, "/orders/1"),
        ("/a/b/orders/1/", "/orders/{id}", {"id": "1"}, None, "/orders/1/"),
        ("/shop/files/a/b", "/files/{p+}", {"p": "a/b"}, None, "/files/a/b"),
        # A nested proxy resource seen with the stage still in `path` (effect-aws#220).
        ("/dev/user/session", "/user/{proxy+}", {"proxy": "session"}, None, "/user/session"),
        ("/shop/files/a//b", "/files/{p+}", {"p": "a//b"}, None, "/files/a//b"),
        ("/shop", "/", None, None, "/"),
        ("/prod/x", None, None, "prod", "/x"),
        ("/prod", None, None, "prod", "/"),
        ("/production/x", None, None, "prod", "/production/x"),
        ("/x", None, None, "$default", "/x"),
        ("/files/a", "/files/{p+}", None, None, "/files/a"),  # no parameters: leave as is
        # The SAM template's proxy value has a leading slash: counted the same.
        (
            "/path/to/resource",
            "/{proxy+}",
            {"proxy": "/path/to/resource"},
            None,
            "/path/to/resource",
        ),
    ],
)
def test_app_path_drops_stage_and_base_path(path, template, params, stage, expected):
    assert app_path(path, template, params, stage) == expected
