"""Events that AWS's own tool renders (`sam local generate-event`, from the pinned aws-sam-cli
wheel), validated by Powertools' parser models, through `polyfn_aws.handler`."""

from __future__ import annotations

from typing import Any

import polyfn_aws
import pytest

from polyfn import App, HttpRequest
from tests._sam import sam_event

from .conftest import Seen, lambda_context, make_app, validate


def run(ev: dict[str, Any]) -> tuple[Any, Seen]:
    seen = Seen()
    return polyfn_aws.handler(make_app(seen))(ev, lambda_context("req-sam")), seen


@pytest.mark.parametrize(
    ("key", "decoded"),
    [
        ("incoming/report.csv", "incoming/report.csv"),
        ("incoming/a b+c=d.txt", "incoming/a b+c=d.txt"),
    ],
)
@pytest.mark.parametrize(("name", "kind"), [("put", "created"), ("delete", "deleted")])
def test_s3_notifications(name, kind, key, decoded):
    ev = validate("S3Model", sam_event("s3", name, bucket="uploads", key=key))
    result, seen = run(ev)
    assert result is None
    assert [(f, e.kind, e.bucket, e.key) for f, e, _ in seen] == [
        ("on_upload", kind, "uploads", decoded)
    ]


def test_sqs_receive_message():
    # The template leaves the queue name out of eventSourceARN (and does not escape a JSON body),
    # so a Lambda built for the one queue function serves it.
    ev = validate("SqsModel", sam_event("sqs", "receive-message", body="order 9"))
    seen = Seen()
    result = polyfn_aws.handler(make_app(seen), function="on_order")(ev, lambda_context())
    assert result == {"batchItemFailures": []}
    message = seen[0][1]
    assert (message.queue, message.text, message.delivery_count) == ("orders", "order 9", 1)
    assert message.id == ev["Records"][0]["messageId"]
    assert message.enqueued_time.isoformat() == "2018-04-09T00:00:00+00:00"


def test_sns_notification():
    ev = sam_event("sns", "notification", topic="signups", message="hello")
    # The template's placeholders for the two URLs are no URLs; Powertools wants real ones.
    sns = ev["Records"][0]["Sns"]
    sns["SigningCertUrl"] = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0.pem"
    sns["UnsubscribeUrl"] = "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"
    validate("SnsModel", ev)
    result, seen = run(ev)
    assert result is None
    message = seen[0][1]
    assert (message.queue, message.text) == ("signups", "hello")
    # The template's binary attribute comes through as the text SNS delivers.
    assert message.attributes == {"Test": "TestString", "TestBinary": "TestBinary"}


def test_cloudwatch_scheduled_event():
    ev = sam_event("cloudwatch", "scheduled-event", rule="shop-nightly")
    # The template predates the envelope's "version" field (always "0"), which Powertools wants.
    validate("EventBridgeModel", {"version": "0", **ev})
    result, seen = run(ev)
    assert result is None
    assert seen.names() == ["nightly"]


@pytest.mark.parametrize(
    ("service", "name", "model"),
    [
        ("apigateway", "aws-proxy", "APIGatewayProxyEventModel"),
        ("apigateway", "http-api-proxy", "APIGatewayProxyEventV2Model"),
        ("alb", "request", "AlbModel"),
    ],
)
def test_http_templates(service, name, model):
    ev = validate(model, sam_event(service, name))
    app = App("sam")
    seen: list[HttpRequest] = []

    @app.http("/path/to/resource", methods=["POST"])
    def resource(req: HttpRequest, ctx: Any) -> dict[str, Any]:
        seen.append(req)
        return req.json()

    result = polyfn_aws.handler(app)(ev, lambda_context())
    assert result is not None and result["statusCode"] == 200
    assert result["body"] == '{"test":"body"}'
    assert seen[0].path == "/path/to/resource"
    assert seen[0].body == b'{"test":"body"}'
