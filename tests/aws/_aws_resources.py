"""Shared by the AWS resource tests: reading SQS as Lambda's poller does, SNS deliveries as SNS
hands them to a subscribed Lambda, and creating queues and tables on moto_server."""

from __future__ import annotations

from typing import Any

import polyfn_aws

from conformance.resource_harnesses import new_queue, new_table
from conformance.resource_harnesses import sns_event as harness_sns_event
from conformance.resource_harnesses import sqs_records as harness_sqs_records
from polyfn import App, Queue, QueueMessage

from .conftest import lambda_context, validate

REGION = "us-east-1"

__all__ = [
    "REGION",
    "consume",
    "new_queue",
    "new_table",
    "sns_event",
    "sqs_records",
]


def sqs_records(
    sqs: Any, url: str, arn: str, count: int, timeout: float = 20, exact: bool = True
) -> list[dict[str, Any]]:
    """`count` messages received from `url` (deleted there), as the records Lambda's SQS poller
    delivers; with `exact` false, what arrived within `timeout` seconds, up to `count`."""
    records = harness_sqs_records(sqs, url, arn, count, timeout)
    assert len(records) == count or not exact, records
    return records


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


def sns_event(envelope: dict[str, Any], topic_arn: str) -> dict[str, Any]:
    """What SNS hands a subscribed Lambda, checked by Powertools' SnsModel."""
    return validate("SnsModel", harness_sns_event(envelope, topic_arn))
