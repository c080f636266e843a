"""Events that look like HTTP requests but are none: Lambda authorizer events (REST and HTTP API,
payloads 1.0 and 2.0) and WebSocket API events. Published payloads (tests/events/aws/not_requests,
see its README) go through `polyfn_aws.handler` of an app whose routes would match them; each must
be refused with an `EventError` that says what it is, and no handler may run."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import polyfn_aws
import pytest

from polyfn import App, EventError

from .conftest import lambda_context, validate

NOT_REQUESTS = Path(__file__).resolve().parent.parent / "events" / "aws" / "not_requests"

# file -> (the Powertools model that accepts it, or None where the README says why none does,
#          the field the error names, the source it names)
AUTHORIZER = "API Gateway Lambda authorizer"
WEBSOCKET = "API Gateway WebSocket API"
PAYLOADS: dict[str, tuple[str | None, str, str]] = {
    "apigw-v2-custom-authorizer-v2-request": (None, "routeArn", AUTHORIZER),
    "apiGatewayAuthorizerV2Event": ("ApiGatewayAuthorizerRequestV2", "routeArn", AUTHORIZER),
    "apigw-v2-custom-authorizer-v1-request": (None, "methodArn", AUTHORIZER),
    "apigw-custom-auth-request-type-request": (None, "methodArn", AUTHORIZER),
    "apigw-websocket-request": (None, "requestContext.eventType", WEBSOCKET),
    "apiGatewayWebSocketApiConnect": (
        "APIGatewayWebSocketConnectEventModel",
        "requestContext.eventType",
        WEBSOCKET,
    ),
    "apigw-websocket-request-disconnect": (
        "APIGatewayWebSocketDisconnectEventModel",
        "requestContext.eventType",
        WEBSOCKET,
    ),
    "apigw-websocket-request-send-message": (
        "APIGatewayWebSocketMessageEventModel",
        "requestContext.eventType",
        WEBSOCKET,
    ),
}


def payload(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((NOT_REQUESTS / f"{name}.json").read_text())
    model = PAYLOADS[name][0]
    if model is not None:
        validate(model, copy.deepcopy(event))
    return event


def catch_all_app(calls: list[str]) -> App:
    """An app with a route for every path and method these payloads carry."""
    app = App("guarded")

    @app.http("/{path+}", methods=["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
    def anything(req, ctx):
        calls.append(req.path)
        return {"served": req.path}

    @app.http("/", methods=["GET", "POST"])
    def root(req, ctx):
        calls.append("/")
        return {"served": "/"}

    return app


def test_every_payload_is_listed():
    assert sorted(p.stem for p in NOT_REQUESTS.glob("*.json")) == sorted(PAYLOADS)


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_a_published_event_that_is_no_request_is_refused(name):
    _, field, source = PAYLOADS[name]
    calls: list[str] = []
    handler = polyfn_aws.handler(catch_all_app(calls))
    with pytest.raises(EventError) as caught:
        handler(payload(name), lambda_context())
    assert caught.value.field == field and caught.value.source == source
    assert "polyfn serves no" in str(caught.value)
    assert calls == []


@pytest.mark.parametrize(
    "name", ["apigw-v2-custom-authorizer-v2-request", "apigw-websocket-request"]
)
def test_a_lambda_built_for_one_http_function_refuses_them_too(name):
    calls: list[str] = []
    handler = polyfn_aws.handler(catch_all_app(calls), function="anything")
    with pytest.raises(EventError):
        handler(payload(name), lambda_context())
    assert calls == []


def test_the_websocket_error_names_the_route():
    handler = polyfn_aws.handler(catch_all_app([]))
    with pytest.raises(EventError, match=r"route '\$connect'"):
        handler(payload("apigw-websocket-request"), lambda_context())


def test_a_request_with_the_same_shape_but_no_marks_is_served():
    """The marks alone decide: without routeArn or the WebSocket fields, the same events are
    requests (the 2.0 one as an HTTP API request, the $connect one as a REST request)."""
    calls: list[str] = []
    handler = polyfn_aws.handler(catch_all_app(calls))
    v2 = payload("apiGatewayAuthorizerV2Event")
    for key in ("type", "routeArn", "identitySource"):
        del v2[key]
    assert handler(v2, lambda_context())["statusCode"] == 200
    ws = payload("apigw-websocket-request")
    for key in ("eventType", "connectionId", "connectedAt", "messageDirection", "messageId"):
        del ws["requestContext"][key]
    assert handler(ws, lambda_context())["statusCode"] == 200
    assert calls == ["/merchants", "/hello/world"]
