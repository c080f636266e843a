"""samples/worker through its three entry files, with a batch in which one order cannot be served.

- SQS into lambda_function.handler: the answer lists exactly that message in
  ``batchItemFailures``; the others are reserved and deleted by Lambda.
- Storage queue into function_app.py: each message is its own invocation; the failing one
  raises, so the host makes the message visible again (and poisons it after maxDequeueCount).
- Pub/Sub CloudEvents into main.event: the failing message is answered 500, so Pub/Sub
  redelivers it.

Then the failed message comes back (a redelivery, after stock arrived) and is reserved: every
order of the batch is reserved exactly once, nothing lost and nothing doubled."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conformance.cases.queue import Message
from conformance.targets import aws_events, azure_events, gcp_events
from tests.samples._native import (
    app_module,
    aws_invoke,
    aws_validate,
    azure_call,
    azure_host,
    gcp_client,
)

SENT = datetime(2026, 11, 27, 10, 5, tzinfo=UTC)
ORDERS = [
    {"sku": "apple", "quantity": 2},
    {"sku": "pear", "quantity": 5},  # only 3 pears in stock: this one fails
    {"sku": "apple", "quantity": 1},
    {"sku": "pear", "quantity": 3},
]
FAILING = 1


@pytest.fixture(autouse=True)
def state() -> Iterator[Any]:
    module = app_module("worker")
    module.STOCK.clear()
    module.STOCK.update({"apple": 10, "pear": 3})
    module.RESERVED.clear()
    yield module
    module.RESERVED.clear()


def messages(delivery: int = 1) -> list[Message]:
    return [
        Message(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"order-{i}")),
            body=json.dumps(order).encode(),
            enqueued_time=SENT + timedelta(seconds=i),
            delivery_count=delivery,
        )
        for i, order in enumerate(ORDERS)
    ]


# -- each cloud: deliver a batch, return the ids the cloud would deliver again -------------------


def sqs(batch: list[Message]) -> list[str]:
    records = [
        aws_events.sqs_record(
            "orders",
            m.id,
            m.body.decode(),
            sent=m.enqueued_time,
            receive_count=m.delivery_count,
        )
        for m in batch
    ]
    event = aws_validate("SqsModel", {"Records": records})
    result = aws_invoke("worker", event)
    # Lambda deletes every record not listed; the listed ones come back after the visibility
    # timeout: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    return [failure["itemIdentifier"] for failure in result["batchItemFailures"]]


def storage_queue(batch: list[Message]) -> list[str]:
    again = []
    for m in batch:
        body, metadata = azure_events.queue_trigger(m)
        try:
            azure_call("worker", "reserve_stock", body, metadata)
        except Exception as exc:  # the invocation failed: the host leaves the message queued
            assert type(exc).__name__ == "OutOfStockError"
            again.append(m.id)
    return again


def pubsub(batch: list[Message]) -> list[str]:
    client = gcp_client("worker", "event", "cloudevent")
    again = []
    for m in batch:
        body, headers = gcp_events.binary_mode(
            gcp_events.pubsub_attributes(m, "orders"), gcp_events.pubsub_envelope(m, attempt=True)
        )
        resp = client.post("/", data=body, headers=headers)
        if not 200 <= resp.status_code < 300:  # not acknowledged: Pub/Sub delivers it again
            assert resp.status_code == 500
            assert b"OutOfStock" not in resp.get_data()  # no traceback to the sender
            again.append(m.id)
    return again


CLOUDS = {"aws-sqs": sqs, "azure-storage-queue": storage_queue, "gcp-pubsub": pubsub}


@pytest.mark.parametrize("cloud", sorted(CLOUDS))
def test_one_failing_order_is_redelivered_alone_and_nothing_is_lost(cloud: str, state: Any) -> None:
    first = messages()
    again = CLOUDS[cloud](first)
    assert again == [first[FAILING].id]
    assert [r["id"] for r in state.RESERVED] == [m.id for i, m in enumerate(first) if i != FAILING]
    assert state.STOCK == {"apple": 7, "pear": 0}

    state.STOCK["pear"] += 5  # a delivery arrives; the redelivered order can now be served
    redelivered = [m for m in messages(delivery=2) if m.id in again]
    assert CLOUDS[cloud](redelivered) == []

    reserved = {r["id"]: r for r in state.RESERVED}
    assert sorted(reserved) == sorted(m.id for m in first)  # every order, once
    assert len(state.RESERVED) == len(first)
    assert reserved[first[FAILING].id]["try"] == 2  # the cloud's delivery count reached it
    assert state.STOCK == {"apple": 7, "pear": 0}


@pytest.mark.parametrize("cloud", sorted(CLOUDS))
def test_a_batch_that_all_succeeds_acknowledges_everything(cloud: str, state: Any) -> None:
    state.STOCK["pear"] = 100
    assert CLOUDS[cloud](messages()) == []
    assert len(state.RESERVED) == len(ORDERS)


def test_a_body_that_is_not_json_fails_only_its_own_record(state: Any) -> None:
    good, _, *_ = messages()
    bad = Message(id="not-json", body=b"apple x2", enqueued_time=SENT)
    assert sqs([bad, good]) == ["not-json"]
    assert [r["id"] for r in state.RESERVED] == [good.id]


def test_azure_binds_a_storage_queue_trigger_on_orders() -> None:
    trigger = azure_host("worker").trigger("reserve_stock")
    assert (trigger["type"], trigger["queueName"]) == ("queueTrigger", "orders")
    assert azure_host("worker").load_problems("reserve_stock") == []
