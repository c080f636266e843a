"""An S3 notification that moto itself sends to an SQS queue after a real put_object, delivered
to the handler the way Lambda's SQS poller does."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

import polyfn_aws
import pytest

from polyfn import App, StorageEvent

from .conftest import lambda_context, validate

pytestmark = pytest.mark.e2e

REGION = "us-east-1"
ACCOUNT = "123456789012"


def lambda_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as Lambda's event source mapping passes it to the function.
    https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html"""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def test_put_object_notification_from_moto_through_sqs(moto_url):
    import boto3

    bucket = f"uploads-{uuid.uuid4().hex[:12]}"
    queue = f"upload-events-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name=REGION)
    sqs = boto3.client("sqs", endpoint_url=moto_url, region_name=REGION)
    s3.create_bucket(Bucket=bucket)
    queue_url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    key = "incoming/a b+c (1).txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"hello")

    app = App("uploads")
    seen: list[StorageEvent] = []

    @app.storage(bucket, prefix="incoming/")
    def on_upload(event: StorageEvent, ctx: Any) -> None:
        seen.append(event)

    handler = polyfn_aws.handler(app)
    deadline = time.monotonic() + 20
    while not seen and time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            continue
        # The SQS envelope passes Powertools' SqsModel. The S3 notification inside is moto's:
        # it leaves out userIdentity, requestParameters, responseElements and
        # bucket.ownerIdentity, which S3 sends and Powertools' S3Model requires; polyfn reads
        # only what it needs, so it serves moto's shape as well.
        ev = validate("SqsModel", {"Records": [lambda_record(m, queue_arn) for m in messages]})
        # moto sends an s3:TestEvent first when the notification is configured: skipped.
        assert handler(ev, lambda_context()) == {"batchItemFailures": []}
    assert len(seen) == 1
    event = seen[0]
    assert (event.kind, event.bucket, event.key, event.size) == ("created", bucket, key, 5)
    # A single-part PUT's ETag is the MD5 of the body, which S3 writes without its quotes:
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html
    assert event.etag == hashlib.md5(b"hello").hexdigest()
