"""Shared by the AWS resource tests: reading SQS as Lambda's poller does, SNS deliveries as SNS
hands them to a subscribed Lambda, and creating queues and tables on moto_server."""

from __future__ import annotations

import time
from typing import Any

import polyfn_aws

from polyfn import App, Queue, QueueMessage

from .conftest import lambda_context, validate

REGION = "us-east-1"


def sqs_records(
    sqs: Any, url: str, arn: str, count: int, timeout: float = 20, exact: bool = True
) -> list[dict[str, Any]]:
    """`count` messages received from `url` (deleted there), as the records Lambda's SQS poller
    delivers; with `exact` false, what arrived within `timeout` seconds, up to `count`."""
    records: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(records) < count and time.monotonic() < deadline:
        for m in sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(10, count - len(records)),
            WaitTimeSeconds=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", []):
            records.append(
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    # Lambda's shape of message attributes (lower camel case).
                    "messageAttributes": {
                        name: {
                            "stringValue": a["StringValue"],
                            "stringListValues": [],
                            "binaryListValues": [],
                            "dataType": a["DataType"],
                        }
                        for name, a in m.get("MessageAttributes", {}).items()
                    },
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": arn,
                    "awsRegion": REGION,
                }
            )
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert len(records) == count or not exact, records
    return records


def new_queue(sqs: Any, name: str, **attributes: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def consume(sqs: Any, url: str, arn: str, queue: Queue, count: int) -> list[QueueMessage]:
    """Receive `count` messages and run them through the adapter into a queue function."""
    app = App("consumer")
    got: list[QueueMessage] = []

    @app.queue(queue, fifo=queue.fifo)
    def on_message(msg: QueueMessage, ctx: Any) -> None:
        got.append(msg)

    records = sqs_records(sqs, url, arn, count)
    ev = validate("SqsModel", {"Records": records})
    assert polyfn_aws.handler(app)(ev, lambda_context()) == {"batchItemFailures": []}
    return got


def new_table(ddb: Any, name: str) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def sns_event(envelope: dict[str, Any], topic_arn: str) -> dict[str, Any]:
    """What SNS hands a subscribed Lambda, built from the envelope it delivered to an SQS
    subscription (https://docs.aws.amazon.com/sns/latest/dg/sns-lambda-as-subscriber.html),
    checked by Powertools' SnsModel."""
    record = {
        "EventVersion": "1.0",
        "EventSubscriptionArn": f"{topic_arn}:sub",
        "EventSource": "aws:sns",
        "Sns": {
            "SignatureVersion": "1",
            "Timestamp": envelope["Timestamp"],
            "Signature": "EXAMPLE",
            "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/cert.pem",
            "MessageId": envelope["MessageId"],
            "Message": envelope["Message"],
            "MessageAttributes": envelope.get("MessageAttributes", {}),
            "Type": "Notification",
            "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?unsubscribe",
            "TopicArn": topic_arn,
            "Subject": None,
        },
    }
    return validate("SnsModel", {"Records": [record]})
