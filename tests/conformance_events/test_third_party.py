"""Payloads nobody here wrote, through the same adapters and the same conformance app:
aws-sam-cli's own event templates, and the S3 notification moto itself sends to an SQS queue
after a real put_object on moto_server. Also checks the suite's own SQS renderer against what
moto computes (MD5 of message attributes).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

import pytest

from conformance._spec import Recorder
from conformance.app_events import (
    BUCKET,
    CRON_FUNCTION,
    DELETE_FUNCTION,
    QUEUE,
    QUEUE_FUNCTION,
    STORAGE_FUNCTION,
    event_app,
)
from conformance.cases.storage import StorageCase
from conformance.targets import aws_events
from tests._sam import sam_event

APP = event_app("conformance-events")
KEY = "incoming/Q1 report + summary ü.csv"


def _invoke(event: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
    import polyfn_aws
    from awslambdaric.lambda_context import LambdaContext

    handler = polyfn_aws.handler(APP)
    Recorder.reset()
    context = LambdaContext(str(uuid.uuid4()), None, None, int(time.time() * 1000) + 30_000)
    result = handler(event, context)
    return result, Recorder.take()


@pytest.mark.parametrize(
    ("template", "kind", "fn"),
    [("S3Put", "created", STORAGE_FUNCTION), ("S3Delete", "deleted", DELETE_FUNCTION)],
)
def test_sam_s3_templates(template: str, kind: str, fn: str) -> None:
    # SAM percent-encodes the key it is given (space as %20, '+' as %2B)
    event = sam_event("s3", template, bucket=BUCKET, key=KEY)
    assert "%2B" in event["Records"][0]["s3"]["object"]["key"]
    _, seen = _invoke(event)
    assert [(s["fn"], s["kind"], s["bucket"], s["key"]) for s in seen] == [(fn, kind, BUCKET, KEY)]


def _sqs_event(body: str) -> dict[str, Any]:
    # SAM pastes the body into a JSON string literal as is: give it the escaped form
    escaped = json.dumps(body)[1:-1]
    return sam_event("sqs", "Sqs", queue_name=QUEUE, account_id="123456789012", body=escaped)


def test_sam_sqs_template() -> None:
    body = json.dumps({"order": 7, "note": "from SAM"})
    event = _sqs_event(body)
    result, seen = _invoke(event)
    assert result in (None, {}, {"batchItemFailures": []})
    record = event["Records"][0]
    assert [(s["fn"], s["id"], bytes.fromhex(s["body"])) for s in seen] == [
        (QUEUE_FUNCTION, record["messageId"], body.encode())
    ]


def test_sam_sqs_template_failing_message_is_reported() -> None:
    event = _sqs_event(json.dumps({"order": 8, "fail": True}))
    result, seen = _invoke(event)
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert len(seen) == 1


def test_sam_sns_template_is_a_queue_message() -> None:
    """An SNS topic named like a queue delivers to that queue's function (issue 3, item 3)."""
    event = sam_event("sns", "Sns", topic=QUEUE, account_id="123456789012")
    _, seen = _invoke(event)
    sns = event["Records"][0]["Sns"]
    assert len(seen) == 1
    assert seen[0]["fn"] == QUEUE_FUNCTION
    assert seen[0]["id"] == sns["MessageId"]
    assert bytes.fromhex(seen[0]["body"]) == sns["Message"].encode()
    assert seen[0]["attributes"].get("Test") == "TestString"


def test_sam_scheduled_event_template() -> None:
    from polyfn_aws import rule_name

    rule = rule_name(APP, APP.function(CRON_FUNCTION))
    event = sam_event("cloudwatch", "ScheduledEvent", rule=rule, account_id="123456789012")
    _, seen = _invoke(event)
    assert [(s["fn"], s["name"], s["scheduled_time"]) for s in seen] == [
        (CRON_FUNCTION, CRON_FUNCTION, "1970-01-01T00:00:00.000+00:00")
    ]


# -- moto_server ----------------------------------------------------------------------------------


def _clients(moto_url: str) -> tuple[Any, Any]:
    import boto3  # type: ignore[import-untyped]

    kwargs = {"endpoint_url": moto_url, "region_name": aws_events.REGION}
    return boto3.client("s3", **kwargs), boto3.client("sqs", **kwargs)


def _paths(obj: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON object ("s3.object.key")."""
    if not isinstance(obj, dict):
        return set()
    paths = set()
    for key, value in obj.items():
        paths.add(prefix + key)
        paths |= _paths(value, f"{prefix}{key}.")
    return paths


def _lambda_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """What Lambda's SQS event source mapping makes of a received message."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message["Attributes"],
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": aws_events.REGION,
    }


@pytest.mark.e2e
def test_moto_s3_notification_through_sqs(moto_url: str) -> None:
    s3, sqs = _clients(moto_url)
    bucket, queue = f"{BUCKET}", f"{BUCKET}-events-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    queue_url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    payload = b"id,total\n1,42\n"
    s3.put_object(Bucket=bucket, Key=KEY, Body=payload)

    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any("Records" in m["Body"] for m in messages):
        got = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
        )
        messages.extend(got.get("Messages", []))
    notifications = [m for m in messages if "Records" in m["Body"]]
    assert notifications, f"moto sent no S3 notification; got {messages}"
    wire_key = json.loads(notifications[0]["Body"])["Records"][0]["s3"]["object"]["key"]
    assert wire_key != KEY, "moto should send the key form-encoded"

    # the suite's own S3 renderer writes every field moto writes, and the same decoded key
    moto_record = json.loads(notifications[0]["Body"])["Records"][0]
    case = StorageCase("moto", "created", KEY, len(payload), datetime.now(UTC), bucket=bucket)
    ours = aws_events.s3_notification(case)["Records"][0]
    assert _paths(moto_record) <= _paths(ours)
    assert unquote_plus(ours["s3"]["object"]["key"]) == unquote_plus(wire_key) == KEY

    # the whole received batch, S3's test event (if moto sent one) included
    event = {"Records": [_lambda_record(m, arn) for m in messages]}
    result, seen = _invoke(event)
    assert not (result or {}).get("batchItemFailures"), result
    assert [(s["fn"], s["kind"], s["bucket"], s["key"], s["size"]) for s in seen] == [
        (STORAGE_FUNCTION, "created", bucket, KEY, len(payload))
    ]


@pytest.mark.e2e
def test_sqs_renderer_attribute_digest_matches_moto(moto_url: str) -> None:
    """The MD5OfMessageAttributes the driver renders is the one SQS (moto) computes."""
    _, sqs = _clients(moto_url)
    url = sqs.create_queue(QueueName=f"digest-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    attributes = {"tenant": "acme", "trace": "abc-123", "unicode": "Zürich ✓"}
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody="{}",
        MessageAttributes={
            k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()
        },
    )
    record = aws_events.sqs_record(
        "q", sent["MessageId"], "{}", sent=datetime.now(UTC),
        attributes=attributes,
    )  # fmt: skip
    assert record["md5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert record["md5OfBody"] == sent["MD5OfMessageBody"]
