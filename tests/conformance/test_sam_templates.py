"""The API Gateway and ALB sample events that AWS's own tool publishes, through polyfn_aws.

The templates come from the aws-sam-cli wheel (tests/_sam.py renders them with SAM CLI's own
renderer and defaults). Each goes through Powertools' parser model, then ``polyfn_aws.handler`` of
an app that records every request; the handler must see what the template says, read here
straight from the template's own fields.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import unquote

import pytest

from conformance._spec import Recorder
from conformance.app import seen
from conformance.hosts import aws as aws_host
from conformance.targets import aws_http
from polyfn import App, Context, HttpRequest
from tests._sam import sam_event

ALL = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

app = App("sam")


@app.http("/{path+}", methods=ALL)
def anything(req: HttpRequest, ctx: Context) -> dict[str, Any]:
    return {"echo": seen(req, ctx)}


def _run(event: dict[str, Any], reader: Any) -> tuple[Any, dict[str, Any]]:
    import polyfn_aws

    Recorder.reset()
    result = polyfn_aws.handler(app)(event, aws_host.lambda_context("sam-request"))
    calls = Recorder.take()
    assert len(calls) == 1, result
    return reader(result), calls[0]


def _body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()


def test_rest_aws_proxy_template() -> None:
    event = sam_event("apigateway", "AwsProxy.json")
    aws_http.validate("aws-rest", event)
    outcome, saw = _run(event, aws_http.read_rest)
    assert outcome.status == 200
    assert json.loads(outcome.body)["echo"] == saw
    assert saw["method"] == event["httpMethod"]
    assert saw["path"] == event["path"]
    assert saw["path_params"] == {"path": event["path"].lstrip("/")}
    assert saw["query"] == event["multiValueQueryStringParameters"]
    assert saw["body_b64"] == base64.b64encode(_body(event)).decode()
    for name, values in event["multiValueHeaders"].items():
        assert saw["headers"][name.lower()] == values, name
    assert saw["source_ip"] == event["requestContext"]["identity"]["sourceIp"]


def test_http_api_template() -> None:
    event = sam_event("apigateway", "HttpApi.json")
    aws_http.validate("aws-http", event)
    outcome, saw = _run(event, aws_http.read_v2)
    assert outcome.status == 200
    assert saw["method"] == event["requestContext"]["http"]["method"]
    assert saw["path"] == event["rawPath"]
    expected_query: dict[str, list[str]] = {}
    for part in event["rawQueryString"].split("&"):
        name, _, value = part.partition("=")
        expected_query.setdefault(unquote(name), []).append(unquote(value))
    assert saw["query"] == expected_query  # repeated keys from rawQueryString, not the joined map
    assert saw["body_b64"] == base64.b64encode(_body(event)).decode()
    for name, value in event["headers"].items():
        assert ",".join(saw["headers"][name.lower()]) == value, name
    # The template's sourceIp carries a prefix length; the address is what a client is.
    assert saw["source_ip"] in ("192.168.0.1", "192.168.0.1/32")


def test_alb_template() -> None:
    event = sam_event("alb", "ALBRequest.json")
    aws_http.validate("aws-alb", event)
    outcome, saw = _run(event, lambda r: aws_http.read_alb(r, multi=False))
    assert outcome.status == 200
    assert outcome.result["statusDescription"] == "200 OK"
    assert saw["method"] == event["httpMethod"]
    assert saw["path"] == event["path"]
    assert saw["query"] == {k: [unquote(v)] for k, v in event["queryStringParameters"].items()}
    assert saw["body_b64"] == base64.b64encode(_body(event)).decode()
    for name, value in event["headers"].items():
        assert saw["headers"][name] == [value], name
    assert saw["source_ip"] == event["headers"]["x-forwarded-for"]


@pytest.mark.parametrize(
    ("service", "name", "source"),
    [
        ("apigateway", "AwsProxy.json", "aws-rest"),
        ("apigateway", "HttpApi.json", "aws-http"),
        ("alb", "ALBRequest.json", "aws-alb"),
    ],
)
def test_template_answers_in_its_own_shape(service: str, name: str, source: str) -> None:
    """A 404 for the template's path is answered in the response shape of its source."""
    import polyfn_aws

    event = sam_event(service, name)
    result = polyfn_aws.handler(App("empty"))(event, aws_host.lambda_context("sam-404"))
    target = aws_http.AwsHttpTarget(source)
    assert target.read(result).status == 404
