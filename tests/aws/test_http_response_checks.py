"""What `polyfn_aws.handler` refuses to hand back: a response with an injected header, cookie or
impossible status (the core's check, seen from Lambda), and a response larger than the source
carries back (Lambda's 6 MB synchronous payload, ALB's 1 MB of response JSON), counted on the JSON
the runtime would send."""

from __future__ import annotations

import json
import logging
from typing import Any

import polyfn_aws
import pytest
from polyfn_aws._http import ALB_RESPONSE_LIMIT, LAMBDA_RESPONSE_LIMIT

from polyfn import App, HttpRequest, HttpResponse

from .conftest import lambda_context
from .test_http import HTTP_FIXTURES, _to


def make_app() -> App:
    app = App("checks")

    @app.http("/orders/{order_id}")
    def respond(req: HttpRequest, ctx: Any) -> HttpResponse:
        q = req.query
        kind = q.get("kind", "")
        if kind == "header":
            return HttpResponse.text("x", headers={"X-Note": "a\r\nSet-Cookie: evil=1"})
        if kind == "cookie":
            return HttpResponse.text("x").set_cookie("a", "1\r\nX-Injected: yes")
        if kind == "status":
            return HttpResponse.text("x", status=1000)
        if kind == "binary":
            return HttpResponse.binary(b"\xff" * int(q["size"]))
        if kind == "text":
            return HttpResponse.text(q.get("char", "a") * int(q["size"]))
        return HttpResponse.text("fine")

    return app


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def errors():
    handler = Errors()
    logger = logging.getLogger("polyfn")
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


def call(name: str, query: str, request_id: str = "req-1") -> dict[str, Any]:
    ev = _to(name, "/orders/7")
    if "rawQueryString" in ev:
        ev["rawQueryString"] = query
        ev.pop("queryStringParameters", None)
    else:
        from urllib.parse import parse_qsl

        pairs = parse_qsl(query)
        if "multiValueHeaders" in ev and name.startswith("alb"):
            ev["multiValueQueryStringParameters"] = {k: [v] for k, v in pairs}
        else:
            ev["queryStringParameters"] = dict(pairs)
            ev["multiValueQueryStringParameters"] = {k: [v] for k, v in pairs}
    result = polyfn_aws.handler(make_app())(ev, lambda_context(request_id))
    assert isinstance(result, dict)
    return dict(json.loads(json.dumps(result)))


def _all_header_values(result: dict[str, Any]) -> str:
    return json.dumps(
        [result.get("headers"), result.get("multiValueHeaders"), result.get("cookies")]
    )


@pytest.mark.parametrize("name", HTTP_FIXTURES)
@pytest.mark.parametrize("kind", ["header", "cookie", "status"])
def test_an_unsendable_response_is_polyfns_500_on_every_source(name, kind, errors):
    result = call(name, f"kind={kind}", "req-inject")
    assert result["statusCode"] == 500
    assert json.loads(result["body"]) == {"error": "internal error", "request_id": "req-inject"}
    sent = _all_header_values(result)
    assert "evil" not in sent and "Injected" not in sent and "Set-Cookie" not in sent
    assert any("cannot be sent" in m for m in errors), errors


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("apigw_rest", LAMBDA_RESPONSE_LIMIT),
        ("apigw_http_v1", LAMBDA_RESPONSE_LIMIT),
        ("apigw_http_v2", LAMBDA_RESPONSE_LIMIT),
        ("function_url", LAMBDA_RESPONSE_LIMIT),
        ("alb", ALB_RESPONSE_LIMIT),
        ("alb_multi", ALB_RESPONSE_LIMIT),
    ],
)
def test_a_response_over_the_sources_limit_is_a_logged_500(name, limit, errors):
    # Binary travels base64: 3 bytes become 4, so this body is under the limit in bytes but over
    # it once encoded.
    size = limit * 3 // 4 + 1024
    assert size < limit
    result = call(name, f"kind=binary&size={size}", "req-big")
    assert result["statusCode"] == 500
    assert json.loads(result["body"]) == {"error": "internal error", "request_id": "req-big"}
    (message,) = [m for m in errors if "over the" in m]
    assert f"over the {limit} bytes" in message and "in base64" in message


@pytest.mark.parametrize("name", HTTP_FIXTURES)
def test_a_response_just_under_the_limit_goes_out(name):
    limit = ALB_RESPONSE_LIMIT if name.startswith("alb") else LAMBDA_RESPONSE_LIMIT
    # base64 of this many bytes, with the head of the answer, stays under the limit.
    size = (limit - 4096) * 3 // 4
    result = call(name, f"kind=binary&size={size}")
    assert result["statusCode"] == 200 and result["isBase64Encoded"] is True
    assert len(json.dumps(result)) <= limit


def test_non_ascii_text_is_counted_as_the_runtime_escapes_it(errors):
    # 200,000 "é" are 400,000 bytes of UTF-8 but 1,200,000 bytes as JSON \u00e9 escapes: over
    # ALB's 1 MB, which the escaped JSON is what awslambdaric sends on python3.11.
    result = call("alb", "kind=text&char=%C3%A9&size=200000")
    assert result["statusCode"] == 500
    result = call("alb", "kind=text&char=a&size=200000")
    assert result["statusCode"] == 200 and len(result["body"]) == 200000


def test_a_sendable_response_is_untouched(errors):
    for name in HTTP_FIXTURES:
        result = call(name, "")
        assert result["statusCode"] == 200 and result["body"] == "fine"
    assert errors == []
