"""The events polyfn_aws.from_lambda renders off AWS are ones AWS could send: each is accepted by
aws-lambda-powertools' parser model for its source, and carries what the neutral input held; the
context object satisfies Powertools' own reading of a Lambda context."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import unquote_plus

import polyfn_aws
import pytest
from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model
from aws_lambda_powertools.utilities.parser import models

from polyfn import App
from polyfn.testing import Client

CAUGHT: list[tuple[dict[str, Any], Any]] = []


def catch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    CAUGHT.append((event, context))
    return {"statusCode": 200, "body": ""}


def recording_app() -> App:
    app = App("rendering")
    app.http("/rest/{rest+}", methods=["GET", "POST"], function_name="rest")(
        polyfn_aws.from_lambda(catch, event="rest")
    )
    app.http("/http/{rest+}", methods=["GET", "POST"], function_name="http")(
        polyfn_aws.from_lambda(catch, event="http")
    )
    app.queue("orders", function_name="sqs")(polyfn_aws.from_lambda(catch, event="sqs"))
    app.queue("jobs", fifo=True, function_name="fifo")(polyfn_aws.from_lambda(catch, event="sqs"))
    app.subscribe("news", function_name="sns")(polyfn_aws.from_lambda(catch, event="sns"))
    app.storage("uploads", on=["created", "deleted"], function_name="s3")(
        polyfn_aws.from_lambda(catch, event="s3")
    )
    app.storage("media", function_name="s3_eventbridge")(
        polyfn_aws.from_lambda(catch, event="eventbridge")
    )
    app.schedule("*/5 * * * *", function_name="tick")(
        polyfn_aws.from_lambda(catch, event="eventbridge")
    )
    return app


@pytest.fixture
def client() -> Client:
    CAUGHT.clear()
    return Client(recording_app(), source_ip="203.0.113.9")


def caught() -> dict[str, Any]:
    assert len(CAUGHT) == 1
    return CAUGHT.pop()[0]


def test_rest_event_is_a_powertools_rest_event_with_the_request_in_it(client: Client) -> None:
    client.get(
        "/rest/a b/ü?tag=x&tag=y&q=caf%C3%A9",
        headers=[("X-Multi", "one"), ("X-Multi", "two"), ("Cookie", "s=1; t=2")],
    )
    event = models.APIGatewayProxyEventModel.model_validate(caught())
    assert event.httpMethod == "GET"
    # REST passes the path on as the client sent it, percent-encoded
    assert event.path == "/rest/a%20b/%C3%BC"
    assert event.resource == "/rest/{rest+}"
    assert event.pathParameters == {"rest": "a b/ü"}
    assert event.multiValueQueryStringParameters == {"tag": ["x", "y"], "q": ["café"]}
    assert event.queryStringParameters == {"tag": "y", "q": "café"}
    assert event.multiValueHeaders["X-Multi"] == ["one", "two"]
    assert event.headers["X-Multi"] == "two"
    assert event.headers["Cookie"] == "s=1; t=2"
    assert str(event.requestContext.identity.sourceIp).startswith("203.0.113.9")
    assert event.body is None and event.isBase64Encoded is False


def test_binary_and_text_bodies(client: Client) -> None:
    client.post("/rest/x", body=bytes(range(256)), headers={"Content-Type": "image/png"})
    event = models.APIGatewayProxyEventModel.model_validate(caught())
    assert event.isBase64Encoded is True
    assert base64.b64decode(str(event.body)) == bytes(range(256))
    client.post("/http/x", json={"a": "é"})
    v2 = models.APIGatewayProxyEventV2Model.model_validate(caught())
    assert v2.isBase64Encoded is False
    assert json.loads(str(v2.body)) == {"a": "é"}


def test_http_api_event_is_a_powertools_v2_event(client: Client) -> None:
    client.get(
        "/http/a b?tag=x&tag=y&e=",
        headers=[("X-Multi", "one"), ("X-Multi", "two"), ("Cookie", "s=1; t=2")],
    )
    raw = caught()
    event = models.APIGatewayProxyEventV2Model.model_validate(raw)
    # HTTP APIs hand the path over decoded, join repeated headers and query keys with commas
    assert event.rawPath == "/http/a b"
    assert event.rawQueryString == "tag=x&tag=y&e="
    assert event.queryStringParameters == {"tag": "x,y", "e": ""}
    assert event.headers["x-multi"] == "one,two"
    assert "cookie" not in event.headers
    assert event.cookies == ["s=1", "t=2"]
    assert event.routeKey == "ANY /http/{rest+}"
    assert event.pathParameters == {"rest": "a b"}
    assert event.requestContext.http.method == "GET"


def test_sqs_records_standard_and_fifo(client: Client) -> None:
    client.send("orders", {"n": 1}, attributes={"origin": "web"}, delivery_count=3)
    event = models.SqsModel.model_validate(caught())
    record = event.Records[0]
    assert record.body == '{"n": 1}'
    assert record.attributes.ApproximateReceiveCount == "3"
    assert record.messageAttributes["origin"].stringValue == "web"
    assert record.eventSourceARN.endswith(":orders")
    client.send("jobs", "job-1", group="customer-7")
    fifo = models.SqsModel.model_validate(caught()).Records[0]
    assert fifo.attributes.MessageGroupId == "customer-7"
    assert fifo.eventSourceARN.endswith(":jobs.fifo")


def test_sns_notification(client: Client) -> None:
    client.publish("news", {"headline": "hi"}, attributes={"lang": "en"})
    event = models.SnsModel.model_validate(caught())
    sns = event.Records[0].Sns
    assert json.loads(str(sns.Message)) == {"headline": "hi"}
    assert sns.TopicArn.endswith(":news")
    assert sns.MessageAttributes is not None and sns.MessageAttributes["lang"].Value == "en"


def test_s3_notification_and_s3_on_eventbridge(client: Client) -> None:
    client.put_object("uploads", "in/Q1 report+x.csv", b"abc")
    created = models.S3Model.model_validate(caught()).Records[0]
    assert created.eventName == "ObjectCreated:Put"
    # S3 URL-encodes the key as HTML forms do
    assert unquote_plus(created.s3.object.key) == "in/Q1 report+x.csv"
    assert created.s3.object.size == 3
    client.delete_object("uploads", "in/Q1 report+x.csv")
    assert models.S3Model.model_validate(caught()).Records[0].eventName == "ObjectRemoved:Delete"
    client.put_object("media", "a+b.png", b"x")
    bridged = models.S3EventNotificationEventBridgeModel.model_validate(caught())
    assert bridged.detail_type == "Object Created"
    assert bridged.detail.object.key == "a+b.png"  # EventBridge carries the key as stored


def test_scheduled_event_and_the_context(client: Client) -> None:
    client.tick("tick")
    event, context = CAUGHT.pop()
    parsed = models.EventBridgeModel.model_validate(event)
    assert (parsed.source, parsed.detail_type) == ("aws.events", "Scheduled Event")
    assert parsed.resources[0].endswith(":rule/tick")
    # Powertools' Logger reads the context through this model
    model = build_lambda_context_model(context)
    assert model.function_name == "tick"
    assert model.function_request_id == context.aws_request_id
    assert model.function_arn.endswith(":function:tick")
    remaining = context.get_remaining_time_in_millis()
    assert 0 < remaining <= 900_000
