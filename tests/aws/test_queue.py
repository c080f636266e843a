"""SQS batches and SNS notifications through `polyfn_aws.handler`: messages, partial batch
failures, FIFO groups, and nothing lost when a record cannot be read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import polyfn_aws
import pytest

from polyfn import EventError

from .conftest import Seen, event, lambda_context, make_app

SQS_IDS = [
    "059f36b4-87a3-44ab-83d2-661975830a7d",
    "2e1424d4-f796-459a-8184-9c92662be6da",
    "3c5f2d8a-1b4e-4f6a-9c7d-8e9f0a1b2c3d",
]


def run(ev: dict[str, Any], fail: set[str] | None = None, **kw: Any) -> tuple[Any, Seen]:
    seen = Seen()
    result = polyfn_aws.handler(make_app(seen, fail), **kw)(ev, lambda_context("req-q"))
    return result, seen


def failed(result: dict[str, Any]) -> list[str]:
    assert set(result) == {"batchItemFailures"}
    return [item["itemIdentifier"] for item in result["batchItemFailures"]]


def test_sqs_batch_messages_are_read_in_full():
    result, seen = run(event("sqs"))
    assert failed(result) == []
    assert seen.names() == ["on_order"] * 3
    first = seen[0][1]
    assert first.id == SQS_IDS[0]
    assert first.body == b'{"order": 1}'
    assert first.json() == {"order": 1}
    assert first.queue == "orders"
    # Message attributes as sent; a binary one as the base64 text SQS delivers.
    assert first.attributes == {"tenant": "acme", "priority": "5", "blob": "AAEC/w=="}
    assert first.delivery_count == 1
    assert first.enqueued_time == datetime(2024, 3, 10, 13, 40, 52, 123000, tzinfo=UTC)
    assert first.group is None
    assert seen[1][1].delivery_count == 3
    ctx = seen[0][2]
    assert (ctx.function_name, ctx.invocation_id, ctx.provider) == ("on_order", "req-q", "aws")


def test_exactly_the_failed_messages_are_reported():
    result, seen = run(event("sqs"), fail={'{"order": 2}'})
    assert failed(result) == [SQS_IDS[1]]
    assert len(seen) == 3  # the others ran and are acknowledged
    result, _ = run(event("sqs"), fail={'{"order": 1}', '{"order": 3}'})
    assert failed(result) == [SQS_IDS[0], SQS_IDS[2]]


def test_an_unreadable_record_is_reported_not_lost():
    ev = event("sqs")
    ev["Records"][1]["attributes"]["SentTimestamp"] = "yesterday"
    ev["Records"][2]["body"] = None
    result, seen = run(ev)
    assert failed(result) == SQS_IDS[1:]
    assert [m.id for _, m, _ in seen] == SQS_IDS[:1]


def test_unreadable_message_attributes_fail_the_record_that_reads_them():
    ev = event("sqs")
    ev["Records"][2]["messageAttributes"] = {"x": {"dataType": "String"}}
    seen = Seen()
    app = make_app(seen)

    @app.queue("audit")
    def audit(msg: Any, ctx: Any) -> None:
        seen.append(("audit", msg.attributes, ctx))

    for record in ev["Records"]:
        record["eventSourceARN"] = "arn:aws:sqs:us-east-1:123456789012:audit"
    result = polyfn_aws.handler(app)(ev, lambda_context())
    assert failed(result) == SQS_IDS[2:]
    assert [attrs for _, attrs, _ in seen] == [
        {"tenant": "acme", "priority": "5", "blob": "AAEC/w=="},
        {},
    ]


def test_a_record_without_a_message_id_fails_the_whole_batch():
    ev = event("sqs")
    del ev["Records"][2]["messageId"]
    with pytest.raises(EventError, match=r"Records\[2\]\.messageId"):
        run(ev)


def test_fifo_failure_holds_back_the_rest_of_its_group_only():
    result, seen = run(event("sqs_fifo"), fail={json.dumps({"step": 0, "group": "a"})})
    assert failed(result) == ["fifo-0-a", "fifo-2-a", "fifo-4-a"]
    # Later messages of group a never ran; group b carried on.
    assert [m.id for _, m, _ in seen] == ["fifo-0-a", "fifo-1-b", "fifo-3-b"]
    message = seen[1][1]
    assert (message.queue, message.group) == ("jobs", "b")


def test_fifo_failure_late_in_a_group():
    result, seen = run(event("sqs_fifo"), fail={json.dumps({"step": 3, "group": "b"})})
    assert failed(result) == ["fifo-3-b"]
    assert len(seen) == 5


def test_fifo_unreadable_record_without_a_group_stops_the_batch():
    ev = event("sqs_fifo")
    ev["Records"][1]["body"] = None
    del ev["Records"][1]["attributes"]["MessageGroupId"]
    result, seen = run(ev)
    assert failed(result) == ["fifo-1-b", "fifo-2-a", "fifo-3-b", "fifo-4-a"]
    assert [m.id for _, m, _ in seen] == ["fifo-0-a"]


def test_a_fifo_queue_name_needs_a_fifo_binding():
    ev = event("sqs")
    for record in ev["Records"]:
        record["eventSourceARN"] += ".fifo"
    with pytest.raises(EventError, match=r"orders\.fifo"):
        run(ev)


def test_a_queue_nobody_serves_is_an_event_error_that_says_what_the_app_serves():
    ev = event("sqs")
    for record in ev["Records"]:
        record["eventSourceARN"] = "arn:aws:sqs:us-east-1:123456789012:refunds"
    with pytest.raises(EventError) as info:
        run(ev)
    text = str(info.value)
    assert "'refunds'" in text and "on_order: queue orders" in text


def test_a_lambda_for_one_queue_function_serves_its_queue_by_any_name():
    ev = event("sqs")
    for record in ev["Records"]:
        record["eventSourceARN"] = "arn:aws:sqs:us-east-1:123456789012:orders-dev"
    result, seen = run(ev, function="on_order")
    assert failed(result) == []
    assert seen.names() == ["on_order"] * 3


def test_sns_message_is_a_queue_message():
    result, seen = run(event("sns"))
    assert result is None
    assert seen.names() == ["on_signup"]
    message = seen[0][1]
    assert message.id == "bdb5a7e3-1f0c-5c6f-8d9a-2b3c4d5e6f70"
    assert message.json() == {"event": "signup"}
    assert message.queue == "signups"
    assert message.attributes == {"tenant": "acme", "blob": "AAEC/w=="}
    assert message.enqueued_time == datetime(2024, 3, 10, 13, 40, 52, 456000, tzinfo=UTC)
    assert message.delivery_count == 1


def test_sns_failure_fails_the_invocation():
    with pytest.raises(ValueError, match="signup failed"):
        run(event("sns"), fail={'{"event": "signup"}'})


def test_sns_topic_nobody_serves():
    ev = event("sns")
    ev["Records"][0]["Sns"]["TopicArn"] = "arn:aws:sns:us-east-1:123456789012:other"
    with pytest.raises(EventError, match="'other'"):
        run(ev)


def test_enqueued_time_can_be_replaced_and_bad_timestamps_are_refused():
    _, seen = run(event("sqs"))
    message = seen[0][1]
    message.enqueued_time = None
    assert message.enqueued_time is None
    ev = event("sqs")
    ev["Records"][0]["attributes"]["SentTimestamp"] = "9" * 16  # past the year 9999
    ev["Records"][1]["attributes"]["SentTimestamp"] = "253402300799999"  # the last ms of 9999
    result, seen = run(ev)
    assert failed(result) == SQS_IDS[:1]
    assert seen[0][1].enqueued_time.year == 9999


def test_message_attributes_that_are_no_object_give_an_answer_not_a_type_error() -> None:
    """A record whose messageAttributes is no object (found by test_mangled's fuzzing): the
    marked-base64 check must not crash the batch with a TypeError."""
    import polyfn_aws

    from polyfn import App

    app = App("m")
    seen: list[bytes] = []

    @app.queue("jobs")
    def consume(msg: object, ctx: object) -> None:
        seen.append(msg.body)  # type: ignore[attr-defined]

    record = {
        "messageId": "a",
        "receiptHandle": "r",
        "body": "x",
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1710078052123"},
        "messageAttributes": 1,
        "md5OfBody": "m",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:jobs",
        "awsRegion": "us-east-1",
    }
    assert polyfn_aws.handler(app)({"Records": [record]}, None) == {"batchItemFailures": []}
    assert seen == [b"x"]
